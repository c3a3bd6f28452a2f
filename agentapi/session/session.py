"""The PTY session: a terminal transport wired to the screen conversation and the hub.

This is where real I/O meets the conversation's rules: it feeds settled screens in,
schedules the one timer the rules ask for, runs the protocol that types a user
message, and publishes every change. The transport is given to it, so tests drive
it with a scripted terminal and the event loop on fake time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentapi.adapters import Adapter
from agentapi.conversation import (
    Conversation,
    Event,
    MessageUpdated,
    SavedTranscript,
    StatusChanged,
)
from agentapi.errors import AgentBusy, AgentDidNotReact, AgentExited, SendError
from agentapi.messages import AgentIdentity, AgentStatus, Message, Role
from agentapi.session.base import INTERRUPT_SETTLE_S, AgentSession, LoopClock
from agentapi.session.hub import EventHub
from agentapi.session.transport import TerminalTransport

log = logging.getLogger("agentapi.session")

# How long an interrupt waits for an erased input box to settle, beyond its own wait.
CLEAR_SETTLE_S = 5.0


@dataclass(frozen=True)
class SendTiming:
    """How long the send protocol waits for each thing it waits for."""

    # For the echo of the typed text to appear, and then to stay quiet, before Enter.
    echo_wait_s: float = 2.0
    echo_quiet_s: float = 0.3
    # For the screen to change after Enter, pressing Enter again every submit_retry_s.
    start_wait_s: float = 15.0
    submit_retry_s: float = 3.0


@dataclass(frozen=True)
class SessionOptions:
    stable_ms: int = 2000
    ready_warning_ms: int = 30_000
    initial_prompt: str = ""
    timing: SendTiming = field(default_factory=SendTiming)


class Session(AgentSession):
    def __init__(
        self,
        transport: TerminalTransport,
        adapter: Adapter,
        hub: EventHub,
        identity: AgentIdentity,
        options: SessionOptions | None = None,
        clock: LoopClock | None = None,
    ) -> None:
        super().__init__(hub, identity, clock or LoopClock())
        self.options = options or SessionOptions()
        self.transport = transport
        self.adapter = adapter
        self.conversation = Conversation(
            adapter,
            self.now_ms(),
            stable_ms=self.options.stable_ms,
            ready_warning_ms=self.options.ready_warning_ms,
            initial_prompt=self.options.initial_prompt,
        )
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._screen_version = 0
        # Set (and replaced) on every screen change, and set on exit: wakes the send protocol.
        self._screen_changed = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._initial_task: asyncio.Task[None] | None = None
        self._start_keys_sent = not adapter.on_start
        self._background: set[asyncio.Task[None]] = set()
        self._dispatch(self._initial_events())

    def _initial_events(self) -> list[Event]:
        events: list[Event] = [MessageUpdated(m) for m in self.conversation.messages]
        events.append(StatusChanged(self.conversation.status))
        return events

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.transport.start(self._on_screen, self._on_exit)

    async def wait_exit(self) -> int:
        return await self.transport.wait()

    async def stop(self, grace: float = 5.0) -> int | None:
        self._cancel_timer()
        if self._initial_task is not None:
            self._initial_task.cancel()
        code = await self.transport.stop(grace)
        self.transport.close()
        return code

    @property
    def last_output(self) -> str:
        return self.transport.last_screen

    # -- state ------------------------------------------------------------------------------

    @property
    def status(self) -> AgentStatus:
        return self.conversation.status

    @property
    def messages(self) -> Sequence[Message]:
        return self.conversation.messages

    @property
    def screen(self) -> str:
        return self.transport.text

    @property
    def agent_running(self) -> bool:
        return self.transport.exit_code is None

    def transcript(self) -> SavedTranscript:
        conv = self.conversation
        return SavedTranscript(tuple(conv.messages), conv.initial_prompt, conv.initial_prompt_sent)

    @property
    def restore_pending(self) -> bool:
        return self.conversation.restore_pending

    def schedule_restore(self, saved: SavedTranscript) -> None:
        self.conversation.schedule_restore(saved)

    # -- events in --------------------------------------------------------------------------

    def _on_screen(self, text: str) -> None:
        if not self._start_keys_sent:
            # Sent once the agent has drawn something, so its TUI is up to read the keys
            # (Amp's start-up animation only stops on a key press).
            self._start_keys_sent = True
            self._spawn(self._send_start_keys())
        self._screen_version += 1
        self._wake_senders()
        self.hub.screen(text)
        self._dispatch(self.conversation.on_screen(text, self.now_ms()))

    def _wake_senders(self) -> None:
        self._screen_changed.set()
        self._screen_changed = asyncio.Event()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self._loop.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_start_keys(self) -> None:
        try:
            await self.transport.write(self.adapter.on_start.encode())
        except SendError as exc:
            log.warning("could not send the adapter's start-up keys: %s", exc)

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch(self.conversation.tick(self.now_ms()))

    def _on_exit(self, code: int) -> None:
        self._cancel_timer()
        # Whoever waits for the screen to change learns at once that it never will.
        self._wake_senders()
        self.watch.changed()

    def _dispatch(self, events: list[Event]) -> None:
        self.publish(events)
        self._schedule_timer()
        self._maybe_send_initial_prompt()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule_timer(self) -> None:
        self._cancel_timer()
        now = self.now_ms()
        deadline = self.conversation.next_deadline_ms(now)
        if deadline is None or not self.agent_running:
            return
        # A millisecond late rather than early, so the tick always sees the screen settled.
        self._timer = self._loop.call_later((deadline - now) / 1000.0 + 0.001, self._on_timer)

    def _maybe_send_initial_prompt(self) -> None:
        if self._initial_task is not None:
            return
        prompt = self.conversation.initial_prompt_due(self.now_ms())
        if prompt is None:
            return
        self._initial_task = self._loop.create_task(self._send_initial(prompt))

    async def _send_initial(self, prompt: str) -> None:
        try:
            await self._deliver(prompt, initial=True)
        except SendError as exc:
            log.error("the initial prompt was not delivered: %s", exc)
            self.report_error(f"The initial prompt was not delivered: {exc}")
        finally:
            self._initial_task = None

    # -- sending ----------------------------------------------------------------------------

    async def send_user_message(self, content: str) -> None:
        await self._deliver(content, initial=False)

    async def send_raw(self, content: str) -> None:
        if not self.agent_running:
            raise AgentExited("The agent has exited.")
        await self.transport.write(content.encode())

    async def interrupt(self, settle_timeout_s: float = INTERRUPT_SETTLE_S) -> bool:
        if not self.agent_running:
            raise AgentExited("The agent has exited.")
        # A message being typed is submitted first: keys written into the middle of a
        # paste would cut it. Holding the lock while the agent settles makes a message
        # sent meanwhile a 409, not something typed into a half-stopped agent.
        async with self._send_lock:
            if self.status is AgentStatus.STABLE:
                return False
            deadline = self._loop.time() + settle_timeout_s
            for keys in self.adapter.interrupt_keys():
                await self.transport.write(keys.data)
                if keys.settle_ms:
                    await asyncio.sleep(keys.settle_ms / 1000)
            await self._settle(deadline)
            clear = self.adapter.interrupt_clear_keys(self._last_user_message())
            if clear is not None and self.agent_running:
                # Erased once the agent has settled with the message back in its box; the
                # answer waits for the erased box to settle in turn.
                version = self._screen_version
                await self.transport.write(clear.data)
                deadline = max(deadline, self._loop.time() + CLEAR_SETTLE_S)
                await self._wait_screen_change(version, self._loop.time() + 1.0)
                await self._settle(deadline)
            return True

    async def _settle(self, deadline: float) -> None:
        await self.watch.wait_for(
            lambda: self.status is AgentStatus.STABLE or not self.agent_running,
            max(0.0, deadline - self._loop.time()),
        )

    def _last_user_message(self) -> str:
        for message in reversed(self.conversation.messages):
            if message.role is Role.USER:
                return message.content
        return ""

    async def _deliver(self, content: str, *, initial: bool) -> None:
        if not self.agent_running:
            raise AgentExited("The agent has exited.")
        if self._send_lock.locked():
            raise AgentBusy("Another message is being sent to the agent.")
        async with self._send_lock:
            self.transport.publish_now()
            events = self.conversation.begin_send(content, self.now_ms(), initial=initial)
            self._dispatch(events)
            try:
                await self._type_and_submit(content)
            except BaseException:
                # Nothing is recorded: the transcript is as it was before the send.
                self._dispatch(self.conversation.send_failed(self.now_ms()))
                raise
            self._dispatch(self.conversation.send_started(self.now_ms(), initial=initial))

    async def _type_and_submit(self, content: str) -> None:
        timing = self.options.timing
        version = self._screen_version
        for keys in self.adapter.encode_message(content):
            await self.transport.write(keys.data)
            if keys.settle_ms:
                await asyncio.sleep(keys.settle_ms / 1000)
        # Let the echo of the typed text settle, so Enter is not taken as part of the paste.
        deadline = self._loop.time() + timing.echo_wait_s
        if await self._wait_screen_change(version, deadline):
            while True:
                quiet_until = min(deadline, self._loop.time() + timing.echo_quiet_s)
                if not await self._wait_screen_change(self._screen_version, quiet_until):
                    break
        self._require_running()
        self.transport.publish_now()
        before = self._screen_version
        deadline = self._loop.time() + timing.start_wait_s
        while True:
            await self.transport.write(self.adapter.submit.encode())
            retry_at = min(deadline, self._loop.time() + timing.submit_retry_s)
            if await self._wait_screen_change(before, retry_at):
                return
            self._require_running()
            if self._loop.time() >= deadline:
                break
        raise AgentDidNotReact(
            f"The message was typed but the agent's screen did not change within "
            f"{timing.start_wait_s:g} s of pressing Enter."
        )

    def _require_running(self) -> None:
        if not self.agent_running:
            raise AgentExited("The agent exited while the message was sent.")

    async def _wait_screen_change(self, since_version: int, deadline: float) -> bool:
        """Wait until the screen version passes ``since_version``; False at the deadline
        or as soon as the agent exits."""
        while self._screen_version == since_version:
            remaining = deadline - self._loop.time()
            if remaining <= 0 or not self.agent_running:
                return False
            try:
                await asyncio.wait_for(self._screen_changed.wait(), remaining)
            except TimeoutError:
                return self._screen_version != since_version
        return True
