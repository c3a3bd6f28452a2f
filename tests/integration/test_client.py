"""The client library against a real daemon running the demo agent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from agentapi.client import (
    AgentBusy,
    AgentDidNotReact,
    AsyncClient,
    Client,
    ConnectionFailed,
    Event,
    MessageUpdate,
    ProblemError,
    StatusChange,
    WaitTimeout,
)
from tests.http_helpers import free_port
from tests.integration.conftest import DEMO, Daemon


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon for the tests that leave the agent stable: each turn costs ~2 s of quiet."""
    daemon = Daemon(tmp_path_factory.mktemp("client"), [*DEMO, "--think", "0.2"], [], {}, None)
    try:
        yield daemon.ready()
    finally:
        daemon.close()


async def test_status_messages_send_round_trip(shared: Daemon) -> None:
    async with AsyncClient(f"127.0.0.1:{shared.port}") as client:
        status = await client.status()
        assert (status.status, status.agent_type, status.transport) == ("stable", "custom", "pty")
        before = await client.messages()
        assert (before[0].id, before[0].role) == (0, "agent")
        assert before[0].content.startswith("✻ agentapi demo agent")
        await client.send("hello from the client")
        await client.wait_until_stable(timeout=10)
        after = await client.messages()
    n = len(before)
    assert [(m.id, m.role) for m in after[n:]] == [(n, "user"), (n + 1, "agent")]
    assert after[n].content == "hello from the client"
    assert after[n + 1].content == "● You said: hello from the client"
    assert after[n + 1].time.utcoffset() is not None


async def test_ask_returns_the_final_reply(shared: Daemon) -> None:
    async with AsyncClient(shared.url) as client:
        reply = await client.ask("/lines 3", timeout=10)
        messages = await client.messages()
    assert reply.role == "agent"
    assert reply.content == "● Line 1 of 3.\n  Line 2 of 3.\n  Line 3 of 3."
    assert messages[-1] == reply
    assert messages[-2].content == "/lines 3"


async def test_busy_agent_refuses_with_agent_busy(shared: Daemon) -> None:
    async with AsyncClient(shared.url) as client:
        await client.send("/think 1 pondered")
        assert (await client.status()).status == "running"
        with pytest.raises(AgentBusy) as refused:
            await client.send("too soon")
        assert refused.value.status == 409
        assert refused.value.title == "Agent busy"
        assert "stable" in refused.value.detail
        with pytest.raises(WaitTimeout):
            await client.wait_until_stable(timeout=0.3)
        await client.wait_until_stable(timeout=10)
        messages = await client.messages()
    assert [m.content for m in messages[-2:]] == ["/think 1 pondered", "● pondered"]
    assert "too soon" not in [m.content for m in messages]


async def test_validation_problem_carries_its_details(shared: Daemon) -> None:
    async with AsyncClient(shared.url) as client:
        with pytest.raises(ProblemError) as empty:
            await client.send("   ")
    assert type(empty.value) is ProblemError
    assert (empty.value.status, empty.value.title) == (422, "Unprocessable Entity")
    assert "empty" in empty.value.detail
    assert empty.value.errors[0]["location"] == "body.content"


async def test_events_iterator_sees_messages_and_status(shared: Daemon) -> None:
    seen: list[Event] = []
    replayed = asyncio.Event()
    async with AsyncClient(shared.url) as client:

        async def follow() -> None:
            async with contextlib.aclosing(client.events()) as events:
                async for event in events:
                    seen.append(event)
                    if isinstance(event, StatusChange):
                        if not replayed.is_set():
                            replayed.set()
                        elif event.status == "stable":
                            return

        watcher = asyncio.create_task(follow())
        # The replay comes first: every message so far, then the current status.
        await asyncio.wait_for(replayed.wait(), 5)
        replay = list(seen)
        await client.send("watched")
        await asyncio.wait_for(watcher, 10)
    assert [type(e) for e in replay[:-1]] == [MessageUpdate] * (len(replay) - 1)
    assert replay[0].id == 0  # type: ignore[union-attr]
    assert replay[-1] == StatusChange(
        status="stable", agent_type="custom", adapter="custom", agent_name="Custom"
    )
    live = seen[len(replay) :]
    assert [e.status for e in live if isinstance(e, StatusChange)] == ["running", "stable"]
    n = len(replay) - 1
    updates = {e.id: e for e in live if isinstance(e, MessageUpdate)}
    assert (updates[n].role, updates[n].message) == ("user", "watched")
    assert (updates[n + 1].role, updates[n + 1].message) == ("agent", "● You said: watched")


async def test_events_with_errors_flag_still_parse(shared: Daemon) -> None:
    client = AsyncClient(shared.url)
    async with client, contextlib.aclosing(client.events(errors=True)) as events:
        first = await asyncio.wait_for(anext(events), 5)
    assert isinstance(first, MessageUpdate) and first.id == 0


async def test_screen_stream_gives_the_terminal_text(shared: Daemon) -> None:
    client = AsyncClient(shared.url)
    async with client, contextlib.aclosing(client.screen()) as updates:
        update = await asyncio.wait_for(anext(updates), 5)
    assert "✻ agentapi demo agent" in update.screen
    assert "/think N · /lines N · /confirm · /exit" in update.screen


async def test_upload_round_trip(shared: Daemon, tmp_path: Path) -> None:
    source = tmp_path / "notes café.txt"
    source.write_bytes("first line\ncafé\n".encode())
    async with AsyncClient(shared.url) as client:
        from_path = await client.upload(source)
        from_bytes = await client.upload(b"\x00\x01binary", "../../escape.bin")
        with pytest.raises(ValueError, match="filename"):
            await client.upload(b"no name")
        with pytest.raises(ProblemError) as too_big:
            await client.upload(b"x" * (10 * 1024 * 1024 + 1), "big.bin")
    assert Path(from_path).name == "notes café.txt"
    assert Path(from_path).read_bytes() == source.read_bytes()
    assert Path(from_bytes).name == "escape.bin"
    assert Path(from_bytes).read_bytes() == b"\x00\x01binary"
    assert too_big.value.status == 413


def test_sync_client(shared: Daemon) -> None:
    with Client(f"http://127.0.0.1:{shared.port}/") as client:
        assert client.status().status == "stable"
        reply = client.ask("synchronous", timeout=10)
        assert reply.content == "● You said: synchronous"
        kinds = []
        for event in client.events():
            kinds.append(type(event))
            if isinstance(event, StatusChange):
                break
        assert kinds == [MessageUpdate] * len(client.messages()) + [StatusChange]
        client.wait_until_stable(timeout=1)
        client.send_raw(b"")


async def test_unreachable_daemon_is_connection_failed() -> None:
    async with AsyncClient(f"127.0.0.1:{free_port()}", timeout=2) as client:
        with pytest.raises(ConnectionFailed, match="connection refused"):
            await client.status()
        with pytest.raises(ConnectionFailed):
            await client.wait_until_stable(timeout=2)


@pytest.fixture
async def fake_daemon() -> AsyncIterator[str]:
    """A stand-in server for answers the demo agent cannot be made to give on cue."""

    async def message(request: web.Request) -> web.Response:
        body = await request.json()
        if body["content"] == "slow":
            doc = {
                "type": "about:blank",
                "title": "Agent did not react",
                "status": 504,
                "detail": "The message was typed but the agent's screen did not change.",
            }
            return web.json_response(doc, status=504, content_type="application/problem+json")
        return web.Response(status=400, text="Invalid host header. Allowed hosts: localhost")

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad Gateway</html>")

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b': ping\r\n\r\nevent: status_change\r\ndata: {"status":')
        await response.write(b'"running","agent_type":"x"}\r\n\r\n')
        return response  # closed before the agent ever becomes stable

    app = web.Application()
    app.router.add_post("/message", message)
    app.router.add_get("/status", status)
    app.router.add_get("/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_error_answers_become_the_right_exceptions(fake_daemon: str) -> None:
    async with AsyncClient(fake_daemon) as client:
        with pytest.raises(AgentDidNotReact) as slow:
            await client.send("slow")
        assert (slow.value.status, slow.value.title) == (504, "Agent did not react")
        assert "did not change" in slow.value.detail
        with pytest.raises(ProblemError) as refused:
            await client.send("hello")
        assert type(refused.value) is ProblemError
        assert refused.value.status == 400
        assert refused.value.detail == "Invalid host header. Allowed hosts: localhost"
        with pytest.raises(ProblemError) as gateway:
            await client.status()
        assert type(gateway.value) is ProblemError and gateway.value.status == 502
        with pytest.raises(ConnectionFailed, match="closed the event stream"):
            await client.wait_until_stable(timeout=5)


async def test_send_after_the_agent_exited_is_agent_did_not_react(demo: Daemon) -> None:
    async with AsyncClient(demo.url) as client:
        await client.send_raw("/exit 0\r")
        # The daemon shuts down shortly after the agent exits; whichever comes first
        # (a 503 or a closed port) is a clear error, never a hang.
        for _ in range(100):
            try:
                await client.send("anyone there?")
            except AgentDidNotReact as exc:
                assert exc.status == 503 and exc.title == "Agent not running"
                return
            except ConnectionFailed:
                return
            except AgentBusy:
                pass
            await asyncio.sleep(0.05)
    pytest.fail("sending to an exited agent never failed")
