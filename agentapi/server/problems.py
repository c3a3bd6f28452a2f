"""RFC 9457 problem documents: every error the API answers looks like this.

The one place where the daemon's errors become HTTP status codes.
"""

from __future__ import annotations

import dataclasses
import math
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
    PermissionChoiceInvalid,
    PermissionNotPending,
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
    PermissionNotPending: (404, "No such permission request"),
    PermissionChoiceInvalid: (422, "Unprocessable Entity"),
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
        errors=[ErrorDetail(**_echoable(e)) for e in errors] if errors else None,
    )
    return Response(
        problem_bytes(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def problem_bytes(body: ErrorModel) -> bytes:
    """The document's JSON, whatever it holds: a problem must never become a 500 itself."""
    try:
        return body.to_json()
    except (TypeError, ValueError):
        # Something in ``errors`` cannot be serialised (a value from a hostile body):
        # answer without the details rather than not at all.
        return dataclasses.replace(body, errors=None).to_json()


MAX_ECHOED_CHARS = 200


def _plain_scalar(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) <= 2**53  # what every JSON reader takes exactly
    return isinstance(value, float) and math.isfinite(value)


def _echoable(error: Mapping[str, Any]) -> dict[str, Any]:
    """An error detail whose ``value`` is safe and short to send back.

    The value a client sent is echoed only when it is a short scalar: a container
    may be nested thousands of levels deep and a string may be megabytes long or
    hold a lone surrogate, and none of that belongs in an error answer.
    """
    value = error.get("value")
    if isinstance(value, str):
        value = value.encode("utf-8", "replace").decode("utf-8")
        if len(value) > MAX_ECHOED_CHARS:
            value = value[:MAX_ECHOED_CHARS] + "…"
    elif isinstance(value, (dict, list, tuple)):
        value = "<object>" if isinstance(value, dict) else "<array>"
    elif not _plain_scalar(value):
        value = None
    return {**error, "value": value}


def answer_for(exc: AgentApiError) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in ANSWERS:
            return ANSWERS[kind]
    return 500, "Internal Server Error"


def problem_for(exc: AgentApiError) -> Response:
    status, title = answer_for(exc)
    return problem(status, title, str(exc))
