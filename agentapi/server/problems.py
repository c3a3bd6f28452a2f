"""RFC 9457 problem documents: every error the API answers looks like this.

The one place where the daemon's errors become HTTP status codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from agentapi.errors import (
    AgentApiError,
    AgentBusy,
    AgentDidNotReact,
    AgentExited,
    AgentWriteFailed,
    BadUpload,
    UploadTooLarge,
)
from agentapi.messages import ErrorDetail, ErrorModel

PROBLEM_JSON = "application/problem+json"

# Status and title for each error a request can end in; a subclass answers as its base.
ANSWERS: dict[type[AgentApiError], tuple[int, str]] = {
    AgentBusy: (409, "Agent busy"),
    AgentDidNotReact: (504, "Agent did not react"),
    AgentExited: (503, "Agent not running"),
    AgentWriteFailed: (503, "Agent terminal failed"),
    UploadTooLarge: (413, "Payload Too Large"),
    BadUpload: (400, "Bad Request"),
}


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = ErrorModel(
        title=title,
        status=status,
        detail=detail,
        errors=[ErrorDetail.model_validate(e) for e in errors] if errors else None,
    )
    return Response(body.to_json(), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def answer_for(exc: AgentApiError) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in ANSWERS:
            return ANSWERS[kind]
    return 500, "Internal Server Error"


def problem_for(exc: AgentApiError) -> Response:
    status, title = answer_for(exc)
    return problem(status, title, str(exc))
