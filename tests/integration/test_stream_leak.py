"""Event-stream readers that hang up while events flow are forgotten by the daemon.

Found by benchmarks/soak.py: one reader in two that disconnected during a turn stayed
subscribed (its writer kept sending into the closed connection, and memory and CPU grew
with every such reader). The daemon runs in this process here, so the test can count the
hub's subscribers; everything else is real: the server on 127.0.0.1, sockets, the demo
agent under a PTY.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time

import httpx

from agentapi.adapters import default_registry
from agentapi.cli.config import parse_server_args
from agentapi.cli.daemon import Daemon
from tests.http_helpers import free_port

DEMO = [sys.executable, "-m", "agentapi.demo_agent", "--think", "0.2"]


def hang_up_after_first_bytes(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET /events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"
        )
        sock.recv(4096)


def test_readers_that_hang_up_during_a_turn_are_unsubscribed() -> None:
    port = free_port()
    opts = parse_server_args(["--port", str(port), "--type", "demo", "--", *DEMO], {})
    adapter = default_registry().lookup("demo")
    assert adapter is not None
    left: list[int] = []
    failures: list[BaseException] = []

    def drive(daemon: Daemon, loop: asyncio.AbstractEventLoop) -> None:
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                deadline = time.monotonic() + 20
                while True:
                    try:
                        if http.get("/status").json()["status"] == "stable":
                            break
                    except httpx.TransportError:
                        pass
                    assert time.monotonic() < deadline, "never stable"
                    time.sleep(0.05)
                for turn in range(4):
                    poster = threading.Thread(
                        target=http.post,
                        args=("/message",),
                        kwargs={"json": {"content": f"/think 1 turn {turn}", "type": "user"}},
                    )
                    poster.start()
                    # Readers come and go while the agent's spinner sends events.
                    for _ in range(10):
                        hang_up_after_first_bytes(port)
                        time.sleep(0.05)
                    poster.join(30)
                    while http.get("/status").json()["status"] != "stable":
                        time.sleep(0.05)
                time.sleep(0.5)
                left.append(len(daemon.hub._subscribers))
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)
        finally:
            loop.call_soon_threadsafe(daemon._shutdown.set)

    async def main() -> int:
        daemon = Daemon(opts, adapter, "demo")
        loop = asyncio.get_running_loop()
        threading.Thread(target=drive, args=(daemon, loop), daemon=True).start()
        return await daemon.run()

    assert asyncio.run(main()) == 0
    assert not failures, failures
    assert left == [0], f"{left[0]} readers that hung up are still subscribed"
