"""Host allow-list and CORS rules, through a real ASGI app and a test client."""

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from agentapi.errors import UsageError
from agentapi.hosts import (
    DEFAULT_ALLOWED_HOSTS,
    DEFAULT_ALLOWED_ORIGINS,
    parse_allowed_hosts,
    parse_allowed_origins,
)
from agentapi.server.security import (
    CorsMiddleware,
    HostAllowListMiddleware,
)


def make_client(hosts=DEFAULT_ALLOWED_HOSTS, origins=DEFAULT_ALLOWED_ORIGINS, host="localhost"):
    async def hello(request):
        return PlainTextResponse("hello")

    app = Starlette(routes=[Route("/", hello, methods=["GET", "POST"])])
    app.add_middleware(HostAllowListMiddleware, allowed_hosts=parse_allowed_hosts(hosts))
    app.add_middleware(CorsMiddleware, allowed_origins=parse_allowed_origins(origins))
    return TestClient(app, base_url=f"http://{host}")


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("http://example.com", "must not include http:// or https://"),
        ("https://example.com", "must not include http:// or https://"),
        ("example.com:8080", "must not include a port"),
        ("[::1]:3284", "must not include a port"),
        ("a.com,b.com", "contains comma characters"),
        ("a.com b.com", "contains whitespace characters"),
    ],
)
def test_bad_host_items_are_start_up_errors(item, message):
    with pytest.raises(UsageError, match=message):
        parse_allowed_hosts([item])


def test_empty_host_list_is_an_error():
    with pytest.raises(UsageError, match="empty"):
        parse_allowed_hosts(["", "  "])


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("localhost:3000", "must be an origin with a scheme"),
        ("http://a.com,http://b.com", "contains comma characters"),
        ("http://a.com http://b.com", "contains whitespace characters"),
    ],
)
def test_bad_origins_are_start_up_errors(item, message):
    with pytest.raises(UsageError, match=message):
        parse_allowed_origins([item])


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:3284", "127.0.0.1:9", "[::1]:3284", "[::1]"]
)
def test_default_hosts_pass_with_any_port_and_case(host):
    client = make_client()
    response = client.get("/", headers={"host": host})
    assert response.status_code == 200
    assert response.text == "hello"


def test_other_host_gets_plain_400_naming_the_allowed_hosts():
    client = make_client()
    response = client.get("/", headers={"host": "evil.example:3284"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        response.text.strip() == "Invalid host header. Allowed hosts: localhost, 127.0.0.1, [::1]"
    )


def test_star_allows_every_host():
    client = make_client(hosts=["*"])
    assert client.get("/", headers={"host": "anything.example"}).status_code == 200


def test_custom_host_list_is_case_insensitive():
    client = make_client(hosts=["Workspace.Example"])
    assert client.get("/", headers={"host": "workspace.example:80"}).status_code == 200
    assert client.get("/", headers={"host": "localhost"}).status_code == 400


def test_allowed_origin_is_echoed_with_credentials():
    client = make_client()
    response = client.get("/", headers={"origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "Link"
    assert "Origin" in response.headers["vary"]


def test_disallowed_origin_gets_answer_without_cors_headers():
    client = make_client()
    response = client.get("/", headers={"origin": "https://elsewhere.example"})
    assert response.status_code == 200
    assert response.text == "hello"
    assert "access-control-allow-origin" not in response.headers


def test_preflight_for_allowed_origin():
    client = make_client()
    response = client.options(
        "/",
        headers={
            "origin": "http://localhost:3284",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:3284"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "Content-Type" in response.headers["access-control-allow-headers"]
    assert response.headers["access-control-max-age"] == "300"


def test_preflight_for_other_origin_is_not_refused():
    client = make_client()
    response = client.options(
        "/",
        headers={"origin": "https://elsewhere.example", "access-control-request-method": "POST"},
    )
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers


def test_wildcard_origin_matches_subdomains_only():
    client = make_client(origins=["https://*.example.com"])
    ok = client.get("/", headers={"origin": "https://ws-1.example.com"})
    assert ok.headers["access-control-allow-origin"] == "https://ws-1.example.com"
    for other in (
        "https://example.com",
        "http://ws-1.example.com",
        "https://ws-1.example.com.evil",
    ):
        response = client.get("/", headers={"origin": other})
        assert "access-control-allow-origin" not in response.headers, other


def test_star_origin_allows_any():
    client = make_client(origins=["*"])
    response = client.get("/", headers={"origin": "https://anything.example"})
    assert response.headers["access-control-allow-origin"] == "https://anything.example"
