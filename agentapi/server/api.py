"""The JSON endpoints: status, messages, sending and uploads.

Handlers are thin: they read the request, call the session, and answer with the
vocabulary's bodies or a problem document.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from agentapi.errors import AgentApiError
from agentapi.messages import (
    InterruptResponseBody,
    MessageRequestBody,
    MessageResponseBody,
    MessagesResponseBody,
    MessageType,
    UploadResponseBody,
    WireModel,
)
from agentapi.server.problems import problem, problem_for
from agentapi.server.uploads import UploadStore, receive_upload
from agentapi.session.base import AgentSession

MAX_MESSAGE_BODY = 4 * 1024 * 1024


def json_response(body: WireModel, status: int = 200) -> Response:
    return Response(body.to_json(), status_code=status, media_type="application/json")


def _validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        location = ".".join(["body", *(str(p) for p in err["loc"])])
        errors.append({"location": location, "message": err["msg"], "value": err.get("input")})
    return errors


class JsonApi:
    def __init__(self, session: AgentSession, uploads: UploadStore) -> None:
        self.session = session
        self.uploads = uploads

    async def status(self, request: Request) -> Response:
        return json_response(self.session.identity.status_body(self.session.status))

    async def messages(self, request: Request) -> Response:
        return json_response(MessagesResponseBody(messages=list(self.session.messages)))

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
            if body.type is MessageType.RAW:
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
        except AgentApiError as exc:
            return problem_for(exc)
        return json_response(MessageResponseBody(ok=True))

    async def interrupt(self, request: Request) -> Response:
        try:
            interrupted = await self.session.interrupt()
        except AgentApiError as exc:
            return problem_for(exc)
        body = InterruptResponseBody(ok=True, interrupted=interrupted, status=self.session.status)
        return json_response(body)

    async def upload(self, request: Request) -> Response:
        try:
            path = await receive_upload(request, self.uploads)
        except AgentApiError as exc:
            return problem_for(exc)
        return json_response(UploadResponseBody(ok=True, filePath=str(path)))
