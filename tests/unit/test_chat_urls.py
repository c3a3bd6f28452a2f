"""The chat page's URL rules: the relative root for any page path, and ``?url=`` origins."""

import pytest

from agentapi.server.chat import other_daemon, root_href


@pytest.mark.parametrize(
    ("path", "root"),
    [("/chat", "./"), ("/chat/", "../"), ("/chat/embed", "../"), ("/chat/a/b", "../../")],
)
def test_root_href_climbs_to_the_daemon_root(path, root):
    assert root_href(path) == root


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:3285", "http://127.0.0.1:3285"),
        ("https://agent.example.com/some/path?x=1", "https://agent.example.com"),
        ("http://user:pw@host:8080/", "http://host:8080"),
        ("http://[::1]:3284/", "http://[::1]:3284"),
    ],
)
def test_other_daemon_is_the_origin_of_an_http_url(url, origin):
    assert other_daemon(url) == origin


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "ftp://host/",
        "/relative/path",
        "http://host:notaport/",
        "http://host; script-src *",
        "http://ho'st/",
    ],
)
def test_other_daemon_refuses_anything_that_could_widen_the_policy(url):
    assert other_daemon(url) is None
