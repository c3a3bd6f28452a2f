"""JSON-RPC messages over the agent's stdin and stdout, one JSON object per line.

The ``acp`` package has its own line reader, but it logs and skips a line that is
not JSON; we want to know (an agent that prints a banner on stdout is broken in a
way the user must hear about), so the connection is given this transport instead.
It also accepts a response whose id is our numeric id written as a string, which
some agents send.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("agentapi.acp")

# Called with a line that is not a JSON object; answers True to end the stream.
GarbageHandler = Callable[[bytes], bool]


class StdioLines:
    """An ``acp`` message transport over a child's pipes (``send``/``receive``/``close``)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_garbage: GarbageHandler,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_garbage = on_garbage
        self.lines_in = 0

    async def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False) + "\n"
        if log.isEnabledFor(logging.DEBUG):
            log.debug("to the agent: %.600s", data.rstrip())
        try:
            self._writer.write(data.encode())
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise ConnectionError(f"cannot write to the agent: {exc}") from None

    async def receive(self) -> dict[str, Any] | None:
        while True:
            line = await self._read_line()
            if not line:
                return None
            self.lines_in += 1
            stripped = line.strip()
            if not stripped:
                continue
            if log.isEnabledFor(logging.DEBUG):
                log.debug("from the agent: %.600s", stripped.decode(errors="replace"))
            try:
                message = json.loads(stripped)
            except (json.JSONDecodeError, UnicodeDecodeError):
                message = None
            if not isinstance(message, dict):
                if self._on_garbage(stripped):
                    return None
                continue
            _numeric_response_id(message)
            return message

    async def _read_line(self) -> bytes:
        chunks: list[bytes] = []
        try:
            while True:
                try:
                    chunks.append(await self._reader.readuntil(b"\n"))
                    return b"".join(chunks)
                except asyncio.LimitOverrunError as exc:
                    chunks.append(await self._reader.readexactly(exc.consumed))
        except asyncio.IncompleteReadError as exc:
            chunks.append(exc.partial)
            return b"".join(chunks)
        except (ConnectionError, OSError):
            return b""

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()


def _numeric_response_id(message: dict[str, Any]) -> None:
    """Our request ids are numbers; a response that writes one as a string still matches."""
    if "method" in message:
        return
    request_id = message.get("id")
    if isinstance(request_id, str) and request_id.isdigit():
        message["id"] = int(request_id)
