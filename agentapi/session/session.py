"""The session: wires the agent's terminal to the conversation and the event hub.

This is the only place where real I/O meets the conversation's rules: it feeds
settled screens in, schedules the one timer the rules ask for, runs the
protocol that types a user message, and forwards every change to the hub.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agentapi.adapters import Adapter
from agentapi.conversation import (
    Conversation,
    Event,
    MessageUpdated,
    NotStable,
    ReadinessOverdue,
    SavedTranscript,
    SendInProgress,
    Status,
    StatusChanged,
    TranscriptRestored,
    wall_time,
)
from agentapi.messages import Message
from agentapi.session.hub import EventHub
from agentapi.terminal.pty import AgentTerminal

log = logging.getLogger("agentapi.session.session")

ECHO_WAIT_S = 2.0
ECHO_QUIET_S = 0.3
START_WAIT_S = 15.0
SUBMIT_RETRY_S = 3.0


class SendError(Exception):
    """A user message could not be delivered; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


@dataclass
class SessionConfig:
    argv: Sequence[str]
    columns: int = 80
    lines: int = 1000
    stable_ms: int = 2000
    initial_prompt: str = ""
    env: Mapping[str, str] | None = None
    cwd: Path | None = None


def rfc3339(message: Message) -> str:
    return message.time.isoformat()


class Session:
    def __init__(self, config: SessionConfig, adapter: Adapter, hub: EventHub) -> None:
        self.config = config
        self.adapter = adapter
        self.hub = hub
        self._wall0 = time.time()
        self._mono0 = time.monotonic()
        self.conversation = Conversation(
            adapter,
            self.now_ms(),
            stable_ms=config.stable_ms,
            initial_prompt=config.initial_prompt,
        )
        self.terminal = AgentTerminal(
            config.argv,
            columns=config.columns,
            lines=config.lines,
            env=config.env,
            cwd=config.cwd,
            on_screen=self._on_screen,
            on_exit=self._on_exit,
        )
        self._timer: asyncio.TimerHandle | None = None
        self._screen_version = 0
        self._screen_changed = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._initial_task: asyncio.Task[None] | None = None
        self._start_keys_sent = not adapter.on_start
        self._background: set[asyncio.Task[None]] = set()
        self.on_transcript_change: Callable[[], None] = lambda: None
        self._dispatch(self._initial_events())

    def now_ms(self) -> float:
        # Wall-clock times for messages, monotonic for durations: one clock that never jumps.
        return (self._wall0 + time.monotonic() - self._mono0) * 1000.0

    def _initial_events(self) -> list[Event]:
        events: list[Event] = [MessageUpdated(m) for m in self.conversation.messages]
        events.append(StatusChanged(self.conversation.status))
        return events

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.terminal.start()

    async def wait_exit(self) -> int:
        return await self.terminal.wait()

    async def stop(self, grace: float = 5.0) -> int | None:
        if self._timer is not None:
            self._timer.cancel()
        if self._initial_task is not None:
            self._initial_task.cancel()
        code = await self.terminal.stop(grace)
        self.terminal.close()
        return code

    # -- state ------------------------------------------------------------------------------

    @property
    def status(self) -> Status:
        return self.conversation.status

    @property
    def messages(self) -> Sequence[Message]:
        return self.conversation.messages

    @property
    def screen(self) -> str:
        return self.terminal.text

    @property
    def agent_running(self) -> bool:
        return self.terminal.exit_code is None

    def schedule_restore(self, saved: SavedTranscript) -> None:
        self.conversation.schedule_restore(saved)

    def report_error(self, message: str, level: str = "error") -> None:
        """An agent_error event, for subscribers of /events?errors=true."""
        self.hub.agent_error(message, level, wall_time(self.now_ms()).isoformat())

    # -- events in --------------------------------------------------------------------------

    def _on_screen(self, text: str) -> None:
        if not self._start_keys_sent:
            # Sent once the agent has drawn something, so its TUI is up to read the keys
            # (Amp's start-up animation only stops on a key press).
            self._start_keys_sent = True
            task = asyncio.get_running_loop().create_task(self._send_start_keys())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        self._screen_version += 1
        self._screen_changed.set()
        self._screen_changed = asyncio.Event()
        self.hub.screen(text)
        self._dispatch(self.conversation.on_screen(text, self.now_ms()))

    async def _send_start_keys(self) -> None:
        try:
            await self.terminal.write(self.adapter.on_start.encode())
        except OSError as exc:
            log.warning("could not send the adapter's start-up keys: %s", exc)

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch(self.conversation.tick(self.now_ms()))

    def _on_exit(self, code: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _dispatch(self, events: list[Event]) -> None:
        transcript_changed = False
        for event in events:
            if isinstance(event, MessageUpdated):
                m = event.message
                self.hub.message_update(m.id, m.role.value, m.content, rfc3339(m))
                transcript_changed = True
            elif isinstance(event, StatusChanged):
                self.hub.status_change(event.status.value)
            elif isinstance(event, TranscriptRestored):
                self.hub.reset_messages()
            elif isinstance(event, ReadinessOverdue):
                seconds = event.waited_ms // 1000
                text = (
                    f"The agent's input box has not been recognised on a screen unchanged for "
                    f"{seconds} s (adapter '{self.adapter.name}'), so {event.waiting_for} is "
                    "still waiting. If the agent shows a dialog, answer it with a raw message; "
                    "if its screen looks different, pick another --type or load an --adapter file."
                )
                log.warning("%s", text)
                self.report_error(text, "warning")
        if transcript_changed:
            self.on_transcript_change()
        self._schedule_timer()
        self._maybe_send_initial_prompt()

    def _schedule_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self.now_ms()
        deadline = self.conversation.next_deadline_ms(now)
        if deadline is None or self.terminal.exit_code is not None:
            return
        loop = asyncio.get_running_loop() if _loop_running() else None
        if loop is None:
            return
        # A millisecond late rather than early, so the tick always sees the screen settled.
        self._timer = loop.call_later((deadline - now) / 1000.0 + 0.001, self._on_timer)

    def _maybe_send_initial_prompt(self) -> None:
        if self._initial_task is not None or not _loop_running():
            return
        prompt = self.conversation.initial_prompt_due(self.now_ms())
        if prompt is None:
            return
        self._initial_task = asyncio.get_running_loop().create_task(self._send_initial(prompt))

    async def _send_initial(self, prompt: str) -> None:
        try:
            await self._deliver(prompt, initial=True)
        except SendError as exc:
            log.error("the initial prompt was not delivered: %s", exc.detail)
            self.report_error(f"The initial prompt was not delivered: {exc.detail}")
        finally:
            self._initial_task = None

    # -- sending ----------------------------------------------------------------------------

    async def send_user_message(self, content: str) -> None:
        """Type a user message and return once the agent visibly started on it."""
        await self._deliver(content, initial=False)

    async def send_raw(self, content: str) -> None:
        if not self.agent_running:
            raise SendError(503, "Agent not running", "The agent has exited.")
        await self.terminal.write(content.encode())

    async def _deliver(self, content: str, *, initial: bool) -> None:
        if not self.agent_running:
            raise SendError(503, "Agent not running", "The agent has exited.")
        if self._send_lock.locked():
            raise SendError(409, "Agent busy", "Another message is being sent to the agent.")
        async with self._send_lock:
            self.terminal.publish_now()
            try:
                events = self.conversation.begin_send(content, self.now_ms(), initial=initial)
            except (NotStable, SendInProgress):
                raise SendError(
                    409,
                    "Agent busy",
                    "The agent is running; wait until its status is 'stable' to send a message.",
                ) from None
            self._dispatch(events)
            try:
                await self._type_and_submit(content)
            except BaseException as exc:
                self._dispatch(self.conversation.send_failed(self.now_ms()))
                if isinstance(exc, (BrokenPipeError, OSError)):
                    raise SendError(503, "Agent not running", "The agent has exited.") from None
                raise
            self._dispatch(self.conversation.send_started(self.now_ms(), initial=initial))

    async def _type_and_submit(self, content: str) -> None:
        loop = asyncio.get_running_loop()
        version = self._screen_version
        for keys in self.adapter.encode_message(content):
            await self.terminal.write(keys.data)
            if keys.settle_ms:
                await asyncio.sleep(keys.settle_ms / 1000)
        # Let the echo of the typed text settle, so Enter is not taken as part of the paste.
        deadline = loop.time() + ECHO_WAIT_S
        if await self._wait_screen_change(version, deadline):
            while True:
                quiet_until = min(deadline, loop.time() + ECHO_QUIET_S)
                if not await self._wait_screen_change(self._screen_version, quiet_until):
                    break
        self.terminal.publish_now()
        before = self._screen_version
        deadline = loop.time() + START_WAIT_S
        while True:
            await self.terminal.write(self.adapter.submit.encode())
            retry_at = min(deadline, loop.time() + SUBMIT_RETRY_S)
            if await self._wait_screen_change(before, retry_at):
                return
            if loop.time() >= deadline or not self.agent_running:
                break
        if not self.agent_running:
            raise SendError(
                503, "Agent not running", "The agent exited while the message was sent."
            )
        raise SendError(
            504,
            "Agent did not react",
            f"The message was typed but the agent's screen did not change within "
            f"{START_WAIT_S:.0f} s of pressing Enter.",
        )

    async def _wait_screen_change(self, since_version: int, deadline: float) -> bool:
        """Wait until the screen version passes ``since_version``; False at the deadline."""
        loop = asyncio.get_running_loop()
        while self._screen_version == since_version:
            remaining = deadline - loop.time()
            if remaining <= 0 or not self.agent_running:
                return False
            try:
                await asyncio.wait_for(self._screen_changed.wait(), remaining)
            except TimeoutError:
                return self._screen_version != since_version
        return True


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
