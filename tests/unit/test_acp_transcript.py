"""The ACP conversation core: protocol updates (as wire JSON) to messages and status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentapi.acp.mcp import load_mcp_file
from agentapi.acp.transcript import AcpConversation
from agentapi.cli.config import parse_server_args
from agentapi.conversation import MessageUpdated, SavedTranscript, StatusChanged
from agentapi.errors import AgentBusy, UsageError
from agentapi.messages import AgentStatus, PermissionOptionPart


def chunk(text: str, kind: str = "agent_message_chunk") -> dict:
    return {"sessionUpdate": kind, "content": {"type": "text", "text": text}}


def opened() -> AcpConversation:
    conv = AcpConversation(0)
    conv.opened("Agent 1.0", 1)
    return conv


def test_running_until_the_session_is_open_then_stable():
    conv = AcpConversation(0)
    assert conv.status is AgentStatus.RUNNING
    with pytest.raises(AgentBusy):
        conv.begin_prompt("too early", 1)
    events = conv.opened("Agent 1.0", 2)
    assert conv.status is AgentStatus.STABLE
    assert isinstance(events[0], MessageUpdated)
    assert events[0].message.content == "Agent 1.0"
    assert events[-1] == StatusChanged(AgentStatus.STABLE)


def test_a_streamed_reply_grows_in_one_message():
    conv = opened()
    events = conv.begin_prompt("hi", 10)
    assert StatusChanged(AgentStatus.RUNNING) in events
    with pytest.raises(AgentBusy):
        conv.begin_prompt("again", 11)
    first = conv.on_update(chunk("Hel"), 12)
    second = conv.on_update(chunk("lo"), 13)
    assert isinstance(first[0], MessageUpdated) and isinstance(second[0], MessageUpdated)
    assert first[0].message.id == second[0].message.id == 2
    assert second[0].message.content == "Hello"
    assert second[0].message.stop_reason is None
    events = conv.prompt_ended("end_turn", 14)
    assert events[-1] == StatusChanged(AgentStatus.STABLE)
    reply = conv.messages[-1]
    assert (reply.content, reply.stop_reason) == ("Hello", "end_turn")
    assert [m.role.value for m in conv.messages] == ["agent", "user", "agent"]


def test_tool_call_updates_merge_into_one_part():
    conv = opened()
    conv.begin_prompt("go", 10)
    conv.on_update(chunk("Looking."), 11)
    conv.on_update(
        {"sessionUpdate": "tool_call", "toolCallId": "a", "title": "Read x", "kind": "read"}, 12
    )
    conv.on_update({"sessionUpdate": "tool_call_update", "toolCallId": "a", "status": "failed"}, 13)
    conv.on_update(
        {
            "sessionUpdate": "tool_call_update",
            "toolCallId": "a",
            "content": [{"type": "content", "content": {"type": "text", "text": "no such file"}}],
        },
        14,
    )
    conv.on_update(chunk("It failed."), 15)
    reply = conv.messages[-1]
    assert [p.type for p in reply.parts or []] == ["text", "tool_call", "text"]
    tool = (reply.parts or [])[1]
    assert (tool.title, tool.kind, tool.status, tool.output) == (
        "Read x",
        "read",
        "failed",
        "no such file",
    )
    assert reply.content == "Looking.\n✘ Read x (failed)\nIt failed."


def test_thoughts_are_parts_but_not_content_and_plans_are_replaced():
    conv = opened()
    conv.begin_prompt("go", 10)
    conv.on_update(chunk("hmm", "agent_thought_chunk"), 11)
    plan = {"sessionUpdate": "plan", "entries": [{"content": "a", "status": "pending"}]}
    conv.on_update(plan, 12)
    plan["entries"] = [
        {"content": "a", "status": "completed"},
        {"content": "b", "status": "pending"},
    ]
    conv.on_update(plan, 13)
    reply = conv.messages[-1]
    assert [p.type for p in reply.parts or []] == ["thought", "plan"]
    assert reply.content == "Plan:\n  [x] a\n  [ ] b"


def test_updates_outside_a_turn_and_unknown_kinds_are_ignored():
    conv = opened()
    assert conv.on_update(chunk("replayed history"), 5) == []
    conv.begin_prompt("go", 10)
    assert conv.on_update({"sessionUpdate": "available_commands_update"}, 11) == []
    assert len(conv.messages) == 2


def test_permission_parts_and_their_outcome():
    conv = opened()
    conv.begin_prompt("go", 10)
    options = [
        PermissionOptionPart(option_id="y", name="Allow", kind="allow_once"),
        PermissionOptionPart(option_id="n", name="Reject", kind="reject_once"),
    ]
    conv.permission_asked(1, {"toolCallId": "t", "title": "rm a"}, options, 11)
    assert conv.pending_permission(1) == options
    assert "waiting for an answer" in conv.messages[-1].content
    conv.permission_settled(1, "timed_out", "n", 12)
    assert conv.pending_permission(1) is None
    part = (conv.messages[-1].parts or [])[0]
    assert (part.status, part.selected, part.permission_id) == ("timed_out", "n", 1)
    assert (
        conv.messages[-1].content == "? Permission for rm a (not answered in time: refused: Reject)"
    )


def test_cancelled_and_failed_turns_say_so():
    conv = opened()
    conv.begin_prompt("go", 10)
    conv.prompt_ended("cancelled", 11)
    assert conv.messages[-1].content == "(cancelled)"
    conv.begin_prompt("go", 12)
    conv.on_update(chunk("half"), 13)
    conv.prompt_ended("error", 14, "(the agent exited before finishing this reply)")
    assert conv.messages[-1].content == "half\n\n(the agent exited before finishing this reply)"
    assert conv.status is AgentStatus.STABLE


def test_restore_replaces_the_transcript_and_keeps_it_on_open():
    old = opened()
    old.begin_prompt("remember me", 10)
    old.on_update(chunk("ok"), 11)
    old.prompt_ended("end_turn", 12)
    saved = SavedTranscript(tuple(old.messages))
    conv = AcpConversation(0)
    conv.restore(saved)
    conv.opened("Agent 1.0", 20)
    assert [m.content for m in conv.messages] == ["Agent 1.0", "remember me", "ok"]
    conv.begin_prompt("next", 21)
    assert conv.messages[-1].id == 3


# -- flags and the MCP file -------------------------------------------------------------------


def test_acp_flags_and_variables():
    opts = parse_server_args(
        ["--experimental-acp", "--acp-permissions", "ask", "--", "gemini", "--experimental-acp"],
        {"AGENTAPI_ACP_PERMISSION_TIMEOUT": "2.5"},
    )
    assert opts.experimental_acp
    assert opts.agent == ["gemini", "--experimental-acp"]
    assert (opts.acp_permissions, opts.acp_permission_timeout) == ("ask", 2.5)
    env = parse_server_args(["--", "opencode", "acp"], {"AGENTAPI_EXPERIMENTAL_ACP": "true"})
    assert env.experimental_acp and env.acp_permissions == "allow"
    with pytest.raises(UsageError, match="expected allow, deny or ask"):
        parse_server_args(["--acp-permissions", "maybe", "--", "x"], {})
    with pytest.raises(UsageError, match="number of seconds"):
        parse_server_args(["--acp-start-timeout", "0", "--", "x"], {})


def test_mcp_file(tmp_path: Path):
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "files": {"command": "mcp-files", "args": ["--root", "."], "env": {"A": "1"}},
                    "web": {"type": "sse", "url": "http://127.0.0.1:9/sse"},
                    "gem": {"httpUrl": "http://127.0.0.1:9/mcp", "headers": {"X": "y"}},
                }
            }
        )
    )
    assert load_mcp_file(path) == [
        {
            "name": "files",
            "command": "mcp-files",
            "args": ["--root", "."],
            "env": [{"name": "A", "value": "1"}],
        },
        {"type": "sse", "name": "web", "url": "http://127.0.0.1:9/sse", "headers": []},
        {
            "type": "http",
            "name": "gem",
            "url": "http://127.0.0.1:9/mcp",
            "headers": [{"name": "X", "value": "y"}],
        },
    ]
    path.write_text('{"mcpServers": {"bad": {"args": []}}}')
    with pytest.raises(UsageError, match=r"mcpServers\.bad needs a command"):
        load_mcp_file(path)
    path.write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        load_mcp_file(path)


def test_state_file_keeps_parts_and_the_acp_session(tmp_path: Path):
    from agentapi.session.statefile import decode_state, encode_state

    conv = opened()
    conv.begin_prompt("go", 10)
    conv.on_update({"sessionUpdate": "tool_call", "toolCallId": "a", "title": "Run"}, 11)
    conv.prompt_ended("end_turn", 12)
    saved = SavedTranscript(tuple(conv.messages), "", False, "sess-7")
    document = json.loads(encode_state(saved))
    assert document["acp_session_id"] == "sess-7"
    assert document["messages"][2]["parts"] == [
        {"type": "tool_call", "tool_call_id": "a", "title": "Run"}
    ]
    back = decode_state(document)
    assert back == saved
    # Malformed structure is dropped, never fatal; old files have none.
    document["messages"][2]["parts"] = [{"no": "type"}]
    assert decode_state(document).messages[2].parts is None
    del document["acp_session_id"]
    assert decode_state(document).acp_session_id == ""
