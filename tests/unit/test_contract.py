"""The contract checker itself: it must catch what it exists to catch."""

from __future__ import annotations

import pytest

from agentapi.messages import AgentIdentity, AgentStatus, Message, MessageUpdateBody, wall_time
from tests.contract import ContractViolation, check_body, check_event

IDENTITY = AgentIdentity(agent_type="custom", adapter="custom", agent_name="Custom")


def status_body() -> dict:
    return IDENTITY.status_body(AgentStatus.STABLE).to_wire()


def test_what_the_daemon_serialises_fits_the_document() -> None:
    check_body("GET", "/status", 200, "application/json", status_body())
    message = Message(id=0, content="hi", role="agent", time=wall_time(0))  # type: ignore[arg-type]
    check_event(
        "message_update",
        MessageUpdateBody.of(message).to_wire(),
    )


def test_an_undocumented_field_is_a_violation() -> None:
    with pytest.raises(ContractViolation, match="surprise"):
        check_body("GET", "/status", 200, "application/json", {**status_body(), "surprise": 1})


def test_a_wrong_status_value_is_a_violation() -> None:
    with pytest.raises(ContractViolation, match="status"):
        check_body("GET", "/status", 200, "application/json", {**status_body(), "status": "idle"})


def test_a_time_without_an_offset_is_a_violation() -> None:
    data = {"id": 0, "role": "agent", "message": "hi", "time": "2026-12-02T10:00:00"}
    with pytest.raises(ContractViolation, match="date-time"):
        check_event("message_update", data)


def test_an_undocumented_event_or_media_type_is_a_violation() -> None:
    with pytest.raises(ContractViolation, match="not documented"):
        check_event("permission_request", {})
    with pytest.raises(ContractViolation, match="text/html"):
        check_body("GET", "/status", 200, "text/html", {})


def test_a_problem_for_a_wrong_method_must_still_be_a_problem_document() -> None:
    problem = {"title": "Method Not Allowed", "status": 405, "detail": "GET is not allowed"}
    check_body("GET", "/message", 405, "application/problem+json", problem)
    with pytest.raises(ContractViolation):
        check_body("GET", "/message", 405, "application/problem+json", {"oops": True})
