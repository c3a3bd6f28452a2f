"""The agent's terminal: a child process under a PTY, read on the event loop.

Bytes are read from the PTY master with ``loop.add_reader`` (no thread, no
polling), in bounded slices so a flooding agent is pushed back by the kernel's
PTY buffer instead of growing our memory, and fed to the emulator. A screen
change is published only once output has settled for a moment (a vsync): an
agent is often half-way through a redraw when a read returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
import os
import select
import shutil
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ptyprocess import PtyProcess

from agentapi.errors import AgentExited, AgentStartError, AgentWriteFailed
from agentapi.messages import Transport
from agentapi.terminal.procs import ProcessTree, die_with_parent
from agentapi.terminal.screen import TERM_NAME, TerminalScreen

log = logging.getLogger("agentapi.terminal.pty")

READ_SLICE = 16 * 1024
VSYNC_QUIET_S = 0.016
VSYNC_MAX_S = 0.048


class AgentTerminal:
    """The PTY transport: the agent's terminal, keys in and settled screens out."""

    kind = Transport.PTY

    def __init__(
        self,
        argv: Sequence[str],
        *,
        columns: int,
        lines: int,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        adopt_orphans: bool = False,
    ) -> None:
        self.argv = list(argv)
        # Set by a daemon that made itself a child subreaper: then every new child of this
        # process is one of the agent's orphans, to be reaped and, at the end, killed.
        self._adopt_orphans = adopt_orphans
        self._tree: ProcessTree | None = None
        self.screen = TerminalScreen(columns, lines)
        self._env = dict(os.environ if env is None else env)
        self._env["TERM"] = TERM_NAME
        self._env.pop("COLUMNS", None)
        self._env.pop("LINES", None)
        self._cwd = str(cwd) if cwd is not None else None
        self._on_screen: Callable[[str], None] = lambda _text: None
        self._on_exit: Callable[[int], None] = lambda _code: None
        self._proc: PtyProcess | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pidfd = -1
        self._vsync: asyncio.TimerHandle | None = None
        self._burst_started = 0.0
        self._last_read = 0.0
        self._published = ""
        self._pending_write = bytearray()
        self._writer_registered = False
        self._write_drained: asyncio.Event | None = None
        self._write_error: OSError | None = None
        self._exit_code: int | None = None
        self._exited = asyncio.Event()

    # -- life cycle -------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return int(self._proc.pid)

    @property
    def exit_code(self) -> int | None:
        return self._exit_code

    @property
    def text(self) -> str:
        """The last published screen."""
        return self._published

    @property
    def last_screen(self) -> str:
        """The emulator's screen right now, published or not (for an exit report)."""
        return self.screen.text()

    def start(self, on_screen: Callable[[str], None], on_exit: Callable[[int], None]) -> None:
        """Spawn the agent; ``on_screen`` gets each settled screen, ``on_exit`` its exit code."""
        self._on_screen = on_screen
        self._on_exit = on_exit
        self._loop = asyncio.get_running_loop()
        argv = [resolve_command(self.argv[0]), *self.argv[1:]]
        try:
            self._proc = PtyProcess.spawn(
                argv,
                env=self._env,
                cwd=self._cwd,
                dimensions=(self.screen.lines, self.screen.columns),
                preexec_fn=functools.partial(die_with_parent, os.getpid()),
            )
        except FileNotFoundError:
            raise AgentStartError(
                f"cannot start {self.argv[0]!r}: not found in PATH or not executable"
            ) from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise AgentStartError(f"cannot start {self.argv[0]!r}: {reason}") from None
        os.set_blocking(self._proc.fd, False)
        self._write_drained = asyncio.Event()
        self._write_drained.set()
        self._loop.add_reader(self._proc.fd, self._on_readable)
        self._pidfd = os.pidfd_open(self._proc.pid)
        self._loop.add_reader(self._pidfd, self._on_child_exit)
        self._tree = ProcessTree(self._proc.pid, adopted_ok=self._adopt_orphans)
        if self._adopt_orphans:
            # Adopted orphans that exit are our zombies until collected.
            self._loop.add_signal_handler(signal.SIGCHLD, self._tree.reap_adopted)
        log.info("started %s (pid %d)", " ".join(self.argv), self._proc.pid)

    async def wait(self) -> int:
        await self._exited.wait()
        assert self._exit_code is not None
        return self._exit_code

    async def stop(self, grace: float = 5.0) -> int | None:
        """SIGINT to the agent's process group, then SIGTERM, then SIGKILL at ``grace`` s."""
        if self._proc is None:
            return None
        if self._exit_code is None:
            self._signal_group(signal.SIGINT)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exited.wait(), timeout=min(2.0, grace / 2))
        if self._exit_code is None:
            self._signal_group(signal.SIGTERM)
            if self._tree is not None:
                # Helpers that left the group (setsid) get their chance to stop too.
                self._tree.signal_all(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exited.wait(), timeout=grace - min(2.0, grace / 2))
        if self._exit_code is None:
            log.warning("agent did not stop within %.0f s: killing it", grace)
            self._signal_group(signal.SIGKILL)
            await self._exited.wait()
        # Children that outlived the agent (background helpers) go with it: its group,
        # its session and its process tree, orphans we adopted included.
        self._signal_group(signal.SIGKILL)
        if self._tree is not None:
            self._tree.kill_all()
        return self._exit_code

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        try:
            os.killpg(self._proc.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, sig)

    # -- reading ----------------------------------------------------------------------------

    def _read_once(self) -> bool:
        """Read one slice; False at end of output."""
        assert self._proc is not None
        try:
            data = os.read(self._proc.fd, READ_SLICE)
        except BlockingIOError:
            return True
        except OSError as exc:
            if exc.errno == errno.EIO:  # Linux: the slave side is closed
                return False
            raise
        if not data:
            return False
        self.screen.feed(data)
        replies = self.screen.take_replies()
        if replies:
            self._queue_write(replies)
        return True

    def _on_readable(self) -> None:
        if not self._read_once():
            self._stop_reading()
        self._arm_vsync()

    def _stop_reading(self) -> None:
        if self._loop is not None and self._proc is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self._proc.fd)

    def _arm_vsync(self) -> None:
        # One timer per burst, never cancelled by later reads: a read only moves the
        # quiet deadline, which the timer checks when it fires. (Cancelling and re-arming
        # on every read starves the timer while output never pauses.)
        assert self._loop is not None
        now = self._loop.time()
        self._last_read = now
        if self._vsync is None:
            self._burst_started = now
            self._vsync = self._loop.call_later(VSYNC_QUIET_S, self._vsync_due)

    def _vsync_due(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        due = min(self._last_read + VSYNC_QUIET_S, self._burst_started + VSYNC_MAX_S)
        if now < due:
            self._vsync = self._loop.call_later(due - now, self._vsync_due)
            return
        self._publish()

    def _publish(self) -> None:
        self._vsync = None
        text = self.screen.text()
        if text != self._published:
            self._published = text
            self._on_screen(text)

    def publish_now(self) -> str:
        """Flush a pending vsync (used before reading the screen for a decision)."""
        if self._vsync is not None:
            self._vsync.cancel()
            self._publish()
        return self._published

    def _on_child_exit(self) -> None:
        assert self._proc is not None and self._loop is not None
        try:
            pid, status = os.waitpid(self._proc.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self._proc.pid, 0
        if pid == 0:
            return
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        # What the agent printed last is still in the PTY buffer: read it all.
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            try:
                if not self._read_once():
                    break
            except OSError:
                break
            if not _readable(self._proc.fd):
                break
        self._stop_reading()
        self.publish_now()
        self._exit_code = os.waitstatus_to_exitcode(status)
        self._abandon_writes()
        self._proc.terminated = True
        log.info("agent exited with code %d", self._exit_code)
        self._exited.set()
        self._on_exit(self._exit_code)

    # -- writing ----------------------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        """Write to the agent without blocking the loop; returns once the kernel took it.

        Raises AgentExited when the agent is gone and AgentWriteFailed when the terminal
        refused the bytes.
        """
        if self._proc is None:
            raise AgentExited("The agent has not started yet.")
        if self._exit_code is not None:
            raise AgentExited("The agent has exited.")
        self._queue_write(data)
        assert self._write_drained is not None
        await self._write_drained.wait()
        error, self._write_error = self._write_error, None
        if error is not None:
            if self._exit_code is not None or error.errno == errno.EIO:
                raise AgentExited("The agent exited while keys were written to it.")
            raise AgentWriteFailed(
                f"Writing to the agent's terminal failed: {error.strerror or error}."
            )

    def resize(self, columns: int, lines: int) -> None:
        """Change the terminal's size; the agent gets SIGWINCH and redraws."""
        self.screen.resize(columns, lines)
        if self._proc is not None and self._exit_code is None:
            self._proc.setwinsize(lines, columns)

    def _queue_write(self, data: bytes) -> None:
        self._pending_write += data
        self._flush_writes()

    def _flush_writes(self) -> None:
        assert self._proc is not None and self._loop is not None
        while self._pending_write:
            try:
                n = os.write(self._proc.fd, self._pending_write)
            except BlockingIOError:
                break
            except OSError as exc:
                # Reported to whoever waits in write(); replies to terminal queries that
                # nobody waits for are only logged.
                log.warning("write to the agent failed: %s", exc.strerror)
                self._write_error = exc
                self._pending_write.clear()
                break
            del self._pending_write[:n]
        assert self._write_drained is not None
        if self._pending_write:
            self._write_drained.clear()
            if not self._writer_registered:
                self._loop.add_writer(self._proc.fd, self._flush_writes)
                self._writer_registered = True
        else:
            self._write_drained.set()
            if self._writer_registered:
                self._loop.remove_writer(self._proc.fd)
                self._writer_registered = False

    def _abandon_writes(self) -> None:
        # Keys still queued for an agent that is gone will never be taken: wake the writer.
        if self._writer_registered and self._loop is not None and self._proc is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_writer(self._proc.fd)
            self._writer_registered = False
        if self._pending_write:
            self._write_error = OSError(errno.EIO, "the agent exited")
        self._pending_write.clear()
        if self._write_drained is not None:
            self._write_drained.set()

    def close(self) -> None:
        """Release the PTY; call after the agent has exited."""
        if self._proc is None or self._proc.closed:
            return
        if self._adopt_orphans and self._loop is not None:
            with contextlib.suppress(ValueError, RuntimeError):
                self._loop.remove_signal_handler(signal.SIGCHLD)
        self._stop_reading()
        if self._writer_registered and self._loop is not None:
            self._loop.remove_writer(self._proc.fd)
            self._writer_registered = False
        # ptyprocess's own close() would sleep and reap the child; we already did both.
        self._proc.terminated = True
        with contextlib.suppress(OSError):
            self._proc.fileobj.close()
        self._proc.closed = True


def _readable(fd: int) -> bool:
    ready, _, _ = select.select([fd], [], [], 0)
    return bool(ready)


def resolve_command(command: str) -> str:
    """The program to run: from PATH, or else beside our own interpreter.

    The second place finds the commands installed with agentapi (``agentapi-demo``)
    when the daemon is started as ``.venv/bin/agentapi`` without activating the venv.
    """
    if os.sep in command or shutil.which(command):
        return command
    sibling = Path(sys.executable).parent / command
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return str(sibling)
    return command
