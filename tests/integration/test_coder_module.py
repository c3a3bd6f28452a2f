"""Coder's agentapi module, step by step: how a workspace starts, pauses and resumes a task.

The module exports its AGENTAPI_* variables and starts the daemon in the background with
nohup; its wait script wants three /status successes in a row; its shutdown script reads the
pid file, sends SIGUSR1, sleeps a second, fetches /messages for the task log, sends SIGTERM
and waits without a timeout. Starting the workspace again runs the same start: the
conversation must be back. Here that sequence runs against our daemon and the demo agent.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.http_helpers import free_port
from tests.integration.conftest import DEMO

# What the module's proxy sends: a Host header that is not localhost.
PROXIED_HOST = "coder--agentapi--workspace.example.com"


def module_env(module_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTAPI_")}
    env.update(
        {
            "AGENTAPI_CHAT_BASE_PATH": "",  # exported empty when the task is not path-proxied
            "AGENTAPI_ALLOWED_HOSTS": "*",
            "AGENTAPI_PID_FILE": str(module_dir / "agentapi.pid"),
            "AGENTAPI_STATE_FILE": str(module_dir / "agentapi-state.json"),
            "AGENTAPI_SAVE_STATE": "true",
            "AGENTAPI_LOAD_STATE": "true",
        }
    )
    return env


def start_in_background(module_dir: Path, port: int) -> None:
    """`nohup agentapi-start.sh &`: the daemon outlives the shell that started it."""
    command = [
        sys.executable, "-m", "agentapi", "server", "--type", "demo", "--port", str(port),
        "--term-width", "67", "--term-height", "1190", "--", *DEMO, "--think", "0.2",
    ]  # fmt: skip
    subprocess.run(
        ["bash", "-c", 'nohup "$@" >>"$LOG" 2>&1 &', "start", *command],
        env={**module_env(module_dir), "LOG": str(module_dir / "agentapi.log")},
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=10,
    )


def wait_for_start(http: httpx.Client, timeout: float = 15) -> None:
    """Three successful /status answers in a row, as the module's wait script wants."""
    in_a_row = 0
    deadline = time.monotonic() + timeout
    while in_a_row < 3:
        assert time.monotonic() < deadline, "the daemon never answered /status three times"
        try:
            in_a_row = in_a_row + 1 if http.get("/status").is_success else 0
        except httpx.TransportError:
            in_a_row = 0
        time.sleep(0.1)


def wait_stable(http: httpx.Client, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while http.get("/status").json()["status"] != "stable":
        assert time.monotonic() < deadline, "never stable"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def shut_down(module_dir: Path, http: httpx.Client) -> list[dict]:
    """The module's shutdown script: pid file, SIGUSR1, 1 s, GET /messages, SIGTERM, wait."""
    pid = int((module_dir / "agentapi.pid").read_text())
    version = subprocess.run(
        [sys.executable, "-m", "agentapi", "--version"], capture_output=True, text=True
    ).stdout.split()[-1]
    # SIGUSR1 is sent only to 0.12.0 or later: to older builds it is fatal.
    assert tuple(int(x) for x in version.split(".")) >= (0, 12, 0)
    os.kill(pid, signal.SIGUSR1)
    time.sleep(1)
    snapshot = http.get("/messages").json()["messages"]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15  # the module waits forever; the test does not
    while alive(pid):
        assert time.monotonic() < deadline, "SIGTERM did not end the daemon"
        time.sleep(0.05)
    return snapshot


def test_start_pause_and_resume_as_the_coder_module_does(tmp_path):
    module_dir = tmp_path / ".agentapi-module"
    module_dir.mkdir()
    port = free_port()
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Host": PROXIED_HOST}, timeout=30
    )
    try:
        start_in_background(module_dir, port)
        wait_for_start(http)
        pid = int((module_dir / "agentapi.pid").read_text())
        wait_stable(http)
        answer = http.post("/message", json={"content": "plan the change", "type": "user"})
        assert answer.status_code == 200, answer.text
        wait_stable(http)
        before = http.get("/messages").json()["messages"]
        assert before[-1]["content"] == "● You said: plan the change"

        snapshot = shut_down(module_dir, http)
        assert snapshot == before  # the task log the module posts to Coder
        assert not (module_dir / "agentapi.pid").exists()
        saved = json.loads((module_dir / "agentapi-state.json").read_text())
        assert [m["message"] for m in saved["messages"]] == [m["content"] for m in before]

        # The workspace starts again: same start, and the conversation is back.
        start_in_background(module_dir, port)
        wait_for_start(http)
        assert int((module_dir / "agentapi.pid").read_text()) != pid
        wait_stable(http)
        assert http.get("/messages").json()["messages"] == before
        answer = http.post("/message", json={"content": "and go on", "type": "user"})
        assert answer.status_code == 200, answer.text
        wait_stable(http)
        after = http.get("/messages").json()["messages"]
        assert after[: len(before)] == before
        assert after[-1]["content"] == "● You said: and go on"
        shut_down(module_dir, http)
        assert not (module_dir / "agentapi.pid").exists()
        log = (module_dir / "agentapi.log").read_text()
        assert "Traceback" not in log
    finally:
        http.close()
        pid_file = module_dir / "agentapi.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
