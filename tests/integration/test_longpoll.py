"""Long-polls against the real daemon and demo agent: woken by a change, as fast as SSE."""

import threading
import time

import httpx

from agentapi.client import Client
from tests.http_helpers import sse_events


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
