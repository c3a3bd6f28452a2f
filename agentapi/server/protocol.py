"""The HTTP/1.1 connection, with the one time limit uvicorn does not have.

uvicorn closes an idle keep-alive connection, but once a client has sent the first
byte of a request it waits for the rest of the headers forever: a few hundred
half-sent requests hold as many sockets for as long as their senders like. This
protocol gives every request ``HEADER_TIMEOUT_S`` from its first byte (or from the
connection's start) to finish its headers, and closes the connection otherwise.
(The body has its own limits, in ``guard.py``.)
"""

from __future__ import annotations

import asyncio
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from agentapi.server.streams import UNFINISHED_RESPONSE_LOG

HEADER_TIMEOUT_S = 10.0

log = logging.getLogger("agentapi.server")


class GuardedH11Protocol(H11Protocol):
    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # h11 leaves IDLE once a request's headers are complete.
        if self.conn.their_state is not h11.IDLE:
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A kept-alive connection waits for the next request: its headers get the limit too
        # (while it is idle uvicorn's own keep-alive timeout closes it first).
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info(
                "closed a connection whose request headers took over %gs", self.header_timeout_s
            )
            self.transport.close()


# uvicorn's lines that repeat what the daemon has already logged.
_REPEATS = frozenset({UNFINISHED_RESPONSE_LOG, "Exception in ASGI application\n"})


class DuplicateServerLogs(logging.Filter):
    """Drops two uvicorn error lines that say again what the daemon logged once:

    - a response left unfinished on purpose (the SSE streams cut a reader off that
      way, and log their own line when they do);
    - the traceback of an unhandled error, which ``server/app.py`` has already logged
      with the request's method and path before answering 500.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in _REPEATS
