"""``agentapi attach``: watch a running agent's terminal and type into it.

The daemon's ``/internal/screen`` stream gives the agent's whole terminal as text on
every change; the bottom of it (where agents keep their prompt) is drawn in the
user's terminal, rewriting only the rows that changed. Keys go to the agent as
``raw`` messages. Ctrl-C is never forwarded: it detaches.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
import sys
import termios
import tty
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from wcwidth import wcwidth

from agentapi.cli.urls import parse_url_args
from agentapi.client import (
    DEFAULT_URL,
    AgentApiError,
    AsyncClient,
    ConnectionFailed,
    ProblemError,
    normalize_url,
)
from agentapi.errors import UsageError

PROG = "agentapi attach"
HELP = f"""usage: {PROG} [--url HOST:PORT]

Show a running agent's terminal and forward your keystrokes to it. Ctrl-C detaches
(the agent keeps running).

flags:
  -u, --url HOST:PORT   the daemon to attach to, with or without http:// (default localhost:3284)
  -h, --help            show this help"""

CTRL_C = b"\x03"
ENTER_SCREEN = b"\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"
# Cursor shown again and attributes reset before leaving, so the shell gets a sane terminal.
LEAVE_SCREEN = b"\x1b[0m\x1b[?25h\x1b[?1049l"
DRAIN_S = 2.0


def parse_args(argv: Sequence[str]) -> str | None:
    """The daemon's base URL, or None when help was asked for. Raises UsageError."""
    urls = parse_url_args(argv, prog=PROG, metavar="HOST:PORT", repeatable=False)
    if urls is None:
        return None
    url = urls[0] if urls else DEFAULT_URL
    try:
        return normalize_url(url)
    except ValueError as exc:
        raise UsageError(f"bad --url {url!r}: {exc}") from None


def _error(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def run_attach(argv: Sequence[str]) -> int:
    try:
        url = parse_args(argv)
    except UsageError as exc:
        return _error(str(exc), 2)
    if url is None:
        print(HELP)
        return 0
    if not _isatty(0):
        return _error("stdin is not a terminal; attach needs an interactive terminal", 2)
    try:
        return asyncio.run(_attach(url))
    except KeyboardInterrupt:
        return 0


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


# -- drawing --------------------------------------------------------------------------------


def fit(line: str, columns: int) -> str:
    """``line`` cut to ``columns`` terminal cells; control characters become spaces."""
    out: list[str] = []
    used = 0
    for ch in line:
        width = wcwidth(ch)
        if width < 0:
            ch, width = " ", 1
        if used + width > columns:
            break
        out.append(ch)
        used += width
    return "".join(out)


class Renderer:
    """Draws the last rows of a screen text, rewriting only rows that changed."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self._shown: list[str] = []
        self._size: tuple[int, int] | None = None
        self.screen = ""

    def invalidate(self) -> None:
        self._size = None

    def draw(self, screen: str, size: tuple[int, int]) -> None:
        self.screen = screen
        columns, rows = size
        lines = screen.split("\n")[-rows:]
        wanted = [fit(line, columns) for line in lines]
        wanted += [""] * (rows - len(wanted))
        out: list[str] = []
        if size != self._size:
            out.append("\x1b[H\x1b[2J")
            self._shown = [""] * rows
            self._size = size
        for row, (old, new) in enumerate(zip(self._shown, wanted, strict=True)):
            if old != new:
                # Erase first: erasing after a row that fills the width would eat its last cell.
                out.append(f"\x1b[{row + 1}H\x1b[2K{new}")
        self._shown = wanted
        if out:
            self._write("".join(out).encode())


# -- the user's terminal --------------------------------------------------------------------


class UserTerminal:
    """Raw mode and the alternate screen while attached; both undone on exit, whatever happens."""

    def __init__(self, in_fd: int = 0, out_fd: int = 1) -> None:
        self.in_fd = in_fd
        self.out_fd = out_fd
        self._saved: list[Any] | None = None

    def __enter__(self) -> UserTerminal:
        self._saved = termios.tcgetattr(self.in_fd)
        tty.setraw(self.in_fd, termios.TCSANOW)
        self.write(ENTER_SCREEN)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(OSError):
            self.write(LEAVE_SCREEN)
        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.in_fd, termios.TCSADRAIN, self._saved)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.out_fd, view)
            view = view[written:]

    def size(self) -> tuple[int, int]:
        for fd in (self.out_fd, self.in_fd):
            with contextlib.suppress(OSError):
                columns, rows = os.get_terminal_size(fd)
                if columns > 0 and rows > 0:
                    return columns, rows
        return 80, 24


# -- the session ----------------------------------------------------------------------------


class Attachment:
    def __init__(self, client: AsyncClient, terminal: UserTerminal) -> None:
        self.client = client
        self.terminal = terminal
        self.renderer = Renderer(terminal.write)
        self._keys: asyncio.Queue[str | None] = asyncio.Queue()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._done: asyncio.Future[tuple[int, str | None]] = (
            asyncio.get_running_loop().create_future()
        )

    def finish(self, code: int, message: str | None = None) -> None:
        if not self._done.done():
            self._done.set_result((code, message))

    # -- keys -------------------------------------------------------------------------------

    def on_input(self) -> None:
        try:
            data = os.read(self.terminal.in_fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._forward_rest()
            self.finish(0)
            return
        before, ctrl_c, _ = data.partition(CTRL_C)
        self._forward(before)
        if ctrl_c:
            self._forward_rest()
            self.finish(0)

    def _forward(self, data: bytes) -> None:
        # Incremental, so a character split across two reads is sent whole.
        text = self._decoder.decode(data)
        if text:
            self._keys.put_nowait(text)

    def _forward_rest(self) -> None:
        text = self._decoder.decode(b"", final=True)
        if text:
            self._keys.put_nowait(text)
        self._keys.put_nowait(None)

    async def send_keys(self) -> None:
        while True:
            keys = await self._keys.get()
            # Keys typed while a request was in flight go together, in order.
            while keys is not None and not self._keys.empty():
                more = self._keys.get_nowait()
                if more is None:
                    if keys:
                        await self._send(keys)
                    return
                keys += more
            if keys is None:
                return
            await self._send(keys)

    async def _send(self, keys: str) -> None:
        try:
            await self.client.send_raw(keys)
        except ProblemError as exc:
            self.finish(1, f"the daemon refused the keys: {exc.title}: {exc.detail}")
        except AgentApiError as exc:
            self.finish(1, str(exc))

    # -- screen -----------------------------------------------------------------------------

    async def show_screen(self) -> None:
        try:
            async with contextlib.aclosing(self.client.screen()) as updates:
                async for update in updates:
                    self.renderer.draw(update.screen, self.terminal.size())
        except AgentApiError as exc:
            self.finish(1, str(exc))
            return
        self.finish(1, f"{self.client.base_url} closed the connection (the agent has exited?)")

    def redraw(self) -> None:
        self.renderer.invalidate()
        self.renderer.draw(self.renderer.screen, self.terminal.size())

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> tuple[int, str | None]:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.terminal.in_fd, self.on_input)
        handled = [signal.SIGWINCH, signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
        loop.add_signal_handler(signal.SIGWINCH, self.redraw)
        loop.add_signal_handler(signal.SIGINT, self.finish, 0)
        loop.add_signal_handler(signal.SIGTERM, self.finish, 128 + signal.SIGTERM)
        loop.add_signal_handler(signal.SIGHUP, self.finish, 128 + signal.SIGHUP)
        screen = asyncio.create_task(self.show_screen())
        sender = asyncio.create_task(self.send_keys())
        try:
            code, message = await self._done
            if code == 0:
                # Keys typed just before Ctrl-C still reach the agent.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(sender), DRAIN_S)
            return code, message
        finally:
            loop.remove_reader(self.terminal.in_fd)
            for sig in handled:
                loop.remove_signal_handler(sig)
            for task in (screen, sender):
                task.cancel()
            await asyncio.gather(screen, sender, return_exceptions=True)


async def _attach(url: str) -> int:
    async with AsyncClient(url, timeout=10) as client:
        try:
            await client.status()
        except ConnectionFailed as exc:
            return _error(str(exc), 1)
        except ProblemError as exc:
            return _error(f"{url} answered {exc.status} {exc.title}: {exc.detail}", 1)
        except AgentApiError as exc:
            return _error(f"{url} does not look like an agentapi daemon: {exc}", 1)
        with UserTerminal() as terminal:
            code, message = await Attachment(client, terminal).run()
    if message:
        return _error(message, code)
    return code
