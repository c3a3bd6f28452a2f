"""Request and response bodies; the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AgentStatus(StrEnum):
    RUNNING = "running"
    STABLE = "stable"


class ConversationRole(StrEnum):
    AGENT = "agent"
    USER = "user"


class MessageType(StrEnum):
    RAW = "raw"
    USER = "user"


class ErrorLevel(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Transport(StrEnum):
    ACP = "acp"
    PTY = "pty"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class StatusResponseBody(_Body):
    status: AgentStatus = Field(
        description="Current agent status. 'running' means that the agent is processing a "
        "message, 'stable' means that the agent is idle and waiting for input."
    )
    agent_type: str = Field(description="Type of the agent being used by the server.")
    transport: Transport = Field(description="Backend transport being used ('acp' or 'pty').")


class Message(_Body):
    id: int = Field(
        description="Unique identifier for the message. This identifier also represents the "
        "order of the message in the conversation history."
    )
    content: str = Field(
        description="Message content. The message is formatted as it appears in the agent's "
        "terminal session, meaning that, by default, it consists of lines of text with 80 "
        "characters per line."
    )
    role: ConversationRole = Field(description="Role of the message author")
    time: datetime = Field(description="Timestamp of the message")


class MessagesResponseBody(_Body):
    messages: list[Message] = Field(description="List of messages")


class MessageRequestBody(_Body):
    content: str = Field(description="Message content", examples=["Hello, agent!"])
    type: MessageType = Field(
        description="A 'user' type message will be logged as a user message in the "
        "conversation history and submitted to the agent. AgentAPI will wait until the agent "
        "starts carrying out the task described in the message before responding. A 'raw' "
        "type message will be written directly to the agent's terminal session as keystrokes "
        "and will not be saved in the conversation history. 'raw' messages are useful for "
        "sending escape sequences to the terminal."
    )


class MessageResponseBody(_Body):
    ok: bool = Field(
        description="Indicates whether the message was sent successfully. For messages of "
        "type 'user', success means detecting that the agent began executing the task "
        "described. For messages of type 'raw', success means the keystrokes were sent to "
        "the terminal."
    )


class UploadResponseBody(_Body):
    ok: bool = Field(description="Indicates whether the files were uploaded successfully.")
    filePath: str = Field(description="Path of the file")


class MessageUpdateBody(_Body):
    id: int = Field(description="Unique identifier for the message.")
    role: ConversationRole = Field(description="Role of the message author")
    message: str = Field(description="Message content.")
    time: datetime = Field(description="Timestamp of the message")


class StatusChangeBody(_Body):
    status: AgentStatus = Field(description="Agent status")
    agent_type: str = Field(description="Type of the agent being used by the server.")


class ErrorBody(_Body):
    message: str = Field(description="Error message")
    level: ErrorLevel = Field(description="Error level")
    time: datetime = Field(description="Timestamp when the error occurred")


class ScreenUpdateBody(_Body):
    screen: str


class ErrorDetail(_Body):
    location: str | None = Field(
        default=None,
        description="Where the error occurred, e.g. 'body.items[3].tags' or 'path.thing-id'",
    )
    message: str | None = Field(default=None, description="Error message text")
    value: Any = Field(default=None, description="The value at the given location")


class ErrorModel(_Body):
    type: str = Field(
        default="about:blank",
        description="A URI reference to human-readable documentation for the error.",
    )
    title: str | None = Field(
        default=None,
        description="A short, human-readable summary of the problem type. This value should "
        "not change between occurrences of the error.",
    )
    status: int | None = Field(default=None, description="HTTP status code")
    detail: str | None = Field(
        default=None,
        description="A human-readable explanation specific to this occurrence of the problem.",
    )
    instance: str | None = Field(
        default=None,
        description="A URI reference that identifies the specific occurrence of the problem.",
    )
    errors: list[ErrorDetail] | None = Field(
        default=None, description="Optional list of individual error details"
    )


SCHEMA_MODELS: list[type[BaseModel]] = [
    StatusResponseBody,
    Message,
    MessagesResponseBody,
    MessageRequestBody,
    MessageResponseBody,
    UploadResponseBody,
    MessageUpdateBody,
    StatusChangeBody,
    ErrorBody,
    ScreenUpdateBody,
    ErrorDetail,
    ErrorModel,
]
