"""The JSON endpoints: status, messages, sending and uploads.

Handlers are thin: they read the request, call the session, and answer with the
vocabulary's bodies or a problem document.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from agentapi.adapters.paste import user_text
from agentapi.errors import AgentApiError
from agentapi.messages import (
    InterruptResponseBody,
    MessageRequestBody,
    MessageResponseBody,
    MessagesResponseBody,
    MessageType,
    PermissionRequestBody,
    PermissionResponseBody,
    UploadResponseBody,
    WireModel,
)
from agentapi.records import RecordError
from agentapi.server.bodies import BadJson, parse_json
from agentapi.server.longpoll import MessagesQuery, QueryError, StatusQuery
from agentapi.server.problems import problem, problem_for
from agentapi.server.uploads import UploadStore, receive_upload
from agentapi.session.base import AgentSession

MAX_MESSAGE_BODY = 4 * 1024 * 1024


def json_response(body: WireModel, status: int = 200) -> Response:
    return Response(body.to_json(), status_code=status, media_type="application/json")


def _validation_errors(exc: RecordError) -> list[dict[str, Any]]:
    return [
        {
            "location": ".".join(["body", *(str(p) for p in problem.location)]),
            "message": problem.message,
            "value": problem.value,
        }
        for problem in exc.problems
    ]


def _query_problem(exc: QueryError) -> Response:
    return problem(422, "Unprocessable Entity", str(exc), errors=[exc.detail()])


class JsonApi:
    def __init__(self, session: AgentSession, uploads: UploadStore) -> None:
        self.session = session
        self.uploads = uploads

    async def status(self, request: Request) -> Response:
        try:
            query = StatusQuery.parse(request.query_params)
        except QueryError as exc:
            return _query_problem(exc)
        if query.wait_for is not None:
            await self.session.wait_for_status(query.wait_for, query.timeout)
        return json_response(self.session.identity.status_body(self.session.status))

    async def messages(self, request: Request) -> Response:
        try:
            query = MessagesQuery.parse(request.query_params)
        except QueryError as exc:
            return _query_problem(exc)
        session = self.session
        if query.wait:
            revision = session.transcript_revision if query.revision is None else query.revision
            after = query.after

            def news() -> bool:
                if session.transcript_revision != revision:
                    return True
                last = session.messages[-1].id if session.messages else -1
                return after is not None and last > after

            await session.watch.wait_for(news, query.wait)
        messages = list(session.messages)
        if query.after is not None:
            messages = [m for m in messages if m.id > query.after]
        body = MessagesResponseBody(messages=messages, revision=session.transcript_revision)
        return json_response(body)

    async def post_message(self, request: Request) -> Response:
        # The request guard has already held the body to MAX_MESSAGE_BODY while reading it.
        raw = await request.body()
        try:
            data = parse_json(raw)
        except BadJson as exc:
            return problem(400, "Bad Request", f"The body is not valid JSON: {exc}.")
        if not isinstance(data, dict):
            return problem(422, "Unprocessable Entity", "The body must be a JSON object.")
        try:
            body = MessageRequestBody.from_wire(data)
        except RecordError as exc:
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
                # What the agent gets is what the transcript shows: no control characters.
                content = user_text(body.content).strip()
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

    async def answer_permission(self, request: Request) -> Response:
        raw = await request.body()
        try:
            data = parse_json(raw)
        except BadJson as exc:
            return problem(400, "Bad Request", f"The body is not valid JSON: {exc}.")
        try:
            body = PermissionRequestBody.from_wire(data)
        except RecordError as exc:
            return problem(
                422,
                "Unprocessable Entity",
                "The body does not match the PermissionRequestBody schema.",
                errors=_validation_errors(exc),
            )
        try:
            await self.session.answer_permission(body.id, body.option_id)
        except AgentApiError as exc:
            return problem_for(exc)
        return json_response(PermissionResponseBody(ok=True))

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
