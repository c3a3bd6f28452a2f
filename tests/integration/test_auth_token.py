"""--auth-token on the real daemon: every request needs the token, as a Bearer header or
as the cookie the chat page gets from a ?token= link."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import DEMO, Daemon

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    started = Daemon(
        tmp_path_factory.mktemp("auth"),
        [*DEMO, "--think", "0.2"],
        ["--auth-open-status"],
        {"AGENTAPI_AUTH_TOKEN": TOKEN},
        None,
    )
    try:
        started.wait_listening()  # /status is open: no token needed to see it answer
        yield started
    finally:
        started.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/messages"), ("GET", "/events"), ("POST", "/message"), ("GET", "/chat/embed")],
)
def test_without_the_token_every_request_is_a_401_problem(daemon, method, path):
    for headers in ({}, {"authorization": "Bearer wrong"}, {"cookie": "agentapi_token=nope"}):
        response = daemon.http.request(
            method, path, headers=headers, json={"content": "hi", "type": "user"}
        )
        assert response.status_code == 401, (path, headers)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["title"] == "Unauthorized"


def test_the_bearer_token_opens_the_api(daemon):
    auth = {"authorization": f"Bearer {TOKEN}"}
    assert daemon.http.get("/messages", headers=auth).status_code == 200
    with daemon.http.stream("GET", "/events", headers=auth, timeout=10) as stream:
        assert stream.status_code == 200


def test_status_can_be_left_open_for_health_checks(daemon):
    assert daemon.http.get("/status").status_code == 200


def test_a_token_link_sets_the_cookie_and_drops_the_token_from_the_address(daemon):
    with httpx.Client(base_url=daemon.url, timeout=10) as browser:
        response = browser.get(f"/chat/embed?token={TOKEN}&x=1")
        assert response.status_code == 303
        assert response.headers["location"] == "/chat/embed?x=1"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert browser.get("/chat/embed?x=1").status_code == 200  # the cookie is kept
        assert browser.get("/messages").status_code == 200
    with httpx.Client(base_url=daemon.url, timeout=10) as stranger:
        assert stranger.get(f"/chat/embed?token=wrong{TOKEN}").status_code == 401
        assert "set-cookie" not in stranger.get(f"/chat/embed?token={TOKEN[:-1]}").headers


def test_a_preflight_needs_no_token(daemon):
    response = daemon.http.options(
        "/message",
        headers={"origin": "http://localhost:3284", "access-control-request-method": "POST"},
    )
    assert response.status_code == 204


def test_the_client_library_sends_the_token(daemon, monkeypatch):
    from agentapi.client import Client, ProblemError

    with Client(daemon.url, token=TOKEN) as client:
        assert client.messages()[0].role.value == "agent"
    monkeypatch.setenv("AGENTAPI_AUTH_TOKEN", TOKEN)
    with Client(daemon.url) as client:  # as attach and the CLI commands do
        assert client.messages()
    monkeypatch.delenv("AGENTAPI_AUTH_TOKEN")
    with Client(daemon.url) as client, pytest.raises(ProblemError, match="401"):
        client.messages()
