"""The one vocabulary: statuses, roles, messages, events and problem documents.

Every shape that crosses a boundary is defined here, once: the conversation builds
``Message`` records, the HTTP handlers and the event hub serialise these models,
the OpenAPI document is generated from them, the client parses answers with them,
and the state file reads and writes the same times. The schema names are the
original daemon's, so its clients find what they expect.

Times on the wire are RFC 3339 with the daemon's UTC offset and at most microsecond
precision, trailing zeros trimmed, as Go writes them: ``2026-12-02T10:05:44.5Z``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Self

from agentapi import records

# -- the words ---------------------------------------------------------------------------------


class AgentStatus(StrEnum):
    RUNNING = "running"
    STABLE = "stable"


class ConversationRole(StrEnum):
    AGENT = "agent"
    USER = "user"


# The conversation's own name for it.
Role = ConversationRole


class MessageType(StrEnum):
    RAW = "raw"
    USER = "user"


class ErrorLevel(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Transport(StrEnum):
    ACP = "acp"
    PTY = "pty"


class EventName(StrEnum):
    MESSAGE_UPDATE = "message_update"
    STATUS_CHANGE = "status_change"
    AGENT_ERROR = "agent_error"
    SCREEN = "screen"
    # Only on /events?parts=true: the Go SDK dies on event names it does not know.
    MESSAGE_PARTS = "message_parts"


# -- times -------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<clock>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<frac>\d{1,9}))?(?P<zone>[Zz]|[+-]\d{2}:\d{2})"
)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 time with an offset, including Go's nanosecond fractions.

    Digits past microseconds are dropped (truncated, so a time never moves forward).
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 time with a time-zone offset")
    frac = (match["frac"] or "")[:6].ljust(6, "0")
    zone = match["zone"]
    offset = "+00:00" if zone in ("Z", "z") else zone
    try:
        return datetime.fromisoformat(f"{match['date']}T{match['clock']}.{frac}{offset}")
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid time: {exc}") from None


def format_rfc3339(moment: datetime) -> str:
    """Format an aware time as Go's RFC3339Nano does (``Z`` for UTC, trimmed fraction)."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"time {moment!r} has no time zone")
    if offset % timedelta(minutes=1):
        # RFC 3339 offsets have no seconds: such a zone is written as UTC instead.
        moment, offset = moment.astimezone(UTC), timedelta(0)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    if not offset:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def wall_time(now_ms: float) -> datetime:
    """The local, aware time for a wall-clock reading in milliseconds."""
    return datetime.fromtimestamp(now_ms / 1000).astimezone()


# -- wire models -------------------------------------------------------------------------------


def _doc(**meta: Any) -> dict[str, Any]:
    """A field's metadata: its description and examples for the OpenAPI document (pydantic
    reads these keys), ``alias`` for its key on the wire."""
    return meta


_PARSERS: dict[type, Callable[[str], object]] = {datetime: parse_rfc3339}
_FORMATTERS: dict[type, Callable[[Any], object]] = {datetime: format_rfc3339}


class WireModel:
    """A body the daemon sends: a frozen, slotted, keyword-only dataclass, cheap to make by
    the thousand, with no schema library behind it (see agentapi.records). Parsing ignores
    fields a newer daemon adds, so an old client keeps working; the schema still says
    exactly what this daemon sends."""

    __slots__ = ()
    # Read by pydantic when it writes the OpenAPI document, and by records.build.
    __pydantic_config__: ClassVar[dict[str, Any]] = {
        "extra": "ignore",
        "json_schema_extra": {"additionalProperties": False},
    }

    def to_wire(self) -> dict[str, Any]:
        """The body as JSON-ready data: None fields left out, times in RFC 3339."""
        return records.dump(self, _FORMATTERS)

    def to_json(self) -> bytes:
        return json_bytes(self.to_wire())

    @classmethod
    def from_wire(cls, data: object) -> Self:
        """The body from parsed JSON; RecordError (a ValueError) names every mistake."""
        return records.build(cls, data, parsers=_PARSERS)


def json_bytes(data: object) -> bytes:
    """Compact UTF-8 JSON. Lone surrogates (undecodable terminal bytes) have no UTF-8 form:
    such a document is written with \\u escapes instead, which every reader takes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("ascii")


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusResponseBody(WireModel):
    status: AgentStatus = field(
        metadata=_doc(
            description="Current agent status. 'running' means that the agent is processing a "
            "message, 'stable' means that the agent is idle and waiting for input."
        )
    )
    agent_type: str = field(
        metadata=_doc(
            description="Type of the agent being used by the server, in the original daemon's "
            "vocabulary ('custom' for any agent it does not know)."
        )
    )
    transport: Transport = field(
        metadata=_doc(description="Backend transport being used ('acp' or 'pty').")
    )
    adapter: str | None = field(
        default=None,
        metadata=_doc(description="Name of the adapter that reads the agent's screen."),
    )
    agent_name: str | None = field(
        default=None,
        metadata=_doc(description="The agent's name as shown to people, e.g. 'Claude Code'."),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanEntryPart(WireModel):
    content: str = field(metadata=_doc(description="What the step is about."))
    status: str = field(metadata=_doc(description="'pending', 'in_progress' or 'completed'."))
    priority: str | None = field(
        default=None, metadata=_doc(description="'high', 'medium' or 'low'.")
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PermissionOptionPart(WireModel):
    option_id: str = field(metadata=_doc(description="The value to send back to pick this option."))
    name: str = field(metadata=_doc(description="The option as shown to people."))
    kind: str = field(
        metadata=_doc(description="'allow_once', 'allow_always', 'reject_once' or 'reject_always'.")
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePart(WireModel):
    """One structured piece of an agent message (ACP mode only; absent in PTY mode).

    ``content`` stays the readable text of the whole message; parts say what the text
    cannot: which tool ran and how it ended, the plan, the agent's thoughts, a question.
    """

    type: str = field(
        metadata=_doc(
            description="'text', 'thought', 'tool_call', 'plan' or 'permission'.",
            examples=["tool_call"],
        )
    )
    text: str | None = field(
        default=None, metadata=_doc(description="Text of a 'text' or 'thought' part.")
    )
    tool_call_id: str | None = field(
        default=None,
        metadata=_doc(description="The agent's id of the tool call (tool_call, permission)."),
    )
    title: str | None = field(default=None, metadata=_doc(description="What the tool call does."))
    kind: str | None = field(
        default=None, metadata=_doc(description="The tool's kind: read, edit, execute...")
    )
    status: str | None = field(
        default=None,
        metadata=_doc(
            description="tool_call: 'pending', 'in_progress', 'completed' or 'failed'. "
            "permission: 'pending', 'selected', 'refused', 'timed_out' or 'cancelled'.",
        ),
    )
    output: str | None = field(
        default=None, metadata=_doc(description="The tool call's output, as text.")
    )
    entries: list[PlanEntryPart] | None = field(
        default=None, metadata=_doc(description="The plan's steps.")
    )
    permission_id: int | None = field(
        default=None, metadata=_doc(description="Id to answer a pending permission request with.")
    )
    options: list[PermissionOptionPart] | None = field(
        default=None, metadata=_doc(description="The choices a permission request offers.")
    )
    selected: str | None = field(
        default=None, metadata=_doc(description="The option_id that was picked.")
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Message(WireModel):
    id: int = field(
        metadata=_doc(
            description="Unique identifier for the message. This identifier also represents the "
            "order of the message in the conversation history."
        )
    )
    content: str = field(
        metadata=_doc(
            description="Message content. The message is formatted as it appears in the agent's "
            "terminal session, meaning that, by default, it consists of lines of text with 80 "
            "characters per line."
        )
    )
    role: ConversationRole = field(metadata=_doc(description="Role of the message author"))
    time: datetime = field(metadata=_doc(description="Timestamp of the message"))
    parts: list[MessagePart] | None = field(
        default=None,
        metadata=_doc(
            description="ACP mode only: the agent message's structure (text, thoughts, tool "
            "calls, plan, permission requests), in the order it arrived.",
        ),
    )
    stop_reason: str | None = field(
        default=None,
        metadata=_doc(
            description="ACP mode only: why the agent's turn ended ('end_turn', 'cancelled', "
            "'max_tokens', 'refusal', 'error'...); absent while the agent is still working.",
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagesResponseBody(WireModel):
    messages: list[Message] = field(metadata=_doc(description="List of messages"))
    revision: int | None = field(
        default=None,
        metadata=_doc(
            description="How many times the transcript has changed (a message added or updated). "
            "Pass it back as `revision` with `wait` to be answered at the next change.",
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRequestBody(WireModel):
    """What a client sends to ``POST /message``; unknown fields are refused."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {
        "extra": "forbid",
        # A 'raw' message may be empty (it presses nothing); a 'user' message may not.
        "json_schema_extra": {
            "if": {"properties": {"type": {"const": "user"}}, "required": ["type"]},
            "then": {"properties": {"content": {"minLength": 1}}},
        },
    }

    schema_url: str | None = field(
        default=None,
        metadata=_doc(
            alias="$schema",
            description="A URL to the JSON Schema for this object.",
            json_schema_extra={"format": "uri", "readOnly": True},
        ),
    )
    content: str = field(
        metadata=_doc(
            description="Message content. In a 'user' message, terminal control sequences and "
            "control characters (ESC and every other C0 control but tab and line feed, DEL, "
            "U+0080-U+009F) are removed and a carriage return becomes a line feed before it is "
            "pasted, so the text cannot end the bracketed paste or press keys; leading and "
            "trailing whitespace is trimmed, and what is left must not be empty. A 'raw' message "
            "is sent exactly as given.",
            examples=["Hello, agent!"],
        )
    )
    type: MessageType = field(
        metadata=_doc(
            description="A 'user' type message will be logged as a user message in the "
            "conversation history and submitted to the agent. AgentAPI will wait until the agent "
            "starts carrying out the task described in the message before responding. A 'raw' "
            "type message will be written directly to the agent's terminal session as keystrokes "
            "and will not be saved in the conversation history. 'raw' messages are useful for "
            "sending escape sequences to the terminal."
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageResponseBody(WireModel):
    ok: bool = field(
        metadata=_doc(
            description="Indicates whether the message was sent successfully. For messages of "
            "type 'user', success means detecting that the agent began executing the task "
            "described. For messages of type 'raw', success means the keystrokes were sent to "
            "the terminal."
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class InterruptResponseBody(WireModel):
    ok: bool = field(metadata=_doc(description="Always true: the request was handled."))
    interrupted: bool = field(
        metadata=_doc(
            description="Whether the interrupt keys were sent. False when the agent was already "
            "stable: interrupting an idle agent does nothing."
        )
    )
    status: AgentStatus = field(
        metadata=_doc(
            description="The agent's status when the answer was sent: 'stable' once the agent "
            "has stopped and settled, 'running' if it was still working when the wait for it to "
            "settle ran out."
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadResponseBody(WireModel):
    ok: bool = field(
        metadata=_doc(description="Indicates whether the files were uploaded successfully.")
    )
    filePath: str = field(metadata=_doc(description="Path of the file"))


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageUpdateBody(WireModel):
    id: int = field(
        metadata=_doc(
            description="Unique identifier for the message. This identifier also represents the "
            "order of the message in the conversation history."
        )
    )
    role: ConversationRole = field(metadata=_doc(description="Role of the message author"))
    message: str = field(metadata=_doc(description="Message content."))
    time: datetime = field(metadata=_doc(description="Timestamp of the message"))

    @classmethod
    def of(cls, message: Message) -> MessageUpdateBody:
        return cls(id=message.id, role=message.role, message=message.content, time=message.time)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePartsBody(WireModel):
    """The structure of an agent message (ACP mode), sent after its message_update."""

    id: int = field(metadata=_doc(description="The message's id, as in message_update."))
    role: ConversationRole = field(metadata=_doc(description="Role of the message author"))
    parts: list[MessagePart] = field(
        metadata=_doc(description="The message's parts, as in GET /messages.")
    )
    stop_reason: str | None = field(
        default=None, metadata=_doc(description="Why the turn ended; absent while the agent works.")
    )
    time: datetime = field(metadata=_doc(description="Timestamp of the message"))

    @classmethod
    def of(cls, message: Message) -> MessagePartsBody:
        return cls(
            id=message.id,
            role=message.role,
            parts=list(message.parts or []),
            stop_reason=message.stop_reason,
            time=message.time,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PermissionRequestBody(WireModel):
    """What a client sends to ``POST /permission``; unknown fields are refused."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    id: int = field(metadata=_doc(description="The permission_id of a pending 'permission' part."))
    option_id: str = field(
        metadata=_doc(description="One of the option_id values that part offers.")
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PermissionResponseBody(WireModel):
    ok: bool = field(metadata=_doc(description="True: the agent was given the chosen option."))


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChangeBody(WireModel):
    status: AgentStatus = field(metadata=_doc(description="Agent status"))
    agent_type: str = field(
        metadata=_doc(description="Type of the agent being used by the server.")
    )
    adapter: str | None = field(
        default=None,
        metadata=_doc(description="Name of the adapter that reads the agent's screen."),
    )
    agent_name: str | None = field(
        default=None, metadata=_doc(description="The agent's name as shown to people.")
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorBody(WireModel):
    message: str = field(metadata=_doc(description="Error message"))
    level: ErrorLevel = field(metadata=_doc(description="Error level"))
    time: datetime = field(metadata=_doc(description="Timestamp when the error occurred"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenUpdateBody(WireModel):
    screen: str = field(metadata=_doc(description="The agent's whole terminal screen as text."))


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorDetail(WireModel):
    location: str | None = field(
        default=None,
        metadata=_doc(
            description="Where the error occurred, e.g. 'body.items[3].tags' or 'path.thing-id'",
        ),
    )
    message: str | None = field(default=None, metadata=_doc(description="Error message text"))
    value: Any = field(default=None, metadata=_doc(description="The value at the given location"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorModel(WireModel):
    """An RFC 9457 problem document: every error the API answers looks like this."""

    type: str = field(
        default="about:blank",
        metadata=_doc(
            description="A URI reference to human-readable documentation for the error.",
        ),
    )
    title: str | None = field(
        default=None,
        metadata=_doc(
            description="A short, human-readable summary of the problem type. This value should "
            "not change between occurrences of the error.",
        ),
    )
    status: int | None = field(default=None, metadata=_doc(description="HTTP status code"))
    detail: str | None = field(
        default=None,
        metadata=_doc(
            description="A human-readable explanation specific to this occurrence of the problem.",
        ),
    )
    instance: str | None = field(
        default=None,
        metadata=_doc(
            description="A URI reference that identifies the specific occurrence of the problem.",
        ),
    )
    errors: list[ErrorDetail] | None = field(
        default=None, metadata=_doc(description="Optional list of individual error details")
    )


# The bodies each event carries, by event name.
EVENT_BODIES: dict[EventName, type[WireModel]] = {
    EventName.MESSAGE_UPDATE: MessageUpdateBody,
    EventName.STATUS_CHANGE: StatusChangeBody,
    EventName.AGENT_ERROR: ErrorBody,
    EventName.SCREEN: ScreenUpdateBody,
    EventName.MESSAGE_PARTS: MessagePartsBody,
}

# Every model named in the OpenAPI document.
SCHEMA_MODELS: list[type[WireModel]] = [
    StatusResponseBody,
    PlanEntryPart,
    PermissionOptionPart,
    MessagePart,
    Message,
    MessagesResponseBody,
    MessageRequestBody,
    MessageResponseBody,
    InterruptResponseBody,
    UploadResponseBody,
    MessageUpdateBody,
    MessagePartsBody,
    PermissionRequestBody,
    PermissionResponseBody,
    StatusChangeBody,
    ErrorBody,
    ScreenUpdateBody,
    ErrorDetail,
    ErrorModel,
]


# The agent types the original knows, in the order its `server --help` lists them. Clients
# look the reported `agent_type` up in this fixed list (the original's chat page crashes on
# any other word), so every other adapter reports `custom` and its own name in `adapter`.
ORIGINAL_AGENT_TYPES: tuple[str, ...] = (
    "claude",
    "goose",
    "aider",
    "gemini",
    "copilot",
    "amp",
    "codex",
    "cursor",
    "auggie",
    "amazonq",
    "opencode",
    "custom",
)


def wire_agent_type(adapter_name: str) -> str:
    """The `agent_type` an adapter reports: its name if the original knows it, else custom."""
    return adapter_name if adapter_name in ORIGINAL_AGENT_TYPES else "custom"


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    """Who the agent is, as every status answer and status event says it."""

    agent_type: str
    adapter: str
    agent_name: str
    transport: Transport = Transport.PTY

    def status_body(self, status: AgentStatus) -> StatusResponseBody:
        return StatusResponseBody(
            status=status,
            agent_type=self.agent_type,
            transport=self.transport,
            adapter=self.adapter,
            agent_name=self.agent_name,
        )

    def status_change(self, status: AgentStatus) -> StatusChangeBody:
        return StatusChangeBody(
            status=status,
            agent_type=self.agent_type,
            adapter=self.adapter,
            agent_name=self.agent_name,
        )
