"""The values of --allowed-hosts and --allowed-origins: defaults, checks, and host names.

Checked once, at start-up, with the original's rules; the server's middleware then
only compares.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from agentapi.errors import UsageError

DEFAULT_ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
DEFAULT_ALLOWED_ORIGINS = [
    "http://localhost:3284",
    "http://localhost:3000",
    "http://localhost:3001",
]

_WHITESPACE = re.compile(r"\s")


def _check_item(item: str) -> None:
    if _WHITESPACE.search(item):
        raise UsageError(f"'{item}' contains whitespace characters, which are not allowed")
    if "," in item:
        raise UsageError(f"'{item}' contains comma characters, which are not allowed")


def hostname_of(item: str) -> str | None:
    """The hostname part of a host item or Host header; None when it has none."""
    try:
        parts = urlsplit("http://" + item)
        return parts.hostname  # lower-cased, IPv6 brackets removed
    except ValueError:
        return None


def _port(item: str) -> int | None:
    try:
        return urlsplit("http://" + item).port
    except ValueError:
        return -1  # an unparsable port is still "a port"


def parse_allowed_hosts(items: Iterable[str]) -> list[str]:
    """Validate host items; `*` anywhere means every host is allowed."""
    hosts = [item.strip() for item in items if item.strip()]
    if not hosts:
        raise UsageError("the list of allowed hosts is empty")
    for item in hosts:
        _check_item(item)
        if item == "*":
            continue
        if item.lower().startswith(("http://", "https://")):
            raise UsageError(f"'{item}' must not include http:// or https://")
        if _port(item) is not None:
            raise UsageError(f"'{item}' must not include a port")
        if not hostname_of(item):
            raise UsageError(f"'{item}' is not a valid host name")
    return ["*"] if "*" in hosts else hosts


def parse_allowed_origins(items: Iterable[str]) -> list[str]:
    """Validate origins (scheme://host[:port], wildcards such as https://*.example.com)."""
    origins = [item.strip() for item in items if item.strip()]
    if not origins:
        raise UsageError("the list of allowed origins is empty")
    normalised: list[str] = []
    for item in origins:
        _check_item(item)
        if item == "*":
            return ["*"]
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(
                f"'{item}' must be an origin with a scheme, such as http://localhost:3284"
            )
        normalised.append(f"{parts.scheme}://{parts.netloc}".lower())
    return normalised
