"""The HTTP API in process: the app over a session on a scripted terminal, on fake time.

What a client sees for each way a send can end (200, 409, 504, 503), checked against our
OpenAPI document like every response in the integration suites.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from agentapi.server.app import AppConfig, create_app
from agentapi.server.uploads import UploadStore
from tests.contract import client_hooks
from tests.unit.test_session import ChatAgent, start_session

pytestmark = pytest.mark.looptime

CONFIG = AppConfig(allowed_hosts=["*"], allowed_origins=["*"])


async def open_client(agent: ChatAgent, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    session, _, _ = await start_session(agent)
    app = create_app(session, CONFIG, UploadStore(tmp_path / "uploads"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://localhost",
        event_hooks={"response": [_async(h) for h in client_hooks()["response"]]},
    ) as client:
        yield client


def _async(hook):  # type: ignore[no-untyped-def]
    async def run(response: httpx.Response) -> None:
        await response.aread()
        hook(response)

    return run


@pytest.fixture
async def chat(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in open_client(ChatAgent(), tmp_path):
        yield client


async def test_a_message_is_answered_200_and_appears_in_messages(chat) -> None:
    response = await chat.post("/message", json={"content": "hello", "type": "user"})
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert (await chat.get("/status")).json()["status"] == "running"
    messages = (await chat.get("/messages")).json()["messages"]
    assert [m["content"] for m in messages[1:]] == ["hello", "● You said: hello"]


async def test_a_second_message_while_one_is_typed_is_409(tmp_path) -> None:
    async for client in open_client(ChatAgent(echoes=False, answers=False), tmp_path):
        first = asyncio.create_task(client.post("/message", json={"content": "a", "type": "user"}))
        await asyncio.sleep(0.1)
        second = await client.post("/message", json={"content": "b", "type": "user"})
        assert second.status_code == 409
        assert second.headers["content-type"] == "application/problem+json"
        assert second.json()["title"] == "Agent busy"
        # The first one ends as "did not react": the agent never changed its screen.
        assert (await first).status_code == 504


async def test_an_agent_that_never_reacts_is_504_after_15_s(tmp_path) -> None:
    async for client in open_client(ChatAgent(answers=False), tmp_path):
        loop = asyncio.get_running_loop()
        began = loop.time()
        response = await client.post("/message", json={"content": "hi", "type": "user"})
        assert response.status_code == 504
        assert "did not change within 15 s" in response.json()["detail"]
        assert loop.time() - began == pytest.approx(15.3, abs=0.05)
        assert len((await client.get("/messages")).json()["messages"]) == 1


async def test_an_agent_that_exits_during_the_send_is_503_at_once(tmp_path) -> None:
    async for client in open_client(ChatAgent(exit_after_paste_s=0.2), tmp_path):
        loop = asyncio.get_running_loop()
        began = loop.time()
        response = await client.post("/message", json={"content": "hi", "type": "user"})
        assert response.status_code == 503
        assert response.json()["title"] == "Agent not running"
        assert loop.time() - began == pytest.approx(0.2, abs=0.01)
