"""``agentapi attach`` in a real pseudo-terminal, against a real daemon."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from ptyprocess import PtyProcess

from agentapi.client.attach import Renderer, fit, parse_args
from tests.http_helpers import free_port
from tests.integration.conftest import Daemon

ATTACH = [sys.executable, "-m", "agentapi", "attach"]
ALT_SCREEN_ON = b"\x1b[?1049h"
ALT_SCREEN_OFF = b"\x1b[?1049l"


class Terminal:
    """A program under a PTY, with everything it printed collected in the background."""

    def __init__(self, argv: list[str], rows: int = 24, columns: int = 80) -> None:
        self.proc = PtyProcess.spawn(argv, dimensions=(rows, columns))
        self._output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.proc.read(65536)
            except EOFError:
                return
            with self._lock:
                self._output += data

    @property
    def output(self) -> bytes:
        with self._lock:
            return bytes(self._output)

    def expect(self, wanted: bytes, timeout: float = 5, start: int = 0) -> int:
        """Wait until ``wanted`` was printed (at or after ``start``); its offset."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.output.find(wanted, start)
            if found >= 0:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{wanted!r} never appeared; got:\n{self.output!r}")

    def type(self, keys: bytes) -> None:
        self.proc.write(keys)

    def wait(self, timeout: float = 5) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.isalive():
            if time.monotonic() > deadline:
                self.proc.kill(9)
                raise AssertionError(f"still running after {timeout}s:\n{self.output!r}")
            time.sleep(0.02)
        self._reader.join(2)
        status = self.proc.exitstatus
        assert status is not None, f"killed by signal {self.proc.signalstatus}"
        return int(status)

    def close(self) -> None:
        if self.proc.isalive():
            self.proc.kill(9)
        self.proc.close(force=True)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    started: list[Terminal] = []
    yield started
    for terminal in started:
        terminal.close()


def wait_for_message(daemon: Daemon, text: str, timeout: float = 8) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = daemon.messages()
        if any(text in m["content"] for m in messages):
            return messages
        time.sleep(0.1)
    raise AssertionError(f"no message with {text!r}: {daemon.messages()}")


def test_attach_shows_the_screen_forwards_keys_and_detaches(
    demo: Daemon, terminals: list[Terminal]
) -> None:
    # The shell saves the terminal settings before and prints them after: attach must
    # leave the terminal exactly as it found it.
    script = 'stty -g; "$@"; echo "rc=$?"; stty -g'
    term = Terminal(["sh", "-c", script, "sh", *ATTACH, "--url", f"127.0.0.1:{demo.port}"])
    terminals.append(term)
    term.expect(ALT_SCREEN_ON)
    term.expect(b"agentapi demo agent")
    term.expect("/think N · /lines N · /confirm · /exit".encode())

    mark = len(term.output)
    term.type(b"hello from attach")
    # The agent echoes the typed keys into its input box, and attach redraws that row.
    term.expect("❯ hello from attach".encode(), start=mark)
    term.type(b"\r")
    term.expect("● You said: hello from attach".encode(), start=mark)
    wait_for_message(demo, "● You said: hello from attach")

    term.type(b"\x03")
    assert term.wait() == 0
    out = term.output
    assert b"rc=0" in out
    assert out.rfind(ALT_SCREEN_OFF) > out.rfind(ALT_SCREEN_ON) > 0
    lines = out.replace(b"\r", b"").split(b"\n")
    settings = [line for line in lines if line.count(b":") > 10]
    assert len(settings) == 2 and settings[0] == settings[1], settings
    # Ctrl-C detached: it never reached the agent, which is still running and stable.
    demo.wait_status("stable", timeout=5)
    assert demo.http.get("/status").status_code == 200


def test_keys_typed_right_before_ctrl_c_still_arrive(
    demo: Daemon, terminals: list[Terminal]
) -> None:
    term = Terminal([*ATTACH, "--url", f"http://127.0.0.1:{demo.port}/"])
    terminals.append(term)
    term.expect(b"agentapi demo agent")
    term.type("/lines 2 ✓\r".encode() + b"\x03")
    assert term.wait() == 0
    messages = wait_for_message(demo, "Line 2 of 2.")
    assert "● Line 1 of 2." in messages[-1]["content"]


def test_attach_ends_when_the_daemon_goes_away(demo: Daemon, terminals: list[Terminal]) -> None:
    term = Terminal([*ATTACH, "--url", f"127.0.0.1:{demo.port}"])
    terminals.append(term)
    term.expect(b"agentapi demo agent")
    term.type(b"/exit\r")  # the agent exits, so the daemon does too
    assert term.wait(timeout=10) == 1
    out = term.output
    assert out.rfind(ALT_SCREEN_OFF) > out.rfind(ALT_SCREEN_ON)
    tail = out[out.rfind(ALT_SCREEN_OFF) + len(ALT_SCREEN_OFF) :].decode()
    assert tail.strip().startswith("agentapi attach: ")
    assert len(tail.strip().splitlines()) == 1
    assert "Traceback" not in out.decode(errors="replace")


def test_stdin_not_a_terminal_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [*ATTACH, "--url", f"127.0.0.1:{free_port()}"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("agentapi attach: stdin is not a terminal")


def test_unreachable_daemon_is_one_line_and_exit_1(terminals: list[Terminal]) -> None:
    term = Terminal([*ATTACH, "--url", f"127.0.0.1:{free_port()}"])
    terminals.append(term)
    assert term.wait(timeout=10) == 1
    text = term.output.decode().replace("\r", "")
    assert ALT_SCREEN_ON.decode() not in text
    assert text.count("\n") == 1
    assert text.startswith("agentapi attach: cannot reach http://127.0.0.1:")
    assert "connection refused" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bogus"], "unknown flag '--bogus'"),
        (["--url"], "flag --url needs a value"),
        (["somewhere:1"], "unexpected argument 'somewhere:1'"),
        (["--url", "ftp://h:1"], "unsupported URL scheme 'ftp'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = subprocess.run(
        [*ATTACH, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_help() -> None:
    done = subprocess.run([*ATTACH, "--help"], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0
    assert done.stdout.startswith("usage: agentapi attach [--url HOST:PORT]")


# -- the pieces, without a terminal -------------------------------------------------------


def test_parse_args() -> None:
    assert parse_args([]) == "http://localhost:3284"
    assert parse_args(["--url", "127.0.0.1:9"]) == "http://127.0.0.1:9"
    assert parse_args(["--url=https://h:1/"]) == "https://h:1"
    assert parse_args(["-u", "h:2"]) == "http://h:2"
    assert parse_args(["--url", "h:2", "-h"]) is None


def test_fit_counts_terminal_cells() -> None:
    assert fit("hello", 3) == "hel"
    assert fit("你好世界", 5) == "你好"  # a wide character never half-fits
    assert fit("cafe\u0301 ok", 6) == "cafe\u0301 o"  # combining marks take no cell
    assert fit("a\tb\x1bc", 10) == "a b c"  # nothing the terminal would act on


def test_renderer_rewrites_only_changed_rows() -> None:
    written: list[bytes] = []
    renderer = Renderer(written.append)
    renderer.draw("one\ntwo\nthree\nfour", (10, 3))
    first = written[-1].decode()
    assert first.startswith("\x1b[H\x1b[2J")  # a full redraw the first time
    # The bottom of the screen is shown: that is where agents keep their prompt.
    assert "\x1b[1H\x1b[2Ktwo" in first and "\x1b[3H\x1b[2Kfour" in first
    assert "one" not in first
    renderer.draw("one\ntwo\nthree\nFOUR", (10, 3))
    assert written[-1] == b"\x1b[3H\x1b[2KFOUR"
    count = len(written)
    renderer.draw("one\ntwo\nthree\nFOUR", (10, 3))
    assert len(written) == count  # nothing changed, nothing written
    renderer.draw("x", (10, 3))
    assert written[-1] == b"\x1b[1H\x1b[2Kx\x1b[2H\x1b[2K\x1b[3H\x1b[2K"
    renderer.draw("x", (20, 4))  # a resize redraws everything
    assert written[-1].startswith(b"\x1b[H\x1b[2J")
