"""Agent faults: an agent that fails, is killed, or leaves detached helpers behind.

Whatever happens to the agent, the daemon saves the transcript, says what happened, exits
with a clear code, and leaves no process it started running, grandchildren included.
"""

import json
import os
import signal
import sys
import time
from pathlib import Path

from tests.integration.test_process import _alive, _children

DEMO_TYPE = ["--type", "demo"]
# These agents draw no input box: stable as soon as their screen settles.
NO_BOX = ["--ready-timeout", "0"]


def _wait_gone(pids: list[int], timeout: float = 5) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [pid for pid in pids if _alive(pid)]
        if not left:
            return []
        time.sleep(0.02)
    return [pid for pid in pids if _alive(pid)]


def _read_pid(path: Path, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text.endswith("\n"):
            return int(text)
        time.sleep(0.02)
    raise AssertionError(f"no pid in {path}")


# An agent with a helper in its own session (as `setsid helper &` makes, and Codex's
# app-server does): not in the agent's process group, so killpg never reaches it. The agent
# exits with code 3 when it reads a line.
DETACHING_AGENT = """
import subprocess, sys
helper = subprocess.Popen(["sleep", "600"], start_new_session=True)
with open(sys.argv[1], "w") as f:
    f.write(f"{helper.pid}\\n")
print("agent with a detached helper ready", flush=True)
sys.stdin.readline()
print("agent leaving with code 3", flush=True)
sys.exit(3)
"""


def test_a_setsid_helper_is_stopped_with_the_agent_on_sigterm(start_daemon, tmp_path):
    pid_path = tmp_path / "helper.pid"
    daemon = start_daemon(
        agent=[sys.executable, "-c", DETACHING_AGENT, str(pid_path)], flags=NO_BOX
    )
    daemon.wait_listening()
    helper = _read_pid(pid_path)
    assert os.getsid(helper) != os.getsid(_children(daemon.proc.pid)[0])
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit() == 0
    assert _wait_gone([helper]) == []


def test_an_agent_that_fails_and_leaves_a_setsid_helper(start_daemon, tmp_path):
    pid_path = tmp_path / "helper.pid"
    state = tmp_path / "state.json"
    daemon = start_daemon(
        agent=[sys.executable, "-c", DETACHING_AGENT, str(pid_path)],
        flags=[*NO_BOX, "--state-file", str(state)],
    )
    daemon.wait_listening()
    daemon.wait_status("stable")
    helper = _read_pid(pid_path)
    # The agent exits; its helper, orphaned, was adopted by the daemon and goes with it.
    assert daemon.send("bye\r", "raw").status_code == 200
    assert daemon.wait_exit() == 1
    log = daemon.log()
    assert "agent exited with code 3; its last screen:" in log
    assert "agent leaving with code 3" in log
    assert _wait_gone([helper]) == []
    saved = json.loads(state.read_text())
    assert "agent with a detached helper ready" in saved["messages"][0]["message"]


def test_an_agent_killed_by_a_signal(start_daemon, tmp_path):
    state = tmp_path / "state.json"
    daemon = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    daemon.turn("said before the kill")
    agent = _children(daemon.proc.pid)[0]
    os.kill(agent, signal.SIGKILL)
    assert daemon.wait_exit() == 1
    assert "agent was killed by SIGKILL; its last screen:" in daemon.log()
    saved = json.loads(state.read_text())
    assert "said before the kill" in [m["message"] for m in saved["messages"]]


# Ignores SIGHUP (the hang-up a closing terminal sends), SIGINT and SIGTERM.
HARDY_AGENT = (
    "import signal, time\n"
    "for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_IGN)\n"
    "print('hardy agent ready', flush=True)\n"
    "time.sleep(600)\n"
)


def test_an_agent_that_ignores_sighup_does_not_outlive_a_sigkilled_daemon(start_daemon):
    daemon = start_daemon(agent=[sys.executable, "-c", HARDY_AGENT], flags=NO_BOX)
    daemon.wait_listening()
    daemon.wait_status("stable")
    agent = _children(daemon.proc.pid)[0]
    os.kill(daemon.proc.pid, signal.SIGKILL)
    daemon.wait_exit()
    assert _wait_gone([agent]) == []
