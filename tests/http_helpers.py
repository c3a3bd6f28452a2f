"""Small helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx

from agentapi.client import SSEParser
from tests.contract import check_event


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sse_events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """(event, decoded data) pairs of an SSE stream; comments (pings) are skipped.

    Read with the client's parser (the WHATWG rules, unit-tested on its own), so the
    tests hold the daemon to what real clients accept, not to a second, laxer reading.
    Every event is checked against our OpenAPI document on the way.
    """
    parser = SSEParser()
    for chunk in response.iter_bytes():
        for raw in parser.feed(chunk):
            data = json.loads(raw.data)
            check_event(raw.event, data)
            yield raw.event, data
