"""Which addresses the daemon listens on (``--bind`` / ``AGENTAPI_BIND``).

The default is ``localhost``: 127.0.0.1, and ::1 where the machine has IPv6. Only
processes on the same machine (or in the same container) can then reach the agent,
which is what a reverse proxy or Coder's workspace agent on that machine needs.
``*`` listens on every interface, IPv6 and IPv4 alike, as the original daemon
always does; any other value is one IP address (``0.0.0.0``, ``::``,
``192.168.1.5``, ``[::1]``).
"""

from __future__ import annotations

import errno
import ipaddress
import socket

from agentapi.errors import StartupError, UsageError

DEFAULT_BIND = "localhost"
ALL_INTERFACES = "*"


def parse_bind(text: str) -> str:
    value = text.strip()
    if value.lower() == DEFAULT_BIND or value == ALL_INTERFACES:
        return value.lower()
    try:
        return str(ipaddress.ip_address(value.removeprefix("[").removesuffix("]")))
    except ValueError:
        raise UsageError(
            f"invalid --bind address {text!r}: expected localhost, * or an IP address"
        ) from None


def _listen(family: socket.AddressFamily, host: str, port: int, dual_stack: bool) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if dual_stack else 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _in_use(port: int, host: str) -> StartupError:
    return StartupError(f"port {port} is already in use on {host}")


def bind_sockets(bind: str, port: int) -> list[socket.socket]:
    """Listening sockets for ``bind`` (as returned by ``parse_bind``) and ``port``."""
    if bind == ALL_INTERFACES:
        return [_bind_everywhere(port)]
    if bind == DEFAULT_BIND:
        try:
            first = _listen(socket.AF_INET, "127.0.0.1", port, dual_stack=False)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise _in_use(port, "127.0.0.1") from None
            raise StartupError(f"cannot listen on 127.0.0.1 port {port}: {exc}") from None
        # The same port on ::1 (port 0 picked one above), where the machine has IPv6.
        chosen = first.getsockname()[1]
        try:
            return [first, _listen(socket.AF_INET6, "::1", chosen, dual_stack=False)]
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                first.close()
                raise _in_use(port, "::1") from None
            return [first]
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    try:
        return [_listen(family, bind, port, dual_stack=bind == "::")]
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise _in_use(port, bind) from None
        raise StartupError(f"cannot listen on {bind} port {port}: {exc}") from None


def _bind_everywhere(port: int) -> socket.socket:
    """Every address, IPv6 and IPv4 alike when the machine allows it."""
    last: OSError | None = None
    for family, host in ((socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")):
        try:
            return _listen(family, host, port, dual_stack=True)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartupError(f"port {port} is already in use") from None
            last = exc
    raise StartupError(f"cannot listen on port {port}: {last}")
