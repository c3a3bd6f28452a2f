"""The conversation: a sans-I/O state machine from screens to chat messages and a status."""

from agentapi.conversation.machine import (
    Conversation,
    Event,
    MessageUpdated,
    NotStable,
    ReadinessOverdue,
    SavedTranscript,
    SendInProgress,
    Status,
    StatusChanged,
    TranscriptRestored,
    wall_time,
)

__all__ = [
    "Conversation",
    "Event",
    "MessageUpdated",
    "NotStable",
    "ReadinessOverdue",
    "SavedTranscript",
    "SendInProgress",
    "Status",
    "StatusChanged",
    "TranscriptRestored",
    "wall_time",
]
