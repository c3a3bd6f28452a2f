"""ACP mode through a real daemon and HTTP only, with our scripted ACP agent on stdio."""

from __future__ import annotations

import contextlib
import itertools
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import jsonschema
import pytest

from agentapi.server.openapi import build_openapi
from tests.http_helpers import free_port, sse_events
from tests.integration.conftest import Daemon

FAKE_ACP = [sys.executable, "-m", "tests.fakes.acp_agent"]
ACP = ["--experimental-acp"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[Daemon]:
    """One daemon for the tests that leave it stable: each start costs seconds (two imports
    of the protocol package)."""
    daemon = Daemon(
        tmp_path_factory.mktemp("acp"),
        [*FAKE_ACP, "--chunk-delay", "0.02"],
        ACP,
        {},
        None,
    )
    try:
        yield daemon.ready()
    finally:
        daemon.close()


@pytest.fixture(scope="module")
def asking(tmp_path_factory) -> Iterator[Daemon]:
    """A daemon that asks the client about every permission, and waits 3 s for an answer."""
    daemon = Daemon(
        tmp_path_factory.mktemp("acp-ask"),
        FAKE_ACP,
        [*ACP, "--acp-permissions", "ask", "--acp-permission-timeout", "3"],
        {},
        None,
    )
    try:
        yield daemon.ready()
    finally:
        daemon.close()


@pytest.fixture
def acp(start_daemon):
    def start(*agent_flags: str, flags: list[str] | None = None, env=None):
        return start_daemon(agent=[*FAKE_ACP, *agent_flags], flags=[*ACP, *(flags or [])], env=env)

    return start


def last_agent(daemon) -> dict:
    messages = daemon.messages()
    assert messages[-1]["role"] == "agent", messages
    return messages[-1]


def collect_updates(daemon, message_id: int, until_status: str, timeout: float = 20):
    """Every message_update for ``message_id`` until the status becomes ``until_status``
    after having been something else, from one /events stream."""
    seen: list[str] = []
    with daemon.http.stream("GET", "/events", timeout=timeout) as stream:
        watchdog = threading.Timer(timeout, stream.close)
        watchdog.start()
        left_status = False
        try:
            for event, data in sse_events(stream):
                if event == "message_update" and data["id"] == message_id:
                    seen.append(data["message"])
                elif event == "status_change":
                    if data["status"] != until_status:
                        left_status = True
                    elif left_status:
                        return seen
        finally:
            watchdog.cancel()
    raise AssertionError(f"status never returned to {until_status}: {seen[-3:]}")


def test_two_turns_over_http(shared):
    daemon = shared
    status = daemon.http.get("/status").json()
    assert status["status"] == "stable"
    assert status["transport"] == "acp"
    before = daemon.messages()
    assert before[0]["role"] == "agent"
    assert "scripted-acp-agent 1.0" in before[0]["content"]
    n = len(before)

    messages = daemon.turn("hello there")
    assert [(m["id"], m["role"]) for m in messages[n:]] == [(n, "user"), (n + 1, "agent")]
    assert messages[n]["content"] == "hello there"
    assert messages[n + 1]["content"] == "You said: there"
    assert messages[n + 1]["stop_reason"] == "end_turn"
    assert messages[n + 1]["parts"] == [{"type": "text", "text": "You said: there"}]
    # What the old vocabulary has is all there; the new fields are extra.
    assert set(messages[n]) == {"id", "role", "content", "time"}

    messages = daemon.turn("second question")
    assert len(messages) == n + 4
    assert messages[n + 3]["content"] == "You said: second question"


def test_reply_grows_in_one_message_while_running(shared):
    daemon = shared
    reply_id = len(daemon.messages()) + 1
    updates: list[str] = []
    reader = threading.Thread(
        target=lambda: updates.extend(collect_updates(daemon, reply_id, "stable")), daemon=True
    )
    reader.start()
    time.sleep(0.3)  # the stream is open and has replayed the state
    assert daemon.send("hello a fairly long sentence to stream").json() == {"ok": True}
    assert daemon.status() == "running"
    reader.join(20)
    final = "You said: a fairly long sentence to stream"
    assert updates[-1] == final
    # Several growing versions of the same message, each a prefix of the next.
    assert len(updates) >= 3
    for shorter, longer in itertools.pairwise(updates):
        assert longer.startswith(shorter)
    assert daemon.status() == "stable"


def test_tool_calls_plans_and_thoughts_are_parts(shared):
    daemon = shared
    reply = daemon.turn("/tool")[-1]
    assert reply["parts"][0] == {
        "type": "tool_call",
        "tool_call_id": "t1",
        "title": "List files",
        "kind": "execute",
        "status": "completed",
        "output": "a.txt\nb.txt",
    }
    assert reply["content"] == "✔ List files (completed)\nFound two files."

    reply = daemon.turn("/plan")[-1]
    plan = reply["parts"][0]
    assert plan["type"] == "plan"
    assert [(e["content"], e["status"]) for e in plan["entries"]] == [
        ("Read the code", "completed"),
        ("Write the fix", "in_progress"),
        ("Run the tests", "pending"),
    ]
    assert reply["content"].startswith("Plan:\n  [x] Read the code\n  [>] Write the fix")

    reply = daemon.turn("/think")[-1]
    assert reply["parts"][0] == {"type": "thought", "text": "Pondering."}
    # Thoughts are structure, not part of the readable reply.
    assert reply["content"] == "Thought done."

    # Every answer, parts included, is what our OpenAPI document says.
    document = build_openapi()
    schema = {
        "$ref": "#/components/schemas/MessagesResponseBody",
        "components": document["components"],
    }
    jsonschema.validate(daemon.http.get("/messages").json(), schema)


def test_busy_while_a_prompt_is_in_flight(shared):
    daemon = shared
    assert daemon.send("/slow 30").status_code == 200
    busy = daemon.send("another")
    assert busy.status_code == 409
    assert busy.headers["content-type"] == "application/problem+json"
    assert daemon.status() == "running"
    daemon.send("\x03", "raw")
    daemon.wait_status("stable", timeout=10)


def test_esc_cancels_the_turn(shared):
    daemon = shared
    assert daemon.send("/slow 100").status_code == 200
    time.sleep(0.5)
    assert daemon.send("\x1b", "raw").json() == {"ok": True}
    daemon.wait_status("stable", timeout=10)
    reply = last_agent(daemon)
    assert reply["stop_reason"] == "cancelled"
    assert reply["content"].startswith("chunk 0 ")
    assert reply["content"].endswith("(cancelled)")
    # The agent is usable again.
    assert daemon.turn("hello again")[-1]["content"] == "You said: again"


def test_interrupt_endpoint_cancels_and_answers_once_stable(shared):
    daemon = shared
    idle = daemon.http.post("/interrupt")
    assert idle.status_code == 200
    assert idle.json()["interrupted"] is False
    assert daemon.send("/slow 100").status_code == 200
    time.sleep(0.3)
    answer = daemon.http.post("/interrupt")
    assert answer.status_code == 200
    assert answer.json() == {"ok": True, "interrupted": True, "status": "stable"}
    assert last_agent(daemon)["stop_reason"] == "cancelled"


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_uploaded_images_named_in_a_message_go_as_image_blocks(shared, tmp_path):
    uploaded = shared.http.post("/upload", files={"file": ("dot.png", PNG, "image/png")})
    assert uploaded.status_code == 200, uploaded.text
    path = uploaded.json()["filePath"]
    reply = shared.turn(f"hello see {path}.")[-1]
    assert reply["content"].startswith(f"Images: image/png {len(PNG)} bytes. You said: see ")
    # A picture that was not uploaded to this daemon stays a path in the text.
    elsewhere = tmp_path / "other.png"
    elsewhere.write_bytes(PNG)
    reply = shared.turn(f"hello see {elsewhere}")[-1]
    assert reply["content"] == f"You said: see {elsewhere}"


def test_garbage_mid_session_is_a_warning_not_a_failure(shared):
    daemon = shared
    reply = daemon.turn("/garbage")[-1]
    assert reply["content"] == "After garbage."
    assert daemon.proc.poll() is None


def test_files_inside_the_working_directory_only(shared, tmp_path):
    daemon = shared
    cwd = daemon.http.get("/messages")  # the daemon runs in the test's working directory
    assert cwd.status_code == 200
    inside = "pyproject.toml"
    reply = daemon.turn(f"/read {inside}")[-1]
    assert reply["content"] == "First line: [build-system]"
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n")
    reply = daemon.turn(f"/read {secret}")[-1]
    assert reply["content"].startswith("Read failed")
    assert "top secret" not in reply["content"]
    outside = tmp_path / "written.txt"
    reply = daemon.turn(f"/write {outside} nope")[-1]
    assert reply["content"].startswith("Write failed")
    assert not outside.exists()


# -- an agent that cannot be used: a clear error, never a hang ----------------------------------


def run_failing(agent_flags: list[str], flags: list[str], timeout: float = 30):
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentapi",
            "server",
            "--port",
            str(free_port()),
            *ACP,
            *flags,
            "--",
            *FAKE_ACP,
            *agent_flags,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return proc, time.monotonic() - started


def test_agent_exiting_at_start(acp):
    proc, _ = run_failing(["--exit-at-start", "3"], [])
    assert proc.returncode == 1
    assert "exited with code 3" in proc.stderr
    assert "fake agent: cannot find my configuration" in proc.stderr


def test_agent_that_never_answers_initialize():
    proc, took = run_failing(["--no-init"], ["--acp-start-timeout", "1"])
    assert proc.returncode == 1
    assert "did not answer initialize within 1 s" in proc.stderr
    assert took < 15


def test_agent_writing_non_json_at_start():
    proc, _ = run_failing(["--garbage-at-start"], [])
    assert proc.returncode == 1
    assert "not JSON-RPC" in proc.stderr
    assert "Welcome to the fake agent!" in proc.stderr


def test_agent_exiting_mid_turn(acp):
    daemon = acp().ready()
    with contextlib.suppress(httpx.HTTPError):
        daemon.send("/exit 4")
    assert daemon.wait_exit(20) == 1
    assert "exited with code 4" in daemon.log()
    assert "exiting as asked" in daemon.log()


def test_missing_agent_command(start_daemon):
    proc = subprocess.run(
        [sys.executable, "-m", "agentapi", "server", *ACP, "--", "no-such-acp-agent-here"],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1
    assert "'no-such-acp-agent-here' was not found" in proc.stderr


# -- permissions ------------------------------------------------------------------------------


def first_event(daemon, path: str, predicate, timeout: float = 20):
    """The data of the first SSE event on ``path`` for which ``predicate(name, data)``."""
    with daemon.http.stream("GET", path, timeout=timeout) as stream:
        watchdog = threading.Timer(timeout, stream.close)
        watchdog.start()
        try:
            for name, data in sse_events(stream):
                if predicate(name, data):
                    return data
        finally:
            watchdog.cancel()
    raise AssertionError(f"no such event on {path}")


def pending_permission(daemon) -> dict:
    def is_pending(name, data):
        return name == "message_parts" and any(
            p["type"] == "permission" and p["status"] == "pending" for p in data["parts"]
        )

    data = first_event(daemon, "/events?parts=true", is_pending)
    return next(p for p in data["parts"] if p["type"] == "permission")


def test_allow_is_the_default_and_is_noted(shared):
    reply = shared.turn("/perm")[-1]
    assert reply["content"].endswith("Permission: yes.")
    permission = next(p for p in reply["parts"] if p["type"] == "permission")
    assert (permission["status"], permission["selected"]) == ("selected", "yes")


def test_structure_events_only_on_request(shared):
    shared.turn("/tool")
    with shared.http.stream("GET", "/events", timeout=10) as stream:
        names = []
        for name, _data in sse_events(stream):
            names.append(name)
            if name == "status_change":  # the end of the replay
                break
    assert "message_parts" not in names
    data = first_event(shared, "/events?parts=true", lambda n, d: n == "message_parts")
    assert data["role"] == "agent"


def test_asked_permission_answered_over_http(asking):
    daemon = asking
    assert daemon.send("/perm").status_code == 200
    permission = pending_permission(daemon)
    assert permission["title"] == "Delete a.txt"
    assert [o["option_id"] for o in permission["options"]] == ["yes", "always", "no"]
    assert daemon.status() == "running"
    assert "waiting for an answer" in last_agent(daemon)["content"]
    pid = permission["permission_id"]

    wrong = daemon.http.post("/permission", json={"id": pid, "option_id": "maybe"})
    assert wrong.status_code == 422
    assert "offers yes, always, no" in wrong.json()["detail"]
    unknown = daemon.http.post("/permission", json={"id": pid + 100, "option_id": "yes"})
    assert unknown.status_code == 404
    malformed = daemon.http.post("/permission", json={"id": "x"})
    assert malformed.status_code == 422

    answer = daemon.http.post("/permission", json={"id": pid, "option_id": "always"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True}
    daemon.wait_status("stable")
    reply = last_agent(daemon)
    assert reply["content"].endswith("Permission: always.")
    part = next(p for p in reply["parts"] if p["type"] == "permission")
    assert (part["status"], part["selected"]) == ("selected", "always")
    again = daemon.http.post("/permission", json={"id": pid, "option_id": "yes"})
    assert again.status_code == 404

    # Cancelling while a request waits answers it 'cancelled'.
    assert daemon.send("/perm").status_code == 200
    pending_permission(daemon)
    daemon.send("\x1b", "raw")
    daemon.wait_status("stable")
    reply = last_agent(daemon)
    assert reply["stop_reason"] == "cancelled"
    part = next(p for p in reply["parts"] if p["type"] == "permission")
    assert part["status"] == "cancelled"


def test_unanswered_permission_times_out_as_a_refusal(asking):
    daemon = asking
    reply = daemon.turn("/perm")[-1]
    assert reply["content"].endswith("Permission: no.")
    assert "not answered in time: refused: Reject" in reply["content"]
    part = next(p for p in reply["parts"] if p["type"] == "permission")
    assert (part["status"], part["selected"]) == ("timed_out", "no")


def test_deny_policy(acp):
    daemon = acp(flags=["--acp-permissions", "deny"]).ready()
    reply = daemon.turn("/perm")[-1]
    assert reply["content"].endswith("Permission: no.")
    part = next(p for p in reply["parts"] if p["type"] == "permission")
    assert part["status"] == "refused"


# -- persistence ------------------------------------------------------------------------------


def test_restart_with_a_state_file_resumes_the_agents_session(acp, tmp_path):
    state = tmp_path / "state.json"
    history = tmp_path / "history.json"
    remembering = ["--load", "--history", str(history)]
    flags = ["--state-file", str(state)]

    first = acp(*remembering, flags=flags).ready()
    first.turn("hello one")
    first.turn("/tool")
    first.signal(signal.SIGTERM)
    assert first.wait_exit() == 0
    saved = json.loads(state.read_text())
    assert saved["acp_session_id"].startswith("s1-")
    assert saved["messages"][2]["message"] == "You said: one"
    assert saved["messages"][4]["parts"][0]["type"] == "tool_call"

    second = acp(*remembering, flags=flags).ready()
    messages = second.messages()
    assert [m["content"] for m in messages[1:3]] == ["hello one", "You said: one"]
    assert messages[4]["parts"][0]["title"] == "List files"  # the structure came back too
    reply = second.turn("/recall")[-1]
    assert reply["content"] == "I remember: hello one | /tool"
    second.signal(signal.SIGTERM)
    assert second.wait_exit() == 0

    # An agent without session/load: the transcript is back, the agent does not remember.
    third = acp(flags=flags).ready()
    assert third.messages()[1]["content"] == "hello one"
    reply = third.turn("/recall")[-1]
    assert "hello one" not in reply["content"]
    warning = first_event(third, "/events?errors=true", lambda n, d: n == "agent_error")
    assert "does not offer session/load" in warning["message"]
    assert "does not remember" in warning["message"]
