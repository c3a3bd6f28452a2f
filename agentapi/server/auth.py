"""The optional access token (``--auth-token`` / ``AGENTAPI_AUTH_TOKEN``).

With a token set, every request needs it: as ``Authorization: Bearer TOKEN``
(scripts, the SDKs, proxies) or as the ``agentapi_token`` cookie (the chat page,
whose ``EventSource`` cannot send headers). The cookie comes from opening any page
once with ``?token=TOKEN``: the daemon sets it (HttpOnly, SameSite=Strict, so no
other site's page can send it along) and redirects to the same address without the
token, so it does not stay in the address bar or the history. Tokens are compared
in constant time. CORS preflights pass (browsers send no credentials with them),
and ``GET /status`` can be left open for health checks.
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from agentapi.messages import ErrorModel
from agentapi.server.problems import PROBLEM_JSON, problem_bytes

COOKIE = "agentapi_token"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class TokenAuthMiddleware:
    def __init__(self, app: ASGIApp, token: str, open_status: bool = False) -> None:
        self.app = app
        self.token = token.encode()
        self.open_status = open_status

    def _matches(self, given: str | None) -> bool:
        # compare_digest takes as long for any wrong token of the same length.
        return given is not None and hmac.compare_digest(given.encode(), self.token)

    def _presented(self, scope: Scope) -> bool:
        authorization = _header(scope, b"authorization") or ""
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and self._matches(credentials.strip()):
            return True
        cookies = SimpleCookie()
        try:
            cookies.load(_header(scope, b"cookie") or "")
        except Exception:
            return False
        morsel = cookies.get(COOKIE)
        return morsel is not None and self._matches(morsel.value)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        preflight = method == "OPTIONS" and _header(scope, b"access-control-request-method")
        if preflight or (self.open_status and method == "GET" and path == "/status"):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        link_token = next((v for k, v in query if k == "token"), None)
        if method == "GET" and link_token is not None and self._matches(link_token):
            await self._set_cookie_and_redirect(scope, send, query)
            return
        if self._presented(scope):
            await self.app(scope, receive, send)
            return
        body = problem_bytes(
            ErrorModel(
                title="Unauthorized",
                status=401,
                detail="This daemon needs its access token: send 'Authorization: Bearer TOKEN', "
                "or open the chat page once with ?token=TOKEN.",
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="agentapi"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _set_cookie_and_redirect(
        self, scope: Scope, send: Send, query: list[tuple[str, str]]
    ) -> None:
        rest = urlencode([(k, v) for k, v in query if k != "token"])
        location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
        cookie = f"{COOKIE}={self.token.decode()}; Path=/; HttpOnly; SameSite=Strict"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1", "replace")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"cache-control", b"no-store"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})
