"""Long-polls against the real daemon and demo agent: woken by a change, as fast as SSE."""

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator

import aiohttp
import httpx
from aiohttp import web

from agentapi.client import AsyncClient, Client, MessageUpdate, StatusChange
from tests.http_helpers import free_port, sse_events


def test_a_long_poll_wakes_as_soon_as_sse_sees_the_change(demo):
    revision = demo.http.get("/messages").json()["revision"]
    seen: dict[str, float] = {}
    answer: list[httpx.Response] = []

    def long_poll() -> None:
        with httpx.Client(base_url=demo.url, timeout=40) as http:
            answer.append(http.get("/messages", params={"wait": 30, "revision": revision}))
        seen["poll"] = time.monotonic()

    def follow() -> None:
        with (
            httpx.Client(base_url=demo.url, timeout=40) as http,
            http.stream("GET", "/events") as stream,
        ):
            for event, data in sse_events(stream):
                if event == "message_update" and data["id"] == 1:
                    seen["sse"] = time.monotonic()
                    return

    threads = [threading.Thread(target=long_poll), threading.Thread(target=follow)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # both are parked on the daemon
    assert "poll" not in seen
    assert demo.send("wake up").status_code == 200
    for thread in threads:
        thread.join(20)
    body = answer[0].json()
    assert body["revision"] > revision
    assert [m["content"] for m in body["messages"]][1] == "wake up"
    assert abs(seen["poll"] - seen["sse"]) < 0.05, seen


def test_status_long_poll_and_the_client_follow_a_turn(demo):
    with Client(demo.url) as client:
        client.send("/think 1 done")
        began = time.monotonic()
        status = client.status(wait_for="stable", timeout=20)
        assert status.status == "stable"
        # One second of thinking plus two quiet seconds, not the 20 s timeout.
        assert 2.5 < time.monotonic() - began < 8
        transcript = client.poll_messages(after=1, wait=0)
        assert [m.content for m in transcript.messages] == ["● done"]
        began = time.monotonic()
        idle = client.poll_messages(revision=transcript.revision, wait=1.5)
        assert idle.revision == transcript.revision
        assert 1.4 < time.monotonic() - began < 3
        assert client.ask("and again", timeout=20).content == "● You said: and again"


class BufferingProxy:
    """A reverse proxy that passes plain answers through but holds event streams back
    until they end (as some proxies do), so an SSE client sees nothing at all."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.held_streams = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method,
                self.upstream + request.path_qs,
                data=await request.read(),
                headers={"Content-Type": request.headers.get("Content-Type", "")},
                timeout=aiohttp.ClientTimeout(total=None),
            ) as upstream,
        ):
            if upstream.content_type == "text/event-stream":
                self.held_streams += 1
            body = await upstream.read()  # never returns for an event stream
            return web.Response(
                status=upstream.status, body=body, content_type=upstream.content_type
            )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        port = free_port()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()


async def test_events_fall_back_to_long_polls_behind_a_buffering_proxy(demo) -> None:
    proxy = BufferingProxy(demo.url)
    async with proxy.running() as url, AsyncClient(url) as client:
        seen: list[object] = []
        loop = asyncio.get_running_loop()
        began = loop.time()
        stream = client.events(buffered_after=1.0)
        async with contextlib.aclosing(stream):
            async for event in stream:
                seen.append(event)
                if isinstance(event, StatusChange):
                    break
            # The replay, after one silent second: message 0, then the status.
            assert 1.0 <= loop.time() - began < 5
            assert proxy.held_streams == 1
            assert isinstance(seen[0], MessageUpdate) and seen[0].id == 0
            assert seen[-1].status == "stable"  # type: ignore[attr-defined]
            await client.send("through the proxy")
            live: list[object] = []
            async for event in stream:
                live.append(event)
                if isinstance(event, StatusChange) and event.status == "stable":
                    break
        updates = {e.id: e.message for e in live if isinstance(e, MessageUpdate)}
        assert updates[1] == "through the proxy"
        assert updates[2] == "● You said: through the proxy"
        statuses = [e.status for e in live if isinstance(e, StatusChange)]
        assert statuses == ["running", "stable"]
        # wait_until_stable and ask never needed the stream.
        reply = await client.ask("and again", timeout=20)
        assert reply.content == "● You said: and again"
