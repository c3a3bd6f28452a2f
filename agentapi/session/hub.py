"""The event hub: the latest state, and fan-out of changes to subscribers.

Each event is serialised to its Server-Sent Events frame once, however many
subscribers receive it. A new subscriber first gets a replay of the current
state and then live events; both happen in one step on the event loop, so
there is no gap and no duplicate. A subscriber that falls too far behind is
disconnected instead of being allowed to grow memory or stall the agent.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
# What one subscriber may have waiting, in bytes: about fifty full 80x1000 screens. A
# reader that stops reading is cut off at this cost, however large the frames are.
DEFAULT_QUEUE_BYTES = 4 * 1024 * 1024
MAX_STORED_ERRORS = 50
# The Go SDK reads SSE with a 128 KiB line buffer and fails the stream on a longer line.
MAX_EVENT_LINE = 128 * 1024 - 1024
TRUNCATION_MARK = "\n… [{n} more characters; the whole message is in GET /messages]"


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
    def __init__(
        self, hub: EventHub, names: frozenset[EventName], limit: int, byte_limit: int
    ) -> None:
        self._hub = hub
        self.names = names
        self._limit = limit
        self._byte_limit = byte_limit
        self._queue: deque[Frame] = deque()
        self._queued_bytes = 0
        self._wakeup = asyncio.Event()
        self._closed = False
        self.overflowed = False
        # Set once closed, for whoever must stop waiting on the reader (streams.py).
        self.ended = asyncio.Event()

    def _offer(self, frame: Frame) -> None:
        if self._closed or frame.name not in self.names:
            return
        size = len(frame.payload)
        if len(self._queue) >= self._limit or self._queued_bytes + size > self._byte_limit:
            self.overflowed = True
            log.warning(
                "an event subscriber fell %d events (%d KiB) behind: disconnecting it",
                len(self._queue),
                self._queued_bytes // 1024,
            )
            self.close()
            return
        self._queue.append(frame)
        self._queued_bytes += size
        self._wakeup.set()

    def _take(self) -> bytes:
        frame = self._queue.popleft()
        self._queued_bytes -= len(frame.payload)
        return frame.payload

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._wakeup.set()
            self.ended.set()
            self._hub._subscribers.discard(self)

    def discard(self) -> None:
        """Close and drop whatever is still queued: the reader is gone."""
        self.close()
        self._queue.clear()
        self._queued_bytes = 0

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
                    yield self._take()
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
    def __init__(
        self, *, queue_limit: int = DEFAULT_QUEUE_LIMIT, queue_bytes: int = DEFAULT_QUEUE_BYTES
    ) -> None:
        self._queue_limit = queue_limit
        self._queue_bytes = queue_bytes
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
        frame = _message_frame(message)
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
        replay_bytes = sum(len(f.payload) for f in replay)
        sub = Subscription(
            self, wanted, self._queue_limit + len(replay), self._queue_bytes + replay_bytes
        )
        sub._queue.extend(replay)
        sub._queued_bytes = replay_bytes
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


def _message_frame(message: Message) -> Frame:
    """The ``message_update`` frame, its data line kept under ``MAX_EVENT_LINE`` bytes.

    A longer message is cut, with a mark saying how much is missing and where the
    rest is: a Go SDK client then keeps its stream, and ``GET /messages`` has it all.
    """
    frame = Frame.build(EventName.MESSAGE_UPDATE, MessageUpdateBody.of(message))
    if _data_line_length(frame) <= MAX_EVENT_LINE:
        return frame
    content = message.content
    # Estimate from the bytes per character the escaped content takes, then shrink a
    # little at a time until the line fits (a character takes one to six bytes).
    empty = _data_line_length(_build(message, ""))
    per_char = (_data_line_length(frame) - empty) / len(content)
    mark_room = len(TRUNCATION_MARK.encode()) + 16
    keep = max(0, int((MAX_EVENT_LINE - empty - mark_room) / per_char))
    while True:
        mark = TRUNCATION_MARK.format(n=len(content) - keep)
        frame = _build(message, content[:keep] + mark)
        if _data_line_length(frame) <= MAX_EVENT_LINE or keep == 0:
            return frame
        keep = keep * 49 // 50


def _build(message: Message, content: str) -> Frame:
    cut = dataclasses.replace(message, content=content)
    return Frame.build(EventName.MESSAGE_UPDATE, MessageUpdateBody.of(cut))


def _data_line_length(frame: Frame) -> int:
    start = frame.payload.index(b"\ndata: ") + 1
    return len(frame.payload) - start - 2  # without the blank line that ends the frame
