"""schemathesis against our own OpenAPI document, on the real daemon with the demo agent.

Every operation, positive and negative examples, a fixed seed and a bounded number of
examples: no 5xx, and every answer conforms to the document (status code, content
type, headers, body schema). The event streams are read only up to their headers.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agentapi.adapters.paste import user_text
from agentapi.server.openapi import build_openapi
from tests.integration.conftest import DEMO, Daemon

SCHEMA = schemathesis.openapi.from_dict(build_openapi())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
STREAMS = {"/events", "/internal/screen"}
FUZZ = settings(
    max_examples=25,
    derandomize=True,  # the same examples on every run
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    started = Daemon(tmp_path_factory.mktemp("fuzz"), [*DEMO, "--think", "0"], [], {}, None)
    try:
        yield started.ready()
    finally:
        started.close()


def _tame(case) -> None:
    """Keep the run short and the demo agent alive, without narrowing what is checked:
    long-poll waits are cut to a fraction of a second, and a raw message loses its
    control keys (Ctrl-C, Enter) that would end the demo agent or submit its input."""
    for name in ("wait", "timeout"):
        value = (case.query or {}).get(name)
        try:
            seconds = float(value)  # generated as a number or as its text
        except (TypeError, ValueError):
            continue
        if seconds > 0.2:
            case.query[name] = 0.2
    body = case.body
    raw = isinstance(body, dict) and body.get("type") == "raw"
    if raw and isinstance(body.get("content"), str):
        body["content"] = user_text(body["content"]).replace("\n", "").replace("\t", "")


@SCHEMA.exclude(path_regex="^/(events|internal/screen)$").parametrize()
@FUZZ
def test_every_answer_is_a_4xx_or_conforms(daemon, case):
    _tame(case)
    case.call_and_validate(base_url=daemon.url, checks=CHECKS, timeout=30)
    assert daemon.proc.poll() is None, daemon.log()


@SCHEMA.include(path_regex="^/(events|internal/screen)$").parametrize()
@settings(FUZZ, max_examples=15)
def test_event_streams_answer_with_a_stream_or_a_problem(daemon, case):
    # The generated query and headers, sent by a client that stops after the headers
    # (a stream never ends by itself).
    headers = {k: str(v) for k, v in (case.headers or {}).items()}
    with httpx.stream(
        case.method,
        daemon.url + case.formatted_path,
        params=case.query,
        headers=headers,
        timeout=10,
    ) as response:
        assert response.status_code < 500
        kind = response.headers["content-type"]
        if response.status_code == 200:
            assert kind.startswith("text/event-stream")
        else:
            assert kind == "application/problem+json"
