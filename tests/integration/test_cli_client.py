"""The client commands as a script runs them: subprocesses against a real daemon."""

import json
import subprocess
import sys
import time

from tests.http_helpers import free_port

AGENTAPI = [sys.executable, "-m", "agentapi"]


def run(*args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*AGENTAPI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def test_send_prints_the_reply_and_messages_prints_the_conversation(demo):
    sent = run("send", "--url", demo.url, "hello", "from", "the", "shell")
    assert (sent.returncode, sent.stdout, sent.stderr) == (
        0,
        "● You said: hello from the shell\n",
        "",
    )
    piped = run("send", "--url", demo.url, stdin="line one\nline two\n")
    assert piped.returncode == 0
    assert piped.stdout == "● You said: line one\n  line two\n"
    listed = run("messages", "--url", demo.url)
    assert listed.returncode == 0
    assert "user: hello from the shell\nagent: ● You said: hello from the shell\n" in listed.stdout
    as_json = run("messages", "--url", demo.url, "--json")
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [m["id"] for m in lines] == [0, 1, 2, 3, 4]
    assert lines[3] == {**lines[3], "role": "user", "content": "line one\nline two"}
    status = run("status", "--url", demo.url)
    assert (status.returncode, status.stdout) == (0, "stable\n")
    full = json.loads(run("status", "--url", demo.url.removeprefix("http://"), "--json").stdout)
    assert full["status"] == "stable" and full["transport"] == "pty"


def test_exit_codes_busy_timed_out_interrupt_and_no_wait(demo):
    started = run("send", "--url", demo.url, "--no-wait", "/think 30 long")
    assert (started.returncode, started.stdout) == (0, "")
    busy = run("send", "--url", demo.url, "too soon")
    assert busy.returncode == 4
    assert busy.stderr.startswith("agentapi send: 409 Agent busy")
    assert len(busy.stderr.strip().splitlines()) == 1
    timed_out = run("status", "--url", demo.url, "--wait", "stable", "--timeout", "0.5")
    assert (timed_out.returncode, timed_out.stdout) == (5, "running\n")
    assert "not stable within 0.5 s" in timed_out.stderr
    stopped = run("interrupt", "--url", demo.url)
    assert (stopped.returncode, stopped.stdout) == (0, "interrupted; the agent is stable\n")
    idle = run("interrupt", "--url", demo.url)
    assert idle.stdout == "nothing to interrupt; the agent is stable\n"
    waited = run("status", "--url", demo.url, "--wait", "stable", "--timeout", "5")
    assert (waited.returncode, waited.stdout) == (0, "stable\n")
    # Raw keys: typed into the input box, not recorded; the next message follows them.
    assert run("send", "--url", demo.url, "--raw", "typed raw, ").returncode == 0
    demo.wait_status("running")  # the agent redraws its input box
    assert run("status", "--url", demo.url, "--wait", "stable").returncode == 0
    sent = run("send", "--url", demo.url, "then sent")
    assert sent.returncode == 0, sent.stderr
    # The echo is not cut: it is not the message as sent.
    assert sent.stdout.endswith("● You said: typed raw, then sent\n")
    assert all("typed raw" not in m["content"] for m in demo.messages() if m["role"] == "user")


def test_messages_follow_prints_each_message_once_complete(demo):
    follower = subprocess.Popen(
        [*AGENTAPI, "messages", "--follow", "--url", demo.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()
        assert first.startswith("agent: ✻ agentapi demo agent")
        for _ in range(3):  # the rest of the start-up screen
            if follower.stdout.readline().strip() == "A scripted chat agent for trying agentapi.":
                break
        assert demo.send("/think 1 thought it over").status_code == 200
        assert follower.stdout.readline() == "user: /think 1 thought it over\n"
        # The reply is printed once, complete, not each redraw of it.
        assert follower.stdout.readline() == "agent: ● thought it over\n"
    finally:
        follower.terminate()
        follower.wait(10)


def test_usage_errors_and_an_unreachable_daemon():
    nobody = f"127.0.0.1:{free_port()}"
    down = run("status", "--url", nobody)
    assert down.returncode == 3
    assert (
        down.stderr == f"agentapi status: cannot reach http://{nobody} (connection refused); "
        "is the daemon running?\n"
    )
    for args in (
        ["send", "--url", nobody],  # no text, nothing piped
        ["status", "--wait", "idle"],
        ["status", "--timeout", "soon"],
        ["messages", "--bogus"],
        ["interrupt", "--url", "ftp://x"],
    ):
        result = run(*args)
        assert result.returncode == 2, (args, result)
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith(f"agentapi {args[0]}: ")
    began = time.monotonic()
    assert run("send", "--url", nobody, "hi").returncode == 3
    assert time.monotonic() - began < 10
