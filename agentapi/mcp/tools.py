"""What the MCP tools do, against one or more daemons, through ``agentapi.client``.

Each tool returns a small JSON-able dict written for a model to read; an error is an
``AgentApiError`` whose text is the daemon's problem document ("409 Agent busy: ..."),
which the server turns into an MCP tool error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentapi.client.api import (
    AsyncClient,
    Message,
    WaitTimeout,
    normalize_url,
)
from agentapi.errors import AgentApiError, UsageError

MAX_MESSAGES = 200


@dataclass(frozen=True)
class Daemon:
    name: str
    url: str


def parse_daemon(spec: str) -> Daemon:
    """``[NAME=]URL``; without a name, the URL's host:port names it."""
    name, sep, url = spec.partition("=")
    if not sep or "://" in name or not name:
        name, url = "", spec
    try:
        url = normalize_url(url)
    except ValueError as exc:
        raise UsageError(f"--url {spec!r}: {exc}") from None
    name = name.strip() or (urlsplit(url).netloc or url)
    return Daemon(name, url)


class UnknownAgent(AgentApiError):
    pass


class AgentTools:
    """The tools over named daemons; one AsyncClient each, opened on first use."""

    def __init__(self, daemons: Iterable[Daemon]) -> None:
        self.daemons = {d.name: d for d in daemons}
        if not self.daemons:
            raise UsageError("give at least one --url")
        self._clients: dict[str, AsyncClient] = {}

    async def close(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.close()
        self._clients.clear()

    def describe_agents(self) -> str:
        names = ", ".join(f"'{d.name}' ({d.url})" for d in self.daemons.values())
        if len(self.daemons) == 1:
            return f"One agent is available: {names}; the `agent` argument may be left empty."
        return f"Agents available (pass one as `agent`): {names}."

    def _client(self, agent: str) -> AsyncClient:
        name = agent.strip()
        if not name and len(self.daemons) == 1:
            name = next(iter(self.daemons))
        daemon = self.daemons.get(name)
        if daemon is None:
            known = ", ".join(repr(n) for n in self.daemons)
            what = f"unknown agent {name!r}" if name else "no agent named"
            raise UnknownAgent(f"{what}; the agents are {known}")
        client = self._clients.get(daemon.name)
        if client is None:
            client = self._clients[daemon.name] = AsyncClient(daemon.url)
        return client

    # -- the tools --------------------------------------------------------------------------

    async def get_status(self, agent: str = "") -> dict[str, Any]:
        status = await self._client(agent).status()
        return status.to_wire()

    async def get_messages(
        self, agent: str = "", since: int = -1, limit: int = 20
    ) -> dict[str, Any]:
        messages = [m for m in await self._client(agent).messages() if m.id > since]
        total = len(messages)
        shown = messages[-limit:] if limit else []
        return {
            "messages": [_message(m) for m in shown],
            "omitted_earlier": total - len(shown),
            "last_id": messages[-1].id if messages else since,
        }

    async def send_message(
        self, content: str, agent: str = "", wait: bool = True, timeout: float = 300
    ) -> dict[str, Any]:
        client = self._client(agent)
        if not wait:
            await client.send(content)
            return {"sent": True, "status": "running"}
        try:
            reply = await client.ask(content, timeout=timeout)
        except WaitTimeout:
            raise WaitTimeout(
                f"the agent did not finish within {timeout:g} s; it is still working. Call "
                "wait_until_stable, then get_messages, or interrupt it."
            ) from None
        return {"reply": reply.content, "reply_id": reply.id, "status": "stable"}

    async def wait_until_stable(self, agent: str = "", timeout: float = 300) -> dict[str, Any]:
        await self._client(agent).wait_until_stable(timeout)
        return {"status": "stable"}

    async def interrupt(self, agent: str = "") -> dict[str, Any]:
        answer = await self._client(agent).interrupt()
        return {"interrupted": answer.interrupted, "status": answer.status.value}

    async def send_keys(self, keys: str, agent: str = "") -> dict[str, Any]:
        await self._client(agent).send_raw(keys)
        return {"sent": True}

    async def get_screen(self, agent: str = "") -> dict[str, Any]:
        async with contextlib.aclosing(self._client(agent).screen()) as screens:
            async for update in screens:
                lines = [line.rstrip() for line in update.screen.split("\n")]
                while lines and not lines[-1]:
                    lines.pop()
                return {"screen": "\n".join(lines)}
        raise AgentApiError("the daemon closed the screen stream without a screen")

    async def upload_file(self, path: str, agent: str = "") -> dict[str, Any]:
        file = Path(path).expanduser()
        if not file.is_file():
            raise AgentApiError(f"no such file here: {path}")
        remote = await self._client(agent).upload(file)
        return {"file_path": remote}


def _message(message: Message) -> dict[str, Any]:
    return {"id": message.id, "role": message.role.value, "content": message.content}
