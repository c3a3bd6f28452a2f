"""Long-polls on GET /messages and GET /status, in process on fake time.

The daemon's clock is looptime's, so "answers after 30 s" is exact and costs nothing;
the wake-up on a change is checked to the millisecond of fake time.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.test_app import CONFIG, open_client  # noqa: F401
from tests.unit.test_session import ChatAgent

pytestmark = pytest.mark.looptime


async def test_a_message_wait_answers_at_the_next_change_with_the_new_revision(tmp_path) -> None:
    async for client in open_client(ChatAgent(), tmp_path):
        loop = asyncio.get_running_loop()
        first = (await client.get("/messages")).json()
        revision = first["revision"]
        began = loop.time()
        waiting = asyncio.create_task(
            client.get("/messages", params={"wait": 30, "revision": revision, "after": 0})
        )
        await asyncio.sleep(5)
        assert not waiting.done()
        await client.post("/message", json={"content": "hello", "type": "user"})
        answer = await waiting
        assert answer.status_code == 200
        # Woken by the user message being recorded, right after the 5 s of quiet.
        assert loop.time() - began == pytest.approx(5, abs=0.5)
        body = answer.json()
        assert body["revision"] > revision
        assert [m["id"] for m in body["messages"]] == [1, 2]
        assert body["messages"][0]["content"] == "hello"


async def test_a_message_wait_with_nothing_new_answers_at_the_timeout(tmp_path) -> None:
    async for client in open_client(ChatAgent(), tmp_path):
        loop = asyncio.get_running_loop()
        revision = (await client.get("/messages")).json()["revision"]
        began = loop.time()
        answer = await client.get("/messages", params={"wait": 12.5, "revision": revision})
        assert loop.time() - began == pytest.approx(12.5, abs=0.01)
        assert answer.json()["revision"] == revision
        assert len(answer.json()["messages"]) == 1


async def test_an_old_revision_or_a_newer_message_answers_at_once(tmp_path) -> None:
    async for client in open_client(ChatAgent(), tmp_path):
        loop = asyncio.get_running_loop()
        began = loop.time()
        old = await client.get("/messages", params={"wait": 30, "revision": 0})
        newer = await client.get("/messages", params={"wait": 30, "after": -1})
        assert loop.time() - began < 0.01
        assert len(old.json()["messages"]) == len(newer.json()["messages"]) == 1


async def test_a_status_wait_answers_when_the_status_is_reached(tmp_path) -> None:
    async for client in open_client(ChatAgent(), tmp_path):
        loop = asyncio.get_running_loop()
        began = loop.time()
        at_once = await client.get("/status", params={"wait_for": "stable", "timeout": 30})
        assert at_once.json()["status"] == "stable" and loop.time() - began < 0.01
        await client.post("/message", json={"content": "hello", "type": "user"})
        began = loop.time()
        answer = await client.get("/status", params={"wait_for": "stable", "timeout": 30})
        assert answer.json()["status"] == "stable"
        # Stable is two quiet seconds after the reply was drawn.
        assert loop.time() - began == pytest.approx(2, abs=0.2)
        began = loop.time()
        timed_out = await client.get("/status", params={"wait_for": "running", "timeout": 7})
        assert timed_out.status_code == 200 and timed_out.json()["status"] == "stable"
        assert loop.time() - began == pytest.approx(7, abs=0.01)


@pytest.mark.parametrize(
    "path, params, name",
    [
        ("/messages", {"wait": "61"}, "wait"),
        ("/messages", {"wait": "-1"}, "wait"),
        ("/messages", {"wait": "soon"}, "wait"),
        ("/messages", {"wait": "nan"}, "wait"),
        ("/messages", {"after": "x"}, "after"),
        ("/messages", {"after": "-2"}, "after"),
        ("/messages", {"revision": "1.5"}, "revision"),
        ("/status", {"wait_for": "idle"}, "wait_for"),
        ("/status", {"wait_for": "stable", "timeout": "600"}, "timeout"),
    ],
)
async def test_bad_values_are_422_problems_naming_the_parameter(
    tmp_path, path, params, name
) -> None:
    async for client in open_client(ChatAgent(), tmp_path):
        answer = await client.get(path, params=params)
        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["errors"][0]["location"] == f"query.{name}"
        assert f"query.{name}" in problem["detail"]


async def test_many_idle_waiters_all_wake_on_one_change(tmp_path) -> None:
    async for client in open_client(ChatAgent(), tmp_path):
        revision = (await client.get("/messages")).json()["revision"]
        waiters = [
            asyncio.create_task(client.get("/messages", params={"wait": 60, "revision": revision}))
            for _ in range(50)
        ]
        await asyncio.sleep(10)
        assert not any(w.done() for w in waiters)
        await client.post("/message", json={"content": "wake", "type": "user"})
        answers = await asyncio.gather(*waiters)
        assert all(a.json()["revision"] > revision for a in answers)
