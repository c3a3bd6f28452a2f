"""The event hub: the latest state, and fan-out of changes to subscribers.

Each event is serialised to its Server-Sent Events frame once, however many
subscribers receive it. A new subscriber first gets a replay of the current
state and then live events; both happen in one step on the event loop, so
there is no gap and no duplicate. A subscriber that falls too far behind is
disconnected instead of being allowed to grow memory or stall the agent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from agentapi.messages import (
    ErrorBody,
    EventName,
    Message,
    MessagePartsBody,
    MessageUpdateBody,
    ScreenUpdateBody,
    StatusChangeBody,
    WireModel,
)

log = logging.getLogger("agentapi.session.hub")

DEFAULT_QUEUE_LIMIT = 2048
MAX_STORED_ERRORS = 50


@dataclass(frozen=True, slots=True)
class Frame:
    name: EventName
    payload: bytes  # the whole SSE frame, ready to send

    @classmethod
    def build(cls, name: EventName, body: WireModel) -> Frame:
        # Compact JSON has no line breaks, so the body is one data line.
        return cls(name, b"event: " + name.encode() + b"\ndata: " + body.to_json() + b"\n\n")


def _parts_frame(message: Message) -> Frame:
    return Frame.build(EventName.MESSAGE_PARTS, MessagePartsBody.of(message))


class Subscription:
    def __init__(self, hub: EventHub, names: frozenset[EventName], limit: int) -> None:
        self._hub = hub
        self.names = names
        self._limit = limit
        self._queue: deque[Frame] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self.overflowed = False

    def _offer(self, frame: Frame) -> None:
        if self._closed or frame.name not in self.names:
            return
        if len(self._queue) >= self._limit:
            self.overflowed = True
            log.warning("an event subscriber fell %d events behind: disconnecting it", self._limit)
            self.close()
            return
        self._queue.append(frame)
        self._wakeup.set()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._wakeup.set()
            self._hub._subscribers.discard(self)

    @property
    def closed(self) -> bool:
        return self._closed

    async def frames(self, ping_s: float | None = None) -> AsyncIterator[bytes]:
        """Yield frames until the subscription is closed (by the hub or by overflow).

        With ``ping_s``, an SSE comment is sent after that long without an event, so
        proxies and clients can tell a quiet stream from a dead one.
        """
        try:
            while True:
                while self._queue:
                    yield self._queue.popleft().payload
                if self._closed:
                    return
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), ping_s)
                except TimeoutError:
                    yield b": ping\n\n"
        finally:
            self.close()


class EventHub:
    def __init__(self, *, queue_limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        self._queue_limit = queue_limit
        self._subscribers: set[Subscription] = set()
        self._messages: dict[int, Frame] = {}
        self._structured: dict[int, Message] = {}
        self._status: Frame | None = None
        self._errors: deque[Frame] = deque(maxlen=MAX_STORED_ERRORS)
        # The screen changes often and few watch it: its frame is built only when wanted.
        self._screen_text = ""
        self._screen_frame: Frame | None = None
        # Set by close_all (shutdown): a stream opened later gets its replay and ends.
        self._closed = False

    # -- publishing -------------------------------------------------------------------------

    def _fan_out(self, frame: Frame) -> None:
        for subscriber in list(self._subscribers):
            subscriber._offer(frame)

    def message_update(self, message: Message) -> None:
        frame = Frame.build(EventName.MESSAGE_UPDATE, MessageUpdateBody.of(message))
        self._messages[message.id] = frame
        self._fan_out(frame)
        if message.parts is not None:
            # Structure (ACP mode) goes only to those who asked; built only for them.
            self._structured[message.id] = message
            if any(EventName.MESSAGE_PARTS in s.names for s in self._subscribers):
                self._fan_out(_parts_frame(message))

    def reset_messages(self) -> None:
        self._messages.clear()
        self._structured.clear()

    def status_change(self, body: StatusChangeBody) -> None:
        frame = Frame.build(EventName.STATUS_CHANGE, body)
        self._status = frame
        self._fan_out(frame)

    def agent_error(self, body: ErrorBody) -> None:
        frame = Frame.build(EventName.AGENT_ERROR, body)
        self._errors.append(frame)
        self._fan_out(frame)

    def screen(self, text: str) -> None:
        self._screen_text = text
        self._screen_frame = None
        if any(EventName.SCREEN in s.names for s in self._subscribers):
            self._fan_out(self._screen_frame_now())

    def _screen_frame_now(self) -> Frame:
        if self._screen_frame is None:
            self._screen_frame = Frame.build(
                EventName.SCREEN, ScreenUpdateBody(screen=self._screen_text)
            )
        return self._screen_frame

    # -- subscribing ------------------------------------------------------------------------

    def subscribe(self, names: Iterable[EventName]) -> Subscription:
        wanted = frozenset(names)
        replay = self._replay(wanted)
        # The replay itself must never count as falling behind.
        sub = Subscription(self, wanted, self._queue_limit + len(replay))
        sub._queue.extend(replay)
        self._subscribers.add(sub)
        if self._closed:
            sub.close()
        return sub

    def _replay(self, names: frozenset[EventName]) -> list[Frame]:
        frames: list[Frame] = []
        updates, parts = EventName.MESSAGE_UPDATE in names, EventName.MESSAGE_PARTS in names
        for i in sorted(self._messages) if updates or parts else ():
            if updates:
                frames.append(self._messages[i])
            if parts and i in self._structured:
                frames.append(_parts_frame(self._structured[i]))
        if EventName.STATUS_CHANGE in names and self._status is not None:
            frames.append(self._status)
        if EventName.AGENT_ERROR in names:
            frames.extend(self._errors)
        if EventName.SCREEN in names:
            frames.append(self._screen_frame_now())
        return frames

    def close_all(self) -> None:
        self._closed = True
        for subscriber in list(self._subscribers):
            subscriber.close()
