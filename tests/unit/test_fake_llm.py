"""The fake LLM server speaks each provider's wire format (over 127.0.0.1)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.fake_llm import FakeLLM, Reply, ToolCall, load_script

REPO_ROOT = Path(__file__).resolve().parents[2]


def sse_events(body: str) -> list[tuple[str | None, Any]]:
    """(event name, decoded data) for every event of a text/event-stream body."""
    events: list[tuple[str | None, Any]] = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name: str | None = None
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            joined = "\n".join(data)
            events.append((name, joined if joined == "[DONE]" else json.loads(joined)))
    return events


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM() as server:
        yield server


@pytest.fixture
async def client(llm: FakeLLM) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=llm.url, timeout=10) as http:
        yield http


def anthropic_body(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "You are a coding agent."}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "<system-reminder>context</system-reminder>"},
                    {"type": "text", "text": text},
                ],
            }
        ],
        **extra,
    }


def chat_body(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "fake-model",
        "messages": [
            {"role": "system", "content": "You are a coding agent."},
            {"role": "user", "content": text},
        ],
        **extra,
    }


def responses_body(prompt: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "fake-model",
        "instructions": "You are a coding agent.",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]}
        ],
        **extra,
    }


def gemini_body(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "systemInstruction": {"parts": [{"text": "You are a coding agent."}]},
        **extra,
    }


# -- Anthropic ----------------------------------------------------------------------------


async def test_root_answers_head_and_get(client: httpx.AsyncClient) -> None:
    assert (await client.head("/")).status_code == 200
    assert (await client.get("/")).status_code == 200


async def test_anthropic_stream_event_order_and_text(
    llm: FakeLLM, client: httpx.AsyncClient
) -> None:
    llm.push(Reply("Hello there, this is a longer reply.", chunk_size=5))
    resp = await client.post("/v1/messages?beta=true", json=anthropic_body("hi", stream=True))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = sse_events(resp.text)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in events)
    deltas = [d["delta"]["text"] for n, d in events if n == "content_block_delta"]
    assert len(deltas) > 1
    assert "".join(deltas) == "Hello there, this is a longer reply."
    assert events[0][1]["message"]["model"] == "claude-sonnet-4-5"
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"


async def test_anthropic_non_streamed(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push("Plain answer")
    resp = await client.post("/v1/messages", json=anthropic_body("hi"))
    data = resp.json()
    assert data["type"] == "message"
    assert data["content"] == [{"type": "text", "text": "Plain answer"}]
    assert data["stop_reason"] == "end_turn"


async def test_anthropic_count_tokens(client: httpx.AsyncClient) -> None:
    resp = await client.post("/v1/messages/count_tokens", json=anthropic_body("hi"))
    assert resp.status_code == 200
    assert resp.json()["input_tokens"] > 0


async def test_anthropic_side_calls_keep_the_scripted_reply(
    llm: FakeLLM, client: httpx.AsyncClient
) -> None:
    llm.push("The real answer")
    probe = await client.post("/v1/messages", json=anthropic_body("quota", max_tokens=1))
    assert probe.status_code == 200
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
    }
    title = await client.post(
        "/v1/messages",
        json=anthropic_body(
            "hi", output_format={"type": "json_schema", "schema": schema}, model="claude-haiku"
        ),
    )
    assert json.loads(title.json()["content"][0]["text"]) == {"title": "Chat"}
    main = await client.post("/v1/messages", json=anthropic_body("hi"))
    assert main.json()["content"][0]["text"] == "The real answer"
    assert [r.main for r in llm.requests] == [False, False, True]


@pytest.mark.parametrize(
    "system",
    [
        "Analyze if this message indicates a new conversation topic. If it does, ...",
        "You are an expert at analyzing git history. Given a list of files ...",
    ],
)
async def test_claude_code_1_0_side_calls_keep_the_scripted_reply(
    llm: FakeLLM, client: httpx.AsyncClient, system: str
) -> None:
    llm.push("The real answer")
    side = anthropic_body("What is six times seven?", model="claude-haiku-4-5")
    side["system"] = [{"type": "text", "text": system}]
    await client.post("/v1/messages", json=side)
    main = await client.post("/v1/messages", json=anthropic_body("What is six times seven?"))
    assert main.json()["content"][0]["text"] == "The real answer"
    assert [r.main for r in llm.requests] == [False, True]


async def test_anthropic_error_reply(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push(Reply(error_status=400, error_message="bad things"))
    resp = await client.post("/v1/messages", json=anthropic_body("hi", stream=True))
    assert resp.status_code == 400
    assert resp.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "bad things"},
    }
    llm.push(Reply(error_status=529))
    resp = await client.post("/v1/messages", json=anthropic_body("hi"))
    assert resp.json()["error"]["type"] == "overloaded_error"


async def test_anthropic_tool_call_uses_the_agents_full_tool_name(
    llm: FakeLLM, client: httpx.AsyncClient
) -> None:
    llm.push(
        Reply(
            "Reporting.",
            tool_calls=[ToolCall("coder_report_task", {"summary": "done", "state": "complete"})],
        )
    )
    tools = [{"name": "Bash"}, {"name": "mcp__coder__coder_report_task"}]
    resp = await client.post("/v1/messages", json=anthropic_body("go", stream=True, tools=tools))
    events = sse_events(resp.text)
    starts = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert starts[1]["type"] == "tool_use"
    assert starts[1]["name"] == "mcp__coder__coder_report_task"
    partial = [
        d["delta"]["partial_json"]
        for n, d in events
        if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta"
    ]
    assert json.loads("".join(partial)) == {"summary": "done", "state": "complete"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


# -- OpenAI Chat Completions --------------------------------------------------------------


async def test_chat_stream_with_usage(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push(Reply("Streamed chat reply", chunk_size=4))
    body = chat_body("hi", stream=True, stream_options={"include_usage": True})
    resp = await client.post("/v1/chat/completions", json=body)
    events = [data for _, data in sse_events(resp.text)]
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Streamed chat reply"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] > 0


async def test_chat_non_streamed_and_models(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push("Whole reply")
    resp = await client.post("/v1/chat/completions", json=chat_body("hi"))
    choice = resp.json()["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "Whole reply"}
    assert choice["finish_reason"] == "stop"
    models = (await client.get("/v1/models")).json()
    assert models["data"][0]["id"] == "fake-model"


async def test_chat_title_call_is_a_side_call(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push("Main reply")
    title = chat_body("hi", stream=True)
    title["messages"][0]["content"] = "You are a title generator. You output ONLY a thread title."
    resp = await client.post("/v1/chat/completions", json=title)
    chunks = [d for _, d in sse_events(resp.text) if d != "[DONE]"]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Chat"
    resp = await client.post("/v1/chat/completions", json=chat_body("hi"))
    assert resp.json()["choices"][0]["message"]["content"] == "Main reply"
    assert llm.prompt_count("hi") == 1


async def test_chat_error_and_tool_call(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push(Reply(error_status=500, error_message="boom"))
    resp = await client.post("/v1/chat/completions", json=chat_body("hi"))
    assert resp.status_code == 500
    assert resp.json()["error"]["message"] == "boom"
    llm.push(Reply(tool_calls=[ToolCall("read", {"path": "a"})]))
    tools = [{"type": "function", "function": {"name": "read"}}]
    resp = await client.post("/v1/chat/completions", json=chat_body("hi", tools=tools))
    choice = resp.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]["function"]
    assert call["name"] == "read"
    assert json.loads(call["arguments"]) == {"path": "a"}


# -- OpenAI Responses ---------------------------------------------------------------------


async def test_responses_stream_events(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push(Reply("Codex style reply", chunk_size=6))
    resp = await client.post("/v1/responses", json=responses_body("hi", stream=True))
    events = sse_events(resp.text)
    names = [n for n, _ in events]
    assert names[0] == "response.created"
    assert names[-1] == "response.completed"
    for expected in (
        "response.output_item.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.output_item.done",
    ):
        assert expected in names
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    text = "".join(d["delta"] for n, d in events if n == "response.output_text.delta")
    assert text == "Codex style reply"
    done = events[-1][1]["response"]
    assert done["status"] == "completed"
    assert done["output"][0]["content"][0]["text"] == "Codex style reply"
    assert done["usage"]["total_tokens"] > 0


async def test_responses_title_side_call(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push("Main")
    # What Codex sends for a thread title.
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 36}},
        "required": ["title"],
        "additionalProperties": False,
    }
    fmt = {"format": {"type": "json_schema", "name": "codex_output_schema", "schema": schema}}
    title = responses_body("Generate a title.\n\nUser prompt:\nhi", stream=True, text=fmt)
    resp = await client.post("/v1/responses", json=title)
    done = sse_events(resp.text)[-1][1]["response"]
    assert json.loads(done["output"][0]["content"][0]["text"]) == {"title": "Chat"}
    resp = await client.post("/v1/responses", json=responses_body("hi"))
    assert resp.json()["output"][0]["content"][0]["text"] == "Main"
    assert [r.main for r in llm.requests] == [False, True]


async def test_responses_function_call(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push(Reply(tool_calls=[ToolCall("coder_report_task", {"summary": "s"})]))
    tools = [{"type": "function", "name": "mcp__coder__coder_report_task"}]
    resp = await client.post("/v1/responses", json=responses_body("go", stream=True, tools=tools))
    events = sse_events(resp.text)
    items = [d["item"] for n, d in events if n == "response.output_item.done"]
    assert items[0]["type"] == "function_call"
    assert items[0]["name"] == "mcp__coder__coder_report_task"
    assert json.loads(items[0]["arguments"]) == {"summary": "s"}


async def test_responses_function_call_in_a_namespace(
    llm: FakeLLM, client: httpx.AsyncClient
) -> None:
    # Codex groups each MCP server's tools in a namespace.
    llm.push(Reply(tool_calls=[ToolCall("coder_report_task", {"state": "working"})]), "Done")
    tools = [
        {"type": "function", "name": "exec_command"},
        {
            "type": "namespace",
            "name": "mcp__coder",
            "tools": [{"type": "function", "name": "coder_report_task"}],
        },
    ]
    body = responses_body("go", stream=True, tools=tools)
    events = sse_events((await client.post("/v1/responses", json=body)).text)
    item = next(d["item"] for n, d in events if n == "response.output_item.done")
    assert (item["namespace"], item["name"]) == ("mcp__coder", "coder_report_task")
    # The agent hands the tool's result back: same turn, the prompt is not counted again.
    body["input"] += [
        item,
        {"type": "function_call_output", "call_id": item["call_id"], "output": "ok"},
    ]
    events = sse_events((await client.post("/v1/responses", json=body)).text)
    assert "".join(d["delta"] for n, d in events if n == "response.output_text.delta") == "Done"
    assert len(llm.main_requests()) == 2
    assert llm.prompt_count("go") == 1


# -- Gemini -------------------------------------------------------------------------------


async def test_gemini_stream_and_side_call(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push(Reply("Gemini answer here", chunk_size=7))
    schema = {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "next_speaker": {"type": "string", "enum": ["model", "user"]},
        },
    }
    side = gemini_body("check", generationConfig={"responseJsonSchema": schema})
    resp = await client.post("/v1beta/models/gemini-2.5-flash:generateContent", json=side)
    answer = json.loads(resp.json()["candidates"][0]["content"]["parts"][0]["text"])
    assert answer["next_speaker"] == "user"
    resp = await client.post(
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", json=gemini_body("hi")
    )
    chunks = [d for _, d in sse_events(resp.text)]
    text = "".join(p["text"] for c in chunks for p in c["candidates"][0]["content"]["parts"])
    assert text == "Gemini answer here"
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert "usageMetadata" in chunks[-1]
    main = llm.main_requests()
    assert len(main) == 1
    assert main[0].model == "gemini-2.5-flash"
    assert main[0].user_text == "hi"


async def test_gemini_error(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push(Reply(error_status=429, error_message="slow down"))
    resp = await client.post(
        "/v1beta/models/m:streamGenerateContent?alt=sse", json=gemini_body("hi")
    )
    assert resp.status_code == 429
    assert resp.json() == {
        "error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}
    }


# -- scripting, recording, control --------------------------------------------------------


async def test_out_of_replies_gives_the_default(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    resp = await client.post("/v1/chat/completions", json=chat_body("hi"))
    assert resp.json()["choices"][0]["message"]["content"] == llm.default_reply


async def test_delay_before_the_reply(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    llm.push(Reply("late", delay_s=0.3))
    started = time.monotonic()
    await client.post("/v1/messages", json=anthropic_body("hi"))
    assert time.monotonic() - started >= 0.3


async def test_control_endpoints(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/_fake/replies", json={"replies": ["one", {"text": "two", "chunk_delay_s": 0}]}
    )
    assert resp.json() == {"queued": 2}
    await client.post("/v1/chat/completions", json=chat_body("first prompt"))
    second = await client.post("/v1/chat/completions", json=chat_body("second prompt"))
    assert second.json()["choices"][0]["message"]["content"] == "two"
    listed = (await client.get("/_fake/requests")).json()["requests"]
    assert [r["user_text"] for r in listed] == ["first prompt", "second prompt"]
    assert all(r["main"] and r["path"] == "/v1/chat/completions" for r in listed)
    assert "body" not in listed[0]
    full = (await client.get("/_fake/requests", params={"body": "1"})).json()["requests"]
    assert full[0]["body"]["model"] == "fake-model"
    bad = await client.post("/_fake/replies", json={"txt": "typo"})
    assert bad.status_code == 400
    await client.post("/_fake/reset")
    assert (await client.get("/_fake/requests")).json()["requests"] == []


async def test_system_reminders_are_not_user_text(llm: FakeLLM, client: httpx.AsyncClient) -> None:
    await client.post("/v1/messages", json=anthropic_body("the prompt"))
    assert llm.requests[0].user_text == "the prompt"
    assert llm.prompt_count("the prompt") == 1
    assert llm.prompt_count("context") == 0


async def test_copilot_datetime_block_is_not_user_text(
    llm: FakeLLM, client: httpx.AsyncClient
) -> None:
    # Copilot CLI 1.0.102 sends the user's message after this block (seen in its requests).
    text = "<current_datetime>2026-12-03T06:27:51.063+00:00</current_datetime>\n\nthe prompt"
    await client.post("/v1/chat/completions", json=chat_body(text))
    assert llm.requests[0].user_text == "the prompt"
    assert llm.prompt_count("2026-12-03") == 0


def test_threaded_server_with_a_sync_client() -> None:
    with FakeLLM(["from a thread"]) as llm:
        assert llm.port > 0
        resp = httpx.post(f"{llm.url}/v1/chat/completions", json=chat_body("hi"), timeout=10)
        assert resp.json()["choices"][0]["message"]["content"] == "from a thread"
        assert len(llm.wait_for_main_requests(1, timeout=1)) == 1
        with pytest.raises(TimeoutError):
            llm.wait_for_main_requests(2, timeout=0.05)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{llm.url}/", timeout=1)


def test_script_mode(tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps({"replies": [{"text": "scripted", "delay_s": 0}]}))
    assert load_script(script)[0].text == "scripted"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.fake_llm", "--port", "0", "--script", str(script)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        resp = httpx.post(f"{url}/v1/chat/completions", json=chat_body("hi"), timeout=10)
        assert resp.json()["choices"][0]["message"]["content"] == "scripted"
        requests = httpx.get(f"{url}/_fake/requests", timeout=10).json()["requests"]
        assert len(requests) == 1
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


# -- the fake coder MCP server ------------------------------------------------------------


def test_fake_mcp_server_lists_and_records_report_task(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "x"}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "coder_report_task", "arguments": {"summary": "s", "state": "x"}},
        },
        {"jsonrpc": "2.0", "id": 4, "method": "nope"},
    ]
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tests" / "fakes" / "fake_mcp.py"), "--log", str(log)],
        input="".join(json.dumps(m) + "\n" for m in messages),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [a["id"] for a in answers] == [1, 2, 3, 4]
    assert answers[0]["result"]["protocolVersion"] == "x"
    assert [t["name"] for t in answers[1]["result"]["tools"]] == ["coder_report_task"]
    assert answers[2]["result"]["isError"] is False
    assert answers[3]["error"]["code"] == -32601
    assert json.loads(log.read_text()) == {
        "tool": "coder_report_task",
        "arguments": {"summary": "s", "state": "x"},
    }
