"""--bind: which addresses the daemon listens on, with real sockets."""

from __future__ import annotations

import socket

import pytest

from agentapi.cli.bind import bind_sockets, parse_bind
from agentapi.cli.config import parse_server_args
from agentapi.errors import UsageError


def outside_address() -> str | None:
    """This machine's address on its main interface (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.mark.parametrize(
    ("text", "bind"),
    [
        ("localhost", "localhost"),
        ("LOCALHOST", "localhost"),
        ("*", "*"),
        ("0.0.0.0", "0.0.0.0"),
        ("::", "::"),
        ("[::1]", "::1"),
        (" 127.0.0.1 ", "127.0.0.1"),
    ],
)
def test_bind_values(text, bind):
    assert parse_bind(text) == bind


@pytest.mark.parametrize("text", ["example.com", "127.0.0.1:3284", "", "300.1.1.1"])
def test_bad_bind_values_are_usage_errors(text):
    with pytest.raises(UsageError, match="invalid --bind address"):
        parse_bind(text)


def test_the_default_is_loopback_and_the_variable_sets_it():
    assert parse_server_args(["--", "x"], {}).bind == "localhost"
    assert parse_server_args(["--", "x"], {"AGENTAPI_BIND": "*"}).bind == "*"
    assert parse_server_args(["--bind", "0.0.0.0", "--", "x"], {"AGENTAPI_BIND": "*"}).bind == (
        "0.0.0.0"
    )


def test_localhost_is_reachable_on_loopback_only():
    socks = bind_sockets("localhost", 0)
    try:
        port = socks[0].getsockname()[1]
        hosts = {s.getsockname()[0] for s in socks}
        assert hosts <= {"127.0.0.1", "::1"} and "127.0.0.1" in hosts
        assert all(s.getsockname()[1] == port for s in socks)
        assert reachable("127.0.0.1", port)
        outside = outside_address()
        if outside is not None:
            assert not reachable(outside, port)
    finally:
        for s in socks:
            s.close()


def test_star_is_reachable_from_outside_too():
    outside = outside_address()
    if outside is None:
        pytest.skip("this machine has no address besides loopback")
    [sock] = bind_sockets("*", 0)
    try:
        port = sock.getsockname()[1]
        assert reachable(outside, port) and reachable("127.0.0.1", port)
    finally:
        sock.close()
