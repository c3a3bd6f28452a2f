"""The request guard and the JSON body reader, through a real ASGI app."""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from agentapi.server.bodies import BadJson, parse_json
from agentapi.server.guard import BodyRules, RequestGuardMiddleware
from agentapi.server.problems import problem

LIMIT = 1024


def make_client(rules: BodyRules | None = None) -> TestClient:
    async def echo(request: Request) -> JSONResponse:
        raw = await request.body()
        return JSONResponse({"length": len(raw)})

    app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])])
    rules = rules or BodyRules(limits={"/message": LIMIT}, multipart_paths=frozenset({"/upload"}))
    app.add_middleware(RequestGuardMiddleware, rules=rules)
    return TestClient(app)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ],
)
def test_a_body_that_is_not_json_is_refused_with_415(content_type):
    # What an HTML form on any web site can send without a CORS preflight.
    body = b'{"content":"hi","type":"user","$schema":"="}'
    response = make_client().post("/message", content=body, headers={"content-type": content_type})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Unsupported Media Type"
    assert "application/json" in response.json()["detail"]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/merge-patch+json"],
)
def test_json_content_types_pass(content_type):
    response = make_client().post("/message", content=b"{}", headers={"content-type": content_type})
    assert response.status_code == 200
    assert response.json() == {"length": 2}


def test_an_undeclared_body_passes_from_a_script_but_not_from_a_web_page():
    client = make_client()
    assert client.post("/message", content=b"{}").status_code == 200
    from_page = client.post("/message", content=b"{}", headers={"origin": "https://evil.example"})
    assert from_page.status_code == 415


def test_an_empty_form_post_is_refused_too():
    # A form with no fields still posts a form: an endpoint without a body is no exception.
    response = make_client().post(
        "/interrupt", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415


def test_an_empty_body_of_a_type_no_form_sends_passes():
    response = make_client().post(
        "/interrupt", headers={"content-type": "application/octet-stream"}
    )
    assert response.status_code == 200


def test_multipart_paths_take_any_type():
    response = make_client().post(
        "/upload", content=b"--x--", headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert response.status_code == 200


def test_declared_length_over_the_limit_is_refused_without_reading():
    response = make_client().post(
        "/message", content=b"x" * (LIMIT + 1), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is larger than 1 KiB."
    assert response.headers["connection"] == "close"


def test_a_chunked_body_over_the_limit_is_refused():
    # (That it is refused before the rest is read is shown against the real server, in
    # tests/integration/test_bad_input.py: the test client reads the whole body first.)
    def chunks():
        for _ in range(10):
            yield b"x" * 256

    response = make_client().post(
        "/message", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_exactly_the_limit_is_accepted():
    response = make_client().post(
        "/message", content=b"x" * LIMIT, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200


def test_other_paths_have_the_default_limit():
    rules = BodyRules(default_limit=10)
    response = make_client(rules).post(
        "/other", content=b"x" * 11, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_a_body_that_stops_arriving_times_out_with_408():
    async def handler(request: Request) -> JSONResponse:
        return JSONResponse({"length": len(await request.body())})

    app = Starlette(routes=[Route("/message", handler, methods=["POST"])])
    app.add_middleware(RequestGuardMiddleware, rules=BodyRules(idle_s=0.05, total_s=5))
    parts = [{"type": "http.request", "body": b"{", "more_body": True}]
    stalled = asyncio.Event()

    async def receive():
        if parts:
            return parts.pop()
        await stalled.wait()  # the client never sends the rest
        raise AssertionError("unreachable")

    answers = []

    async def send(message):
        answers.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/message",
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        "query_string": b"",
    }
    await asyncio.wait_for(app(scope, receive, send), 2)
    assert answers[0]["status"] == 408
    assert json.loads(answers[1]["body"])["title"] == "Request Timeout"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"content": NaN, "type": "user"}', "NaN is not a JSON number"),
        (b'{"content": Infinity}', "Infinity is not a JSON number"),
        (b'{"content": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"content": 1e999}', "too large"),
        (b'{"content": ' + b"9" * 5000 + b"}", "too many digits"),
        (b"[" * 5000 + b"]" * 5000, "nested deeper than 64"),
        (b'{"content": "\\ud800", "type": "user"}', "lone UTF-16 surrogate"),
        (b'{"\\udfff": 1}', "lone UTF-16 surrogate"),
        (b'\xff{"content": "x"}', "not valid UTF-8"),
        (b'{"content": "x\xc3"}', "not valid UTF-8"),
        (b"", "Expecting value"),
    ],
)
def test_json_a_parser_would_choke_on_is_a_short_reason(raw, reason):
    with pytest.raises(BadJson, match=reason) as caught:
        parse_json(raw)
    assert len(str(caught.value)) < 100


def test_json_with_brackets_inside_strings_and_surrogate_pairs_is_fine():
    raw = b'{"content": "' + b"[{" * 5000 + b'\\ud83d\\ude00", "type": "user"}'
    assert parse_json(raw) == {"content": "[{" * 5000 + "😀", "type": "user"}


def test_a_problem_never_echoes_what_it_cannot_send():
    response = problem(
        422,
        "Unprocessable Entity",
        "bad",
        errors=[
            {"location": "body.a", "message": "m", "value": float("nan")},
            {"location": "body.b", "message": "m", "value": "\ud800" + "x" * 1000},
            {"location": "body.c", "message": "m", "value": [[[[]]]]},
            {"location": "body.d", "message": "m", "value": 10**100},
        ],
    )
    values = [e.get("value") for e in json.loads(response.body)["errors"]]
    assert values[0] is None
    assert values[1].startswith("?xxx") and len(values[1]) == 201
    assert values[2] == "<array>"
    assert values[3] is None
