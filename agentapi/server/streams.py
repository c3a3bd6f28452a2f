"""The Server-Sent Events endpoints: the conversation (``/events``) and the screen.

Each stream ends as soon as its reader is of no more use, so that a reader costs
the daemon a bounded amount whatever it does:

- the client disconnects: the stream stops at once (the hub no longer queues for it);
- the client stops reading: frames queue in its subscription up to the hub's byte
  limit, then it is cut off; a single write blocked for ``WRITE_TIMEOUT_S`` cuts it
  off too. The connection is then closed without finishing the response, which is
  how an HTTP server drops a client it has given up on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from agentapi.messages import EventName
from agentapi.session.hub import EventHub, Subscription

log = logging.getLogger("agentapi.server.streams")

SSE_HEADERS = {
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
    "X-Accel-Buffering": "no",
    "X-Proxy-Buffering": "no",
}
SSE_PING_S = 15
WRITE_TIMEOUT_S = 30.0
# What uvicorn logs when a response is left unfinished; for a reader this module dropped
# on purpose, the line it logged itself says more (see cli/daemon.py).
UNFINISHED_RESPONSE_LOG = "ASGI callable returned without completing response."


class EventStreamResponse(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        subscription: Subscription,
        *,
        ping_s: float | None = SSE_PING_S,
        write_timeout_s: float = WRITE_TIMEOUT_S,
    ) -> None:
        super().__init__(headers=SSE_HEADERS, media_type=self.media_type)
        # No Content-Length: the body is a stream.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.subscription = subscription
        self.ping_s = ping_s
        self.write_timeout_s = write_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sub = self.subscription
        tasks: set[asyncio.Task[None]] = set()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            writer = asyncio.create_task(self._write(send))
            gone = asyncio.create_task(_disconnected(receive))
            ended = asyncio.create_task(_wait_event(sub.ended))
            tasks = {writer, gone, ended}
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if done == {ended} and not sub.overflowed:
                # Closed by the hub (shutdown): the writer sends what is queued, then ends.
                more, _ = await asyncio.wait(
                    {writer, gone},
                    timeout=self.write_timeout_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                done |= more
        finally:
            # Unsubscribe first: on Python 3.11 a cancel can be lost inside the writer's
            # wait_for (when send() completes in the same step), and that writer would
            # then go on sending into the closed connection for as long as its
            # subscription lives. Closed, the subscription ends the writer's loop anyway.
            sub.discard()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if gone in done:
            log.debug("an event stream reader disconnected")
        elif writer in done and writer.exception() is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    send({"type": "http.response.body", "body": b"", "more_body": False}),
                    self.write_timeout_s,
                )
        elif writer in done and isinstance(writer.exception(), TimeoutError):
            log.warning(
                "an event stream reader read nothing for %g s: disconnecting it",
                self.write_timeout_s,
            )
        # Otherwise the hub cut a reader that fell behind off (and said so), or the
        # connection failed: return unfinished, so the server closes the connection.

    async def _write(self, send: Send) -> None:
        async for chunk in self.subscription.frames(ping_s=self.ping_s):
            await asyncio.wait_for(
                send({"type": "http.response.body", "body": chunk, "more_body": True}),
                self.write_timeout_s,
            )


async def _wait_event(event: asyncio.Event) -> None:
    await event.wait()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


class EventStreams:
    def __init__(self, hub: EventHub) -> None:
        self.hub = hub

    async def events(self, request: Request) -> Response:
        names = {EventName.MESSAGE_UPDATE, EventName.STATUS_CHANGE}
        # agent_error only on request: the Go SDK treats an unknown event name as fatal.
        if _truthy(request.query_params.get("errors")):
            names.add(EventName.AGENT_ERROR)
        # message_parts (ACP mode's tool calls, plans, permission requests) likewise.
        if _truthy(request.query_params.get("parts")):
            names.add(EventName.MESSAGE_PARTS)
        return self._stream(names)

    async def screen(self, request: Request) -> Response:
        return self._stream({EventName.SCREEN})

    def _stream(self, names: set[EventName]) -> Response:
        return EventStreamResponse(self.hub.subscribe(names))
