"""The daemon as a process: start-up, exit codes, signals, clean-up."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.http_helpers import sse_events
from tests.integration.conftest import DEMO


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def test_status_answers_before_the_agent_is_ready(start_daemon):
    daemon = start_daemon(agent=[*DEMO, "--startup", "3"])
    started = time.monotonic()
    daemon.wait_listening()
    assert time.monotonic() - started < 5
    assert daemon.http.get("/status").json()["status"] == "running"
    daemon.wait_status("stable")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_stop_daemon_and_agent(demo, sig):
    agents = _children(demo.proc.pid)
    assert agents
    demo.signal(sig)
    assert demo.wait_exit(15) == 0
    for pid in agents:
        assert not _alive(pid), f"agent {pid} outlived the daemon"


def test_sigterm_while_an_event_stream_is_open(demo):
    with demo.http.stream("GET", "/events", timeout=20) as stream:
        next(stream.iter_lines())
        started = time.monotonic()
        demo.signal(signal.SIGTERM)
        assert demo.wait_exit(15) == 0
        assert time.monotonic() - started < 8


def test_agent_that_ignores_sigint_and_sigterm_is_killed(start_daemon):
    stubborn = [
        sys.executable,
        "-c",
        "import signal,time;"
        "[signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)];"
        "print('stubborn ready', flush=True); time.sleep(600)",
    ]
    # No input box to wait for: stable as soon as the screen settles.
    daemon = start_daemon(agent=stubborn, flags=["--ready-timeout", "0"])
    daemon.wait_listening()
    daemon.wait_status("stable")
    agents = _children(daemon.proc.pid)
    started = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit(20) == 0
    assert 4 < time.monotonic() - started < 12
    assert not any(_alive(pid) for pid in agents)


def test_agent_exit_zero_ends_the_daemon_with_zero(demo):
    demo.send("/exit 0")
    assert demo.wait_exit(15) == 0


def test_failing_agent_ends_the_daemon_with_one_and_its_last_screen(demo):
    demo.send("/exit 3")
    assert demo.wait_exit(15) == 1
    log = demo.log()
    assert "agent exited with code 3" in log
    assert "Goodbye (exit code 3)." in log


def test_missing_agent_command_is_a_clear_error(start_daemon):
    daemon = start_daemon(agent=["/nonexistent/agent-binary"])
    assert daemon.wait_exit(15) == 1
    assert "cannot start '/nonexistent/agent-binary'" in daemon.log()


def test_grandchildren_are_cleaned_up(start_daemon):
    script = (
        "import subprocess,time;"
        "subprocess.Popen(['sleep','600']);"
        "print('spawned', flush=True); time.sleep(600)"
    )
    daemon = start_daemon(agent=[sys.executable, "-c", script], flags=["--ready-timeout", "0"])
    daemon.wait_listening()
    daemon.wait_status("stable")
    agent = _children(daemon.proc.pid)[0]
    grandchildren = _children(agent)
    assert grandchildren
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit(20) == 0
    assert not any(_alive(pid) for pid in grandchildren)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agentapi", *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def test_version():
    result = _cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == "agentapi version 0.13.0"


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["server", "--port", "x", "--", "true"], "invalid value 'x' for --port"),
        (["server", "--type", "nosuch", "--", "true"], "unknown agent type 'nosuch'"),
        (["server", "--load-state", "--", "true"], "--load-state requires --state-file"),
        (["server"], "no agent command given"),
        (["frobnicate"], "unknown command"),
    ],
)
def test_usage_errors_are_one_line_exit_two(args, fragment):
    result = _cli(*args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_port_in_use_is_a_clear_error(demo):
    result = _cli("server", "--port", str(demo.port), "--", "true")
    assert result.returncode == 1
    assert f"port {demo.port} is already in use" in result.stderr


FLOOD_AGENT = """
import os, sys, time
os.write(1, b"ready\\r\\n> ")
sys.stdin.readline()  # waits for a raw Enter
end = time.monotonic() + 4
n = 0
while time.monotonic() < end:
    # Big writes keep the PTY full, so the daemon always has more to read.
    block = b"".join(b"flood line %d %s\\r\\n" % (n + i, b"x" * 60) for i in range(800))
    n += 800
    os.write(1, block)
os.write(1, b"flood done\\r\\n> ")
time.sleep(3600)
"""


def test_a_flood_that_never_pauses_still_updates_the_screen_and_reads_running(
    start_daemon, tmp_path
):
    agent = tmp_path / "flood.py"
    agent.write_text(FLOOD_AGENT)
    daemon = start_daemon(agent=[sys.executable, str(agent)])
    daemon.wait_listening()
    daemon.wait_status("stable")
    flood_screens = 0
    statuses: list[str] = []
    with daemon.http.stream("GET", "/events", timeout=30) as stream:
        assert daemon.send("\r", "raw").status_code == 200
        for event, data in sse_events(stream):
            if event == "status_change":
                statuses.append(data["status"])
            elif event == "message_update" and "flood line" in data["message"]:
                if "flood done" in data["message"]:
                    break
                flood_screens += 1
    # The flood lasts 4 s: screens keep coming (one at least every 48 ms of output), and
    # the status never settles to stable before the agent's last line.
    assert flood_screens >= 20
    assert statuses[-1] == "running" and "stable" not in statuses[statuses.index("running") :]
    daemon.wait_status("stable", timeout=30)
    assert "flood done" in daemon.messages()[-1]["content"]
