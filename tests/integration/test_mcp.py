"""The MCP server over stdio, through the mcp package's own client, against real daemons."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.http_helpers import free_port

TOOLS = {
    "get_status",
    "get_messages",
    "send_message",
    "wait_until_stable",
    "interrupt",
    "send_keys",
    "get_screen",
    "upload_file",
}


@asynccontextmanager
async def mcp_client(*urls: str) -> AsyncIterator[Client]:
    args = ["-m", "agentapi", "mcp"]
    for url in urls:
        args += ["--url", url]
    params = StdioServerParameters(command=sys.executable, args=args)
    async with Client(params) as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def error(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result
    return "".join(getattr(c, "text", "") for c in result.content)


async def test_every_tool_against_the_demo_agent(demo, tmp_path: Path) -> None:
    async with mcp_client(f"demo={demo.url}") as client:
        listed = (await client.list_tools()).tools
        assert {t.name for t in listed} == TOOLS
        for tool in listed:
            assert tool.description and len(tool.description) > 60, tool.name
            assert "'demo'" in tool.description  # the model is told which agents exist
        status = await call(client, "get_status")
        assert status["status"] == "stable" and status["transport"] == "pty"
        assert await call(client, "wait_until_stable", timeout=20) == {"status": "stable"}

        answer = await call(client, "send_message", content="hello over mcp", agent="demo")
        assert answer == {"reply": "● You said: hello over mcp", "reply_id": 2, "status": "stable"}
        page = await call(client, "get_messages", since=0, limit=1)
        assert page["messages"] == [
            {"id": 2, "role": "agent", "content": "● You said: hello over mcp"}
        ]
        assert (page["omitted_earlier"], page["last_id"]) == (1, 2)
        assert (await call(client, "get_messages", since=2))["messages"] == []

        started = await call(client, "send_message", content="/think 30 long", wait=False)
        assert started == {"sent": True, "status": "running"}
        busy = await error(client, "send_message", content="too soon")
        assert "409 Agent busy" in busy
        stopped = await call(client, "interrupt")
        assert stopped == {"interrupted": True, "status": "stable"}
        assert await call(client, "interrupt") == {"interrupted": False, "status": "stable"}

        assert await call(client, "send_keys", keys="typed by a model") == {"sent": True}
        for _ in range(50):
            screen = (await call(client, "get_screen"))["screen"]
            if "❯ typed by a model" in screen:
                break
            await asyncio.sleep(0.1)
        assert "❯ typed by a model" in screen
        assert not screen.endswith("\n")

        notes = tmp_path / "notes.txt"
        notes.write_text("uploaded through mcp\n")
        uploaded = await call(client, "upload_file", path=str(notes))
        assert Path(uploaded["file_path"]).read_text() == "uploaded through mcp\n"


async def test_bad_arguments_unknown_agents_and_a_daemon_that_is_down(demo) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    async with mcp_client(f"demo={demo.url}", f"down={down}") as client:
        assert "the agents are 'demo', 'down'" in await error(client, "get_status")
        assert "unknown agent 'nope'" in await error(client, "get_status", agent="nope")
        unreachable = await error(client, "get_status", agent="down")
        assert f"cannot reach {down} (connection refused)" in unreachable
        assert "limit" in await error(client, "get_messages", agent="demo", limit=0)
        assert "content" in await error(client, "send_message", agent="demo", content="")
        assert "timeout" in await error(client, "wait_until_stable", agent="demo", timeout=-1)
        missing = await error(client, "upload_file", agent="demo", path="/no/such/file")
        assert "no such file here: /no/such/file" in missing
        # The server is still up and answering after all of that.
        assert (await call(client, "get_status", agent="demo"))["status"] == "stable"


async def test_the_daemon_serves_the_tools_at_mcp_with_the_flag(start_daemon, tmp_path) -> None:
    daemon = start_daemon(flags=["--mcp"]).ready()
    async with Client(f"{daemon.url}/mcp") as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        answer = await call(client, "send_message", content="over http")
        assert answer["reply"] == "● You said: over http"
        assert (await call(client, "get_status"))["status"] == "stable"
        assert await call(client, "wait_until_stable", timeout=10) == {"status": "stable"}
        page = await call(client, "get_messages", since=1)
        assert page["messages"] == [{"id": 2, "role": "agent", "content": answer["reply"]}]
        assert "limit" in await error(client, "get_messages", limit=500)
        await call(client, "send_message", content="/think 30 long", wait=False)
        assert await call(client, "interrupt") == {"interrupted": True, "status": "stable"}
        assert await call(client, "send_keys", keys="typed over http") == {"sent": True}
        for _ in range(50):
            screen = (await call(client, "get_screen"))["screen"]
            if "❯ typed over http" in screen:
                break
            await asyncio.sleep(0.1)
        assert "❯ typed over http" in screen
        notes = tmp_path / "http-notes.txt"
        notes.write_bytes(b"over http\n")
        uploaded = await call(client, "upload_file", path=str(notes))
        assert Path(uploaded["file_path"]).read_bytes() == b"over http\n"


def test_mcp_is_off_by_default_and_behind_the_host_check(demo, start_daemon) -> None:
    assert demo.http.post("/mcp", json={}).status_code == 404
    daemon = start_daemon(flags=["--mcp"]).ready()
    foreign = daemon.http.post("/mcp", json={}, headers={"Host": "evil.example"})
    assert foreign.status_code == 400
    assert "Invalid host header" in foreign.text
