"""Session lifecycle through a real daemon: initial prompt, state file, pid file, uploads."""

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.http_helpers import sse_events
from tests.integration.conftest import DEMO

DEMO_TYPE = ["--type", "demo"]


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    # Files on disk have no event to wait on: check often, give up at the deadline.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def read_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


# -- initial prompt ---------------------------------------------------------------------------


def test_initial_prompt_from_the_flag_is_typed_once(start_daemon):
    daemon = start_daemon(flags=[*DEMO_TYPE, "-I", "  first task  "]).ready()
    messages = daemon.messages()
    assert [m["role"] for m in messages] == ["agent", "user", "agent"]
    assert messages[1]["content"] == "first task"
    assert messages[2]["content"] == "● You said: first task"


def test_initial_prompt_from_piped_stdin(start_daemon):
    daemon = start_daemon(flags=DEMO_TYPE, stdin=b"piped task\nsecond line\n").ready()
    messages = daemon.messages()
    assert messages[1]["content"] == "piped task\nsecond line"
    assert messages[2]["content"] == "● You said: piped task\n  second line"


def test_initial_prompt_is_never_typed_into_a_loading_screen(start_daemon):
    # The demo agent throws away keys typed while it loads, as real agents do.
    daemon = start_daemon(
        agent=[*DEMO, "--startup", "3"], flags=[*DEMO_TYPE, "-I", "after loading"]
    )
    daemon.wait_listening()
    statuses = []
    with daemon.http.stream("GET", "/events", timeout=30) as stream:
        for event, data in sse_events(stream):
            if event == "status_change":
                statuses.append(data["status"])
                if data["status"] == "stable":
                    break
    assert statuses == ["running", "stable"]  # never stable before the prompt was typed
    messages = daemon.messages()
    assert [m["content"] for m in messages if m["role"] == "user"] == ["after loading"]
    assert messages[-1]["content"] == "● You said: after loading"


# -- state file -------------------------------------------------------------------------------


def test_state_survives_a_sigterm_restart_and_the_next_exchange_continues(start_daemon, tmp_path):
    state = tmp_path / "state" / "conversation.json"
    first = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    before = first.turn("remember this")
    first.signal(signal.SIGTERM)
    assert first.wait_exit() == 0
    saved = read_state(state)
    assert saved["version"] == 1
    assert [m["message"] for m in saved["messages"]] == [m["content"] for m in before]
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    assert oct(state.parent.stat().st_mode & 0o777) == "0o700"

    second = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    assert second.messages() == before
    after = second.turn("and this")
    assert after[:3] == before
    assert [(m["id"], m["content"]) for m in after[3:]] == [
        (3, "and this"),
        (4, "● You said: and this"),
    ]


def test_sigusr1_saves_while_running(start_daemon, tmp_path):
    state = tmp_path / "s.json"
    daemon = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    daemon.turn("saved by signal")
    wait_for(lambda: state.exists(), what="the first save")
    state.unlink()
    daemon.signal(signal.SIGUSR1)
    saved = wait_for(lambda: read_state(state), timeout=1.0, what="the SIGUSR1 save")
    assert saved["messages"][1]["message"] == "saved by signal"
    assert daemon.status() == "stable"


def test_sigkill_loses_at_most_the_last_second(start_daemon, tmp_path):
    state = tmp_path / "s.json"
    daemon = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    messages = daemon.turn("before the crash")
    time.sleep(1.0)  # the promise is: changes older than a second are on disk
    os.killpg(daemon.proc.pid, signal.SIGKILL)
    daemon.wait_exit()
    saved = read_state(state)
    assert [m["message"] for m in saved["messages"]] == [m["content"] for m in messages]
    again = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    assert again.messages() == messages


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{not json", "not valid JSON"),
        ('{"version": 7, "messages": []}', "unknown version 7"),
    ],
)
def test_bad_state_file_is_kept_aside_and_reported(start_daemon, tmp_path, content, fragment):
    state = tmp_path / "s.json"
    state.write_text(content)
    daemon = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    assert [m["id"] for m in daemon.messages()] == [0]
    kept = list(tmp_path.glob("s.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == content
    with daemon.http.stream("GET", "/events?errors=true", timeout=10) as stream:
        for event, data in sse_events(stream):
            if event == "agent_error":
                assert data["level"] == "warning"
                assert fragment in data["message"]
                break
    with daemon.http.stream("GET", "/events", timeout=5) as stream:
        names = []
        for event, _ in sse_events(stream):
            names.append(event)
            if event == "status_change":
                break
    assert "agent_error" not in names
    daemon.turn("fresh start")
    saved = wait_for(lambda: read_state(state), what="a new state file")
    assert saved["version"] == 1


def test_no_state_file_yet_is_a_normal_first_start(start_daemon, tmp_path):
    state = tmp_path / "new" / "s.json"
    daemon = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    daemon.turn("hello")
    saved = wait_for(lambda: read_state(state), timeout=2.0, what="the save after a change")
    assert saved["messages"][1]["message"] == "hello"
    assert not list(state.parent.glob("*.corrupt-*"))


def test_saved_prompt_is_not_typed_again_after_restart(start_daemon, tmp_path):
    state = tmp_path / "s.json"
    flags = [*DEMO_TYPE, "--state-file", str(state), "-I", "the task"]
    first = start_daemon(flags=flags).ready()
    assert [m["content"] for m in first.messages() if m["role"] == "user"] == ["the task"]
    first.signal(signal.SIGTERM)
    first.wait_exit()
    second = start_daemon(flags=flags).ready()
    users = [m["content"] for m in second.messages() if m["role"] == "user"]
    assert users == ["the task"]


# -- pid file ---------------------------------------------------------------------------------


def test_pid_file_holds_the_pid_refuses_a_second_daemon_and_is_removed(start_daemon, tmp_path):
    pid_file = tmp_path / "run" / "agentapi.pid"
    daemon = start_daemon(flags=["--pid-file", str(pid_file)]).ready()
    assert pid_file.read_text() == f"{daemon.proc.pid}\n"
    second = start_daemon(flags=["--pid-file", str(pid_file)])
    assert second.wait_exit() != 0
    assert str(daemon.proc.pid) in second.log()
    assert pid_file.read_text() == f"{daemon.proc.pid}\n"
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit() == 0
    assert not pid_file.exists()


def test_stale_pid_file_is_replaced(start_daemon, tmp_path):
    pid_file = tmp_path / "agentapi.pid"
    pid_file.write_text("999999\n")
    daemon = start_daemon(flags=["--pid-file", str(pid_file)]).ready()
    assert pid_file.read_text() == f"{daemon.proc.pid}\n"
    assert "stale" in daemon.log()


# -- uploads ----------------------------------------------------------------------------------


def test_upload_round_trip_and_clean_up(demo):
    content = bytes(range(256)) * 40
    response = demo.http.post("/upload", files={"file": ("data.bin", content)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    path = Path(body["filePath"])
    assert path.is_absolute() and path.name == "data.bin"
    assert path.read_bytes() == content
    demo.signal(signal.SIGTERM)
    assert demo.wait_exit() == 0
    assert not path.exists() and not path.parent.parent.exists()


def test_upload_name_cannot_escape(demo):
    response = demo.http.post("/upload", files={"file": ("../../escape.txt", b"x")})
    path = Path(response.json()["filePath"])
    assert path.name == "escape.txt"
    assert ".." not in path.parts


def test_oversized_upload_is_refused(demo):
    response = demo.http.post("/upload", files={"file": ("big", b"\0" * (10 * 1024 * 1024 + 1))})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
