"""The scripted ACP agent behind ``tests.fakes.acp_agent``. Each prompt's text picks a script:

    hello WORDS        streams "You said: WORDS" in small chunks
    /tool              a tool call: pending, in progress, completed with output
    /plan              a plan of three steps, then a reply
    /think             a thought chunk, then a reply
    /slow N            streams N chunks 0.1 s apart; honours session/cancel
    /perm              asks permission for a tool call and says which option it got
    /read PATH         asks the client to read PATH and repeats its first line
    /write PATH TEXT   asks the client to write TEXT to PATH
    /exit CODE         exits at once with CODE (mid-turn)
    /garbage           writes a line that is not JSON on stdout, then replies
    /recall            says what it remembers of this session (for session/load)
    (any prompt)       with image blocks, first says "Images: TYPE N bytes. "
    anything else      answered like hello

Start-up flags: see ``tests.fakes.acp_agent``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

from acp import (
    PROTOCOL_VERSION,
    Agent,
    InitializeResponse,
    LoadSessionResponse,
    NewSessionResponse,
    PromptResponse,
    run_agent,
    start_tool_call,
    text_block,
    tool_content,
    update_agent_message_text,
    update_agent_thought_text,
    update_plan,
    update_tool_call,
)
from acp.interfaces import Client
from acp.schema import (
    AgentCapabilities,
    Implementation,
    PermissionOption,
    PlanEntry,
    PromptCapabilities,
    ToolCallUpdate,
)


class ScriptedAgent(Agent):
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.client: Client | None = None
        self.cancelled: set[str] = set()
        self.history: dict[str, list[str]] = {}
        self.history_file = Path(args.history) if args.history else None
        if self.history_file and self.history_file.exists():
            self.history = json.loads(self.history_file.read_text())

    def on_connect(self, conn: Any) -> None:
        self.client = conn

    async def initialize(self, protocol_version: int, **kwargs: Any) -> InitializeResponse:
        if self.args.no_init:
            await asyncio.sleep(3600)
        return InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=AgentCapabilities(
                load_session=self.args.load,
                prompt_capabilities=PromptCapabilities(image=True),
            ),
            agent_info=Implementation(name="scripted-acp-agent", version="1.0"),
        )

    async def new_session(self, cwd: str, mcp_servers: Any = None, **kwargs: Any) -> Any:
        session_id = f"s{len(self.history) + 1}-{os.getpid()}"
        self.history[session_id] = []
        if mcp_servers:
            names = [s.name for s in mcp_servers]
            print(f"mcp servers: {names}", file=sys.stderr, flush=True)
        return NewSessionResponse(session_id=session_id)

    async def load_session(self, cwd: str, session_id: str, **kwargs: Any) -> Any:
        if session_id not in self.history:
            from acp import RequestError

            raise RequestError.resource_not_found(session_id)
        # Replays the conversation as the protocol asks.
        for line in self.history[session_id]:
            await self._say(session_id, line)
        return LoadSessionResponse()

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        self.cancelled.add(session_id)

    async def _say(self, session_id: str, text: str) -> None:
        assert self.client is not None
        await self.client.session_update(session_id, update_agent_message_text(text))

    async def _stream(self, session_id: str, text: str) -> None:
        for i in range(0, len(text), 4):
            await self._say(session_id, text[i : i + 4])
            if self.args.chunk_delay:
                await asyncio.sleep(self.args.chunk_delay)

    async def prompt(self, prompt: list[Any], session_id: str, **kwargs: Any) -> PromptResponse:
        assert self.client is not None
        text = " ".join(getattr(block, "text", "") for block in prompt).strip()
        self.cancelled.discard(session_id)
        self.history.setdefault(session_id, []).append(text)
        if self.history_file:
            self.history_file.write_text(json.dumps(self.history))
        word, _, rest = text.partition(" ")
        client = self.client
        images = [b for b in prompt if getattr(b, "type", "") == "image"]
        if images:
            sizes = ", ".join(
                f"{b.mime_type} {len(base64.b64decode(b.data))} bytes" for b in images
            )
            await self._say(session_id, f"Images: {sizes}. ")
        if word == "/tool":
            await client.session_update(
                session_id, start_tool_call("t1", "List files", kind="execute", status="pending")
            )
            await client.session_update(session_id, update_tool_call("t1", status="in_progress"))
            await client.session_update(
                session_id,
                update_tool_call(
                    "t1", status="completed", content=[tool_content(text_block("a.txt\nb.txt"))]
                ),
            )
            await self._stream(session_id, "Found two files.")
        elif word == "/plan":
            entries = [
                PlanEntry(content="Read the code", priority="high", status="completed"),
                PlanEntry(content="Write the fix", priority="medium", status="in_progress"),
                PlanEntry(content="Run the tests", priority="low", status="pending"),
            ]
            await client.session_update(session_id, update_plan(entries))
            await self._stream(session_id, "Working on it.")
        elif word == "/think":
            await client.session_update(session_id, update_agent_thought_text("Pondering."))
            await self._stream(session_id, "Thought done.")
        elif word == "/slow":
            for i in range(int(rest or "50")):
                if session_id in self.cancelled:
                    return PromptResponse(stop_reason="cancelled")
                await self._say(session_id, f"chunk {i} ")
                await asyncio.sleep(0.1)
        elif word == "/perm":
            await client.session_update(
                session_id, start_tool_call("p1", "Delete a.txt", kind="delete", status="pending")
            )
            answer = await client.request_permission(
                session_id=session_id,
                tool_call=ToolCallUpdate(tool_call_id="p1", title="Delete a.txt"),
                options=[
                    PermissionOption(option_id="yes", name="Allow", kind="allow_once"),
                    PermissionOption(option_id="always", name="Always", kind="allow_always"),
                    PermissionOption(option_id="no", name="Reject", kind="reject_once"),
                ],
            )
            outcome = answer.outcome
            if session_id in self.cancelled or outcome.outcome == "cancelled":
                return PromptResponse(stop_reason="cancelled")
            await self._stream(session_id, f"Permission: {outcome.option_id}.")
        elif word == "/read":
            try:
                result = await client.read_text_file(session_id=session_id, path=rest)
                first = result.content.splitlines()[0] if result.content else ""
                await self._stream(session_id, f"First line: {first}")
            except Exception as exc:
                await self._stream(session_id, f"Read failed: {exc}")
        elif word == "/write":
            path, _, content = rest.partition(" ")
            try:
                await client.write_text_file(session_id=session_id, path=path, content=content)
                await self._stream(session_id, "Written.")
            except Exception as exc:
                await self._stream(session_id, f"Write failed: {exc}")
        elif word == "/exit":
            print("exiting as asked", file=sys.stderr, flush=True)
            os._exit(int(rest or "0"))
        elif word == "/garbage":
            os.write(1, b"this is not json\n")
            await self._stream(session_id, "After garbage.")
        elif word == "/recall":
            earlier = self.history[session_id][:-1]
            await self._stream(session_id, "I remember: " + " | ".join(earlier))
        else:
            await self._stream(session_id, f"You said: {rest if word == 'hello' else text}")
        return PromptResponse(stop_reason="end_turn")


def run(args: argparse.Namespace) -> None:
    asyncio.run(run_agent(ScriptedAgent(args)))
