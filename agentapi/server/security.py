"""Host allow-list and CORS, with the original daemon's rules.

Both are plain ASGI middleware so they wrap streaming responses (SSE) without
buffering them. CORS never refuses a request: for an origin that is not
allowed it only leaves the CORS headers out, which is what browsers need to
block the page and what the original does. (Starlette's stock middleware
answers such a preflight with 400, which breaks non-browser clients that send
an Origin header out of habit.)
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentapi.hosts import hostname_of

_ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
_ALLOW_HEADERS = "Accept, Authorization, Content-Type, X-CSRF-Token, X-AgentAPI-Client"
_MAX_AGE = "300"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class HostAllowListMiddleware:
    """Answers 400 to a request whose Host header is not on the allow-list."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allow_all = "*" in allowed_hosts
        self.allowed = {h for h in (hostname_of(item) for item in allowed_hosts) if h}
        self.listing = ", ".join(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allow_all:
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if host is None:
            await _plain_400(send, "Missing host header")
            return
        if hostname_of(host) not in self.allowed:
            await _plain_400(send, f"Invalid host header. Allowed hosts: {self.listing}")
            return
        await self.app(scope, receive, send)


async def _plain_400(send: Send, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _origin_pattern(origin: str) -> re.Pattern[str]:
    # `*` in an origin stands for one or more characters, as in the original's CORS library.
    return re.compile("^" + ".+".join(re.escape(part) for part in origin.split("*")) + "$")


class OriginRules:
    """Which page origins the daemon trusts (the ``--allowed-origins`` list)."""

    def __init__(self, allowed_origins: list[str]) -> None:
        self.allow_all = "*" in allowed_origins
        self.exact = {o.lower() for o in allowed_origins if "*" not in o}
        self.patterns = [_origin_pattern(o) for o in allowed_origins if "*" in o and o != "*"]

    def allows(self, origin: str) -> bool:
        if self.allow_all:
            return True
        lowered = origin.lower()
        return lowered in self.exact or any(p.match(lowered) for p in self.patterns)


class CorsMiddleware:
    """Adds CORS headers for allowed origins; never refuses anything."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.app = app
        self.origins = OriginRules(allowed_origins)

    def allows(self, origin: str) -> bool:
        return self.origins.allows(origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        allowed = origin is not None and self.allows(origin)
        preflight = (
            scope["method"] == "OPTIONS"
            and _header(scope, b"access-control-request-method") is not None
        )
        if preflight:
            headers = [
                (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
            ]
            if allowed and origin is not None:
                headers += [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-allow-methods", _ALLOW_METHODS.encode()),
                    (b"access-control-allow-headers", _ALLOW_HEADERS.encode()),
                    (b"access-control-allow-credentials", b"true"),
                    (b"access-control-max-age", _MAX_AGE.encode()),
                ]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if not allowed or origin is None:
            await self.app(scope, receive, send)
            return
        extra = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-expose-headers", b"Link"),
            (b"vary", b"Origin"),
        ]

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)
