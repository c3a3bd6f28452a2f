"""A terminal transport whose agent is a Python function: for session and app unit tests.

It implements ``agentapi.session.transport.TerminalTransport`` the way the PTY terminal
does (settled screens out, keys in, one exit), without a process: the test decides what
the "agent" draws when keys arrive, when it exits and when a write fails. Run it on an
event loop with fake time (looptime) and the session's timers cost nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from agentapi.errors import AgentExited, AgentWriteFailed
from agentapi.messages import Transport

PASTE_START = b"\x1b[200~"
PASTE_END = b"\x1b[201~"


@dataclass(frozen=True)
class Write:
    at: float  # the loop's clock when the keys were written
    data: bytes


# What the scripted agent does with keys: it may call draw(), exit() or nothing.
KeyHandler = Callable[["ScriptedTerminal", bytes], None]


class ScriptedTerminal:
    kind = Transport.PTY

    def __init__(self, first_screen: str, on_keys: KeyHandler | None = None) -> None:
        self._text = first_screen
        self._on_keys = on_keys or (lambda term, data: None)
        self._on_screen: Callable[[str], None] | None = None
        self._on_exit: Callable[[int], None] | None = None
        self._exit_code: int | None = None
        self._exited = asyncio.Event()
        self.writes: list[Write] = []
        # When set, every write raises it (the PTY's write failing with an OSError).
        self.fail_writes: str | None = None

    # -- what the test's agent does --------------------------------------------------------

    def draw(self, text: str) -> None:
        """Show a new (already settled) screen."""
        if text == self._text or self._exit_code is not None:
            return
        self._text = text
        if self._on_screen is not None:
            self._on_screen(text)

    def exit(self, code: int = 0) -> None:
        if self._exit_code is not None:
            return
        self._exit_code = code
        self._exited.set()
        if self._on_exit is not None:
            self._on_exit(code)

    @property
    def typed(self) -> bytes:
        return b"".join(w.data for w in self.writes)

    def writes_of(self, data: bytes) -> list[Write]:
        return [w for w in self.writes if w.data == data]

    # -- the transport protocol ------------------------------------------------------------

    def start(self, on_screen: Callable[[str], None], on_exit: Callable[[int], None]) -> None:
        self._on_screen = on_screen
        self._on_exit = on_exit
        on_screen(self._text)

    async def write(self, data: bytes) -> None:
        if self._exit_code is not None:
            raise AgentExited("The agent has exited.")
        if self.fail_writes is not None:
            raise AgentWriteFailed(self.fail_writes)
        self.writes.append(Write(asyncio.get_running_loop().time(), data))
        self._on_keys(self, data)

    async def wait(self) -> int:
        await self._exited.wait()
        assert self._exit_code is not None
        return self._exit_code

    def publish_now(self) -> str:
        return self._text

    @property
    def text(self) -> str:
        return self._text

    @property
    def last_screen(self) -> str:
        return self._text

    @property
    def exit_code(self) -> int | None:
        return self._exit_code

    def resize(self, columns: int, lines: int) -> None:
        pass

    async def stop(self, grace: float) -> int | None:
        self.exit(-15)
        return self._exit_code

    def close(self) -> None:
        pass


def pasted_text(data: bytes) -> str | None:
    """The text of a bracketed paste, or None when ``data`` is not one."""
    if data.startswith(PASTE_START) and data.endswith(PASTE_END):
        return data[len(PASTE_START) : -len(PASTE_END)].decode()
    return None
