"""The conversation: a sans-I/O state machine from screens to chat messages and a status."""

from agentapi.conversation.machine import (
    Conversation,
    Event,
    Formatter,
    MessageUpdated,
    ReadinessOverdue,
    SavedTranscript,
    StatusChanged,
    TranscriptRestored,
)

__all__ = [
    "Conversation",
    "Event",
    "Formatter",
    "MessageUpdated",
    "ReadinessOverdue",
    "SavedTranscript",
    "StatusChanged",
    "TranscriptRestored",
]
