"""HTTP details a client relies on: problem documents, headers, the OpenAPI document."""

import json
from pathlib import Path

import pytest

from tests.http_helpers import sse_events

# The original daemon's published OpenAPI document, kept here as the contract to cover.
UPSTREAM = Path(__file__).resolve().parents[1] / "fixtures" / "contract" / "upstream-openapi.json"


def test_status_shape(demo):
    response = demo.http.get("/status")
    assert response.status_code == 200
    # agent_type, status and transport as the original sends them; adapter and agent_name are
    # ours (old clients ignore unknown fields).
    assert response.json() == {
        "status": "stable",
        "agent_type": "custom",
        "transport": "pty",
        "adapter": "custom",
        "agent_name": "Custom",
    }


def test_an_adapter_the_original_does_not_know_reports_custom(start_daemon, tmp_path):
    # The original's chat page looks agent_type up in its fixed list and crashes on "demo".
    spec = tmp_path / "my-agent.toml"
    spec.write_text(
        (Path(__file__).parents[2] / "adapters" / "demo.toml")
        .read_text()
        .replace('name = "demo"', 'name = "my-agent"')
    )
    for flags, adapter in ((["--type", "demo"], "demo"), (["--adapter", str(spec)], "my-agent")):
        daemon = start_daemon(flags=[*flags, "--type", adapter]).ready()
        body = daemon.http.get("/status").json()
        assert (body["agent_type"], body["adapter"]) == ("custom", adapter)
        with daemon.http.stream("GET", "/events", timeout=10) as stream:
            for event, data in sse_events(stream):
                if event == "status_change":
                    assert (data["agent_type"], data["adapter"]) == ("custom", adapter)
                    break
        daemon.close()


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (b'{"type": "user"}', 422, "MessageRequestBody"),
        (b'{"content": "hi", "type": "shout"}', 422, "MessageRequestBody"),
        (b'{"content": 5, "type": "user"}', 422, "MessageRequestBody"),
        (b'{"content": "hi", "type": "user", "extra": 1}', 422, "MessageRequestBody"),
        (b'{"content": "   \\n ", "type": "user"}', 422, "empty"),
        (b"\xff\xfe", 400, "not valid JSON"),
    ],
)
def test_bad_bodies_are_problems_and_leave_the_transcript_alone(demo, body, status, fragment):
    before = demo.messages()
    response = demo.http.post(
        "/message", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["title"]
    assert fragment in problem["detail"]
    assert demo.messages() == before
    assert demo.status() == "stable"


def test_validation_problem_names_the_field(demo):
    response = demo.http.post("/message", json={"type": "user"})
    errors = response.json()["errors"]
    assert any(e["location"] == "body.content" for e in errors)


def test_schema_field_is_accepted(demo):
    body = {"$schema": "http://x/schemas/MessageRequestBody.json", "content": "q", "type": "raw"}
    assert demo.http.post("/message", json=body).status_code == 200


def test_unknown_path_and_wrong_method_are_problems(demo):
    missing = demo.http.get("/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = demo.http.get("/message")
    assert wrong.status_code == 405
    assert wrong.json()["status"] == 405


def test_root_redirects_to_the_chat_page(demo):
    response = demo.http.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/chat/embed"
    page = demo.http.get("/chat/embed")
    assert page.status_code == 200 and "agentapi" in page.text


def test_docs_page_works_offline(demo):
    page = demo.http.get("/docs")
    assert page.status_code == 200
    assert "openapi.json" in page.text
    assert "<script src" not in page.text and "cdn" not in page.text.lower()


def test_openapi_covers_the_upstream_contract(demo):
    ours = demo.http.get("/openapi.json").json()
    upstream = json.loads(UPSTREAM.read_text())
    for path, methods in upstream["paths"].items():
        for method, op in methods.items():
            assert method in ours["paths"][path], f"{method} {path}"
            assert ours["paths"][path][method]["operationId"] == op["operationId"]
    for name, schema in upstream["components"]["schemas"].items():
        assert name in ours["components"]["schemas"], name
        mine = ours["components"]["schemas"][name]
        assert set(schema.get("required", [])) <= set(mine.get("required", [])), name
        if "enum" in schema:
            assert sorted(mine["enum"]) == sorted(schema["enum"]), name
        for prop in schema.get("properties", {}):
            if prop != "$schema":
                assert prop in mine.get("properties", {}), f"{name}.{prop}"


def test_print_openapi_matches_the_served_document(demo):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "agentapi", "server", "--print-openapi"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == demo.http.get("/openapi.json").json()


def test_host_allow_list(demo):
    ok = demo.http.get("/status", headers={"host": "LOCALHOST:3284"})
    assert ok.status_code == 200
    bad = demo.http.get("/status", headers={"host": "evil.example"})
    assert bad.status_code == 400
    assert "localhost" in bad.text and "127.0.0.1" in bad.text


def test_cors_allows_listed_origins_and_never_refuses_others(demo):
    allowed = demo.http.get("/status", headers={"origin": "http://localhost:3000"})
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    other = demo.http.get("/status", headers={"origin": "https://elsewhere.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers
    preflight = demo.http.options(
        "/message",
        headers={"origin": "https://elsewhere.example", "access-control-request-method": "POST"},
    )
    assert preflight.status_code != 400
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_headers_reach_event_streams(demo):
    with demo.http.stream(
        "GET", "/events", headers={"origin": "http://localhost:3284"}, timeout=10
    ) as stream:
        assert stream.headers["access-control-allow-origin"] == "http://localhost:3284"
