"""The ACP conversation: session updates in, our messages and status out (no I/O).

Like the screen conversation, it is fed what happened with the current time in
milliseconds and answers with events. Updates arrive as the protocol's JSON
(camelCase, as on the wire), so this module needs neither the ``acp`` package nor
an event loop, and its tests are plain dictionaries.

Rules:
- Message 0 is the agent's introduction (its name and version from ``initialize``).
- Each user message is followed by one agent message that grows in place while the
  agent streams; its ``parts`` keep the structure (text, thoughts, tool calls, plan,
  permission requests) and ``content`` is the readable text of the parts.
- ``running`` from the start until the session is open, and while a prompt is in
  flight; ``stable`` otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentapi.conversation import (
    Event,
    MessageUpdated,
    SavedTranscript,
    StatusChanged,
    TranscriptRestored,
)
from agentapi.errors import AgentBusy
from agentapi.messages import (
    AgentStatus,
    Message,
    MessagePart,
    PermissionOptionPart,
    PlanEntryPart,
    Role,
    wall_time,
)

_TOOL_MARK = {"completed": "✔", "failed": "✘", "in_progress": "…", "pending": "…"}
_PERMISSION_WORDS = {
    "pending": "waiting for an answer",
    "selected": "answered",
    "refused": "refused",
    "timed_out": "not answered in time: refused",
    "cancelled": "cancelled",
}


def _block_text(block: Any) -> str:
    """The readable text of one content block (text, image, resource...)."""
    if not isinstance(block, dict):
        return ""
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "resource_link":
        return f"[{block.get('name') or block.get('uri', 'resource')}]"
    if kind == "resource":
        resource = block.get("resource") or {}
        return str(resource.get("text") or f"[{resource.get('uri', 'resource')}]")
    if kind in ("image", "audio"):
        return f"[{kind}]"
    return ""


def _tool_output(content: Any) -> str | None:
    """A tool call's content list as text: text blocks as-is, diffs and terminals named."""
    if not isinstance(content, list):
        return None
    pieces: list[str] = []
    for item in content:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "content":
            pieces.append(_block_text(item.get("content")))
        elif item.get("type") == "diff":
            pieces.append(f"(edit of {item.get('path', '?')})\n{item.get('newText', '')}")
        elif item.get("type") == "terminal":
            pieces.append(f"(terminal {item.get('terminalId', '?')})")
    return "\n".join(p for p in pieces if p)


@dataclass
class _Part:
    """A part while its message is still growing (MessagePart is frozen)."""

    type: str
    text: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    def frozen(self) -> MessagePart:
        text = self.text if self.type in ("text", "thought") else None
        return MessagePart(type=self.type, text=text, **self.fields)

    def readable(self) -> str:
        f = self.fields
        if self.type == "text":
            return self.text
        if self.type == "tool_call":
            status = f.get("status") or "pending"
            return f"{_TOOL_MARK.get(status, '•')} {f.get('title') or 'tool call'} ({status})"
        if self.type == "plan":
            marks = {"completed": "[x]", "in_progress": "[>]"}
            lines = [f"  {marks.get(e.status, '[ ]')} {e.content}" for e in f.get("entries", [])]
            return "\n".join(["Plan:", *lines])
        if self.type == "permission":
            words = _PERMISSION_WORDS.get(f.get("status", ""), f.get("status", ""))
            choice = ""
            if f.get("selected"):
                names = {o.option_id: o.name for o in f.get("options") or []}
                choice = f": {names.get(f['selected'], f['selected'])}"
            return f"? Permission for {f.get('title') or 'a tool call'} ({words}{choice})"
        return ""  # thoughts stay out of the readable text


class _Reply:
    """The agent message of the turn in progress."""

    def __init__(self, message_id: int, started_ms: float) -> None:
        self.id = message_id
        self.started_ms = started_ms
        self.parts: list[_Part] = []
        self.tools: dict[str, _Part] = {}
        self.permissions: dict[int, _Part] = {}
        self.plan: _Part | None = None
        self.stop_reason: str | None = None
        self.note = ""

    def add_chunk(self, kind: str, text: str) -> None:
        if self.parts and self.parts[-1].type == kind:
            self.parts[-1].text += text
        else:
            self.parts.append(_Part(kind, text))

    def message(self) -> Message:
        # Text parts never sit side by side (chunks of one kind merge), so every part
        # starts on a line of its own.
        pieces = (p.readable().strip("\n") for p in self.parts)
        content = "\n".join(piece for piece in pieces if piece.strip())
        if self.note:
            content = f"{content}\n\n{self.note}" if content else self.note
        return Message(
            id=self.id,
            role=Role.AGENT,
            content=content.strip("\n"),
            time=wall_time(self.started_ms),
            parts=[p.frozen() for p in self.parts],
            stop_reason=self.stop_reason,
        )


class AcpConversation:
    def __init__(self, now_ms: float) -> None:
        self._messages: list[Message] = []
        self._status = AgentStatus.RUNNING
        self._open = False
        self._prompting = False
        self._reply: _Reply | None = None
        self._now = now_ms

    # -- reading ----------------------------------------------------------------------------

    @property
    def messages(self) -> Sequence[Message]:
        return self._messages

    @property
    def status(self) -> AgentStatus:
        return self._status

    @property
    def prompting(self) -> bool:
        return self._prompting

    def transcript(self) -> SavedTranscript:
        return SavedTranscript(tuple(self._messages))

    # -- the session's life -----------------------------------------------------------------

    def initial_events(self) -> list[Event]:
        return [StatusChanged(self._status)]

    def opened(self, introduction: str, now_ms: float) -> list[Event]:
        """The session exists: message 0 says who the agent is, and it takes prompts."""
        events: list[Event] = []
        if not self._messages:
            self._messages.append(
                Message(id=0, role=Role.AGENT, content=introduction, time=wall_time(now_ms))
            )
            events.append(MessageUpdated(self._messages[0]))
        self._open = True
        return self._update_status(events)

    def restore(self, saved: SavedTranscript) -> list[Event]:
        """Replace the transcript with a saved one (only between turns)."""
        if self._prompting or not saved.messages:
            return []
        self._messages = list(saved.messages)
        events: list[Event] = [TranscriptRestored()]
        events.extend(MessageUpdated(m) for m in self._messages)
        return events

    def begin_prompt(self, content: str, now_ms: float) -> list[Event]:
        if not self._open:
            raise AgentBusy("The agent's ACP session is not open yet.")
        if self._prompting:
            raise AgentBusy("The agent is still working on the previous message.")
        user = Message(
            id=len(self._messages), role=Role.USER, content=content, time=wall_time(now_ms)
        )
        self._messages.append(user)
        self._prompting = True
        self._reply = _Reply(user.id + 1, now_ms)
        return self._update_status([MessageUpdated(user)])

    def on_update(self, update: dict[str, Any], now_ms: float) -> list[Event]:
        """One ``session/update``; ignored when no prompt is in flight (e.g. a replay)."""
        reply = self._reply
        if reply is None:
            return []
        kind = update.get("sessionUpdate")
        if kind == "agent_message_chunk":
            reply.add_chunk("text", _block_text(update.get("content")))
        elif kind == "agent_thought_chunk":
            reply.add_chunk("thought", _block_text(update.get("content")))
        elif kind in ("tool_call", "tool_call_update"):
            self._tool_call(reply, update)
        elif kind == "plan":
            entries = [
                PlanEntryPart(
                    content=str(e.get("content", "")),
                    status=str(e.get("status", "pending")),
                    priority=e.get("priority"),
                )
                for e in update.get("entries") or []
                if isinstance(e, dict)
            ]
            if reply.plan is None:
                reply.plan = _Part("plan")
                reply.parts.append(reply.plan)
            reply.plan.fields["entries"] = entries
        else:
            return []  # commands, modes, usage...: nothing the transcript shows
        return self._publish_reply()

    def _tool_call(self, reply: _Reply, update: dict[str, Any]) -> None:
        tool_id = str(update.get("toolCallId", ""))
        part = reply.tools.get(tool_id)
        if part is None:
            part = _Part("tool_call", fields={"tool_call_id": tool_id})
            reply.tools[tool_id] = part
            reply.parts.append(part)
        for key in ("title", "kind", "status"):
            if update.get(key) is not None:
                part.fields[key] = str(update[key])
        output = _tool_output(update.get("content"))
        if output is None and update.get("rawOutput") is not None:
            raw = update["rawOutput"]
            if isinstance(raw, dict) and "output" in raw:
                raw = raw["output"]
            output = raw if isinstance(raw, str) else json.dumps(raw)
        if output:
            part.fields["output"] = output

    def permission_asked(
        self,
        permission_id: int,
        tool_call: dict[str, Any],
        options: list[PermissionOptionPart],
        now_ms: float,
    ) -> list[Event]:
        reply = self._reply
        if reply is None:
            return []
        part = _Part(
            "permission",
            fields={
                "permission_id": permission_id,
                "tool_call_id": str(tool_call.get("toolCallId", "")),
                "title": tool_call.get("title") or self._tool_title(reply, tool_call),
                "status": "pending",
                "options": options,
            },
        )
        reply.permissions[permission_id] = part
        reply.parts.append(part)
        return self._publish_reply()

    def permission_settled(
        self, permission_id: int, status: str, selected: str | None, now_ms: float
    ) -> list[Event]:
        reply = self._reply
        part = reply.permissions.get(permission_id) if reply else None
        if part is None:
            return []
        part.fields["status"] = status
        if selected is not None:
            part.fields["selected"] = selected
        return self._publish_reply()

    def pending_permission(self, permission_id: int) -> list[PermissionOptionPart] | None:
        """The options of a permission request still waiting for an answer."""
        part = self._reply.permissions.get(permission_id) if self._reply else None
        if part is None or part.fields.get("status") != "pending":
            return None
        return list(part.fields.get("options") or [])

    @staticmethod
    def _tool_title(reply: _Reply, tool_call: dict[str, Any]) -> str:
        known = reply.tools.get(str(tool_call.get("toolCallId", "")))
        return str(known.fields.get("title", "a tool call")) if known else "a tool call"

    def prompt_ended(self, stop_reason: str, now_ms: float, note: str = "") -> list[Event]:
        """The ``session/prompt`` request answered (or failed: stop reason 'error')."""
        reply = self._reply
        if reply is None:
            return []
        reply.stop_reason = stop_reason
        if note:
            reply.note = note
        elif stop_reason == "cancelled":
            reply.note = "(cancelled)"
        events = self._publish_reply()
        self._reply = None
        self._prompting = False
        return self._update_status(events)

    def closed(self) -> list[Event]:
        """The agent is gone: nothing is running any more."""
        self._open = False
        return []

    # -- helpers ----------------------------------------------------------------------------

    def _publish_reply(self) -> list[Event]:
        assert self._reply is not None
        message = self._reply.message()
        if message.id < len(self._messages):
            self._messages[message.id] = message
        else:
            self._messages.append(message)
        return [MessageUpdated(message)]

    def _update_status(self, events: list[Event]) -> list[Event]:
        status = AgentStatus.STABLE if self._open and not self._prompting else AgentStatus.RUNNING
        if status is not self._status:
            self._status = status
            events.append(StatusChanged(status))
        return events
