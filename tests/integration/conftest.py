"""A real daemon process on 127.0.0.1 running the demo agent under a real PTY."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.contract import client_hooks
from tests.http_helpers import free_port, sse_events
from tests.integration.disks import SmallDisk, small_disk

DEMO = [sys.executable, "-m", "agentapi.demo_agent"]


class Daemon:
    def __init__(
        self,
        tmp: Path,
        agent: list[str],
        flags: list[str],
        env: dict[str, str],
        stdin: bytes | None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"daemon-{self.port}.log"
        self._log = self.log_path.open("wb")
        full_env = {**os.environ, "AGENTAPI_LOG_LEVEL": "DEBUG", **env}
        for key in list(full_env):
            if key.startswith("AGENTAPI_") and key not in env and key != "AGENTAPI_LOG_LEVEL":
                del full_env[key]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentapi",
                "server",
                "--port",
                str(self.port),
                *flags,
                "--",
                *agent,
            ],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
            start_new_session=True,
        )
        if stdin is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(stdin)
            self.proc.stdin.close()
        self.http = httpx.Client(base_url=self.url, timeout=30, event_hooks=client_hooks())

    # -- waiting ----------------------------------------------------------------------------

    def wait_listening(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited early:\n{self.log()}")
            try:
                if self.http.get("/status").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.02)
        raise AssertionError(f"daemon not listening after {timeout}s:\n{self.log()}")

    def wait_status(self, wanted: str, timeout: float = 20) -> None:
        """Follow /events until the status is ``wanted`` (event-driven, no polling)."""
        with self.http.stream("GET", "/events", timeout=timeout) as stream:
            # Pings keep a quiet stream alive: a watchdog ends the wait at the deadline.
            watchdog = threading.Timer(timeout, stream.close)
            watchdog.start()
            try:
                for event, data in sse_events(stream):
                    if event == "status_change" and data["status"] == wanted:
                        return
            except (httpx.HTTPError, OSError, ValueError):
                pass
            finally:
                watchdog.cancel()
        raise AssertionError(f"status never became {wanted}:\n{self.log()}")

    def ready(self) -> Daemon:
        self.wait_listening()
        self.wait_status("stable")
        return self

    # -- using ------------------------------------------------------------------------------

    def send(self, content: str, type_: str = "user") -> httpx.Response:
        return self.http.post("/message", json={"content": content, "type": type_})

    def messages(self) -> list[dict]:
        response = self.http.get("/messages")
        assert response.status_code == 200
        return response.json()["messages"]

    def status(self) -> str:
        return self.http.get("/status").json()["status"]

    def turn(self, content: str) -> list[dict]:
        response = self.send(content)
        assert response.status_code == 200, response.text
        assert response.json() == {"ok": True}
        self.wait_status("stable")
        return self.messages()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float = 20) -> int:
        return self.proc.wait(timeout)

    def close(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator:
    started: list[Daemon] = []

    def start(
        agent: list[str] | None = None,
        flags: list[str] | None = None,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
        think: float = 0.2,
        port: int | None = None,
    ) -> Daemon:
        daemon = Daemon(
            tmp_path, agent or [*DEMO, "--think", str(think)], flags or [], env or {}, stdin, port
        )
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.close()


@pytest.fixture
def demo(start_daemon) -> Daemon:
    return start_daemon().ready()


class ErrorWatcher:
    """Collects the agent_error events of ``/events?errors=true`` in a thread."""

    def __init__(self, daemon: Daemon) -> None:
        self.errors: list[dict] = []
        self._changed = threading.Condition()
        self._client = httpx.Client(base_url=daemon.url, timeout=None)
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()
        assert self._opened.wait(10), "the error stream did not open"

    def _follow(self) -> None:
        try:
            with self._client.stream("GET", "/events?errors=true") as stream:
                self._opened.set()
                for event, data in sse_events(stream):
                    if event == "agent_error":
                        with self._changed:
                            self.errors.append(data)
                            self._changed.notify_all()
        except (httpx.HTTPError, OSError, ValueError):
            self._opened.set()

    def wait_for(self, fragment: str, timeout: float = 10) -> dict:
        """The first error whose message holds ``fragment``."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((e for e in self.errors if fragment in e["message"]), None),
                timeout,
            )
        assert found, f"no agent_error with {fragment!r}; got {self.errors}"
        return found

    def matching(self, fragment: str) -> list[dict]:
        with self._changed:
            return [e for e in self.errors if fragment in e["message"]]

    def close(self) -> None:
        self._client.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Chromium through Playwright's sync API, for one test module.

    While it is open, the sync API runs an event loop in this thread, and any asyncio test
    that ran in the same worker meanwhile would fail ("Runner.run() cannot be called from a
    running event loop"). So it never outlives its module, and browser modules mark
    themselves ``xdist_group("browser")`` so their tests run together on one worker.
    """
    from tests.browser_support import launch_browser

    yield from launch_browser()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 64 KiB tmpfs, mounted for the test (skipped where mounting is not permitted)."""
    with small_disk(tmp_path / "disk") as mounted:
        yield mounted
