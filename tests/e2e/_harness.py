"""One real agent CLI under a real agentapi daemon, driven over HTTP only.

``AgentRun`` owns a fake LLM server (in-process thread), the agent's throw-away HOME and
work folder, and the daemon subprocess. A background thread follows ``GET /events`` for
the daemon's whole life and keeps every event with its arrival time, so waits are
conditions on that log (no fixed sleeps) and a test can look back at what the status was
while something else happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.contract import client_hooks
from tests.e2e.agents import AgentLaunch, prepare
from tests.fakes.fake_llm import FakeLLM, RecordedRequest, Reply
from tests.http_helpers import free_port, sse_events

# A loaded 2-core machine can be several times slower than an idle one: every wait is a
# deadline for a condition, so a generous value costs nothing when things go well.
LISTEN_TIMEOUT_S = 30.0
TURN_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 10.0

# Every daemon starts with this initial prompt (-I) and the fake answers it with this.
INITIAL_PROMPT = "first task"
INITIAL_REPLY = "Starting on the first task now."


@dataclass
class Event:
    at: float  # time.monotonic() of arrival
    name: str
    data: dict[str, Any]


@dataclass
class StartupFacts:
    """What was seen while the daemon came up (checked later by the ready test)."""

    first_status_code: int = 0
    first_status: dict[str, Any] = field(default_factory=dict)
    listen_s: float = 0.0
    stable_s: float | None = None


class EventLog:
    """Follows ``GET /events`` on a thread and keeps everything it saw."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._cond = threading.Condition()
        self.events: list[Event] = []
        self.closed = False
        self._response: httpx.Response | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="e2e-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            first = True
            while not self._stopping:
                try:
                    self._follow(replayed=not first)
                except httpx.ConnectError:
                    break  # the daemon is gone
                except (httpx.HTTPError, OSError, ValueError, RuntimeError):
                    pass
                first = False
                # The daemon drops a subscriber that falls far behind; follow it again.
                if not self._stopping:
                    time.sleep(0.1)
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def _follow(self, replayed: bool) -> None:
        with (
            httpx.Client(
                base_url=self._url,
                timeout=httpx.Timeout(10, read=None),
                event_hooks=client_hooks(),
            ) as http,
            http.stream("GET", "/events") as response,
        ):
            self._response = response
            if self._stopping:
                return
            # After a reconnection the replayed state (messages, then the status) is not
            # news: keep the status only if it changed while we were away.
            skipping = replayed
            for name, data in sse_events(response):
                with self._cond:
                    if skipping:
                        if name != "status_change":
                            continue
                        skipping = False
                        if data.get("status") == self._last_status():
                            continue
                    self.events.append(Event(time.monotonic(), name, data))
                    self._cond.notify_all()

    def _last_status(self) -> str | None:
        found = [e for e in self.events if e.name == "status_change"]
        return found[-1].data["status"] if found else None

    def close(self) -> None:
        self._stopping = True
        if self._response is not None:
            with contextlib.suppress(Exception):
                self._response.close()
        self._thread.join(timeout=5)

    def mark(self) -> int:
        with self._cond:
            return len(self.events)

    def statuses(self, since: int = 0) -> list[Event]:
        with self._cond:
            return [e for e in self.events[since:] if e.name == "status_change"]

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return predicate()
                self._cond.wait(left)
            return True

    def wait_status(self, wanted: str, timeout: float, since: int = 0) -> Event | None:
        """The first ``status_change`` to ``wanted`` at index ``since`` or later."""
        found: list[Event] = []

        def seen() -> bool:
            found[:] = [
                e
                for e in self.events[since:]
                if e.name == "status_change" and e.data["status"] == wanted
            ]
            return bool(found)

        self.wait_for(seen, timeout)
        return found[0] if found else None

    def wait_settled(self, timeout: float) -> bool:
        """Until the latest status is ``stable``."""
        return self.wait_for(lambda: self._last_status() == "stable", timeout)


class AgentRun:
    """A fake LLM, one prepared agent and the daemon running it; restartable."""

    def __init__(self, name: str, tmp: Path, initial_prompt: str, initial_reply: str) -> None:
        self.name = name
        self.tmp = tmp
        self.initial_prompt = initial_prompt
        self.initial_reply = initial_reply
        self.llm = FakeLLM().start()
        try:
            self.launch: AgentLaunch = prepare(name, self.llm.url, tmp)
        except BaseException:
            self.llm.stop()
            raise
        self.proc: subprocess.Popen[bytes] | None = None
        self.http: httpx.Client | None = None
        self.events: EventLog | None = None
        self.facts = StartupFacts()
        self.agent_pid: int | None = None
        self.starts = 0
        self.start_error: str | None = None
        self._began = 0.0
        self.url = ""
        self._log_file: Any = None
        self.log_path = tmp / "daemon.log"
        # More daemon flags (before -I), for a test that needs them.
        self.extra_flags: tuple[str, ...] = ()

    # -- life cycle -------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure_started(self) -> AgentRun:
        """Start (or, after a shutdown test or a crash, restart) the daemon and wait until
        the initial prompt has been answered. A failed start is not retried: the agent's
        remaining checks fail at once with the same reason instead of each waiting out
        the start-up timeout again."""
        if self.start_error is not None:
            raise AssertionError(f"{self.name}: an earlier start failed:\n{self.start_error}")
        if self.alive:
            return self
        self.stop_daemon()
        try:
            self.start()
        except BaseException as exc:
            self.start_error = str(exc)
            self.stop_daemon()
            raise
        return self

    def spawn(self) -> EventLog:
        """Start the daemon and follow its events, without waiting for anything else."""
        for _attempt in range(3):
            if self._spawn():
                break
            # Another worker took the port between our probe and the daemon's bind.
            self.stop_daemon()
        else:
            raise AssertionError(f"{self.name}: no free port after 3 tries\n{self.daemon_log()}")
        self.events = EventLog(self.url)
        return self.events

    def start(self) -> None:
        events = self.spawn()
        timeout = self.launch.startup_timeout_s + 30
        stable = events.wait_status("stable", timeout)
        if stable is None:
            raise AssertionError(
                f"{self.name}: never stable within {timeout:.0f}s\n{self.describe()}"
            )
        self.facts.stable_s = stable.at - self._began
        # The initial prompt is typed once the agent is ready; wait until it is answered.
        try:
            self.llm.wait_for_main_requests(1, timeout=TURN_TIMEOUT_S)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: the initial prompt never reached the LLM\n{self.describe()}"
            ) from None
        self.wait_reply_settled(self.llm.main_requests()[0], 0.0)

    def _spawn(self) -> bool:
        """Start the daemon; False if its port was taken meanwhile."""
        self.starts += 1
        self.llm.reset()
        self.llm.push(Reply(self.initial_reply))
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = self.tmp / f"daemon-{self.starts}.log"
        self._log_file = self.log_path.open("wb")
        argv = self.launch.daemon_argv(
            sys.executable, port, *self.extra_flags, "-I", self.initial_prompt
        )
        env = {**self.launch.env, "AGENTAPI_LOG_LEVEL": "DEBUG"}
        self._began = time.monotonic()
        # A session of its own: the daemon and everything under it can be found, and in
        # the worst case killed, as one group, without touching the test runner.
        self.proc = subprocess.Popen(
            argv,
            cwd=self.launch.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.http = httpx.Client(base_url=self.url, timeout=30, event_hooks=client_hooks())
        self.facts = StartupFacts()
        self.agent_pid = None
        if not self._wait_listening(self._began):
            return False
        # The agent is spawned before the daemon listens; knowing its pid early lets the
        # teardown kill its group even if the daemon never gets to it.
        self.agent_pid = self._find_agent_pid()
        return True

    def _wait_listening(self, began: float) -> bool:
        assert self.http is not None and self.proc is not None
        deadline = began + LISTEN_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if "already in use" in self.daemon_log():
                    return False
                raise AssertionError(f"{self.name}: daemon exited early\n{self.daemon_log()}")
            try:
                response = self.http.get("/status", timeout=5)
            except httpx.TransportError:
                time.sleep(0.02)
                continue
            self.facts.listen_s = time.monotonic() - began
            self.facts.first_status_code = response.status_code
            with contextlib.suppress(ValueError):
                self.facts.first_status = response.json()
            return True
        raise AssertionError(f"{self.name}: daemon not listening\n{self.daemon_log()}")

    def _find_agent_pid(self) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + 10
        while True:
            children = children_of(self.proc.pid)
            if len(children) == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if len(children) != 1:
            raise AssertionError(f"{self.name}: daemon children {children}, expected one agent")
        return children[0]

    def stop_daemon(self) -> None:
        """Teardown: SIGTERM, then SIGKILL to whatever is left of our own processes."""
        if self.events is not None:
            self.events.close()
            self.events = None
        if self.http is not None:
            self.http.close()
            self.http = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(SHUTDOWN_TIMEOUT_S + 5)
                except subprocess.TimeoutExpired:
                    # Not reaped yet, so the group id is still the daemon's own.
                    kill_group(self.proc.pid)
                    self.proc.wait(10)
            # Whatever is left of the agent's group (a leak the shutdown check reports);
            # only while members remain, so the id cannot belong to anyone else.
            if self.agent_pid is not None and processes_in(self.agent_pid):
                kill_group(self.agent_pid)
            self.agent_pid = None
            self.proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def close(self) -> None:
        self.stop_daemon()
        self.llm.stop()

    # -- talking to the daemon ---------------------------------------------------------------

    @property
    def client(self) -> httpx.Client:
        assert self.http is not None, "daemon not started"
        return self.http

    @property
    def log(self) -> EventLog:
        assert self.events is not None, "daemon not started"
        return self.events

    def status(self) -> dict[str, Any]:
        response = self.client.get("/status")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def messages(self) -> list[dict[str, Any]]:
        response = self.client.get("/messages")
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])

    def post(self, content: str, kind: str = "user") -> httpx.Response:
        return self.client.post(
            "/message", json={"content": content, "type": kind}, timeout=TURN_TIMEOUT_S
        )

    def screen(self) -> str:
        """The terminal text right now (the replayed first frame of /internal/screen)."""
        with self.client.stream("GET", "/internal/screen", timeout=10) as response:
            for name, data in sse_events(response):
                if name == "screen":
                    return str(data["screen"])
        raise AssertionError("/internal/screen sent no screen")

    def wait_screen(self, predicate: Callable[[str], bool], timeout: float) -> tuple[bool, str]:
        """Follow /internal/screen until ``predicate(screen)``; (met, last screen)."""
        last = ""
        with self.client.stream("GET", "/internal/screen", timeout=timeout + 5) as response:
            watchdog = threading.Timer(timeout, response.close)
            watchdog.start()
            try:
                for name, data in sse_events(response):
                    if name != "screen":
                        continue
                    last = str(data["screen"])
                    if predicate(last):
                        return True, last
            except (httpx.HTTPError, OSError, ValueError, RuntimeError):
                pass
            finally:
                watchdog.cancel()
        return predicate(last), last

    def send_user(self, prompt: str) -> None:
        """POST a user message once the agent is stable.

        A 409 means the screen moved between our look at the status and the POST (a late
        redraw, a tip appearing): wait for stable again and retry, a few times at most.
        """
        for _attempt in range(3):
            assert self.log.wait_settled(TURN_TIMEOUT_S), (
                f"not stable before sending\n{self.describe()}"
            )
            response = self.post(prompt)
            if response.status_code != 409:
                break
        assert response.status_code == 200, f"{response.status_code} {response.text}"
        assert response.json() == {"ok": True}

    def turn(self, prompt: str, reply: Reply) -> tuple[RecordedRequest, list[dict[str, Any]]]:
        """Send one user message and wait until the scripted reply has settled."""
        before = len(self.llm.main_requests())
        self.llm.push(reply)
        self.send_user(prompt)
        try:
            mains = self.llm.wait_for_main_requests(before + 1, timeout=TURN_TIMEOUT_S)
        except TimeoutError:
            raise AssertionError(f"the message never reached the LLM\n{self.describe()}") from None
        request = mains[before]
        self.wait_reply_settled(request, reply.delay_s)
        return request, self.messages()

    def wait_reply_settled(self, request: RecordedRequest, delay_s: float) -> None:
        """Wait until the reply to ``request`` has been sent and the agent is stable again.

        The reply leaves the fake ``delay_s`` after the request arrived; only a change to
        ``stable`` after that moment counts, so a quiet spell before the answer cannot
        end the wait early.
        """
        sent_at = time.monotonic() - (time.time() - request.time) + delay_s
        remaining = sent_at - time.monotonic()
        if remaining > 0:
            # Waiting for a moment in the fake's timeline, not asserting anything.
            time.sleep(remaining)

        def settled() -> bool:
            changes = [e for e in self.log.events if e.name == "status_change"]
            return (
                bool(changes)
                and changes[-1].data["status"] == "stable"
                and changes[-1].at >= sent_at
            )

        if not self.log.wait_for(settled, TURN_TIMEOUT_S):
            raise AssertionError(f"no stable status after the reply\n{self.describe()}")

    # -- diagnostics -------------------------------------------------------------------------

    def daemon_log(self, tail: int = 4000) -> str:
        if self._log_file is not None:
            self._log_file.flush()
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-tail:]
        return ""

    def describe(self) -> str:
        """Screen, messages and daemon log tail for a failure message."""
        parts = [f"agent: {self.name}"]
        with contextlib.suppress(Exception):
            parts.append("screen:\n" + compact_screen(self.screen()))
        with contextlib.suppress(Exception):
            parts.append("messages:\n" + json.dumps(self.messages(), indent=1, ensure_ascii=False))
        parts.append("daemon log tail:\n" + self.daemon_log(2000))
        return "\n\n".join(parts)


def compact_screen(text: str) -> str:
    """The screen without trailing blanks, runs of empty lines shortened to a marker (a
    1000-line terminal is mostly empty)."""
    out: list[str] = []
    blanks = 0
    for line in text.rstrip().splitlines():
        if line.strip():
            if blanks > 2:
                out.append(f"[{blanks} empty lines]")
            else:
                out += [""] * blanks
            blanks = 0
            out.append(line.rstrip())
        else:
            blanks += 1
    return "\n".join(out)


def reply_mismatch(actual: str, expected: str) -> str:
    """Which lines of ``actual`` are not in ``expected``: what leaked into the reply."""
    wanted = expected.splitlines()
    leaked = [line for line in actual.splitlines() if line not in wanted]
    missing = [line for line in wanted if line not in actual.splitlines()]
    return f"leaked lines: {leaked!r}\nmissing lines: {missing!r}\nactual: {actual!r}"


# -- processes ---------------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found += [int(p) for p in text.split()]
    return sorted(set(found))


def descendants_of(pid: int) -> list[int]:
    seen: list[int] = []
    todo = [pid]
    while todo:
        for child in children_of(todo.pop()):
            if child not in seen:
                seen.append(child)
                todo.append(child)
    return seen


@dataclass
class ProcInfo:
    pid: int
    state: str
    pgrp: int
    session: int
    started: int  # clock ticks after boot: tells a reused pid from the original
    command: str


def proc_info(pid: int) -> ProcInfo | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    command = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return ProcInfo(pid, fields[0], int(fields[2]), int(fields[3]), int(fields[19]), command[:200])


def processes_in(group_or_session: int) -> list[ProcInfo]:
    """Every process whose process group or session id is ``group_or_session``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        info = proc_info(int(entry))
        if info is not None and group_or_session in (info.pgrp, info.session):
            found.append(info)
    return found


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
