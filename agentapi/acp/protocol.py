"""Everything that touches the ``agent-client-protocol`` package, in one module.

Importing the package costs over a second, so the session imports this module in a
worker thread once the daemon already answers HTTP, and only in ACP mode.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Protocol, cast

from acp import PROTOCOL_VERSION, RequestError, image_block, text_block
from acp.client.connection import ClientSideConnection
from acp.interfaces import Client
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    HttpMcpServer,
    Implementation,
    InitializeResponse,
    McpServerStdio,
    PermissionOption,
    ReadTextFileResponse,
    RequestPermissionResponse,
    SseMcpServer,
    ToolCallUpdate,
    WriteTextFileResponse,
)

from agentapi import __version__
from agentapi.acp.pipe import StdioLines
from agentapi.messages import PermissionOptionPart

__all__ = [
    "AgentInfo",
    "ClientSideConnection",
    "RequestError",
    "connect",
    "error_text",
    "initialize",
    "new_session",
    "prompt",
]


class Host(Protocol):
    """What the daemon's side of the connection needs from the session."""

    def on_update(self, update: dict[str, Any]) -> None: ...

    async def permission(
        self, tool_call: dict[str, Any], options: list[PermissionOptionPart]
    ) -> str | None: ...

    def inside_cwd(self, path: str) -> Path | None: ...


class _DaemonClient:
    """The agent's requests to us (the ``acp`` Client protocol): only what we advertise,
    which is exactly what ``initialize`` says (files yes, terminals no)."""

    def __init__(self, host: Host) -> None:
        self._host = host

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self._host.on_update(update.model_dump(mode="json", by_alias=True, exclude_none=True))

    async def request_permission(
        self,
        session_id: str,
        tool_call: ToolCallUpdate,
        options: list[PermissionOption],
        **kwargs: Any,
    ) -> RequestPermissionResponse:
        offered = [
            PermissionOptionPart(option_id=o.option_id, name=o.name, kind=str(o.kind))
            for o in options
        ]
        call = tool_call.model_dump(mode="json", by_alias=True, exclude_none=True)
        choice = await self._host.permission(call, offered)
        if choice is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(option_id=choice, outcome="selected")
        )

    def _target(self, path: str) -> Path:
        target = self._host.inside_cwd(path)
        if target is None:
            raise RequestError.invalid_params(
                {"path": path, "reason": "outside the daemon's working directory"}
            )
        return target

    async def read_text_file(
        self,
        session_id: str,
        path: str,
        line: int | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> ReadTextFileResponse:
        target = self._target(path)
        try:
            text = target.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise RequestError.resource_not_found(path) from None
        except OSError as exc:
            raise RequestError.internal_error({"path": path, "reason": str(exc)}) from None
        if line is not None or limit is not None:
            lines = text.splitlines(keepends=True)
            start = max((line or 1) - 1, 0)
            end = None if limit is None else start + limit
            text = "".join(lines[start:end])
        return ReadTextFileResponse(content=text)

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse:
        target = self._target(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        except OSError as exc:
            raise RequestError.internal_error({"path": path, "reason": str(exc)}) from None
        return WriteTextFileResponse()


class AgentInfo:
    def __init__(self, response: InitializeResponse) -> None:
        info = response.agent_info
        self.name = (info.title or info.name) if info else ""
        self.version = info.version if info else ""
        caps = response.agent_capabilities
        self.load_session = bool(caps and caps.load_session)
        prompt_caps = caps.prompt_capabilities if caps else None
        self.images = bool(prompt_caps and prompt_caps.image)


def connect(host: Host, pipe: StdioLines) -> ClientSideConnection:
    return ClientSideConnection(cast(Client, _DaemonClient(host)), pipe)


async def initialize(conn: ClientSideConnection) -> AgentInfo:
    response = await conn.initialize(
        protocol_version=PROTOCOL_VERSION,
        client_capabilities=ClientCapabilities(
            fs=FileSystemCapabilities(read_text_file=True, write_text_file=True),
            terminal=False,
        ),
        client_info=Implementation(name="agentapi", title="agentapi", version=__version__),
    )
    return AgentInfo(response)


def _mcp_models(servers: list[dict[str, Any]]) -> list[Any]:
    models: list[Any] = []
    for server in servers:
        kind = server.get("type")
        if kind == "http":
            models.append(HttpMcpServer.model_validate(server))
        elif kind == "sse":
            models.append(SseMcpServer.model_validate(server))
        else:
            models.append(McpServerStdio.model_validate(server))
    return models


async def new_session(
    conn: ClientSideConnection, cwd: Path, mcp_servers: list[dict[str, Any]]
) -> str:
    response = await conn.new_session(cwd=str(cwd), mcp_servers=_mcp_models(mcp_servers))
    return response.session_id


async def load_session(
    conn: ClientSideConnection, cwd: Path, session_id: str, mcp_servers: list[dict[str, Any]]
) -> None:
    await conn.load_session(
        cwd=str(cwd), session_id=session_id, mcp_servers=_mcp_models(mcp_servers)
    )


async def prompt(
    conn: ClientSideConnection,
    session_id: str,
    content: str,
    images: list[tuple[bytes, str]] | None = None,
) -> str:
    """One turn (the text, then any images as image blocks); the stop reason."""
    blocks: list[Any] = [text_block(content)]
    blocks += [image_block(base64.b64encode(data).decode(), mime) for data, mime in images or []]
    response = await conn.prompt(session_id=session_id, prompt=blocks)
    return str(response.stop_reason)


async def cancel(conn: ClientSideConnection, session_id: str) -> None:
    await conn.cancel(session_id=session_id)


def error_text(exc: BaseException) -> str:
    data = getattr(exc, "data", None)
    return f"{exc} ({data})" if data else str(exc)
