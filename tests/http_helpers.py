"""Small helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx

from tests.contract import check_event


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sse_events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """(event, decoded data) pairs of an SSE stream; comments (pings) are skipped.

    Every event is checked against our OpenAPI document on the way.
    """
    event = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
            check_event(event, data)
            yield event, data
        elif not line:
            event = ""
