"""The ACP session: an agent process on stdio, spoken to with the Agent Client Protocol.

It implements ``AgentSession``, so the server, the state keeper and the daemon use it
exactly as they use the PTY session. I/O lives here (the process, its pipes, the
``acp`` connection, timers); what the updates mean lives in ``transcript``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import re
import shutil
import signal
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from agentapi.acp.pipe import StdioLines
from agentapi.acp.transcript import AcpConversation
from agentapi.conversation import Event, MessageUpdated, SavedTranscript
from agentapi.errors import (
    AgentBusy,
    AgentExited,
    AgentStartError,
    PermissionChoiceInvalid,
    PermissionNotPending,
)
from agentapi.messages import AgentIdentity, AgentStatus, ErrorLevel, Message, PermissionOptionPart
from agentapi.session.base import INTERRUPT_SETTLE_S, AgentSession, LoopClock
from agentapi.session.hub import EventHub

if TYPE_CHECKING:
    from agentapi.acp.protocol import AgentInfo, ClientSideConnection

log = logging.getLogger("agentapi.acp")

# Big enough for a long tool output or an image in one JSON line.
LINE_LIMIT = 64 * 1024 * 1024
STDERR_TAIL_LINES = 40
REPORTED_LINE_CHARS = 200


_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_IMAGE_PATH = re.compile(r"/[^\s'\"`<>]+\.(?:png|jpe?g|gif|webp)\b", re.IGNORECASE)
MAX_IMAGE_BYTES = 10 * 1024 * 1024


class PermissionPolicy(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    ASK = "ask"


@dataclass(frozen=True)
class AcpOptions:
    cwd: Path
    permissions: PermissionPolicy = PermissionPolicy.ALLOW
    permission_timeout_s: float = 300.0
    # For the agent to answer initialize, and then session/new.
    start_timeout_s: float = 60.0
    initial_prompt: str = ""
    mcp_servers: list[Any] = field(default_factory=list)
    # Uploaded images named in a user message go to the agent as image blocks.
    uploads_root: Path | None = None


def _pick(options: Sequence[PermissionOptionPart], prefixes: tuple[str, ...]) -> str | None:
    for prefix in prefixes:
        for option in options:
            if option.kind.startswith(prefix):
                return option.option_id
    return None


def allow_choice(options: Sequence[PermissionOptionPart]) -> str | None:
    return _pick(options, ("allow_once", "allow"))


def refuse_choice(options: Sequence[PermissionOptionPart]) -> str | None:
    return _pick(options, ("reject_once", "reject"))


class AcpSession(AgentSession):
    def __init__(
        self,
        command: list[str],
        hub: EventHub,
        identity: AgentIdentity,
        options: AcpOptions,
        clock: LoopClock | None = None,
    ) -> None:
        super().__init__(hub, identity, clock or LoopClock())
        self.command = command
        self.options = options
        self.conversation = AcpConversation(self.now_ms())
        self._loop = asyncio.get_running_loop()
        self._process: asyncio.subprocess.Process | None = None
        self._conn: ClientSideConnection | None = None
        self._proto: ModuleType | Any = None
        self._agent_info: AgentInfo | None = None
        self._resume_id = ""
        self._initial_prompt_sent = False
        self._session_id: str | None = None
        self._initialized = False
        self._exit_code: int | None = None
        self._exited: asyncio.Future[int] = self._loop.create_future()
        self._failure = ""
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._prompt_task: asyncio.Task[None] | None = None
        self._cancel_requested = False
        self._permission_ids = 0
        self._permission_waiters: dict[int, asyncio.Future[str | None]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        # Streamed chunks: the message is published once per loop iteration, not per chunk.
        self._dirty: dict[int, Message] = {}
        self._flush_handle: asyncio.Handle | None = None
        self.publish(self.conversation.initial_events())

    # -- what the server reads ----------------------------------------------------------------

    @property
    def status(self) -> AgentStatus:
        return self.conversation.status

    @property
    def messages(self) -> Sequence[Message]:
        return self.conversation.messages

    @property
    def screen(self) -> str:
        return ""

    @property
    def agent_running(self) -> bool:
        return self._exit_code is None

    @property
    def last_output(self) -> str:
        lines = [self._failure] if self._failure else []
        if self._stderr_tail:
            lines.append("the agent's stderr ended with:")
            lines.extend(self._stderr_tail)
        else:
            lines.append("the agent wrote nothing on stderr")
        return "\n".join(lines)

    def exit_report(self, code: int) -> str:
        real = self._exit_code if self._exit_code is not None else code
        how = f"was killed by signal {-real}" if real < 0 else f"exited with code {real}"
        return f"the ACP agent {how}\n{self.last_output}"

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if shutil.which(self.command[0]) is None:
            raise AgentStartError(f"cannot start the agent: {self.command[0]!r} was not found")
        self._spawn(self._run())

    async def wait_exit(self) -> int:
        code = await asyncio.shield(self._exited)
        # An agent that quit cleanly but never held a session still failed us.
        return 1 if code == 0 and self._failure else code

    async def stop(self, grace: float = 5.0) -> int | None:
        process = self._process
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        if self.conversation.prompting:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.cancel(), 1.0)
        # End of input is how a stdio agent is asked to leave; then signals, to the group.
        if process.stdin is not None:
            process.stdin.close()
        for sig, wait in ((None, min(grace, 2.0)), (signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            if sig is not None:
                self._signal_group(sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._exited), wait)
                break
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
        return process.returncode

    def _signal_group(self, sig: signal.Signals) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = self._loop.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _run(self) -> None:
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.options.cwd,
                start_new_session=True,
                limit=LINE_LIMIT,
            )
        except OSError as exc:
            self._failure = f"cannot start the agent {self.command[0]!r}: {exc}"
            self._exit_code = 127
            self._exited.set_result(127)
            return
        process = self._process
        assert process.stdin and process.stdout and process.stderr
        self._spawn(self._read_stderr(process.stderr))
        self._spawn(self._watch_exit(process))
        # The agent starts up while the protocol package loads, off the event loop.
        proto = self._proto = await asyncio.to_thread(
            importlib.import_module, "agentapi.acp.protocol"
        )
        pipe = StdioLines(process.stdout, process.stdin, self._on_garbage)
        self._conn = conn = proto.connect(self, pipe)
        timeout = self.options.start_timeout_s
        try:
            self._agent_info = await self._start_step("initialize", proto.initialize(conn), timeout)
            self._initialized = True
            self._session_id = await self._resume(proto, conn, timeout)
            if self._session_id is None:
                self._session_id = await self._start_step(
                    "session/new",
                    proto.new_session(conn, self.options.cwd, self.options.mcp_servers),
                    timeout,
                )
        except _StartFailed as exc:
            self._fail(str(exc))
            return
        intro = self._introduction()
        self._emit(self.conversation.opened(intro, self.now_ms()))
        log.info("ACP session %s open: %s", self._session_id, intro)
        if self.options.initial_prompt and not self._initial_prompt_sent:
            try:
                await self.send_user_message(self.options.initial_prompt)
                self._initial_prompt_sent = True
            except AgentBusy as exc:
                self.report_error(f"The initial prompt was not sent: {exc}")

    async def _resume(self, proto: Any, conn: ClientSideConnection, timeout: float) -> str | None:
        """The restored conversation's session, if the agent can load it; else None."""
        saved_id = self._resume_id
        if not saved_id:
            return None
        assert self._agent_info is not None
        if not self._agent_info.load_session:
            self._forgetful("the agent does not offer session/load")
            return None
        try:
            await self._start_step(
                "session/load",
                proto.load_session(conn, self.options.cwd, saved_id, self.options.mcp_servers),
                timeout,
            )
        except _StartFailed as exc:
            if not self.agent_running:
                raise
            self._forgetful(f"session/load failed: {exc}")
            return None
        log.info("resumed the agent's session %s", saved_id)
        return saved_id

    def _forgetful(self, why: str) -> None:
        text = (
            f"The saved conversation is shown again, but {why}: the agent starts a new "
            "session and does not remember what was said before."
        )
        log.warning("%s", text)
        self.report_error(text, ErrorLevel.WARNING)

    async def _start_step(self, method: str, call: Any, timeout: float) -> Any:
        try:
            return await asyncio.wait_for(call, timeout)
        except TimeoutError:
            raise _StartFailed(f"the agent did not answer {method} within {timeout:g} s") from None
        except ConnectionError:
            if self._failure:
                raise _StartFailed(self._failure) from None
            raise _StartFailed(f"the agent closed its output before answering {method}") from None
        except self._proto.RequestError as exc:
            text = self._proto.error_text(exc)
            raise _StartFailed(f"the agent refused {method}: {text}") from None

    def _introduction(self) -> str:
        info = self._agent_info
        name = self.identity.agent_name
        if info is not None and info.name:
            name = f"{info.name} {info.version}".strip()
        return f"{name} (Agent Client Protocol, session {self._session_id})"

    def _fail(self, reason: str) -> None:
        """The agent cannot be used: say why, and stop it (the daemon exits with it)."""
        if not self._failure:
            self._failure = reason
            log.error("%s", reason)
        self._signal_group(signal.SIGTERM)
        self._loop.call_later(2.0, self._signal_group, signal.SIGKILL)

    def _on_garbage(self, line: bytes) -> bool:
        shown = line[:REPORTED_LINE_CHARS].decode(errors="replace")
        if not self._initialized:
            self._fail(f"the agent wrote a line that is not JSON-RPC on stdout: {shown!r}")
            return True
        log.warning("the agent wrote a line that is not JSON-RPC on stdout: %r", shown)
        self.report_error(
            f"The agent wrote a line that is not JSON-RPC on stdout (ignored): {shown}",
            ErrorLevel.WARNING,
        )
        return False

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await stream.readline()
            except (ValueError, asyncio.LimitOverrunError):
                continue
            if not line:
                return
            text = line.decode(errors="replace").rstrip()
            self._stderr_tail.append(text)
            log.debug("agent stderr: %s", text)

    async def _watch_exit(self, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        self._exit_code = code
        log.info("the ACP agent exited with code %d", code)
        for waiter in self._permission_waiters.values():
            if not waiter.done():
                waiter.set_result(None)
        self.conversation.closed()
        if self._prompt_task is not None:
            # Let the turn be closed with a note before the daemon reads the transcript.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._prompt_task), 1.0)
        if not self._exited.done():
            self._exited.set_result(code)

    # -- publishing ---------------------------------------------------------------------------

    def _emit(self, events: list[Event]) -> None:
        streaming = [e for e in events if isinstance(e, MessageUpdated)]
        if streaming and len(streaming) == len(events):
            for event in streaming:
                self._dirty[event.message.id] = event.message
            if self._flush_handle is None:
                self._flush_handle = self._loop.call_soon(self._flush)
            return
        self._flush()
        self.publish(events)

    def _flush(self) -> None:
        self._flush_handle = None
        if self._dirty:
            dirty, self._dirty = self._dirty, {}
            self.publish([MessageUpdated(m) for m in dirty.values()])

    # -- sending ------------------------------------------------------------------------------

    async def send_user_message(self, content: str) -> None:
        if not self.agent_running:
            raise AgentExited("The agent has exited.")
        if self._conn is None or self._session_id is None:
            raise AgentBusy("The agent is still starting: its ACP session is not open yet.")
        self._emit(self.conversation.begin_prompt(content, self.now_ms()))
        self._cancel_requested = False
        self._prompt_task = self._spawn(self._prompt(self._conn, self._session_id, content))
        # The request is written by the time the task first waits for the answer.
        await asyncio.sleep(0)

    async def _prompt(self, conn: ClientSideConnection, session_id: str, content: str) -> None:
        note = ""
        try:
            images = self._images_in(content)
            stop_reason = await self._proto.prompt(conn, session_id, content, images)
        except self._proto.RequestError as exc:
            stop_reason = "error"
            text = self._proto.error_text(exc)
            note = f"(the agent answered with an error: {text})"
            self.report_error(f"The agent failed the prompt: {text}")
        except ConnectionError:
            stop_reason = "error"
            note = "(the agent exited before finishing this reply)"
        if self._cancel_requested and stop_reason != "end_turn":
            stop_reason = "cancelled"
        self._flush()
        self._emit(self.conversation.prompt_ended(stop_reason, self.now_ms(), note))

    def _images_in(self, content: str) -> list[tuple[bytes, str]]:
        """Uploaded images the message names by path, when the agent takes images."""
        root = self.options.uploads_root
        if root is None or self._agent_info is None or not self._agent_info.images:
            return []
        found: list[tuple[bytes, str]] = []
        for match in _IMAGE_PATH.finditer(content):
            path = Path(match.group(0)).resolve()
            if root.resolve() not in path.parents or not path.is_file():
                continue  # only what was uploaded to this daemon
            if path.stat().st_size > MAX_IMAGE_BYTES:
                continue
            mime = _IMAGE_TYPES[path.suffix.lower()]
            found.append((path.read_bytes(), mime))
        return found

    async def send_raw(self, content: str) -> None:
        """Esc or Ctrl-C cancel the turn in flight; there is no terminal for other keys."""
        if not self.agent_running:
            raise AgentExited("The agent has exited.")
        if "\x1b" in content or "\x03" in content:
            await self.cancel()

    async def interrupt(self, settle_timeout_s: float = INTERRUPT_SETTLE_S) -> bool:
        """``POST /interrupt``: cancel the turn and wait for the agent to close it."""
        if not self.agent_running:
            raise AgentExited("The agent has exited.")
        if not await self.cancel():
            return False
        await self.wait_for_status(AgentStatus.STABLE, settle_timeout_s)
        return True

    async def cancel(self) -> bool:
        """Ask the agent to stop the turn in flight (``session/cancel``); False if idle."""
        if not self.conversation.prompting or self._conn is None or self._session_id is None:
            return False
        self._cancel_requested = True
        # The protocol says pending permission requests are answered 'cancelled'.
        for waiter in self._permission_waiters.values():
            if not waiter.done():
                waiter.set_result(None)
        try:
            await self._proto.cancel(self._conn, self._session_id)
        except ConnectionError as exc:
            raise AgentExited(f"The agent has exited: {exc}") from None
        return True

    # -- permissions --------------------------------------------------------------------------

    def on_update(self, update: dict[str, Any]) -> None:
        self._emit(self.conversation.on_update(update, self.now_ms()))

    async def permission(
        self, tool_call: dict[str, Any], offered: list[PermissionOptionPart]
    ) -> str | None:
        """Answer a permission request by the policy: an option id, or None (cancelled)."""
        self._permission_ids += 1
        permission_id = self._permission_ids
        self._emit(
            self.conversation.permission_asked(permission_id, tool_call, offered, self.now_ms())
        )
        policy = self.options.permissions
        status = "selected"
        if self._cancel_requested:
            choice, status = None, "cancelled"
        elif policy is PermissionPolicy.ALLOW:
            choice = allow_choice(offered)
        elif policy is PermissionPolicy.DENY:
            choice, status = refuse_choice(offered), "refused"
        else:
            choice, status = await self._ask(permission_id, offered)
        self._emit(
            self.conversation.permission_settled(permission_id, status, choice, self.now_ms())
        )
        return choice

    async def answer_permission(self, permission_id: int, option_id: str) -> None:
        waiter = self._permission_waiters.get(permission_id)
        offered = self.conversation.pending_permission(permission_id)
        if waiter is None or waiter.done() or offered is None:
            raise PermissionNotPending(f"No permission request {permission_id} is waiting.")
        if option_id not in {o.option_id for o in offered}:
            choices = ", ".join(o.option_id for o in offered)
            raise PermissionChoiceInvalid(
                f"Permission request {permission_id} offers {choices}, not {option_id!r}."
            )
        waiter.set_result(option_id)

    async def _ask(
        self, permission_id: int, offered: list[PermissionOptionPart]
    ) -> tuple[str | None, str]:
        waiter: asyncio.Future[str | None] = self._loop.create_future()
        self._permission_waiters[permission_id] = waiter
        try:
            choice = await asyncio.wait_for(waiter, self.options.permission_timeout_s)
        except TimeoutError:
            return refuse_choice(offered), "timed_out"
        finally:
            self._permission_waiters.pop(permission_id, None)
        if choice is None:
            return None, "cancelled"
        kind = next((o.kind for o in offered if o.option_id == choice), "")
        return choice, "refused" if kind.startswith("reject") else "selected"

    # -- files --------------------------------------------------------------------------------

    def inside_cwd(self, path: str) -> Path | None:
        """The file an agent names, if it lies inside the working directory (links resolved)."""
        root = self.options.cwd.resolve()
        target = Path(path)
        if not target.is_absolute():
            target = root / target
        resolved = target.resolve()
        if resolved != root and root not in resolved.parents:
            log.warning("refused the agent access to %s: outside %s", path, root)
            return None
        return resolved

    # -- persistence --------------------------------------------------------------------------

    def transcript(self) -> SavedTranscript:
        return SavedTranscript(
            tuple(self.conversation.messages),
            self.options.initial_prompt,
            self._initial_prompt_sent,
            self._session_id or self._resume_id,
        )

    @property
    def restore_pending(self) -> bool:
        return False

    def schedule_restore(self, saved: SavedTranscript) -> None:
        """Called before start: the transcript comes back at once, the agent's session
        (when it can load one) once the agent is up."""
        self.publish(self.conversation.restore(saved))
        self._resume_id = saved.acp_session_id
        if saved.initial_prompt_sent and saved.initial_prompt == self.options.initial_prompt:
            self._initial_prompt_sent = True


class _StartFailed(Exception):
    pass
