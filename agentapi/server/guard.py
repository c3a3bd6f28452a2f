"""The request guard: what a request body must be before any handler reads it.

An ASGI middleware, so it sees every request before routing and can answer
without reading a byte of the body:

- **Content type.** A request with a body must say it is JSON
  (``application/json`` or ``*+json``), except on paths that take multipart
  uploads; so must an empty one that declares a form type. An HTML form on another site can only
  send ``text/plain``, ``application/x-www-form-urlencoded`` or
  ``multipart/form-data`` without a CORS preflight, so refusing those with 415
  is what stops a web page from typing into the agent. A body with no content
  type at all is taken as JSON only when no ``Origin`` header came with it: a
  browser always sends one on a cross-site POST, a script or the Go SDK does
  not need to.
- **Cross-site pages.** What is left that a page on another site can send without a
  preflight (a multipart upload, an empty POST with no type) is refused with 403 when its
  ``Origin`` is neither an allowed origin nor the daemon's own (the Host it was sent to),
  unless it carries the ``X-AgentAPI-Client`` header, which no cross-site page can add
  without a preflight. The chat page sends that header, so it works behind any proxy.
- **Size.** A declared ``Content-Length`` over the path's limit is answered 413
  at once; a chunked body is counted as it arrives and answered 413 the moment
  it passes the limit, so the daemon never holds more than the limit.
- **Time.** A body that stops arriving (``idle_s`` without a chunk) or takes
  too long in all (``total_s``) is answered 408, and the connection is closed;
  other clients are served meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentapi.messages import ErrorModel
from agentapi.server.problems import PROBLEM_JSON, problem_bytes

log = logging.getLogger("agentapi.server")

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The body types a web page may send to another site without a CORS preflight.
BROWSER_SIMPLE_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)


@dataclass(frozen=True)
class BodyRules:
    """How large and how slow a request body may be, and which paths take multipart."""

    limits: Mapping[str, int] = field(default_factory=dict)  # path -> largest body in bytes
    default_limit: int = 64 * 1024
    multipart_paths: frozenset[str] = frozenset()
    idle_s: float = 15.0
    total_s: float = 120.0

    def limit_for(self, path: str) -> int:
        return self.limits.get(path, self.default_limit)


class _Refused(Exception):
    """Raised from the guarded ``receive``: the body broke a rule mid-stream."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


def _headers(scope: Scope) -> dict[bytes, bytes]:
    # The first value of each header is enough for the ones read here.
    found: dict[bytes, bytes] = {}
    for key, value in scope.get("headers", []):
        found.setdefault(key, value)
    return found


def media_type(value: bytes | None) -> str | None:
    if value is None:
        return None
    return value.split(b";", 1)[0].strip().lower().decode("latin-1")


def is_json(kind: str) -> bool:
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def _size(limit: int) -> str:
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MiB"
    if limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"


async def send_problem(send: Send, status: int, title: str, detail: str) -> None:
    """Answer with a problem document and ask the server to close the connection:
    after a refused body, whatever the client still sends is not worth reading."""
    body = problem_bytes(ErrorModel(title=title, status=status, detail=detail))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# A header no browser lets a page send to another site without a CORS preflight.
CLIENT_HEADER = b"x-agentapi-client"


def same_origin(origin: bytes, host: bytes | None) -> bool:
    """Whether ``origin`` names the host:port the request was sent to."""
    if host is None:
        return False
    _, _, authority = origin.partition(b"://")
    return authority.lower() == host.lower()


class RequestGuardMiddleware:
    def __init__(
        self, app: ASGIApp, rules: BodyRules, origin_allowed: Callable[[str], bool] | None = None
    ) -> None:
        self.app = app
        self.rules = rules
        self.origin_allowed = origin_allowed or (lambda _origin: False)

    def _cross_site(self, headers: Mapping[bytes, bytes], kind: str | None) -> bool:
        origin = headers.get(b"origin")
        if origin is None or (kind is not None and is_json(kind)):
            return False  # a script (no Origin), or a type that needs a preflight
        if CLIENT_HEADER in headers or same_origin(origin, headers.get(b"host")):
            return False
        return not self.origin_allowed(origin.decode("latin-1"))

    def _refusal(self, scope: Scope) -> _Refused | None:
        """A rule the request's headers already break, if any."""
        headers = _headers(scope)
        path: str = scope["path"]
        length_text = headers.get(b"content-length")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        try:
            length = int(length_text) if length_text is not None else None
        except ValueError:
            length = None  # the HTTP server refuses a malformed length before we run
        has_body = chunked or bool(length)
        kind = media_type(headers.get(b"content-type"))
        if path not in self.rules.multipart_paths:
            # An empty body with a type no form sends (aiohttp says octet-stream) is harmless:
            # a web page can only send such a type after a CORS preflight, which fails.
            refuse_type = has_body or kind in BROWSER_SIMPLE_TYPES
            if kind is not None and not is_json(kind) and refuse_type:
                return _Refused(
                    415,
                    "Unsupported Media Type",
                    f"The request body must be application/json (got {kind or 'an empty type'}).",
                )
            if kind is None and has_body and b"origin" in headers:
                return _Refused(
                    415,
                    "Unsupported Media Type",
                    "A request body sent from a web page must be declared application/json.",
                )
        if self._cross_site(headers, kind):
            return _Refused(
                403,
                "Forbidden",
                "A request from a page on another site is refused: send it as "
                "application/json, with the X-AgentAPI-Client header, or from an allowed origin.",
            )
        limit = self.rules.limit_for(path)
        if length is not None and length > limit:
            return _too_large(limit)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        refused = self._refusal(scope)
        if refused is not None:
            await send_problem(send, refused.status, refused.title, refused.detail)
            return

        rules = self.rules
        limit = rules.limit_for(scope["path"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + rules.total_s
        received = 0
        body_done = False
        started = False

        async def guarded_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                return await receive()
            wait = min(rules.idle_s, deadline - loop.time())
            try:
                message = await asyncio.wait_for(receive(), max(wait, 0.0))
            except TimeoutError:
                raise _Refused(
                    408,
                    "Request Timeout",
                    f"The request body did not arrive in time (at most {rules.idle_s:g} s "
                    f"between parts, {rules.total_s:g} s in all).",
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except ClientDisconnect:
            # The client went away mid-body: nobody to answer, nothing worth a traceback.
            log.info(
                "%s %s: the client left before sending its body", scope["method"], scope["path"]
            )
        except _Refused as broken:
            if started:
                raise
            await send_problem(send, broken.status, broken.title, broken.detail)


def _too_large(limit: int) -> _Refused:
    return _Refused(413, "Payload Too Large", f"The request body is larger than {_size(limit)}.")
