"""The event hub: the latest state, and fan-out of changes to subscribers.

Each event is serialised to its Server-Sent Events frame once, however many
subscribers receive it. A new subscriber first gets a replay of the current
state and then live events; both happen in one step on the event loop, so
there is no gap and no duplicate. A subscriber that falls too far behind is
disconnected instead of being allowed to grow memory or stall the agent.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

log = logging.getLogger("agentapi.session.hub")

DEFAULT_QUEUE_LIMIT = 2048
MAX_STORED_ERRORS = 50


class EventName(StrEnum):
    MESSAGE_UPDATE = "message_update"
    STATUS_CHANGE = "status_change"
    AGENT_ERROR = "agent_error"
    SCREEN = "screen"


@dataclass(frozen=True, slots=True)
class Frame:
    name: EventName
    payload: bytes  # the whole SSE frame, ready to send

    @classmethod
    def build(cls, name: EventName, data: dict[str, Any]) -> Frame:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return cls(name, f"event: {name}\ndata: {body}\n\n".encode())


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

    def pending(self) -> int:
        return len(self._queue)

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
    def __init__(self, agent_type: str, *, queue_limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        self._agent_type = agent_type
        self._queue_limit = queue_limit
        self._subscribers: set[Subscription] = set()
        self._messages: dict[int, Frame] = {}
        self._status: Frame | None = None
        self._errors: deque[Frame] = deque(maxlen=MAX_STORED_ERRORS)
        self._screen: Frame = Frame.build(EventName.SCREEN, {"screen": ""})

    # -- publishing -------------------------------------------------------------------------

    def _fan_out(self, frame: Frame) -> None:
        for subscriber in list(self._subscribers):
            subscriber._offer(frame)

    def message_update(self, message_id: int, role: str, content: str, time: str) -> None:
        frame = Frame.build(
            EventName.MESSAGE_UPDATE,
            {"id": message_id, "role": role, "message": content, "time": time},
        )
        self._messages[message_id] = frame
        self._fan_out(frame)

    def reset_messages(self) -> None:
        self._messages.clear()

    def status_change(self, status: str) -> None:
        frame = Frame.build(
            EventName.STATUS_CHANGE, {"status": status, "agent_type": self._agent_type}
        )
        self._status = frame
        self._fan_out(frame)

    def agent_error(self, message: str, level: str, time: str) -> None:
        data = {"message": message, "level": level, "time": time}
        frame = Frame.build(EventName.AGENT_ERROR, data)
        self._errors.append(frame)
        self._fan_out(frame)

    def screen(self, text: str) -> None:
        frame = Frame.build(EventName.SCREEN, {"screen": text})
        self._screen = frame
        self._fan_out(frame)

    # -- subscribing ------------------------------------------------------------------------

    def subscribe(self, names: Iterable[EventName]) -> Subscription:
        wanted = frozenset(names)
        replay = self._replay(wanted)
        # The replay itself must never count as falling behind.
        sub = Subscription(self, wanted, self._queue_limit + len(replay))
        sub._queue.extend(replay)
        self._subscribers.add(sub)
        return sub

    def _replay(self, names: frozenset[EventName]) -> list[Frame]:
        frames: list[Frame] = []
        if EventName.MESSAGE_UPDATE in names:
            frames.extend(self._messages[i] for i in sorted(self._messages))
        if EventName.STATUS_CHANGE in names and self._status is not None:
            frames.append(self._status)
        if EventName.AGENT_ERROR in names:
            frames.extend(self._errors)
        if EventName.SCREEN in names:
            frames.append(self._screen)
        return frames

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def stored_errors(self) -> list[dict[str, Any]]:
        out = []
        for frame in self._errors:
            data_line = frame.payload.decode().split("\n")[1]
            out.append(json.loads(data_line.removeprefix("data: ")))
        return out

    def close_all(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.close()
