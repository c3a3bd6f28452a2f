"""Shared helpers for the daemon benchmarks.

Every benchmark starts a real daemon (``python -m agentapi server``) as a
subprocess on a free 127.0.0.1 port with one of the scripted agents in
``benchmarks/agents/``, talks to it over plain HTTP and SSE with the standard
library only, and reads CPU time and memory of the daemon from ``/proc``.
Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AGENTS = HERE / "agents"
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"

DEMO_AGENT = [sys.executable, "-m", "agentapi.demo_agent"]


def daemon_command() -> list[str]:
    """How to start the daemon: this interpreter's ``-m agentapi``, unless
    ``AGENTAPI_BENCH_DAEMON`` names another command (an installed ``agentapi``, or a
    patched build to compare against)."""
    override = os.environ.get("AGENTAPI_BENCH_DAEMON", "").strip()
    return shlex.split(override) if override else [sys.executable, "-m", "agentapi"]


# The Go original on this kind of machine with the same demo agent (issue 14): launch to
# first 200 from /status, and RSS after start-up.
ORIGINAL_STARTUP_S = 0.046
ORIGINAL_RSS_MIB = 37.4


def compile_bytecode() -> None:
    """Compile agentapi's modules, as ``pip install`` does: a daemon started with
    PYTHONDONTWRITEBYTECODE (set in some CI images) would otherwise compile every edited
    module from source on each launch, and the benchmark would time the compiler."""
    import compileall

    package = Path(__file__).resolve().parent.parent / "agentapi"
    if package.is_dir():
        compileall.compile_dir(str(package), quiet=1)


def agent_command(name: str, *args: str) -> list[str]:
    """The command line of a scripted agent in ``benchmarks/agents/``."""
    return [sys.executable, str(AGENTS / f"{name}.py"), *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# -- /proc ------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name is in parentheses and may itself hold spaces or parentheses.
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """utime + stime of ``pid`` (all its threads), plus its live descendants if asked."""
    fields = _stat_fields(pid)
    # Fields 14 and 15 of stat(5); the slice above starts at field 3.
    ticks = int(fields[11]) + int(fields[12])
    total = ticks / CLK_TCK
    if children:
        for child in descendants(pid):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += cpu_seconds(child)
    return total


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(_stat_fields(int(entry.name))[1])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


# What a transcript may cost in RSS, generously: the memory and soak budgets for "flat".
PER_MESSAGE_KIB = 1.0
PER_BYTE = 4.0


def rss_budget_kib(slack_kib: float, new_messages: int, new_bytes: int) -> float:
    """RSS growth allowed for ``new_messages`` holding ``new_bytes`` of text, plus a slack."""
    return slack_kib + PER_MESSAGE_KIB * new_messages + PER_BYTE * new_bytes / 1024


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class CpuWindow:
    """CPU seconds of one process over a wall-clock window."""

    pid: int
    children: bool = False
    cpu0: float = 0.0
    wall0: float = 0.0
    cpu: float = 0.0
    wall: float = 0.0

    def start(self) -> CpuWindow:
        self.cpu0 = cpu_seconds(self.pid, children=self.children)
        self.wall0 = time.monotonic()
        return self

    def stop(self) -> CpuWindow:
        self.cpu = cpu_seconds(self.pid, children=self.children) - self.cpu0
        self.wall = time.monotonic() - self.wall0
        return self

    @property
    def percent(self) -> float:
        return 100.0 * self.cpu / self.wall if self.wall else 0.0


# -- HTTP -------------------------------------------------------------------------------------


def http_request(
    port: int, method: str, path: str, body: Any = None, timeout: float = 30.0
) -> tuple[int, Any]:
    """One request on a fresh connection, as a script with curl would make it."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Host": f"{HOST}:{port}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw.decode(errors="replace")
        return response.status, data
    finally:
        conn.close()


# -- SSE --------------------------------------------------------------------------------------


@dataclass(slots=True)
class SseEvent:
    name: str
    data: str
    received: float  # time.time() when the bytes completing it arrived

    def json(self) -> Any:
        return json.loads(self.data)


class SseParser:
    """Incremental parser of a chunked (or plain) HTTP response carrying SSE.

    Not ``agentapi.client.SSEParser``: that one takes every line ending and field the
    standard allows, and splits 21 MB of 1 KB events in about 240 ms here against this
    one's 95 ms. The benchmarks read only the daemon's own framing, and every millisecond
    this process spends parsing is taken from the daemon it measures (two shared cores).
    """

    def __init__(self) -> None:
        self._head = b""
        self._headers_done = False
        self.status = 0
        self._chunked = False
        self._raw = bytearray()  # chunked body not yet de-chunked
        self._body = bytearray()  # de-chunked body not yet split into events

    def feed(self, data: bytes, received: float) -> list[SseEvent]:
        if not self._headers_done:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return []
            head, data = self._head[:end].decode("latin-1"), self._head[end + 4 :]
            self._headers_done = True
            lines = head.split("\r\n")
            self.status = int(lines[0].split()[1])
            self._chunked = any(
                ln.lower().startswith("transfer-encoding:") and "chunked" in ln.lower()
                for ln in lines[1:]
            )
        if self._chunked:
            self._raw += data
            self._dechunk()
        else:
            self._body += data
        return self._split(received)

    def _dechunk(self) -> None:
        while True:
            eol = self._raw.find(b"\r\n")
            if eol < 0:
                return
            size = int(bytes(self._raw[:eol]).split(b";")[0], 16)
            if len(self._raw) < eol + 2 + size + 2:
                return
            self._body += self._raw[eol + 2 : eol + 2 + size]
            del self._raw[: eol + 2 + size + 2]

    def _split(self, received: float) -> list[SseEvent]:
        events: list[SseEvent] = []
        while True:
            end = self._body.find(b"\n\n")
            if end < 0:
                return events
            block = bytes(self._body[:end]).decode()
            del self._body[: end + 2]
            name, data = "message", []
            for line in block.split("\n"):
                if line.startswith(":"):
                    continue
                key, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if key == "event":
                    name = value
                elif key == "data":
                    data.append(value)
            if data:
                events.append(SseEvent(name, "\n".join(data), received))


def sse_request(port: int, path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    ).encode()


class SseClient:
    """A blocking SSE client on its own socket."""

    def __init__(self, port: int, path: str = "/events", timeout: float = 60.0) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.sendall(sse_request(port, path))
        self._parser = SseParser()
        self._pending: list[SseEvent] = []
        self.bytes = 0

    def events(self) -> Iterator[SseEvent]:
        while True:
            while self._pending:
                yield self._pending.pop(0)
            data = self.sock.recv(1 << 16)
            received = time.time()
            if not data:
                return
            self.bytes += len(data)
            self._pending.extend(self._parser.feed(data, received))
            if self._parser.status and self._parser.status != 200:
                raise RuntimeError(f"/events answered {self._parser.status}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class EventWatcher:
    """Follows /events on a background thread: the current status and every event seen.

    Waiting on it is event-driven, so waiting for ``stable`` never polls the daemon.
    """

    def __init__(self, port: int, on_event: Callable[[SseEvent], None] | None = None) -> None:
        self.client = SseClient(port, timeout=3600)
        self.status = ""
        self.stable_count = 0
        self.events: list[SseEvent] = []
        self.messages: dict[int, str] = {}
        self.counts: dict[str, int] = {}
        # Long runs switch this off so the watcher does not hoard every frame.
        self.keep_events = True
        self._on_event = on_event
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for event in self.client.events():
                if self._on_event is not None:
                    self._on_event(event)
                with self._cond:
                    self.counts[event.name] = self.counts.get(event.name, 0) + 1
                    if self.keep_events:
                        self.events.append(event)
                    if event.name == "status_change":
                        self.status = event.json()["status"]
                        if self.status == "stable":
                            self.stable_count += 1
                    elif event.name == "message_update":
                        data = event.json()
                        self.messages[data["id"]] = data["message"]
                    self._cond.notify_all()
        except OSError:
            pass
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()

    def wait(self, predicate: Callable[[EventWatcher], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise TimeoutError(f"timed out waiting for {what}")
                self._cond.wait(remaining)

    def wait_stable(self, timeout: float = 30.0) -> None:
        self.wait(lambda w: w.status == "stable", timeout, "status stable")

    def close(self) -> None:
        self.client.close()
        self._thread.join(5)


class ScreenWatcher:
    """Follows /internal/screen on a thread: when each screen arrived, and when given texts
    first appeared on it."""

    def __init__(self, port: int, wanted: Sequence[str] = ()) -> None:
        self.client = SseClient(port, "/internal/screen", timeout=3600)
        self.seen: dict[str, float] = {}
        self.times: list[float] = []
        self._wanted = list(wanted)
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for event in self.client.events():
                with self._cond:
                    self.times.append(event.received)
                    for text in self._wanted:
                        # Plain ASCII texts look the same inside the event's JSON.
                        if text not in self.seen and text in event.data:
                            self.seen[text] = event.received
                    self._cond.notify_all()
        except OSError:
            pass
        finally:
            with self._cond:
                self._wanted = []
                self._cond.notify_all()

    def wait_for(self, text: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        with self._cond:
            while text not in self.seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or text not in self._wanted:
                    raise TimeoutError(f"the daemon's screen never showed {text!r}")
                self._cond.wait(remaining)
            return self.seen[text]

    def close(self) -> None:
        self.client.close()
        self._thread.join(5)

    @property
    def frames(self) -> int:
        return len(self.times)


# -- the daemon -------------------------------------------------------------------------------


class Daemon:
    """``python -m agentapi server`` with ``agent`` on a free port, logging to a temp file.

    The daemon gets the environment of this script without its ``AGENTAPI_*`` variables,
    so a developer's own settings do not change what is measured.
    """

    def __init__(
        self,
        agent: Sequence[str],
        *,
        flags: Sequence[str] = (),
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.agent = list(agent)
        self.flags = list(flags)
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTAPI_")}
        self._env.update(env or {})
        # Another program may take a free port between our look and the daemon's bind
        # (test suites run side by side here): then the daemon is started again elsewhere.
        self._retries = 0 if port else 3
        self._spawn(port or free_port())

    def _spawn(self, port: int) -> None:
        self.port = port
        self.url = f"http://{HOST}:{self.port}"
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the daemon
            prefix=f"agentapi-bench-{self.port}-", suffix=".log", delete=False
        )
        self.launched = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                *daemon_command(),
                "server",
                "--port",
                str(self.port),
                *self.flags,
                "--",
                *self.agent,
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self._env,
            start_new_session=True,
        )

    def _respawn_if_port_taken(self) -> bool:
        if self._retries <= 0 or "already in use" not in self.log():
            return False
        self._retries -= 1
        self.stop()
        self._spawn(free_port())
        return True

    @property
    def pid(self) -> int:
        return self.proc.pid

    def agent_pid(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            children = descendants(self.pid)
            if children:
                return children[0]
            time.sleep(0.01)
        raise RuntimeError(f"the daemon started no agent:\n{self.log()}")

    def wait_listening(self, timeout: float = 15.0, poll: float = 0.005) -> float:
        """Seconds from launch to the first 200 from /status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if self._respawn_if_port_taken():
                    continue
                raise RuntimeError(f"the daemon exited early:\n{self.log()}")
            try:
                status, _ = http_request(self.port, "GET", "/status", timeout=5)
            except OSError:
                time.sleep(poll)
                continue
            if status == 200:
                return time.perf_counter() - self.launched
        raise RuntimeError(f"the daemon did not answer /status in {timeout} s:\n{self.log()}")

    def watch(self, on_event: Callable[[SseEvent], None] | None = None) -> EventWatcher:
        return EventWatcher(self.port, on_event)

    def wait_stable(self, timeout: float = 30.0) -> None:
        watcher = self.watch()
        try:
            watcher.wait_stable(timeout)
        finally:
            watcher.close()

    def get(self, path: str) -> Any:
        status, data = http_request(self.port, "GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {data}")
        return data

    def post_message(self, content: str, type_: str = "user") -> tuple[int, Any]:
        return http_request(self.port, "POST", "/message", {"content": content, "type": type_})

    def transcript(self) -> tuple[int, int]:
        """(number of messages, bytes of message text) as GET /messages reports them."""
        messages = self.get("/messages")["messages"]
        return len(messages), sum(len(m["content"].encode()) for m in messages)

    def flood(self, watcher: EventWatcher, timeout: float) -> None:
        """Ctrl-F to the chat agent (it floods its output), then wait for stable again."""
        before = watcher.stable_count
        status, body = self.post_message("\x06", "raw")
        if status != 200:
            raise RuntimeError(f"POST /message (raw) answered {status}: {body}")
        watcher.wait(lambda w: w.stable_count > before, timeout, "stable after a flood")

    def turn(self, watcher: EventWatcher, content: str, timeout: float = 60.0) -> float:
        """Send a user message and wait for stable again; seconds the POST took."""
        before = watcher.stable_count
        t0 = time.perf_counter()
        status, data = self.post_message(content)
        took = time.perf_counter() - t0
        if status != 200:
            raise RuntimeError(f"POST /message answered {status}: {data}")
        watcher.wait(lambda w: w.stable_count > before, timeout, "stable after a turn")
        return took

    def log(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        with contextlib.suppress(OSError):
            os.unlink(self._log.name)

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- figures ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Result:
    name: str
    figure: str
    target: str = ""
    passed: bool | None = None  # None: reported, no target
    value: float | None = None

    @property
    def verdict(self) -> str:
        return "-" if self.passed is None else ("PASS" if self.passed else "MISS")


@dataclass
class Report:
    benchmark: str
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *results: Result) -> None:
        self.results.extend(results)

    def print(self) -> None:
        rows = [("figure", "value", "target", "result")]
        rows += [(r.name, r.figure, r.target or "-", r.verdict) for r in self.results]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        print(f"\n== {self.benchmark} ==")
        for i, row in enumerate(rows):
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
            if i == 0:
                print("  ".join("-" * w for w in widths))
        for note in self.notes:
            print(f"  note: {note}")
        sys.stdout.flush()

    def save(self, path: str | None) -> None:
        if path:
            Path(path).write_text(json.dumps(asdict(self), indent=2))


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return parser


def machine(*, date: bool = True) -> str:
    """CPU model and clock from /proc/cpuinfo, cores, memory, kernel, Python, and the date."""
    model, mhz = "unknown CPU", ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown CPU":
                model = value.strip()
            elif key.strip() == "cpu MHz" and not mhz:
                mhz = f" at {float(value) / 1000:.1f} GHz"
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    text = (
        f"{model}{mhz}, {os.cpu_count()} cores{memory}, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )
    return f"{text}, {datetime.now(UTC).strftime('%Y-%m-%d')}" if date else text
