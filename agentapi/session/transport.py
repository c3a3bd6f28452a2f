"""The seam between a session and the agent: what a transport must do.

The PTY transport (``agentapi.terminal.pty.AgentTerminal``) implements it with a real
terminal and the emulator; tests implement it with a scripted fake. The session never
learns which one it has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from agentapi.messages import Transport


class TerminalTransport(Protocol):
    """An agent seen as a terminal: keys go in, settled screens come out.

    ``start`` spawns the agent and from then on calls ``on_screen`` with each settled
    screen (only when it changed) and ``on_exit`` once, with the exit code.
    """

    kind: Transport

    def start(self, on_screen: Callable[[str], None], on_exit: Callable[[int], None]) -> None:
        """Start the agent; raises AgentStartError when it cannot be started."""
        ...

    async def write(self, data: bytes) -> None:
        """Type ``data``; returns once the agent's terminal took it.

        Raises AgentExited when the agent is gone, AgentWriteFailed when the write failed.
        """
        ...

    async def wait(self) -> int:
        """The agent's exit code, once it has exited."""
        ...

    def publish_now(self) -> str:
        """Publish a screen change still waiting for output to settle; the screen now."""
        ...

    @property
    def text(self) -> str:
        """The last published screen."""
        ...

    @property
    def last_screen(self) -> str:
        """The screen right now, published or not."""
        ...

    @property
    def exit_code(self) -> int | None:
        """None while the agent runs."""
        ...

    def resize(self, columns: int, lines: int) -> None: ...

    async def stop(self, grace: float) -> int | None:
        """Stop the agent (gently, then by force after ``grace`` seconds); its exit code."""
        ...

    def close(self) -> None:
        """Release the terminal once the agent has exited."""
        ...
