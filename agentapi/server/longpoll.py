"""Long-polls: ``GET /messages`` and ``GET /status`` answered once something changed.

For clients behind proxies that buffer Server-Sent Events. A waiting request costs one
parked coroutine: it wakes only when the session publishes a change (``ChangeWatch``)
and re-checks its own condition; nothing polls. Every wait is bounded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from agentapi.messages import AgentStatus

MAX_WAIT_S = 60.0
DEFAULT_STATUS_TIMEOUT_S = 30.0


class QueryError(ValueError):
    """A query parameter with a value this endpoint cannot use; names the parameter."""

    def __init__(self, name: str, message: str, value: str) -> None:
        super().__init__(f"query.{name} {message}")
        self.name = name
        self.message = message
        self.value = value

    def detail(self) -> dict[str, str]:
        return {"location": f"query.{self.name}", "message": self.message, "value": self.value}


def _seconds(query: Mapping[str, str], name: str, default: float | None) -> float | None:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise QueryError(name, "must be a number of seconds", raw) from None
    if not math.isfinite(value) or not 0 <= value <= MAX_WAIT_S:
        raise QueryError(name, f"must be between 0 and {MAX_WAIT_S:g} seconds", raw)
    return value


def _integer(query: Mapping[str, str], name: str, minimum: int) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(name, "must be a whole number", raw) from None
    if value < minimum:
        raise QueryError(name, f"must be at least {minimum}", raw)
    return value


@dataclass(frozen=True)
class MessagesQuery:
    after: int | None = None  # only messages with a greater id
    wait: float | None = None  # seconds to wait for a change
    revision: int | None = None  # the revision the client has: wait for a different one

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> MessagesQuery:
        return cls(
            after=_integer(query, "after", -1),
            wait=_seconds(query, "wait", None),
            revision=_integer(query, "revision", 0),
        )


@dataclass(frozen=True)
class StatusQuery:
    wait_for: AgentStatus | None = None
    timeout: float = DEFAULT_STATUS_TIMEOUT_S

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> StatusQuery:
        raw = query.get("wait_for")
        wanted = None
        if raw is not None:
            try:
                wanted = AgentStatus(raw)
            except ValueError:
                raise QueryError("wait_for", "must be 'stable' or 'running'", raw) from None
        timeout = _seconds(query, "timeout", DEFAULT_STATUS_TIMEOUT_S)
        assert timeout is not None
        return cls(wanted, timeout)
