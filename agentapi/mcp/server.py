"""``agentapi mcp``: the tools of ``agentapi.mcp.tools`` served over MCP (stdio).

Built on the official ``mcp`` package (``MCPServer``). Imported only by ``agentapi mcp``:
the package takes over a second to import, and the daemon's start-up must stay fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, ParamSpec, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from agentapi import __version__
from agentapi.cli.urls import parse_url_args
from agentapi.errors import AgentApiError, UsageError
from agentapi.mcp.tools import MAX_MESSAGES, AgentTools, parse_daemon

USAGE = """usage: agentapi mcp --url [NAME=]URL [--url [NAME=]URL ...]

Serve MCP over stdio with tools that drive the agents behind these agentapi daemons
(get_status, get_messages, send_message, wait_until_stable, interrupt, send_keys,
get_screen, upload_file). Name each daemon when there are several; every tool takes the
name as its `agent` argument. Example for Claude Code:

  claude mcp add agentapi -- agentapi mcp --url worker=http://localhost:3284"""

Agent = Annotated[
    str,
    Field(description="Which agent (its name); may be empty when only one is configured."),
]
Timeout = Annotated[
    float,
    Field(gt=0, le=3600, description="Seconds to wait at most."),
]

INSTRUCTIONS = """These tools drive other coding agents (Claude Code, Aider, Codex, ...)
that run in terminals behind agentapi. An agent is 'running' while it works and 'stable'
when it waits for input; it takes a new message only when stable. The usual flow is
send_message (which waits for the reply and returns it); for long tasks send with
wait=false, then wait_until_stable and get_messages."""


P = ParamSpec("P")
R = TypeVar("R")


def _tool_registrar(
    server: MCPServer,
) -> Callable[[str], Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]]:
    """``server.tool``, with the daemon's errors given back as tool errors.

    A tool error carries the problem document's text, which the model reads; any other
    exception is the mcp package's to report.
    """

    def tool(description: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
        def register(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
            # wraps() keeps the name and, through __wrapped__, the signature the mcp
            # package builds each tool's input schema from.
            @functools.wraps(fn)
            async def run(*args: P.args, **kwargs: P.kwargs) -> R:
                try:
                    return await fn(*args, **kwargs)
                except AgentApiError as exc:
                    raise ToolError(str(exc)) from None

            server.tool(description=description)(run)
            return fn

        return register

    return tool


def build_server(tools: AgentTools) -> MCPServer:
    server: MCPServer = MCPServer(
        name="agentapi",
        version=__version__,
        instructions=INSTRUCTIONS + "\n\n" + tools.describe_agents(),
    )
    agents = tools.describe_agents()
    tool = _tool_registrar(server)

    @tool(
        "Is the agent working ('running') or waiting for input ('stable')? Also "
        f"says which kind of agent it is. {agents}"
    )
    async def get_status(agent: Agent = "") -> dict[str, Any]:
        return await tools.get_status(agent)

    @tool(
        "Read the conversation with the agent: a list of {id, role, content}, "
        "oldest first, role 'user' (what was sent) or 'agent' (its replies, cleaned of "
        "terminal chrome). Pass `since` = the last id you have read to get only newer "
        "messages; `limit` keeps the latest ones (`omitted_earlier` says how many were "
        f"left out). The last agent message grows while the agent is running. {agents}"
    )
    async def get_messages(
        agent: Agent = "",
        since: Annotated[
            int, Field(ge=-1, description="Only messages with an id greater than this.")
        ] = -1,
        limit: Annotated[
            int,
            Field(ge=1, le=MAX_MESSAGES, description="At most this many (the latest)."),
        ] = 20,
    ) -> dict[str, Any]:
        return await tools.get_messages(agent, since, limit)

    @tool(
        "Send a message (a task, a question, an answer) to the agent, as if "
        "typed into its chat. Only works when the agent is stable (else an 'Agent busy' "
        "error: wait_until_stable first). With wait=true (the default) it waits until the "
        "agent has finished and returns its reply; with wait=false it returns as soon as the "
        f"agent has started. {agents}"
    )
    async def send_message(
        content: Annotated[str, Field(min_length=1, description="The message text.")],
        agent: Agent = "",
        wait: Annotated[
            bool, Field(description="Wait for the agent's reply and return it.")
        ] = True,
        timeout: Timeout = 300,
    ) -> dict[str, Any]:
        return await tools.send_message(content, agent, wait, timeout)

    @tool(
        "Wait until the agent has finished working (status 'stable'); returns at "
        f"once if it is idle. Errors after `timeout` seconds if it is still working. {agents}"
    )
    async def wait_until_stable(agent: Agent = "", timeout: Timeout = 300) -> dict[str, Any]:
        return await tools.wait_until_stable(agent, timeout)

    @tool(
        "Stop what the agent is doing (like pressing Esc or Ctrl-C in its "
        "terminal) and wait for it to settle. `interrupted` is false when it was idle "
        f"already. {agents}"
    )
    async def interrupt(agent: Agent = "") -> dict[str, Any]:
        return await tools.interrupt(agent)

    @tool(
        "Type raw keystrokes into the agent's terminal, not recorded as a "
        "message: to answer a yes/no or menu prompt the agent shows (see get_screen). "
        "Escape characters are keys: '\\r' is Enter, '\\u001b' Esc, '\\u0003' Ctrl-C, "
        f"'\\u001b[B' the down arrow. {agents}"
    )
    async def send_keys(
        keys: Annotated[str, Field(min_length=1, description="The keys, as text.")],
        agent: Agent = "",
    ) -> dict[str, Any]:
        return await tools.send_keys(keys, agent)

    @tool(
        "The agent's whole terminal screen as text, as a person would see it: "
        "to read a dialog or prompt that is not part of the conversation. Trailing blank "
        f"lines are dropped. {agents}"
    )
    async def get_screen(agent: Agent = "") -> dict[str, Any]:
        return await tools.get_screen(agent)

    @tool(
        "Copy a file from this machine to the agent's machine (at most 10 MiB); "
        "returns the path where the agent can read it, to mention in a message. "
        f"{agents}"
    )
    async def upload_file(
        path: Annotated[str, Field(min_length=1, description="The file's path here.")],
        agent: Agent = "",
    ) -> dict[str, Any]:
        return await tools.upload_file(path, agent)

    return server


def parse_args(argv: Sequence[str]) -> list[str] | None:
    """The --url values; None for --help. Raises UsageError."""
    urls = parse_url_args(argv, prog="agentapi mcp", metavar="[NAME=]URL", repeatable=True)
    if urls is not None and not urls:
        raise UsageError("give at least one --url [NAME=]URL")
    return urls


def run_mcp(argv: Sequence[str]) -> int:
    try:
        urls = parse_args(argv)
        if urls is None:
            print(USAGE)
            return 0
        daemons = [parse_daemon(u) for u in urls]
        names = [d.name for d in daemons]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise UsageError(f"two daemons are named {duplicate!r}: name them with NAME=URL")
    except UsageError as exc:
        print(f"agentapi mcp: {exc}", file=sys.stderr)
        return 2
    tools = AgentTools(daemons)
    server = build_server(tools)

    async def serve() -> None:
        try:
            await server.run_stdio_async()
        finally:
            await tools.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0
