"""What every agent session offers, whatever the transport behind it.

The server, the state keeper and the daemon talk to an ``AgentSession``: its status
and messages, sending, and its life cycle. A session turns its transport's output
into conversation events; the shared part here forwards those events to the hub,
so every transport publishes exactly the same way.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from agentapi.conversation import (
    Event,
    MessageUpdated,
    ReadinessOverdue,
    SavedTranscript,
    StatusChanged,
    TranscriptRestored,
)
from agentapi.errors import PermissionNotPending
from agentapi.messages import (
    AgentIdentity,
    AgentStatus,
    ErrorBody,
    ErrorLevel,
    Message,
    wall_time,
)
from agentapi.session.hub import EventHub
from agentapi.session.watch import ChangeWatch

log = logging.getLogger("agentapi.session")

# How long an interrupt waits for the agent to become stable again before answering.
INTERRUPT_SETTLE_S = 10.0


def describe_exit(code: int) -> str:
    """An exit status in words: a negative code is the signal that killed the agent."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"agent was killed by {name}"
    return f"agent exited with code {code}"


class LoopClock:
    """Milliseconds of wall-clock time, advanced by the event loop's own clock.

    Messages need wall-clock times; durations need a clock that never jumps. Reading the
    loop's clock gives both, and lets tests run the loop on fake time.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._wall0 = time.time()
        self._loop0 = self._loop.time()

    def now_ms(self) -> float:
        return (self._wall0 + self._loop.time() - self._loop0) * 1000.0


class AgentSession(ABC):
    """One agent and its conversation, as the rest of the daemon sees them."""

    def __init__(self, hub: EventHub, identity: AgentIdentity, clock: LoopClock) -> None:
        self.hub = hub
        self.identity = identity
        self.clock = clock
        # Set by the state keeper: called after any change to the transcript.
        self.on_transcript_change: Callable[[], None] = lambda: None
        # Woken on every published change: interrupt and the long-polls wait on it.
        self.watch = ChangeWatch()
        # Counts changes to the transcript (a message added or updated, a restore), so a
        # long-polling client can ask for "anything since the answer I have".
        self.transcript_revision = 0

    def now_ms(self) -> float:
        return self.clock.now_ms()

    # -- what the server reads ----------------------------------------------------------------

    @property
    @abstractmethod
    def status(self) -> AgentStatus: ...

    @property
    @abstractmethod
    def messages(self) -> Sequence[Message]: ...

    @property
    @abstractmethod
    def screen(self) -> str:
        """The agent's terminal (or a rendering of it) as text."""

    @property
    @abstractmethod
    def agent_running(self) -> bool: ...

    # -- what the server asks -----------------------------------------------------------------

    @abstractmethod
    async def send_user_message(self, content: str) -> None:
        """Deliver a user message; returns once the agent visibly started on it.

        Raises AgentBusy, AgentDidNotReact, AgentExited or AgentWriteFailed, and then
        nothing was recorded.
        """

    @abstractmethod
    async def send_raw(self, content: str) -> None:
        """Type keys straight into the agent's terminal; nothing is recorded."""

    @abstractmethod
    async def interrupt(self, settle_timeout_s: float = INTERRUPT_SETTLE_S) -> bool:
        """Stop what the agent is doing and wait (at most ``settle_timeout_s``) for it to
        settle. Returns False, having done nothing, when the agent was stable already.

        Raises AgentExited when the agent is not running.
        """

    async def answer_permission(self, permission_id: int, option_id: str) -> None:
        """Pick an option of a pending permission request (ACP mode with ``ask``).

        Raises PermissionNotPending or PermissionChoiceInvalid.
        """
        raise PermissionNotPending("There are no permission requests in PTY mode.")

    async def wait_for_status(self, wanted: AgentStatus, timeout_s: float) -> bool:
        """Whether the status is (or becomes, within ``timeout_s``) ``wanted``."""
        return await self.watch.wait_for(lambda: self.status is wanted, timeout_s)

    # -- persistence --------------------------------------------------------------------------

    @abstractmethod
    def transcript(self) -> SavedTranscript:
        """The conversation as the state file keeps it."""

    @property
    @abstractmethod
    def restore_pending(self) -> bool:
        """A saved conversation waits to be restored (until then it is worth more than ours)."""

    @abstractmethod
    def schedule_restore(self, saved: SavedTranscript) -> None: ...

    # -- life cycle ---------------------------------------------------------------------------

    @abstractmethod
    def start(self) -> None:
        """Start the agent; raises AgentStartError when it cannot be started."""

    @abstractmethod
    async def wait_exit(self) -> int:
        """The agent's exit code, once it has exited."""

    @abstractmethod
    async def stop(self, grace: float = 5.0) -> int | None: ...

    @property
    @abstractmethod
    def last_output(self) -> str:
        """What the agent showed last, for a report when it fails."""

    def exit_report(self, code: int) -> str:
        """What the daemon prints when the agent failed with ``code``."""
        return f"{describe_exit(code)}; its last screen:\n{self.last_output}"

    # -- publishing ---------------------------------------------------------------------------

    def report_error(self, message: str, level: ErrorLevel = ErrorLevel.ERROR) -> None:
        """An agent_error event, for subscribers of /events?errors=true."""
        self.hub.agent_error(ErrorBody(message=message, level=level, time=wall_time(self.now_ms())))

    def publish(self, events: list[Event]) -> None:
        """Forward conversation events to the hub (and a changed transcript to the keeper)."""
        transcript_changed = False
        for event in events:
            if isinstance(event, MessageUpdated):
                self.hub.message_update(event.message)
                transcript_changed = True
            elif isinstance(event, StatusChanged):
                self.hub.status_change(self.identity.status_change(event.status))
            elif isinstance(event, TranscriptRestored):
                self.hub.reset_messages()
                self.transcript_revision += 1
            elif isinstance(event, ReadinessOverdue):
                self._readiness_overdue(event)
        if transcript_changed:
            self.transcript_revision += 1
            self.on_transcript_change()
        if events:
            self.watch.changed()

    def _readiness_overdue(self, event: ReadinessOverdue) -> None:
        seconds = event.waited_ms // 1000
        waiting = (
            f"{event.waiting_for} still waits for it"
            if event.waiting_for
            else "a message sent now may not reach it"
        )
        text = (
            f"The agent's input box has not been recognised on a screen unchanged for "
            f"{seconds} s (adapter '{self.identity.adapter}'): the status is now 'stable' but "
            f"{waiting}. If the agent shows a dialog, answer it with a raw message; "
            "if its screen looks different, pick another --type or load an --adapter file."
        )
        log.warning("%s", text)
        self.report_error(text, ErrorLevel.WARNING)
