"""The PTY transport on a real pseudo-terminal and a real process."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from agentapi.errors import AgentExited, AgentWriteFailed
from agentapi.terminal.pty import AgentTerminal

# Echoes each line it reads as "got: LINE", so typed keys visibly reach it.
ECHO = [sys.executable, "-c", "import sys\nfor line in sys.stdin: print('got:', line.strip())"]


async def started(argv: list[str]) -> tuple[AgentTerminal, list[str], list[int]]:
    screens: list[str] = []
    exits: list[int] = []
    term = AgentTerminal(argv, columns=80, lines=24)
    term.start(screens.append, exits.append)
    return term, screens, exits


async def until(predicate, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_typed_keys_reach_the_agent_and_its_screen_comes_back() -> None:
    term, screens, _ = await started(ECHO)
    try:
        await term.write(b"hello\r")
        await until(lambda: any("got: hello" in s for s in screens))
    finally:
        await term.stop(1)
        term.close()


async def test_a_write_the_terminal_refuses_is_an_error_not_a_success() -> None:
    term, _, _ = await started(ECHO)
    assert term._proc is not None
    master = term._proc.fd
    saved = os.dup(master)
    read_end, write_end = os.pipe()
    try:
        # The master now names a pipe's read end: the kernel refuses every write (EBADF),
        # as it would a terminal that failed under the daemon.
        os.dup2(read_end, master)
        with pytest.raises(AgentWriteFailed, match="Bad file descriptor"):
            await term.write(b"lost\r")
    finally:
        os.dup2(saved, master)
        for fd in (saved, read_end, write_end):
            os.close(fd)
        await term.stop(1)
        term.close()


async def test_a_write_after_the_agent_exited_says_so() -> None:
    term, _, exits = await started([sys.executable, "-c", "pass"])
    await until(lambda: exits)
    with pytest.raises(AgentExited):
        await term.write(b"anyone?\r")
    term.close()


async def test_keys_before_the_agent_is_started_are_refused_not_a_crash() -> None:
    # The daemon answers requests a moment before it spawns the agent.
    term = AgentTerminal(ECHO, columns=80, lines=24)
    with pytest.raises(AgentExited, match="not started yet"):
        await term.write(b"early\r")
    assert await term.stop(1) is None
    term.close()
