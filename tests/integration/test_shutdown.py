"""Shutdown and start-up faults: what a signal, a failed save or a failed start leave behind."""

import json
import signal
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import ErrorWatcher
from tests.integration.disks import SmallDisk

DEMO_TYPE = ["--type", "demo"]


def saved_contents(path: Path) -> list[str]:
    return [m["message"] for m in json.loads(path.read_text())["messages"]]


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.3])
def test_a_message_answered_200_during_shutdown_is_in_the_state_file(start_daemon, tmp_path, delay):
    state = tmp_path / "state.json"
    daemon = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    answer: list[httpx.Response | Exception] = []

    def post() -> None:
        try:
            answer.append(daemon.send(f"sent {delay} s before SIGTERM"))
        except httpx.HTTPError as exc:
            answer.append(exc)

    poster = threading.Thread(target=post)
    poster.start()
    time.sleep(delay)
    daemon.signal(signal.SIGTERM)
    poster.join(20)
    assert daemon.wait_exit() == 0
    # The daemon finishes a request it already took before it stops.
    assert isinstance(answer[0], httpx.Response) and answer[0].status_code == 200, answer
    assert f"sent {delay} s before SIGTERM" in saved_contents(state)


# An agent that turns terminal echo off and never reacts to keys: a POST /message to it
# waits for a reaction that never comes. It ignores SIGINT and SIGTERM as well.
DEAF_AGENT = (
    "import signal, sys, time, tty\n"
    "for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_IGN)\n"
    "tty.setraw(0)\n"
    "sys.stdout.write('deaf agent ready\\r\\n> '); sys.stdout.flush()\n"
    "time.sleep(600)\n"
)


def test_shutdown_with_a_stalled_request_and_an_event_stream_meets_one_deadline(start_daemon):
    daemon = start_daemon(
        agent=[sys.executable, "-c", DEAF_AGENT], flags=["--ready-timeout", "0"]
    ).ready()
    stalled: list[object] = []

    def post() -> None:
        try:
            stalled.append(daemon.send("nobody reads this"))
        except httpx.HTTPError as exc:
            stalled.append(exc)

    poster = threading.Thread(target=post)
    poster.start()
    with daemon.http.stream("GET", "/events", timeout=30) as stream:
        next(stream.iter_lines())
        time.sleep(0.5)  # the message is being typed
        started = time.monotonic()
        daemon.signal(signal.SIGTERM)
        assert daemon.wait_exit(20) == 0
        took = time.monotonic() - started
    poster.join(5)
    # One 5 s deadline for everything (the old daemon took 10.4 s: two graces in a row),
    # and the stubborn agent still got its SIGINT and SIGTERM before the SIGKILL.
    assert 3.5 < took < 6.5, took
    assert stalled and not (isinstance(stalled[0], httpx.Response) and stalled[0].is_success)


def test_a_failed_final_save_exits_non_zero_and_keeps_the_last_good_file(start_daemon, tmp_path):
    folder = tmp_path / "state"
    state = folder / "state.json"
    daemon = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    errors = ErrorWatcher(daemon)
    daemon.turn("kept on disk")
    daemon.signal(signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while "kept on disk" not in (saved_contents(state) if state.exists() else []):
        assert time.monotonic() < deadline, "the turn was never saved"
        time.sleep(0.02)
    good = state.read_bytes()
    # The folder goes away and a plain file takes its name: no save can succeed now.
    folder.rename(tmp_path / "moved")
    folder.write_text("not a folder")
    daemon.turn("lost with the disk")
    warning = errors.wait_for("could not be saved")
    assert warning["level"] == "warning"
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit() == 1
    assert "the conversation could not be saved" in daemon.log()
    assert (tmp_path / "moved" / "state.json").read_bytes() == good
    errors.close()


def test_every_failed_save_sends_one_warning_and_the_next_change_retries(
    start_daemon, disk: SmallDisk
):
    state = disk.path / "state.json"
    daemon = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    errors = ErrorWatcher(daemon)
    daemon.turn("first")
    daemon.signal(signal.SIGUSR1)
    time.sleep(0.5)
    good = state.read_bytes()
    assert "first" in saved_contents(state)
    disk.fill()
    daemon.turn("second, on a full disk")
    errors.wait_for("could not be saved")
    time.sleep(1.5)  # the debounced save has had its chance
    failures = errors.matching("could not be saved")
    assert len(failures) == 1, failures
    assert "no space left" in failures[0]["message"].lower()
    assert state.read_bytes() == good
    assert not [p for p in disk.path.iterdir() if p.name.endswith(".tmp")]
    assert daemon.status() == "stable"
    disk.free()
    daemon.turn("third, with room again")
    deadline = time.monotonic() + 5
    while "third, with room again" not in saved_contents(state):
        assert time.monotonic() < deadline, "the retry never saved"
        time.sleep(0.05)
    assert "second, on a full disk" in saved_contents(state)
    errors.close()


def test_a_read_only_folder_warns_keeps_the_file_and_retries_when_writable(
    start_daemon, disk: SmallDisk
):
    state = disk.path / "state.json"
    daemon = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    errors = ErrorWatcher(daemon)
    daemon.turn("before read-only")
    daemon.signal(signal.SIGUSR1)
    time.sleep(0.5)
    good = state.read_bytes()
    disk.read_only()
    daemon.turn("while read-only")
    assert "read-only" in errors.wait_for("could not be saved")["message"]
    assert state.read_bytes() == good
    disk.writable()
    daemon.turn("writable again")
    deadline = time.monotonic() + 5
    while "writable again" not in saved_contents(state):
        assert time.monotonic() < deadline, "the retry never saved"
        time.sleep(0.05)
    errors.close()


def test_a_bad_state_file_in_a_read_only_folder_is_reported_and_left_alone(
    start_daemon, disk: SmallDisk
):
    state = disk.path / "state.json"
    state.write_text("{not json")
    disk.read_only()
    daemon = start_daemon(flags=[*DEMO_TYPE, "--state-file", str(state)]).ready()
    errors = ErrorWatcher(daemon)
    warning = errors.wait_for("Starting with a fresh conversation")
    assert warning["level"] == "warning"
    assert "could not be moved aside" in warning["message"]
    assert [m["id"] for m in daemon.messages()] == [0]
    daemon.turn("fresh conversation")
    errors.wait_for("could not be saved")
    assert state.read_text() == "{not json"
    # Writable again: the bad file is moved aside first, then the conversation saved.
    disk.writable()
    daemon.turn("saved at last")
    deadline = time.monotonic() + 5
    while not state.exists() or "saved at last" not in saved_contents(state):
        assert time.monotonic() < deadline, "never saved"
        time.sleep(0.05)
    kept = list(disk.path.glob("state.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit() == 0
    assert "Traceback" not in daemon.log()
    errors.close()


@pytest.mark.parametrize("fault", ["busy port", "missing agent", "pid file in use"])
def test_a_failed_start_leaves_no_uploads_folder(start_daemon, demo, tmp_path, fault):
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"TMPDIR": str(temp)}
    if fault == "busy port":
        # The later --port wins: the demo daemon's.
        daemon = start_daemon(flags=["--port", str(demo.port)], env=env)
    elif fault == "missing agent":
        daemon = start_daemon(agent=["/nonexistent/agent"], env=env)
    else:
        pid_file = tmp_path / "agentapi.pid"
        pid_file.write_text(f"{demo.proc.pid}\n")
        daemon = start_daemon(flags=["--pid-file", str(pid_file)], env=env)
    assert daemon.wait_exit() == 1
    assert "Traceback" not in daemon.log()
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_a_pid_file_the_disk_refuses_is_a_warning_and_retried(start_daemon, disk: SmallDisk, fault):
    pid_file = disk.path / "agentapi.pid"
    if fault == "read-only":
        disk.read_only()
    else:
        disk.fill()
    daemon = start_daemon(flags=["--pid-file", str(pid_file)]).ready()
    errors = ErrorWatcher(daemon)
    warning = errors.wait_for("Running without a pid file")
    assert warning["level"] == "warning"
    assert not pid_file.exists()
    if fault == "read-only":
        disk.writable()
    else:
        disk.free()
    deadline = time.monotonic() + 6
    while not pid_file.exists():
        assert time.monotonic() < deadline, "the pid file was never written"
        time.sleep(0.05)
    assert pid_file.read_text() == f"{daemon.proc.pid}\n"
    assert len(errors.matching("Running without a pid file")) == 1
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit() == 0
    assert not pid_file.exists()
    errors.close()
