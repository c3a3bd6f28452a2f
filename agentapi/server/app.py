"""The HTTP application: routes and middleware composed around one agent session."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from agentapi.server.api import MAX_MESSAGE_BODY, JsonApi
from agentapi.server.auth import TokenAuthMiddleware
from agentapi.server.chat import ChatPage
from agentapi.server.docs import ApiDocs
from agentapi.server.guard import BodyRules, RequestGuardMiddleware
from agentapi.server.problems import problem
from agentapi.server.security import CorsMiddleware, HostAllowListMiddleware, OriginRules
from agentapi.server.streams import EventStreams
from agentapi.server.uploads import MAX_UPLOAD_BYTES, UploadStore
from agentapi.session.base import AgentSession

log = logging.getLogger("agentapi.server")


@dataclass(frozen=True)
class AppConfig:
    allowed_hosts: list[str]
    allowed_origins: list[str]
    chat_base_path: str = "/chat"
    auth_token: str | None = None  # every request needs it when set (server/auth.py)
    auth_open_status: bool = False  # GET /status answers without it


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    titles = {404: "Not Found", 405: "Method Not Allowed"}
    title = titles.get(exc.status_code, "Error")
    detail = exc.detail if exc.detail and exc.detail != title else f"{request.url.path}: {title}"
    return problem(exc.status_code, title, str(detail), headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Internal Server Error", "The server hit an unexpected error.")


def body_rules() -> BodyRules:
    # Multipart framing around an upload costs a few hundred bytes; the upload reader
    # holds the file itself to MAX_UPLOAD_BYTES exactly.
    return BodyRules(
        limits={
            "/message": MAX_MESSAGE_BODY,
            # An MCP tool call carries a message: the same room as POST /message.
            "/mcp": MAX_MESSAGE_BODY,
            "/upload": MAX_UPLOAD_BYTES + 64 * 1024,
        },
        multipart_paths=frozenset({"/upload"}),
    )


def create_app(
    session: AgentSession,
    config: AppConfig,
    uploads: UploadStore,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    api = JsonApi(session, uploads)
    streams = EventStreams(session.hub)
    docs = ApiDocs()
    chat = ChatPage(config.chat_base_path)
    routes = [
        Route("/status", api.status, methods=["GET"]),
        Route("/messages", api.messages, methods=["GET"]),
        Route("/message", api.post_message, methods=["POST"]),
        Route("/upload", api.upload, methods=["POST"]),
        Route("/interrupt", api.interrupt, methods=["POST"]),
        Route("/permission", api.answer_permission, methods=["POST"]),
        Route("/events", streams.events, methods=["GET"]),
        Route("/internal/screen", streams.screen, methods=["GET"]),
        Route("/openapi.json", docs.openapi, methods=["GET"]),
        Route("/docs", docs.docs, methods=["GET"]),
        Route("/", chat.root, methods=["GET"]),
        Route("/chat", chat.page, methods=["GET"]),
        Route("/chat/static/{name}", chat.asset, methods=["GET"]),
        Route("/chat/{path:path}", chat.page, methods=["GET"]),
        # Optional endpoints (``/mcp`` with --mcp), behind the same middleware.
        *extra_routes,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    # The last added runs first. The Host check comes before everything, so a request
    # for a foreign Host (DNS rebinding) learns nothing, not even CORS headers; the body
    # rules come after CORS, so a browser can read why its request was refused.
    app.add_middleware(
        RequestGuardMiddleware,
        rules=body_rules(),
        origin_allowed=OriginRules(config.allowed_origins).allows,
    )
    if config.auth_token:
        # After CORS, so a page from an allowed origin can read its 401.
        app.add_middleware(
            TokenAuthMiddleware, token=config.auth_token, open_status=config.auth_open_status
        )
    app.add_middleware(CorsMiddleware, allowed_origins=config.allowed_origins)
    app.add_middleware(HostAllowListMiddleware, allowed_hosts=config.allowed_hosts)
    return app
