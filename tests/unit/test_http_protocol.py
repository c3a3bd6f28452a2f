"""The header timeout, on a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from agentapi.server.protocol import GuardedH11Protocol
from tests.http_helpers import free_port


class QuickHeaders(GuardedH11Protocol):
    header_timeout_s = 0.3


@pytest.fixture
async def port() -> AsyncIterator[int]:
    async def hello(request):
        return PlainTextResponse("hello")

    app = Starlette(routes=[Route("/", hello)])
    number = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=number, http=QuickHeaders, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield number
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def get(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    answer = await reader.read()
    writer.close()
    return answer


async def test_half_sent_headers_are_dropped_and_others_are_served(port):
    stalled = []
    for _ in range(20):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: loc")  # and never the rest
        stalled.append((reader, writer))
    answer = await get(port)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"hello")
    started = time.monotonic()
    for reader, writer in stalled:
        assert await asyncio.wait_for(reader.read(), 3) == b""  # closed by the server
        writer.close()
    assert time.monotonic() - started < 2


async def test_a_slow_but_complete_request_is_answered(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\n")
    await asyncio.sleep(0.1)
    writer.write(b"Host: localhost\r\nConnection: close\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), 3)).startswith(b"HTTP/1.1 200")
    writer.close()


async def test_a_kept_alive_connection_gets_the_limit_for_its_next_request(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    first = await asyncio.wait_for(reader.readuntil(b"hello"), 3)
    assert first.startswith(b"HTTP/1.1 200")
    writer.write(b"GET / HTTP/1.1\r\nHo")
    assert await asyncio.wait_for(reader.read(), 3) == b""
    writer.close()


async def test_a_500_is_one_problem_and_one_traceback(caplog):
    import json as json_module
    import logging

    from agentapi.server.app import _server_error
    from agentapi.server.protocol import DuplicateServerLogs

    async def broken(request):
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/", broken)], exception_handlers={Exception: _server_error})
    number = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=number, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    errors = logging.getLogger("uvicorn.error")
    duplicates = DuplicateServerLogs()
    errors.addFilter(duplicates)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        with caplog.at_level(logging.ERROR):
            answer = await get(number)
            await asyncio.sleep(0.1)
    finally:
        errors.removeFilter(duplicates)
        server.should_exit = True
        await asyncio.wait_for(task, 5)
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 500") and b"application/problem+json" in head
    assert json_module.loads(body)["title"] == "Internal Server Error"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "unhandled error on GET /" in tracebacks[0].getMessage()
