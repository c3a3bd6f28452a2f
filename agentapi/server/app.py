"""The HTTP application: thin handlers translating HTTP to session calls."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from agentapi.server.models import (
    MessageRequestBody,
    MessageType,
    StatusResponseBody,
)
from agentapi.server.openapi import build_openapi
from agentapi.server.problems import problem
from agentapi.server.security import CorsMiddleware, HostAllowListMiddleware
from agentapi.server.uploads import UploadError, UploadStore, receive_upload
from agentapi.session.hub import EventName
from agentapi.session.session import SendError, Session, rfc3339

log = logging.getLogger("agentapi.server")

SSE_HEADERS = {
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
    "X-Accel-Buffering": "no",
    "X-Proxy-Buffering": "no",
}
SSE_PING_S = 15
MAX_MESSAGE_BODY = 4 * 1024 * 1024


@dataclass
class AppConfig:
    agent_type: str
    allowed_hosts: list[str]
    allowed_origins: list[str]
    chat_base_path: str = "/chat"


def _static(name: str) -> str:
    return (resources.files("agentapi.server") / "static" / name).read_text(encoding="utf-8")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        location = ".".join(["body", *(str(p) for p in err["loc"])])
        errors.append({"location": location, "message": err["msg"], "value": err.get("input")})
    return errors


class Api:
    def __init__(self, session: Session, config: AppConfig, uploads: UploadStore) -> None:
        self.session = session
        self.config = config
        self.uploads = uploads
        self._openapi: bytes | None = None

    async def status(self, request: Request) -> Response:
        body = StatusResponseBody(
            status=self.session.status.value,
            agent_type=self.config.agent_type,
            transport="pty",
        )
        return JSONResponse(body.model_dump())

    async def messages(self, request: Request) -> Response:
        items = [
            {"id": m.id, "content": m.content, "role": m.role.value, "time": rfc3339(m)}
            for m in self.session.messages
        ]
        return JSONResponse({"messages": items})

    async def post_message(self, request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_MESSAGE_BODY:
            return problem(413, "Payload Too Large", "The message body is larger than 4 MiB.")
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return problem(400, "Bad Request", f"The body is not valid JSON: {exc}")
        if not isinstance(data, dict):
            return problem(422, "Unprocessable Entity", "The body must be a JSON object.")
        data.pop("$schema", None)
        try:
            body = MessageRequestBody.model_validate(data)
        except ValidationError as exc:
            return problem(
                422,
                "Unprocessable Entity",
                "The body does not match the MessageRequestBody schema.",
                errors=_validation_errors(exc),
            )
        try:
            if body.type == MessageType.RAW:
                await self.session.send_raw(body.content)
            else:
                content = body.content.strip()
                if not content:
                    return problem(
                        422,
                        "Unprocessable Entity",
                        "The message content is empty (after trimming whitespace).",
                        errors=[{"location": "body.content", "message": "must not be empty"}],
                    )
                await self.session.send_user_message(content)
        except SendError as exc:
            return problem(exc.status, exc.title, exc.detail)
        return JSONResponse({"ok": True})

    async def upload(self, request: Request) -> Response:
        try:
            path = await receive_upload(request, self.uploads)
        except UploadError as exc:
            return problem(exc.status, exc.title, exc.detail)
        return JSONResponse({"ok": True, "filePath": str(path)})

    async def events(self, request: Request) -> Response:
        names = {EventName.MESSAGE_UPDATE, EventName.STATUS_CHANGE}
        if _truthy(request.query_params.get("errors")):
            names.add(EventName.AGENT_ERROR)
        return self._stream(names)

    async def screen(self, request: Request) -> Response:
        return self._stream({EventName.SCREEN})

    def _stream(self, names: set[EventName]) -> Response:
        subscription = self.session.hub.subscribe(names)
        return StreamingResponse(
            subscription.frames(ping_s=SSE_PING_S),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )

    async def openapi(self, request: Request) -> Response:
        if self._openapi is None:
            self._openapi = json.dumps(build_openapi(), indent=2).encode()
        return Response(self._openapi, media_type="application/json")

    async def docs(self, request: Request) -> Response:
        return HTMLResponse(_static("docs.html"))

    async def root(self, request: Request) -> Response:
        return RedirectResponse(self.config.chat_base_path.rstrip("/") + "/embed", 307)

    async def chat(self, request: Request) -> Response:
        return HTMLResponse(_static("chat.html"))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    titles = {404: "Not Found", 405: "Method Not Allowed"}
    title = titles.get(exc.status_code, "Error")
    detail = exc.detail if exc.detail and exc.detail != title else f"{request.url.path}: {title}"
    return problem(exc.status_code, title, str(detail), headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Internal Server Error", "The server hit an unexpected error.")


def create_app(session: Session, config: AppConfig, uploads: UploadStore) -> Starlette:
    api = Api(session, config, uploads)
    routes = [
        Route("/status", api.status, methods=["GET"]),
        Route("/messages", api.messages, methods=["GET"]),
        Route("/message", api.post_message, methods=["POST"]),
        Route("/upload", api.upload, methods=["POST"]),
        Route("/events", api.events, methods=["GET"]),
        Route("/internal/screen", api.screen, methods=["GET"]),
        Route("/openapi.json", api.openapi, methods=["GET"]),
        Route("/docs", api.docs, methods=["GET"]),
        Route("/", api.root, methods=["GET"]),
        Route("/chat", api.chat, methods=["GET"]),
        Route("/chat/{path:path}", api.chat, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    # Outermost first: CORS headers go on every answer, including a refused Host.
    app.add_middleware(HostAllowListMiddleware, allowed_hosts=config.allowed_hosts)
    app.add_middleware(CorsMiddleware, allowed_origins=config.allowed_origins)
    return app
