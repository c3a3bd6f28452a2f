"""A client for a running agentapi daemon (ours or the original): HTTP calls and SSE events.

``AsyncClient`` is the real implementation, on aiohttp; ``Client`` runs it on a private
event loop for plain scripts::

    with Client("localhost:3284") as agent:
        print(agent.ask("What does this repository do?").content)

Every error answer of the daemon is an RFC 9457 problem document; it becomes a
``ProblemError`` (or a subclass naming the case a caller usually handles).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import os
import re
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeAlias, cast

import aiohttp

from agentapi import errors as daemon_errors
from agentapi.errors import AgentApiError
from agentapi.messages import (
    EVENT_BODIES,
    ErrorBody,
    EventName,
    InterruptResponseBody,
    Message,
    MessagesResponseBody,
    MessageUpdateBody,
    ScreenUpdateBody,
    StatusChangeBody,
    StatusResponseBody,
)

DEFAULT_URL = "http://localhost:3284"
DEFAULT_TIMEOUT_S = 60.0
# How long one long-poll waits for a change before it is asked again.
LONG_POLL_S = 30.0
# Our daemon replays its state on /events at once: nothing for this long means a proxy
# buffers the stream, and events() follows the long-polls instead.
SSE_BUFFERED_AFTER_S = 5.0

__all__ = [
    "DEFAULT_URL",
    "AgentApiError",
    "AgentBusy",
    "AgentDidNotReact",
    "AgentError",
    "AgentExited",
    "AsyncClient",
    "Client",
    "ConnectionFailed",
    "Event",
    "Interrupted",
    "Message",
    "MessageUpdate",
    "ProblemError",
    "SSEEvent",
    "SSEParser",
    "ScreenUpdate",
    "Status",
    "StatusChange",
    "Transcript",
    "WaitTimeout",
    "normalize_url",
    "parse_event",
]


# -- errors ---------------------------------------------------------------------------------


class ConnectionFailed(AgentApiError):
    """The daemon could not be reached, or it dropped the connection."""


class WaitTimeout(AgentApiError, TimeoutError):
    """A wait (for ``stable``, for a reply) ran out of time."""


class ProblemError(AgentApiError):
    """The daemon answered with an error (a problem document, or plain text from a proxy)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []


class AgentBusy(ProblemError, daemon_errors.AgentBusy):
    """409: the agent is running (or another message is being sent); retry once stable."""


class AgentDidNotReact(ProblemError, daemon_errors.AgentDidNotReact):
    """5xx from sending a message: the agent never showed it started on it."""


class AgentExited(AgentDidNotReact, daemon_errors.AgentExited):
    """503 from sending a message: the agent is not running."""


# -- models ---------------------------------------------------------------------------------

# The daemon's own bodies, under the names a script reads best. Parsing ignores fields a
# newer daemon adds, so an old client keeps working.
Status = StatusResponseBody
MessageUpdate = MessageUpdateBody
StatusChange = StatusChangeBody
Interrupted = InterruptResponseBody
Transcript = MessagesResponseBody
AgentError = ErrorBody
ScreenUpdate = ScreenUpdateBody

Event: TypeAlias = MessageUpdate | StatusChange | AgentError | ScreenUpdate


# -- Server-Sent Events ---------------------------------------------------------------------


_EOL = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEParser:
    """An incremental parser for ``text/event-stream`` (the WHATWG rules).

    Feed it bytes as they arrive, in chunks of any size; it returns the events each
    chunk completed. Lines end in LF, CRLF or a lone CR, and a CRLF split between two
    chunks still counts once. A multi-byte character split between chunks is kept
    until its end arrives. Comments (``: ping``) are skipped.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._line = ""
        self._skip_lf = False
        self._started = False
        self._event = ""
        self._data: list[str] = []
        self._has_data = False
        self._retry: int | None = None
        self.last_event_id: str | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        pos = 0
        if self._skip_lf and text.startswith("\n"):
            pos = 1  # the LF of a CRLF whose CR ended the previous chunk
        self._skip_lf = False
        events: list[SSEEvent] = []
        for match in _EOL.finditer(text, pos):
            line = self._line + text[pos : match.start()]
            self._line = ""
            pos = match.end()
            event = self._process(line)
            if event is not None:
                events.append(event)
        if pos == len(text) and text.endswith("\r"):
            self._skip_lf = True
        self._line += text[pos:]
        return events

    def _process(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
            self._has_data = True
        elif field == "id" and "\0" not in value:
            self.last_event_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        event, data, has_data = self._event, "\n".join(self._data), self._has_data
        self._event, self._data, self._has_data = "", [], False
        retry, self._retry = self._retry, None
        if not has_data:
            return None
        return SSEEvent(event or "message", data, self.last_event_id, retry)


def parse_event(raw: SSEEvent) -> Event | None:
    """The typed event for a raw SSE event; None for a kind this client does not know."""
    try:
        model = EVENT_BODIES[EventName(raw.event)]
    except ValueError:
        return None
    try:
        return cast(Event, model.from_wire(json.loads(raw.data)))
    except ValueError as exc:  # not JSON, or not the event's shape
        raise AgentApiError(f"malformed {raw.event} event: {exc}") from exc


# -- the client -----------------------------------------------------------------------------


def normalize_url(url: str) -> str:
    """``host:port``, ``http://host:port/`` and the like, as a base URL with no trailing /."""
    url = url.strip()
    if not url:
        raise ValueError("the URL is empty")
    if "://" not in url:
        url = "http://" + url
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {scheme!r} (use http or https)")
    return url.rstrip("/")


Upload: TypeAlias = str | os.PathLike[str] | bytes


class AsyncClient:
    """The daemon's HTTP API. Use as ``async with AsyncClient(url) as client: ...``."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        session: aiohttp.ClientSession | None = None,
        token: str | None = None,
    ) -> None:
        self.base_url = normalize_url(base_url)
        self.timeout = timeout
        self._session = session
        self._owns_session = session is None
        # The daemon's --auth-token; by default the same variable the daemon reads, so
        # `agentapi attach`, the CLI commands and the MCP server need nothing more.
        # (A session passed in brings its own headers.)
        token = os.environ.get("AGENTAPI_AUTH_TOKEN", "") if token is None else token
        self._headers = {"Authorization": f"Bearer {token.strip()}"} if token.strip() else {}

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        # Created on first use, so the session belongs to the loop that uses it.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers)
            self._owns_session = True
        return self._session

    def _connection_failed(self, exc: aiohttp.ClientConnectionError) -> ConnectionFailed:
        if isinstance(exc, aiohttp.ClientConnectorError):
            return ConnectionFailed(
                f"cannot reach {self.base_url} ({_reason(exc)}); is the daemon running?"
            )
        return ConnectionFailed(f"lost the connection to {self.base_url} ({_reason(exc)})")

    def _url(self, path: str) -> str:
        return self.base_url + path

    async def _request(self, method: str, path: str, *, wait: float = 0.0, **kwargs: Any) -> Any:
        # A long-poll may be answered ``wait`` seconds late by design.
        timeout = aiohttp.ClientTimeout(total=self.timeout + wait)
        try:
            async with self._http().request(
                method, self._url(path), timeout=timeout, **kwargs
            ) as response:
                body = await response.read()
                if response.status >= 400:
                    raise _problem(response, body, path)
        except aiohttp.ClientConnectionError as exc:
            raise self._connection_failed(exc) from exc
        except TimeoutError as exc:
            raise ConnectionFailed(
                f"{self.base_url} did not answer {method} {path} within {self.timeout:g} s"
            ) from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise AgentApiError(f"{method} {path}: the answer is not JSON") from exc

    # -- calls ------------------------------------------------------------------------------

    async def status(self, wait_for: str | None = None, timeout: float = LONG_POLL_S) -> Status:
        """The status; with ``wait_for`` ("stable" or "running"), a long-poll answered once
        the status is that one, or after ``timeout`` seconds (at most 60) as it is then."""
        if wait_for is None:
            return Status.from_wire(await self._request("GET", "/status"))
        params = {"wait_for": wait_for, "timeout": f"{timeout:g}"}
        data = await self._request("GET", "/status", params=params, wait=timeout)
        return Status.from_wire(data)

    async def messages(self) -> list[Message]:
        data = await self._request("GET", "/messages")
        return [Message.from_wire(m) for m in data["messages"]]

    async def poll_messages(
        self,
        *,
        after: int | None = None,
        revision: int | None = None,
        wait: float = LONG_POLL_S,
    ) -> Transcript:
        """``GET /messages`` as a long-poll: answered once the transcript differs from
        ``revision`` (or a message newer than ``after`` exists), else after ``wait`` s.

        Messages are only those with an id greater than ``after``. Pass back the answer's
        ``revision`` to wait for the next change.
        """
        params: dict[str, str] = {"wait": f"{wait:g}"}
        if after is not None:
            params["after"] = str(after)
        if revision is not None:
            params["revision"] = str(revision)
        data = await self._request("GET", "/messages", params=params, wait=wait)
        return Transcript.from_wire(data)

    async def send(self, text: str) -> None:
        """Send a user message; returns once the agent visibly started on it.

        Raises ``AgentBusy`` unless the agent is stable. The daemon refuses empty text.
        """
        await self._request("POST", "/message", json={"content": text, "type": "user"})

    async def send_raw(self, keys: str | bytes) -> None:
        """Write keystrokes (escape sequences included) straight to the agent's terminal."""
        if isinstance(keys, bytes):
            keys = keys.decode("utf-8", errors="replace")
        await self._request("POST", "/message", json={"content": keys, "type": "raw"})

    async def interrupt(self) -> Interrupted:
        """Stop what the agent is doing (its Esc or Ctrl-C) and wait for it to settle.

        ``interrupted`` is False when the agent was stable already (nothing was sent);
        ``status`` is the status once it settled (or when the daemon stopped waiting).
        """
        return Interrupted.from_wire(await self._request("POST", "/interrupt"))

    async def upload(self, file: Upload, filename: str | None = None) -> str:
        """Upload a file (a path, or bytes with a ``filename``); returns its path for the agent."""
        if isinstance(file, bytes):
            if not filename:
                raise ValueError("uploading bytes needs a filename")
            content = file
        else:
            path = Path(file)
            filename = filename or path.name
            content = await asyncio.to_thread(path.read_bytes)
        form = aiohttp.MultipartWriter("form-data")
        part = form.append(content, {"Content-Type": "application/octet-stream"})
        # Written as browsers do (WHATWG form encoding): UTF-8 as is, only the characters
        # that would break the header escaped. aiohttp's own quoting percent-encodes the
        # whole name, and servers do not decode it.
        part.headers["Content-Disposition"] = (
            f'form-data; name="file"; filename="{_form_escape(filename)}"'
        )
        data = await self._request("POST", "/upload", data=form)
        return str(data["filePath"])

    # -- streams ----------------------------------------------------------------------------

    async def _stream(
        self, path: str, buffered_after: float | None = None
    ) -> AsyncGenerator[Event, None]:
        """The events of an SSE endpoint. With ``buffered_after``, raise ``_StreamBuffered``
        when nothing at all arrives in that time: our daemon replays its state at once, so
        silence means a proxy holds the stream back."""
        # Only connecting is timed: a quiet stream is normal (the daemon pings it).
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.timeout)
        headers = {"Accept": "text/event-stream"}
        parser = SSEParser()
        try:
            async with contextlib.AsyncExitStack() as stack:
                waiting = asyncio.timeout(buffered_after)
                try:
                    async with waiting:
                        response = await stack.enter_async_context(
                            self._http().get(self._url(path), timeout=timeout, headers=headers)
                        )
                        if response.status >= 400:
                            raise _problem(response, await response.read(), path)
                        chunks = response.content.iter_any()
                        first = await anext(chunks, b"")
                except TimeoutError:
                    if waiting.expired():
                        raise _StreamBuffered from None
                    raise
                async for chunk in _chain(first, chunks):
                    for raw in parser.feed(chunk):
                        event = parse_event(raw)
                        if event is not None:
                            yield event
        except aiohttp.ClientConnectionError as exc:
            raise self._connection_failed(exc) from exc
        except aiohttp.ClientPayloadError as exc:
            raise ConnectionFailed(f"the event stream from {self.base_url} broke") from exc

    async def events(
        self, errors: bool = False, *, buffered_after: float | None = SSE_BUFFERED_AFTER_S
    ) -> AsyncGenerator[Event, None]:
        """``GET /events``: first the current state (every message, the status), then changes.

        With ``errors=True`` the stream also carries ``AgentError`` events. The iterator
        ends when the daemon closes the stream. When nothing arrives within
        ``buffered_after`` seconds (a proxy that buffers event streams), the same events are
        followed through the long-polls instead (without ``AgentError`` events); ``None``
        never falls back.
        """
        path = "/events?errors=true" if errors else "/events"
        try:
            async with contextlib.aclosing(self._stream(path, buffered_after)) as stream:
                async for event in stream:
                    yield event
            return
        except _StreamBuffered:
            pass
        async with contextlib.aclosing(self._poll_events()) as polled:
            async for event in polled:
                yield event

    async def _poll_events(self) -> AsyncGenerator[Event, None]:
        """``/events`` emulated with the two long-polls: message updates, status changes."""
        contents: dict[int, str] = {}
        revision: int | None = 0  # every transcript has changed once: answered at once
        after: int | None = None
        status: Status | None = None
        messages_wait: asyncio.Task[Transcript] | None = None
        status_wait: asyncio.Task[Status] | None = None
        try:
            while True:
                if messages_wait is None:
                    messages_wait = asyncio.ensure_future(
                        self.poll_messages(after=after, revision=revision)
                    )
                if status_wait is None and status is not None:
                    other = "stable" if status.status == "running" else "running"
                    status_wait = asyncio.ensure_future(self.status(wait_for=other))
                waits: set[asyncio.Future[Any]] = {messages_wait}
                if status_wait is not None:
                    waits.add(status_wait)
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                if messages_wait in done:
                    transcript = messages_wait.result()
                    messages_wait = None
                    for message in transcript.messages:
                        if contents.get(message.id) != message.content:
                            contents[message.id] = message.content
                            yield MessageUpdate.of(message)
                    if transcript.messages:
                        after = transcript.messages[-1].id - 1
                    if transcript.revision is None:
                        await asyncio.sleep(1.0)  # a daemon without long-polls
                    revision = transcript.revision
                    if status is None:
                        status = await self.status()
                        yield _status_change(status)
                if status_wait is not None and status_wait in done:
                    now = status_wait.result()
                    status_wait = None
                    if status is None or now.status != status.status:
                        yield _status_change(now)
                    elif revision is None:
                        await asyncio.sleep(1.0)  # a daemon without long-polls
                    status = now
        finally:
            for task in (messages_wait, status_wait):
                if task is not None:
                    task.cancel()

    async def screen(self) -> AsyncGenerator[ScreenUpdate, None]:
        """``GET /internal/screen``: the agent's whole terminal text, on every change."""
        async with contextlib.aclosing(self._stream("/internal/screen")) as stream:
            async for event in stream:
                if isinstance(event, ScreenUpdate):
                    yield event

    # -- waiting ----------------------------------------------------------------------------

    async def wait_until_stable(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Return once the status is ``stable`` (at once if it already is)."""
        try:
            async with asyncio.timeout(timeout):
                await self._until_stable()
        except TimeoutError as exc:
            if isinstance(exc, AgentApiError):
                raise
            raise WaitTimeout(f"the agent was not stable within {timeout:g} s") from None

    async def _until_stable(self) -> None:
        # A long-poll first: it works through proxies that buffer event streams. A daemon
        # that answers early without being stable does not know the parameter (the
        # original), and an error answer may be a proxy's: follow the event stream instead.
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            try:
                status = await self.status(wait_for="stable", timeout=LONG_POLL_S)
            except ProblemError:
                break
            if status.status == "stable":
                return
            if loop.time() - began < LONG_POLL_S - 1:
                break
        async with contextlib.aclosing(self.events()) as stream:
            async for event in stream:
                if isinstance(event, StatusChange) and event.status == "stable":
                    return
        raise ConnectionFailed(f"{self.base_url} closed the event stream")

    async def ask(self, text: str, timeout: float = DEFAULT_TIMEOUT_S) -> Message:
        """Send ``text``, wait for the agent to finish, and return its reply."""
        try:
            async with asyncio.timeout(timeout):
                await self.send(text)
                await self._until_stable()
                messages = await self.messages()
        except TimeoutError as exc:
            if isinstance(exc, AgentApiError):
                raise
            raise WaitTimeout(f"no complete reply within {timeout:g} s") from None
        reply = _reply_after_last_user_message(messages)
        if reply is None:
            raise AgentApiError("the agent became stable without a reply")
        return reply


class _StreamBuffered(Exception):
    """Nothing arrived on an event stream in time: a proxy is buffering it."""


async def _chain(first: bytes, chunks: Any) -> AsyncGenerator[bytes, None]:
    if first:
        yield first
    async for chunk in chunks:
        yield chunk


def _status_change(status: Status) -> StatusChange:
    return StatusChange(
        status=status.status,
        agent_type=status.agent_type,
        adapter=status.adapter,
        agent_name=status.agent_name,
    )


def _reply_after_last_user_message(messages: list[Message]) -> Message | None:
    reply = None
    for message in reversed(messages):
        if message.role == "user":
            return reply
        reply = message
    return reply


def _form_escape(value: str) -> str:
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        # asyncio's own wording ("Connect call failed (...)") says less than errno does.
        error = exc.os_error
        if error.errno and error.errno > 0:
            return os.strerror(error.errno).lower()
        return str(error.strerror or error).lower()
    cause = exc.__cause__ or exc
    return str(getattr(cause, "strerror", None) or cause) or type(cause).__name__


def _problem(response: aiohttp.ClientResponse, body: bytes, path: str) -> ProblemError:
    status = response.status
    title = response.reason or "Error"
    detail = body.decode("utf-8", errors="replace").strip()
    errors: list[dict[str, Any]] | None = None
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        title = str(doc.get("title") or title)
        detail = str(doc.get("detail") or "")
        raw_errors = doc.get("errors")
        if isinstance(raw_errors, list):
            errors = [e for e in raw_errors if isinstance(e, dict)]
    if status == 409:
        return AgentBusy(status, title, detail, errors)
    if status == 503 and path in ("/message", "/interrupt"):
        return AgentExited(status, title, detail, errors)
    if status >= 500 and path == "/message":
        return AgentDidNotReact(status, title, detail, errors)
    return ProblemError(status, title, detail, errors)


# -- the blocking wrapper -------------------------------------------------------------------


class Client:
    """``AsyncClient`` for code with no event loop of its own (scripts, notebooks' cells).

    Not for use from inside a running event loop: use ``AsyncClient`` there.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        token: str | None = None,
    ) -> None:
        self._runner = asyncio.Runner()
        self._async = AsyncClient(base_url, timeout=timeout, token=token)
        self._closed = False

    @property
    def base_url(self) -> str:
        return self._async.base_url

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._runner.run(self._async.close())
        finally:
            self._runner.close()

    def status(self, wait_for: str | None = None, timeout: float = LONG_POLL_S) -> Status:
        return self._runner.run(self._async.status(wait_for, timeout))

    def messages(self) -> list[Message]:
        return self._runner.run(self._async.messages())

    def poll_messages(
        self, *, after: int | None = None, revision: int | None = None, wait: float = LONG_POLL_S
    ) -> Transcript:
        return self._runner.run(
            self._async.poll_messages(after=after, revision=revision, wait=wait)
        )

    def send(self, text: str) -> None:
        self._runner.run(self._async.send(text))

    def send_raw(self, keys: str | bytes) -> None:
        self._runner.run(self._async.send_raw(keys))

    def interrupt(self) -> Interrupted:
        return self._runner.run(self._async.interrupt())

    def upload(self, file: Upload, filename: str | None = None) -> str:
        return self._runner.run(self._async.upload(file, filename))

    def wait_until_stable(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self._runner.run(self._async.wait_until_stable(timeout))

    def ask(self, text: str, timeout: float = DEFAULT_TIMEOUT_S) -> Message:
        return self._runner.run(self._async.ask(text, timeout))

    def events(self, errors: bool = False) -> Iterator[Event]:
        """Events as they come; stop iterating (or ``close()`` the generator) to disconnect."""
        stream = self._async.events(errors)

        async def step() -> Event:
            return await anext(stream)

        try:
            while True:
                try:
                    yield self._runner.run(step())
                except StopAsyncIteration:
                    return
        finally:
            self._runner.run(stream.aclose())
