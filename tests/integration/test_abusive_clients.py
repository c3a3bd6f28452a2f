"""Clients that flood, vanish or stop reading: the daemon serves the others and keeps
its memory and file descriptors bounded."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import sys
import time
from pathlib import Path

from tests.integration.conftest import Daemon


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_thousand_concurrent_status_requests_are_answered(demo: Daemon) -> None:
    async def one() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", demo.port)
        writer.write(b"GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = await reader.read()
        writer.close()
        return answer

    async def all_at_once() -> list[bytes]:
        return await asyncio.wait_for(asyncio.gather(*(one() for _ in range(1000))), 60)

    answers = asyncio.run(all_at_once())
    assert all(a.startswith(b"HTTP/1.1 200") and b'"status"' in a for a in answers)


def test_event_stream_clients_that_vanish_leave_nothing_behind(demo: Daemon) -> None:
    pid = demo.proc.pid
    baseline = open_fds(pid)
    for n in range(300):
        sock = socket.create_connection(("127.0.0.1", demo.port))
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        if n % 2:
            # An abrupt reset instead of a goodbye, for half of them.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    # Each connection is let go as soon as the daemon sees it close.
    assert wait_for(lambda: open_fds(pid) <= baseline + 2, 10), (baseline, open_fds(pid))
    assert demo.status() == "stable"
    log = demo.log()
    assert "socket.send() raised exception" not in log
    assert "Traceback" not in log


FLOOD = (
    "import sys, time\n"
    "sys.stdout.write('ready> ')\n"
    "sys.stdout.flush()\n"
    "time.sleep(1)\n"
    "line = 'x' * 78 + '\\n'\n"
    "for n in range(2500):\n"  # 2,500 x 100 lines x 79 bytes: about 20 MB
    "    sys.stdout.write(line * 100)\n"
    "    sys.stdout.flush()\n"
    "sys.stdout.write('done flooding\\n')\n"
    "sys.stdout.flush()\n"
    "time.sleep(600)\n"
)


def test_a_reader_that_never_reads_is_dropped_at_a_bounded_cost(start_daemon) -> None:
    daemon = start_daemon(agent=[sys.executable, "-c", FLOOD])
    daemon.wait_listening()
    stalled = socket.socket()
    # A small receive window, and never a read: the daemon's writes block at once.
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", daemon.port))
    stalled.sendall(b"GET /internal/screen HTTP/1.1\r\nHost: localhost\r\n\r\n")
    before = rss_mib(daemon.proc.pid)
    assert wait_for(lambda: "done flooding" in daemon.http.get("/messages").text, 120)
    # Dropped once its backlog passes the byte limit or a write has blocked for 30 s,
    # whichever comes first: a fast flood can end before the backlog is full.
    assert wait_for(lambda: "disconnecting it" in daemon.log(), 60), daemon.log()[-2000:]
    grown = rss_mib(daemon.proc.pid) - before
    # The daemon closed the connection: reading now finds the end after what was buffered.
    stalled.settimeout(10)
    while stalled.recv(1 << 20):
        pass
    stalled.close()
    assert grown < 40, f"RSS grew {grown:.0f} MiB"
    assert daemon.http.get("/status").status_code == 200
