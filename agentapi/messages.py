"""The transcript's vocabulary: roles and messages, shared by every layer."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    role: Role
    content: str
    time: datetime  # timezone-aware
