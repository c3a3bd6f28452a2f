"""Hostile and broken requests against the real daemon: each is a 4xx, nothing is typed,
and the daemon goes on serving everyone."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http_helpers import sse_events
from tests.integration.conftest import DEMO, Daemon


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    started = Daemon(tmp_path_factory.mktemp("bad-input"), [*DEMO, "--think", "0.2"], [], {}, None)
    try:
        yield started.ready()
    finally:
        started.close()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def assert_untouched(daemon: Daemon, before: list[dict]) -> None:
    assert daemon.messages() == before
    assert daemon.status() == "stable"
    assert "Traceback" not in daemon.log()


def test_a_web_form_cannot_type_into_the_agent(daemon):
    # The repro: text/plain is what a cross-site HTML form sends, and the `$schema`
    # key swallows the form's `=`.
    before = daemon.messages()
    response = daemon.http.post(
        "/message",
        content=b'{"content":"hi","type":"user","$schema":"="}',
        headers={"origin": "http://evil.com", "content-type": "text/plain"},
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Unsupported Media Type"
    assert_untouched(daemon, before)


def test_a_foreign_host_gets_the_host_refusal_even_for_a_preflight(daemon):
    response = daemon.http.options(
        "/message",
        headers={
            "host": "evil.example",
            "origin": "http://localhost:3284",
            "access-control-request-method": "POST",
        },
    )
    assert response.status_code == 400
    assert response.text.startswith("Invalid host header")
    assert not [h for h in response.headers if h.startswith("access-control-")]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"content": NaN, "type": "user"}', "NaN"),
        (b'{"content": "hi", "type": "user", "x": Infinity}', "Infinity"),
        (b'{"content": 1e999, "type": "user"}', "too large"),
        (b'{"content": ' + b"1" * 4301 + b', "type": "user"}', "too many digits"),
        (b'{"content": ' + b"[" * 1100 + b"]" * 1100 + b', "type": "user"}', "nested"),
        (b'{"content": "\\ud800", "type": "user"}', "surrogate"),
        (b'{"content": "hi\x00\xff", "type": "user"}', "UTF-8"),
    ],
)
def test_bodies_that_used_to_be_500s_are_400s(daemon, body, reason):
    before = daemon.messages()
    response = daemon.http.post(
        "/message", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["status"] == 400 and reason in problem["detail"]
    assert_untouched(daemon, before)


def test_an_unserialisable_value_is_not_echoed_in_a_422(daemon):
    # A valid body whose wrong-typed field holds deep nesting and a long string.
    body = {"content": [[["x" * 10_000]]], "type": "user", "extra": "y" * 10_000}
    response = daemon.http.post("/message", json=body)
    assert response.status_code == 422
    values = [e.get("value") for e in response.json()["errors"]]
    assert "<array>" in values
    assert all(not isinstance(v, str) or len(v) <= 201 for v in values)


def _chunked_post(port: int, total: int) -> tuple[int, bytes]:
    """POST /message with a chunked body of ``total`` bytes; returns (bytes sent, answer)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)
    head = (
        "POST /message HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    sock.sendall(head.encode())
    chunk = b"x" * 65536
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    sent = 0
    try:
        while sent < total:
            sock.sendall(framed)
            sent += len(chunk)
    except OSError:
        pass  # the daemon answered and closed the connection: that is the point
    answer = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    sock.close()
    return sent, answer


def test_a_huge_chunked_body_is_refused_while_it_is_read(daemon):
    before_rss = rss_kib(daemon.proc.pid)
    sent, answer = _chunked_post(daemon.port, 100 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["detail"] == "The request body is larger than 4 MiB."
    # The sender was cut off long before 100 MB (what is left is socket buffers).
    assert sent < 40 * 1024 * 1024
    time.sleep(0.2)
    assert rss_kib(daemon.proc.pid) - before_rss < 20 * 1024
    assert daemon.status() == "stable"


def test_a_user_message_cannot_break_out_of_the_paste(daemon):
    # The repro: without the daemon's filtering the demo agent runs `/exit 7`.
    response = daemon.http.post(
        "/message", json={"content": "hello\u001b[201~\r/exit 7\r", "type": "user"}
    )
    assert response.status_code == 200, response.text
    daemon.wait_status("stable")
    assert daemon.proc.poll() is None, daemon.log()
    messages = daemon.messages()
    assert messages[-2]["role"] == "user"
    assert messages[-2]["content"] == "hello\n/exit 7"
    assert messages[-1]["content"].startswith("● You said: hello")


def test_escape_sequences_in_a_user_message_do_not_reach_the_screen(daemon):
    response = daemon.http.post(
        "/message", json={"content": "\u001b[2J\u001b[31mred\u001b[0m text", "type": "user"}
    )
    assert response.status_code == 200, response.text
    daemon.wait_status("stable")
    messages = daemon.messages()
    assert messages[-2]["content"] == "red text"
    assert "You said: red text" in messages[-1]["content"]
    # The start-up banner is still on the agent's screen: nothing cleared it.
    with daemon.http.stream("GET", "/internal/screen", timeout=10) as stream:
        event, data = next(sse_events(stream))
    assert event == "screen"
    assert "agentapi demo agent" in data["screen"]


def test_a_user_message_of_nothing_but_controls_is_empty(daemon):
    before = daemon.messages()
    response = daemon.http.post("/message", json={"content": "\u001b[201~\r\u0003", "type": "user"})
    assert response.status_code == 422
    assert "empty" in response.json()["detail"]
    assert_untouched(daemon, before)


def test_a_page_on_another_site_cannot_upload_or_interrupt(daemon):
    # What is left to a cross-site page without a preflight: a multipart form and an empty
    # POST. Both are refused unless they come from the daemon's own origin, an allowed one,
    # or carry the header only our own pages (or scripts) can add.
    before = daemon.messages()
    foreign = {"origin": "http://evil.com"}
    upload = daemon.http.post("/upload", files={"file": ("x.txt", b"x")}, headers=foreign)
    assert upload.status_code == 403
    assert "another site" in upload.json()["detail"]
    interrupt = daemon.http.post("/interrupt", headers=foreign)
    assert interrupt.status_code == 403
    assert_untouched(daemon, before)


def test_our_own_pages_and_scripts_still_upload_and_interrupt(daemon):
    own = {"origin": daemon.url}  # the chat page served by this daemon
    marked = {"origin": "https://coder.example.com", "x-agentapi-client": "chat"}  # behind a proxy
    for headers in ({}, own, marked, {"origin": "http://localhost:3284"}):
        upload = daemon.http.post("/upload", files={"file": ("x.txt", b"x")}, headers=headers)
        assert upload.status_code == 200, (headers, upload.text)
        interrupt = daemon.http.post("/interrupt", headers=headers)
        assert interrupt.status_code == 200, (headers, interrupt.text)
        assert interrupt.json()["interrupted"] is False
