"""The conversation: a sans-I/O state machine from screens to chat messages.

It is fed screens and user actions, each with the current time in
milliseconds, and answers with events. It owns no terminal, socket, thread or
timer: the session does the I/O and asks ``next_deadline_ms`` when to call
``tick`` again.

Rules:
- Message 0 is the agent's start-up screen (cleaned), kept up to date until the
  first user message.
- When a user message is sent, the screen just before it becomes the baseline;
  the agent's reply is the part of the current screen that is new relative to
  it, cleaned by the adapter, and updated in place while the agent works.
- Status is ``stable`` when the screen has not changed for ``stable_ms``, the
  adapter has recognised the agent's input box at least once, nothing is being
  typed, and no initial prompt or saved conversation is still waiting; otherwise
  ``running``. A client that waits for ``stable`` and then sends must not type
  into a loading screen.
- Ready timeout: when the screen has been settled for ``ready_warning_ms`` and the
  box was never recognised (a dialog, a TUI the adapter does not know), one
  ``ReadinessOverdue`` is sent and the status may then become ``stable``, so a
  person can answer with a raw message. The initial prompt and a saved
  conversation still wait for the box: typed into a dialog they would answer it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from agentapi.conversation.diff import new_section
from agentapi.errors import AgentBusy
from agentapi.messages import AgentStatus, Message, Role, wall_time

log = logging.getLogger("agentapi.conversation")

DEFAULT_STABLE_MS = 2000
DEFAULT_READY_WARNING_MS = 30_000


class Formatter(Protocol):
    @property
    def skip_header_lines(self) -> int: ...

    def format_message(self, section: str, user_input: str) -> tuple[str, list[str]]: ...

    def is_ready(self, screen: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class SavedTranscript:
    """A conversation as the state file keeps it."""

    messages: tuple[Message, ...] = ()
    initial_prompt: str = ""
    initial_prompt_sent: bool = False
    # ACP mode: the agent's session id, to resume it with session/load.
    acp_session_id: str = ""


@dataclass(frozen=True, slots=True)
class TranscriptRestored:
    """Every message was replaced; the messages follow as MessageUpdated events."""


@dataclass(frozen=True, slots=True)
class MessageUpdated:
    message: Message


@dataclass(frozen=True, slots=True)
class StatusChanged:
    status: AgentStatus


@dataclass(frozen=True, slots=True)
class ReadinessOverdue:
    """The screen settled long ago, something waits for the agent's input box, and the
    adapter still does not see it: a dialog, or a TUI the adapter does not know."""

    # "the initial prompt", "the saved conversation", or "" when nothing waits (only the
    # status was held at running).
    waiting_for: str
    waited_ms: int


Event = MessageUpdated | StatusChanged | TranscriptRestored | ReadinessOverdue


def _message(message_id: int, role: Role, content: str, now_ms: float) -> Message:
    return Message(id=message_id, role=role, content=content, time=wall_time(now_ms))


class Conversation:
    def __init__(
        self,
        formatter: Formatter,
        now_ms: float,
        *,
        stable_ms: int = DEFAULT_STABLE_MS,
        ready_warning_ms: int = DEFAULT_READY_WARNING_MS,
        initial_prompt: str = "",
    ) -> None:
        self._formatter = formatter
        self._stable_ms = stable_ms
        # Never before the screen has settled: a box drawn a moment later is no dialog.
        self._ready_warning_ms = max(ready_warning_ms, stable_ms)
        self._readiness_warned = False
        # The adapter has recognised the input box on a settled screen at least once.
        self._ready_seen = False
        self._screen = ""
        self._seen_screen = False
        self._last_change_ms = now_ms
        self._baseline = ""
        self._messages: list[Message] = [_message(0, Role.AGENT, "", now_ms)]
        self._sending: str | None = None
        self._send_baseline = ""
        self._initial_prompt = initial_prompt
        self._initial_prompt_sent = not initial_prompt
        self._reported_noise: set[str] = set()
        self._status = AgentStatus.RUNNING
        self._pending_restore: SavedTranscript | None = None
        # After a restore, the agent's fresh screen must not overwrite the last reply.
        self._hold_last_reply = False

    # -- queries ----------------------------------------------------------------------------

    @property
    def messages(self) -> Sequence[Message]:
        return tuple(self._messages)

    @property
    def screen(self) -> str:
        return self._screen

    @property
    def status(self) -> AgentStatus:
        return self._status

    @property
    def initial_prompt(self) -> str:
        return self._initial_prompt

    @property
    def initial_prompt_sent(self) -> bool:
        return self._initial_prompt_sent

    @property
    def sending(self) -> bool:
        return self._sending is not None

    @property
    def ready_seen(self) -> bool:
        """Whether the agent's input box has been recognised at least once."""
        return self._ready_seen

    def next_deadline_ms(self, now_ms: float) -> float | None:
        """When the status (or the initial prompt) may next change with no new screen."""
        if self._status is AgentStatus.STABLE or self._sending is not None:
            return None
        deadlines = [self._last_change_ms + self._stable_ms]
        if self._waiting_for_readiness() and not self._readiness_warned and self._seen_screen:
            deadlines.append(self._last_change_ms + self._ready_warning_ms)
        future = [d for d in deadlines if d > now_ms]
        return min(future) if future else None

    def initial_prompt_due(self, now_ms: float) -> str | None:
        """The initial prompt, once the agent's input box is on a settled screen."""
        if self._initial_prompt_sent or self._sending is not None:
            return None
        if self._pending_restore is not None or not self._agent_ready(now_ms):
            return None
        return self._initial_prompt

    @property
    def restore_pending(self) -> bool:
        return self._pending_restore is not None

    # -- inputs -----------------------------------------------------------------------------

    def on_screen(self, screen: str, now_ms: float) -> list[Event]:
        """The terminal settled on a new screen."""
        events: list[Event] = []
        if screen == self._screen and self._seen_screen:
            return self._update_status(now_ms, events)
        self._screen = screen
        self._seen_screen = True
        self._last_change_ms = now_ms
        if self._sending is None:
            self._update_agent_message(now_ms, events)
        return self._update_status(now_ms, events)

    def tick(self, now_ms: float) -> list[Event]:
        """Time passed; the status may have settled."""
        return self._update_status(now_ms, [])

    def begin_send(self, content: str, now_ms: float, *, initial: bool = False) -> list[Event]:
        """Start typing a user message; the reply baseline is the screen right now."""
        if self._sending is not None:
            raise AgentBusy("Another message is being sent to the agent.")
        if not initial and self._status is not AgentStatus.STABLE:
            raise AgentBusy(
                "The agent is running; wait until its status is 'stable' to send a message."
            )
        events: list[Event] = []
        self._update_agent_message(now_ms, events)
        self._sending = content
        self._send_baseline = self._screen
        return self._update_status(now_ms, events)

    def send_started(self, now_ms: float, *, initial: bool = False) -> list[Event]:
        """The agent visibly reacted to the message: record it and follow the reply."""
        assert self._sending is not None, "send_started without begin_send"
        content = self._sending
        self._sending = None
        self._baseline = self._send_baseline
        self._last_change_ms = max(self._last_change_ms, now_ms)
        self._reported_noise.clear()
        self._hold_last_reply = False
        if initial:
            self._initial_prompt_sent = True
        message = _message(self._next_id(), Role.USER, content, now_ms)
        self._messages.append(message)
        events: list[Event] = [MessageUpdated(message)]
        self._update_agent_message(now_ms, events)
        return self._update_status(now_ms, events)

    def send_failed(self, now_ms: float) -> list[Event]:
        """The agent never reacted: nothing is recorded, the transcript is as before."""
        self._sending = None
        events: list[Event] = []
        self._update_agent_message(now_ms, events)
        return self._update_status(now_ms, events)

    def schedule_restore(self, saved: SavedTranscript) -> None:
        """Bring back ``saved`` once the agent is ready (see ``tick``)."""
        if saved.messages:
            self._pending_restore = saved

    def _apply_restore(self, now_ms: float, events: list[Event]) -> None:
        saved = self._pending_restore
        assert saved is not None
        self._pending_restore = None
        self._messages = list(saved.messages)
        # The agent's fresh screen is the baseline for the next reply.
        self._baseline = self._screen
        self._hold_last_reply = self._messages[-1].role is Role.AGENT
        new_prompt = self._initial_prompt
        if not new_prompt:
            self._initial_prompt = saved.initial_prompt
            self._initial_prompt_sent = saved.initial_prompt_sent or not saved.initial_prompt
        elif new_prompt == saved.initial_prompt and saved.initial_prompt_sent:
            self._initial_prompt_sent = True
        events.append(TranscriptRestored())
        events.extend(MessageUpdated(m) for m in self._messages)

    # -- internals --------------------------------------------------------------------------

    def _screen_settled(self, now_ms: float) -> bool:
        return self._seen_screen and now_ms - self._last_change_ms >= self._stable_ms

    def _agent_ready(self, now_ms: float) -> bool:
        ready = self._screen_settled(now_ms) and self._formatter.is_ready(self._screen)
        if ready:
            self._ready_seen = True
        return ready

    def _compute_status(self, now_ms: float) -> AgentStatus:
        if self._sending is not None:
            return AgentStatus.RUNNING
        if not self._screen_settled(now_ms):
            return AgentStatus.RUNNING
        if self._readiness_warned:
            # Given up on recognising the box: stable, so a person can answer what is shown.
            return AgentStatus.STABLE
        if not self._initial_prompt_sent or self._pending_restore is not None:
            return AgentStatus.RUNNING
        if not self._ready_seen and not self._agent_ready(now_ms):
            return AgentStatus.RUNNING
        return AgentStatus.STABLE

    def _waiting_for_readiness(self) -> bool:
        if self._sending is not None:
            return False
        return (
            not self._ready_seen
            or self._pending_restore is not None
            or not self._initial_prompt_sent
        )

    def _check_readiness_overdue(self, now_ms: float, events: list[Event]) -> None:
        if self._readiness_warned or not self._waiting_for_readiness():
            return
        waited = now_ms - self._last_change_ms
        if not self._seen_screen or waited < self._ready_warning_ms:
            return
        if self._agent_ready(now_ms):
            return
        self._readiness_warned = True
        if self._pending_restore is not None:
            what = "the saved conversation"
        elif not self._initial_prompt_sent:
            what = "the initial prompt"
        else:
            what = ""
        events.append(ReadinessOverdue(what, int(waited)))

    def _update_status(self, now_ms: float, events: list[Event]) -> list[Event]:
        if self._pending_restore is not None and self._agent_ready(now_ms):
            self._apply_restore(now_ms, events)
        self._check_readiness_overdue(now_ms, events)
        status = self._compute_status(now_ms)
        if status is AgentStatus.STABLE and self._messages[-1].role is Role.USER:
            # The agent finished without drawing anything we keep: record an empty
            # reply so every user message is followed by an agent message.
            message = _message(self._next_id(), Role.AGENT, "", now_ms)
            self._messages.append(message)
            events.append(MessageUpdated(message))
        if status is not self._status:
            self._status = status
            events.append(StatusChanged(status))
        return events

    def _next_id(self) -> int:
        return self._messages[-1].id + 1

    def _last_user_input(self) -> str:
        for message in reversed(self._messages):
            if message.role is Role.USER:
                return message.content
        return ""

    def _update_agent_message(self, now_ms: float, events: list[Event]) -> None:
        section = new_section(self._baseline, self._screen, self._formatter.skip_header_lines)
        content, removed = self._formatter.format_message(section, self._last_user_input())
        for block in removed:
            if block not in self._reported_noise:
                self._reported_noise.add(block)
                log.info("removed a tool-call block from the reply: %s", block.split("\n")[0])
        last = self._messages[-1]
        if self._hold_last_reply and last.role is Role.AGENT:
            return
        if last.role is Role.USER:
            if not content:
                return
            message = _message(self._next_id(), Role.AGENT, content, now_ms)
            self._messages.append(message)
        else:
            if content == last.content:
                return
            message = _message(last.id, Role.AGENT, content, now_ms)
            self._messages[-1] = message
        events.append(MessageUpdated(message))
