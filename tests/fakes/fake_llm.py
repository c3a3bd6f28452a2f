"""A fake LLM server on 127.0.0.1 that speaks the wire formats real agent CLIs use.

Formats: Anthropic Messages, OpenAI Chat Completions, OpenAI Responses and Gemini
``generateContent``, streamed (SSE) and not. Replies come from a queue that a test fills
in advance or at run time. Agents also make side calls (conversation titles, JSON-schema
answers, 1-token probes, next-speaker checks); those get a short harmless answer and never
take a scripted reply, so a test can script exactly one reply per user turn.

Every request is recorded (provider, path, model, whether it was a main turn, the last user
text) so a test can check, for example, that a prompt reached the model exactly once.

In-process use::

    with FakeLLM([Reply("Hello!")]) as llm:      # runs on its own thread
        ...  # point the agent at llm.url
        assert llm.prompt_count("hi") == 1

    async with FakeLLM() as llm:                 # runs on the current event loop
        llm.push(Reply("Hi", delay_s=2))

As a script::

    python -m tests.fakes.fake_llm --port 0 --script replies.json

prints ``listening on http://127.0.0.1:PORT`` and serves until SIGINT/SIGTERM. The control
endpoints ``POST /_fake/replies``, ``GET /_fake/requests`` and ``POST /_fake/reset`` give the
same powers over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

ANTHROPIC = "anthropic"
CHAT = "openai-chat"
RESPONSES = "openai-responses"
GEMINI = "gemini"

DEFAULT_REPLY = "OK."
SIDE_TEXT = "Chat"

# Side calls are told apart from main turns by what they ask for. These prompts are the
# ones agents use for titles, summaries and similar chores (seen in logged requests).
_SIDE_PROMPT = re.compile(
    r"title generator|generate a (?:concise |short )?(?:\S+ )?title|"
    r"\btitle for (?:this|the) (?:conversation|session|thread)|"
    r"summari[sz]e (?:this|the) (?:partial )?conversation|commit message|"
    # Claude Code 1.0: the new-topic check and the git history file picker.
    r"indicates a new conversation topic|expert at analyzing git history",
    re.IGNORECASE,
)
# Context agents wrap around the user's words (Copilot 1.0 opens every user message with
# "<current_datetime>…</current_datetime>"): not part of what the user typed.
_CONTEXT_BLOCK = re.compile(
    r"<(system-reminder|session_context|environment_context|current_datetime)>.*?</\1>",
    re.DOTALL,
)

_ids = itertools.count(1)


def _new_id(prefix: str) -> str:
    return f"{prefix}_fake{next(_ids):06d}"


# -- scripted replies ---------------------------------------------------------------------


@dataclass
class ToolCall:
    """A tool the model asks the agent to run.

    ``name`` may be the tail of the agent's tool name: ``coder_report_task`` matches an
    agent tool called ``mcp__coder__coder_report_task``.
    """

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    # Set by the server for tools the agent groups in a namespace (OpenAI Responses).
    namespace: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolCall:
        return cls(
            name=str(data["name"]),
            arguments=dict(data.get("arguments") or {}),
            namespace=data.get("namespace"),
        )


@dataclass
class Reply:
    """One scripted answer to a main turn.

    ``delay_s`` is waited before anything is sent, so the agent is visibly working;
    ``chunk_delay_s`` is waited between streamed chunks of ``chunk_size`` characters.
    With ``error_status`` the provider's error body is returned with that HTTP status
    instead of an answer.
    """

    text: str = ""
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    chunk_size: int = 24
    error_status: int | None = None
    error_message: str = "The fake LLM server was told to fail this request."
    tool_calls: list[ToolCall] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> Reply:
        if isinstance(data, str):
            return cls(text=data)
        known = {f for f in cls.__dataclass_fields__ if f != "tool_calls"}
        unknown = set(data) - known - {"tool_calls"}
        if unknown:
            raise ValueError(f"unknown reply fields: {', '.join(sorted(unknown))}")
        reply = cls(**{k: v for k, v in data.items() if k in known})
        reply.tool_calls = [ToolCall.from_dict(t) for t in data.get("tool_calls") or []]
        return reply


def load_script(path: str | Path) -> list[Reply]:
    """Replies from a JSON file: a list of replies (objects or plain strings), or
    ``{"replies": [...]}``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("replies", [])
    return [Reply.from_dict(item) for item in data]


@dataclass
class RecordedRequest:
    provider: str
    method: str
    path: str
    model: str
    stream: bool
    main: bool
    user_text: str
    time: float
    body: Any = None

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("body")
        return data


# -- reading requests ---------------------------------------------------------------------


def _block_text(content: Any) -> str:
    """Text of a message content: a string, or a list of typed parts of any provider."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif (
            isinstance(part, dict)
            and isinstance(part.get("text"), str)
            and part.get("type", "text") in ("text", "input_text")
        ):
            texts.append(part["text"])
    return "\n".join(texts)


def _last_user_text(messages: Any) -> str:
    """The text the user typed for this turn.

    Empty when the conversation ends with something else (a tool result being handed
    back), so a prompt counts once however many model calls its turn takes.
    """
    if not isinstance(messages, list):
        return _block_text(messages)
    if not messages or not isinstance(messages[-1], dict):
        return ""
    message = messages[-1]
    if message.get("role") != "user":
        return ""
    content = message.get("content", message.get("parts"))
    return _CONTEXT_BLOCK.sub("", _block_text(content)).strip()


def _system_text(body: Mapping[str, Any], provider: str) -> str:
    if provider == ANTHROPIC:
        return _block_text(body.get("system"))
    if provider == CHAT:
        return "\n".join(
            _block_text(m.get("content"))
            for m in body.get("messages") or []
            if isinstance(m, dict) and m.get("role") in ("system", "developer")
        )
    if provider == RESPONSES:
        parts = [str(body.get("instructions") or "")]
        items = body.get("input")
        if isinstance(items, list):
            parts += [
                _block_text(m.get("content"))
                for m in items
                if isinstance(m, dict) and m.get("role") in ("system", "developer")
            ]
        return "\n".join(parts)
    system = body.get("systemInstruction") or body.get("system_instruction") or {}
    return _block_text(system.get("parts") if isinstance(system, dict) else system)


def _token_limit(body: Mapping[str, Any], provider: str) -> int | None:
    if provider == GEMINI:
        value = (body.get("generationConfig") or {}).get("maxOutputTokens")
    else:
        value = next(
            (
                body[k]
                for k in ("max_tokens", "max_completion_tokens", "max_output_tokens")
                if body.get(k) is not None
            ),
            None,
        )
    return int(value) if isinstance(value, int | float) else None


def _json_schema(body: Mapping[str, Any], provider: str) -> dict[str, Any] | None:
    """The JSON schema the request asks the answer to follow, if any ({} = any JSON)."""
    if provider == ANTHROPIC:
        fmt = body.get("output_format") or (body.get("output_config") or {}).get("format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            return dict(fmt.get("schema") or {})
        return None
    if provider == CHAT:
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            return dict((fmt.get("json_schema") or {}).get("schema") or {})
        if isinstance(fmt, dict) and fmt.get("type") == "json_object":
            return {}
        return None
    if provider == RESPONSES:
        fmt = (body.get("text") or {}).get("format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            return dict(fmt.get("schema") or {})
        return None
    config = body.get("generationConfig") or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if schema is not None:
        return dict(schema)
    if config.get("responseMimeType") == "application/json":
        return {}
    return None


def _is_side_call(body: Mapping[str, Any], provider: str, path: str) -> bool:
    if provider == GEMINI and ":generateContent" in path:
        # Gemini CLI streams every main turn; plain generateContent is for its checks.
        return True
    limit = _token_limit(body, provider)
    if limit is not None and limit <= 1:
        return True
    if _json_schema(body, provider) is not None:
        return True
    return bool(_SIDE_PROMPT.search(_system_text(body, provider)[:2000]))


def _schema_instance(schema: Any, depth: int = 0) -> Any:
    """A small value that satisfies a JSON schema (enough for titles and checks)."""
    if not isinstance(schema, dict) or depth > 8:
        return SIDE_TEXT
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        # Gemini CLI's next-speaker check: "user" hands the turn back instead of looping.
        return "user" if "user" in schema["enum"] else schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _schema_instance(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    kind = str(kind).lower() if kind else ("object" if "properties" in schema else "string")
    if kind == "object":
        props = schema.get("properties") or {}
        return {name: _schema_instance(sub, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = int(schema.get("minItems") or 0)
        return [_schema_instance(schema.get("items"), depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return SIDE_TEXT


def _side_text(body: Mapping[str, Any], provider: str) -> str:
    schema = _json_schema(body, provider)
    if schema is None:
        return SIDE_TEXT
    if not schema:
        return json.dumps({"title": SIDE_TEXT})
    return json.dumps(_schema_instance(schema))


def _chunks(text: str, size: int) -> list[str]:
    if not text:
        return []
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _resolve_tool(call: ToolCall, body: Mapping[str, Any], provider: str) -> ToolCall:
    """The call under the agent's own name for the tool, given by its tail.

    MCP tools get prefixes (``mcp__coder__coder_report_task``); Codex also groups them in
    Responses API namespaces (``mcp__coder`` holding ``coder_report_task``).
    """
    candidates: list[tuple[str, str | None]] = []
    for tool in body.get("tools") or []:
        if not isinstance(tool, dict):
            continue
        if provider == GEMINI:
            declarations = tool.get("functionDeclarations") or []
            candidates += [(d.get("name", ""), None) for d in declarations]
        elif tool.get("type") == "namespace":
            space = str(tool.get("name", ""))
            candidates += [(t.get("name", ""), space) for t in tool.get("tools") or []]
        elif isinstance(tool.get("function"), dict):
            candidates.append((tool["function"].get("name", ""), None))
        else:
            candidates.append((tool.get("name", ""), None))
    for name, space in candidates:
        full = f"{space}__{name}" if space else name
        if call.name in (name, full):
            return ToolCall(name, call.arguments, space)
    for name, space in candidates:
        full = f"{space}__{name}" if space else name
        head = full[: -len(call.name)]
        if full.endswith(call.name) and head and head[-1] in "_.:/-":
            return ToolCall(name, call.arguments, space)
    return call


def _estimate_tokens(body: Any) -> int:
    return max(1, len(json.dumps(body)) // 4)


# -- error bodies -------------------------------------------------------------------------

_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}


def error_body(provider: str, status: int, message: str) -> dict[str, Any]:
    """The error document each provider returns with a failing status."""
    if provider == ANTHROPIC:
        kind = _ANTHROPIC_ERRORS.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    if provider == GEMINI:
        return {
            "error": {
                "code": status,
                "message": message,
                "status": _GEMINI_STATUS.get(status, "INTERNAL"),
            }
        }
    kind = {
        400: "invalid_request_error",
        401: "invalid_request_error",
        429: "rate_limit_exceeded",
    }.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


# -- SSE helpers --------------------------------------------------------------------------


class _Sse:
    """A streamed ``text/event-stream`` response."""

    def __init__(self, response: web.StreamResponse, chunk_delay_s: float) -> None:
        self.response = response
        self.delay = chunk_delay_s

    @classmethod
    async def open(cls, request: web.Request, chunk_delay_s: float = 0.0) -> _Sse:
        response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "request-id": _new_id("req"),
            },
        )
        await response.prepare(request)
        return cls(response, chunk_delay_s)

    async def send(self, data: Any, event: str | None = None) -> None:
        payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        head = f"event: {event}\n" if event else ""
        await self.response.write(f"{head}data: {payload}\n\n".encode())

    async def pause(self) -> None:
        if self.delay > 0:
            await asyncio.sleep(self.delay)

    async def close(self) -> web.StreamResponse:
        await self.response.write_eof()
        return self.response


# -- the server ---------------------------------------------------------------------------


class FakeLLM:
    """The fake server; see the module docstring.

    ``start()``/``stop()`` (or ``with``) run it on a thread of its own, which suits both
    plain and async tests; ``astart()``/``astop()`` (or ``async with``) run it on the
    caller's event loop.
    """

    def __init__(
        self,
        replies: Iterable[Reply | str] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        default_reply: str = DEFAULT_REPLY,
        log_dir: str | Path | None = None,
    ) -> None:
        self.host = host
        self._wanted_port = port
        self.port = 0
        self.default_reply = default_reply
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self._lock = threading.Condition()
        self._replies: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._open_streams: set[asyncio.Task[Any]] = set()
        self.push(*replies)

    # -- public API -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server's root, e.g. ``http://127.0.0.1:PORT`` (no ``/v1``)."""
        return f"http://{self.host}:{self.port}"

    def push(self, *replies: Reply | str) -> None:
        """Queue replies for the coming main turns (safe from any thread)."""
        with self._lock:
            for reply in replies:
                self._replies.append(Reply(reply) if isinstance(reply, str) else reply)

    def clear_replies(self) -> None:
        with self._lock:
            self._replies.clear()

    @property
    def pending_replies(self) -> int:
        with self._lock:
            return len(self._replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def main_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.main]

    def prompt_count(self, text: str) -> int:
        """How many main turns carried ``text`` in their last user message."""
        return sum(1 for r in self.main_requests() if text in r.user_text)

    def reset(self) -> None:
        """Forget recorded requests and queued replies."""
        with self._lock:
            self._requests.clear()
            self._replies.clear()

    def wait_for_main_requests(self, count: int, timeout: float = 30.0) -> list[RecordedRequest]:
        """Block until at least ``count`` main turns arrived (from a thread, not the loop)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                mains = [r for r in self._requests if r.main]
                if len(mains) >= count:
                    return mains
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(mains)} of {count} main requests after {timeout}s")
                self._lock.wait(left)

    async def wait_for_main_requests_async(
        self, count: int, timeout: float = 30.0
    ) -> list[RecordedRequest]:
        return await asyncio.to_thread(self.wait_for_main_requests, count, timeout)

    # -- life cycle -----------------------------------------------------------------------

    async def astart(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._wanted_port))
        self.port = int(sock.getsockname()[1])
        site = web.SockSite(self._runner, sock)
        await site.start()
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)

    async def astop(self) -> None:
        for task in list(self._open_streams):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeLLM:
        await self.astart()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    def start(self) -> FakeLLM:
        """Serve from a background thread; returns once the port is open."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._stopped = asyncio.Event()
            try:
                loop.run_until_complete(self.astart())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            assert self._stopped is not None
            loop.run_until_complete(self._stopped.wait())
            loop.run_until_complete(self.astop())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-llm", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None or self._stopped is None:
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- dispatch -------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is not None:
            self._open_streams.add(task)
        try:
            return await self._route(request)
        finally:
            if task is not None:
                self._open_streams.discard(task)

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        method = request.method
        if path.startswith("/_fake/"):
            return await self._control(request)
        if path in ("/", "") and method in ("GET", "HEAD"):
            return web.Response(text="fake llm\n")
        if method == "GET" and path.rstrip("/") in ("/v1/models", "/models"):
            self._record_plain(request, CHAT, "")
            return web.json_response(
                {
                    "object": "list",
                    "data": [
                        {"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}
                    ],
                }
            )
        if method != "POST":
            self._record_plain(request, "unknown", "")
            return _no_route(request)
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            body = {}
        if not isinstance(body, dict):
            body = {}
        if path.endswith("/messages/count_tokens"):
            self._record(request, ANTHROPIC, body, main=False)
            return web.json_response({"input_tokens": _estimate_tokens(body)})
        if path.endswith("/messages"):
            return await self._turn(request, ANTHROPIC, body)
        if path.endswith("/chat/completions"):
            return await self._turn(request, CHAT, body)
        if path.endswith("/responses"):
            return await self._turn(request, RESPONSES, body)
        if path.startswith("/v1beta/models/") or path.startswith("/v1/models/"):
            if path.endswith(":countTokens"):
                self._record(request, GEMINI, body, main=False)
                return web.json_response({"totalTokens": _estimate_tokens(body)})
            if path.endswith(":streamGenerateContent") or path.endswith(":generateContent"):
                return await self._turn(request, GEMINI, body)
        self._record(request, "unknown", body, main=False)
        return _no_route(request)

    def _record_plain(self, request: web.Request, provider: str, model: str) -> None:
        self._append(
            RecordedRequest(
                provider=provider,
                method=request.method,
                path=request.path_qs,
                model=model,
                stream=False,
                main=False,
                user_text="",
                time=time.time(),
            )
        )

    def _record(
        self, request: web.Request, provider: str, body: dict[str, Any], *, main: bool
    ) -> RecordedRequest:
        if provider == GEMINI:
            model = request.path.rsplit("/", 1)[-1].split(":", 1)[0]
            user = _last_user_text(body.get("contents"))
            stream = ":streamGenerateContent" in request.path
        elif provider == RESPONSES:
            model = str(body.get("model", ""))
            user = _last_user_text(body.get("input"))
            stream = bool(body.get("stream"))
        else:
            model = str(body.get("model", ""))
            user = _last_user_text(body.get("messages"))
            stream = bool(body.get("stream"))
        record = RecordedRequest(
            provider=provider,
            method=request.method,
            path=request.path_qs,
            model=model,
            stream=stream,
            main=main,
            user_text=user,
            time=time.time(),
            body=body,
        )
        self._append(record)
        return record

    def _append(self, record: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(record)
            index = len(self._requests)
            self._lock.notify_all()
        if self.log_dir is not None:
            name = f"{index:04d}-{record.provider}-{'main' if record.main else 'side'}.json"
            data = {**record.summary(), "body": record.body}
            (self.log_dir / name).write_text(json.dumps(data, indent=1), encoding="utf-8")

    def _next_reply(self) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return Reply(self.default_reply)

    async def _turn(
        self, request: web.Request, provider: str, body: dict[str, Any]
    ) -> web.StreamResponse:
        main = not _is_side_call(body, provider, request.path)
        record = self._record(request, provider, body, main=main)
        reply = self._next_reply() if main else Reply(_side_text(body, provider))
        if reply.delay_s > 0:
            await asyncio.sleep(reply.delay_s)
        if reply.error_status is not None:
            return web.json_response(
                error_body(provider, reply.error_status, reply.error_message),
                status=reply.error_status,
            )
        tools = [_resolve_tool(t, body, provider) for t in reply.tool_calls]
        writer = {
            ANTHROPIC: self._anthropic,
            CHAT: self._chat,
            RESPONSES: self._responses,
            GEMINI: self._gemini,
        }[provider]
        return await writer(request, record, body, reply, tools)

    # -- Anthropic Messages ---------------------------------------------------------------

    async def _anthropic(
        self,
        request: web.Request,
        record: RecordedRequest,
        body: dict[str, Any],
        reply: Reply,
        tools: list[ToolCall],
    ) -> web.StreamResponse:
        message_id = _new_id("msg")
        usage_in = _estimate_tokens(body.get("messages"))
        tool_ids = [_new_id("toolu") for _ in tools]
        stop = "tool_use" if tools else "end_turn"
        output_tokens = max(1, len(reply.text) // 4)
        if not record.stream:
            content: list[dict[str, Any]] = []
            if reply.text or not tools:
                content.append({"type": "text", "text": reply.text})
            content += [
                {"type": "tool_use", "id": tid, "name": t.name, "input": t.arguments}
                for tid, t in zip(tool_ids, tools, strict=True)
            ]
            return web.json_response(
                {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": record.model,
                    "content": content,
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": {"input_tokens": usage_in, "output_tokens": output_tokens},
                }
            )
        sse = await _Sse.open(request, reply.chunk_delay_s)
        await sse.send(
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": record.model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": usage_in,
                        "output_tokens": 1,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                    },
                },
            },
            "message_start",
        )
        index = 0
        if reply.text or not tools:
            await sse.send(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
                "content_block_start",
            )
            await sse.send({"type": "ping"}, "ping")
            for piece in _chunks(reply.text, reply.chunk_size):
                await sse.pause()
                await sse.send(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                    "content_block_delta",
                )
            await sse.send({"type": "content_block_stop", "index": index}, "content_block_stop")
            index += 1
        for tid, tool in zip(tool_ids, tools, strict=True):
            await sse.send(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": tid,
                        "name": tool.name,
                        "input": {},
                    },
                },
                "content_block_start",
            )
            await sse.send(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {
                        "type": "input_json_delta",
                        "partial_json": json.dumps(tool.arguments),
                    },
                },
                "content_block_delta",
            )
            await sse.send({"type": "content_block_stop", "index": index}, "content_block_stop")
            index += 1
        await sse.send(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
            "message_delta",
        )
        await sse.send({"type": "message_stop"}, "message_stop")
        return await sse.close()

    # -- OpenAI Chat Completions ----------------------------------------------------------

    async def _chat(
        self,
        request: web.Request,
        record: RecordedRequest,
        body: dict[str, Any],
        reply: Reply,
        tools: list[ToolCall],
    ) -> web.StreamResponse:
        chat_id = _new_id("chatcmpl")
        created = int(time.time())
        finish = "tool_calls" if tools else "stop"
        prompt_tokens = _estimate_tokens(body.get("messages"))
        completion_tokens = max(1, len(reply.text) // 4)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        calls = [
            {
                "id": _new_id("call"),
                "type": "function",
                "function": {"name": t.name, "arguments": json.dumps(t.arguments)},
            }
            for t in tools
        ]
        if not record.stream:
            message: dict[str, Any] = {"role": "assistant", "content": reply.text}
            if calls:
                message["tool_calls"] = calls
            return web.json_response(
                {
                    "id": chat_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": record.model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": usage,
                }
            )

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                "id": chat_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": record.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }

        sse = await _Sse.open(request, reply.chunk_delay_s)
        await sse.send(chunk({"role": "assistant", "content": ""}))
        for piece in _chunks(reply.text, reply.chunk_size):
            await sse.pause()
            await sse.send(chunk({"content": piece}))
        for index, call in enumerate(calls):
            await sse.send(chunk({"tool_calls": [{"index": index, **call}]}))
        await sse.send(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            await sse.send(
                {
                    "id": chat_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": record.model,
                    "choices": [],
                    "usage": usage,
                }
            )
        await sse.send("[DONE]")
        return await sse.close()

    # -- OpenAI Responses -----------------------------------------------------------------

    async def _responses(
        self,
        request: web.Request,
        record: RecordedRequest,
        body: dict[str, Any],
        reply: Reply,
        tools: list[ToolCall],
    ) -> web.StreamResponse:
        response_id = _new_id("resp")
        created = int(time.time())
        input_tokens = _estimate_tokens(body.get("input"))
        output_tokens = max(1, len(reply.text) // 4)
        message_id = _new_id("msg")
        message_item = {
            "id": message_id,
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
        }
        call_items = [
            {
                "id": _new_id("fc"),
                "type": "function_call",
                "status": "completed",
                "call_id": _new_id("call"),
                "name": t.name,
                "arguments": json.dumps(t.arguments),
            }
            | ({"namespace": t.namespace} if t.namespace else {})
            for t in tools
        ]
        output = ([message_item] if reply.text or not tools else []) + call_items

        def envelope(status: str, items: list[dict[str, Any]]) -> dict[str, Any]:
            data: dict[str, Any] = {
                "id": response_id,
                "object": "response",
                "created_at": created,
                "status": status,
                "model": record.model,
                "output": items,
                "parallel_tool_calls": True,
                "tool_choice": "auto",
                "tools": [],
            }
            if status == "completed":
                data["usage"] = {
                    "input_tokens": input_tokens,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": output_tokens,
                    "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": input_tokens + output_tokens,
                }
            return data

        if not record.stream:
            return web.json_response(envelope("completed", output))

        sse = await _Sse.open(request, reply.chunk_delay_s)
        sequence = itertools.count()

        async def emit(kind: str, **fields: Any) -> None:
            await sse.send({"type": kind, "sequence_number": next(sequence), **fields}, kind)

        await emit("response.created", response=envelope("in_progress", []))
        await emit("response.in_progress", response=envelope("in_progress", []))
        index = 0
        if output and output[0] is message_item:
            part = {"type": "output_text", "text": "", "annotations": []}
            where = {"item_id": message_id, "output_index": index, "content_index": 0}
            await emit(
                "response.output_item.added",
                output_index=index,
                item={**message_item, "status": "in_progress", "content": []},
            )
            await emit("response.content_part.added", **where, part=part)
            for piece in _chunks(reply.text, reply.chunk_size):
                await sse.pause()
                await emit("response.output_text.delta", **where, delta=piece, logprobs=[])
            await emit("response.output_text.done", **where, text=reply.text, logprobs=[])
            await emit("response.content_part.done", **where, part={**part, "text": reply.text})
            await emit("response.output_item.done", output_index=index, item=message_item)
            index += 1
        for item in call_items:
            await emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "arguments": ""},
            )
            where = {"item_id": item["id"], "output_index": index}
            arguments = item["arguments"]
            await emit("response.function_call_arguments.delta", **where, delta=arguments)
            await emit("response.function_call_arguments.done", **where, arguments=arguments)
            await emit("response.output_item.done", output_index=index, item=item)
            index += 1
        await emit("response.completed", response=envelope("completed", output))
        return await sse.close()

    # -- Gemini ---------------------------------------------------------------------------

    async def _gemini(
        self,
        request: web.Request,
        record: RecordedRequest,
        body: dict[str, Any],
        reply: Reply,
        tools: list[ToolCall],
    ) -> web.StreamResponse:
        prompt_tokens = _estimate_tokens(body.get("contents"))
        output_tokens = max(1, len(reply.text) // 4)
        usage = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        }
        call_parts = [{"functionCall": {"name": t.name, "args": t.arguments}} for t in tools]

        def candidate(parts: list[dict[str, Any]], finish: bool) -> dict[str, Any]:
            data: dict[str, Any] = {
                "candidates": [
                    {"content": {"role": "model", "parts": parts}, "index": 0}
                    | ({"finishReason": "STOP"} if finish else {})
                ],
                "modelVersion": record.model,
            }
            if finish:
                data["usageMetadata"] = usage
            return data

        if not record.stream:
            parts = ([{"text": reply.text}] if reply.text or not tools else []) + call_parts
            return web.json_response(candidate(parts, True))
        sse = await _Sse.open(request, reply.chunk_delay_s)
        pieces = _chunks(reply.text, reply.chunk_size)
        for i, piece in enumerate(pieces):
            await sse.pause()
            last = i == len(pieces) - 1 and not call_parts
            await sse.send(candidate([{"text": piece}], last))
        if call_parts or not pieces:
            await sse.send(candidate(call_parts or [{"text": ""}], True))
        return await sse.close()

    # -- control endpoints ----------------------------------------------------------------

    async def _control(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/_fake/replies" and request.method == "POST":
            data = await request.json()
            if isinstance(data, dict) and "replies" in data:
                data = data["replies"]
            if not isinstance(data, list):
                data = [data]
            try:
                replies = [Reply.from_dict(item) for item in data]
            except (ValueError, TypeError, KeyError) as exc:
                return web.json_response({"error": str(exc)}, status=400)
            self.push(*replies)
            return web.json_response({"queued": self.pending_replies})
        if path == "/_fake/replies" and request.method == "GET":
            with self._lock:
                pending = [asdict(r) for r in self._replies]
            return web.json_response({"replies": pending})
        if path == "/_fake/requests" and request.method == "GET":
            full = request.query.get("body") in ("1", "true")
            items = [asdict(r) if full else r.summary() for r in self.requests]
            return web.json_response({"requests": items})
        if path == "/_fake/reset" and request.method == "POST":
            self.reset()
            return web.json_response({"ok": True})
        return web.json_response({"error": f"no control route {request.method} {path}"}, status=404)


def _no_route(request: web.Request) -> web.Response:
    message = f"no route {request.method} {request.path}"
    return web.json_response({"error": {"message": message}}, status=404)


async def _serve(args: argparse.Namespace) -> None:
    replies = load_script(args.script) if args.script else []
    llm = FakeLLM(
        replies, host=args.host, port=args.port, default_reply=args.default_reply, log_dir=args.log
    )
    await llm.astart()
    print(f"listening on {llm.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await llm.astop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fake_llm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--script", help="JSON file of replies for the main turns")
    parser.add_argument("--default-reply", default=DEFAULT_REPLY, help="answer when out of replies")
    parser.add_argument("--log", help="folder to write every request body to, as JSON")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
