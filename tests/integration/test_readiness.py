"""Ready means ready: 'stable' only once the agent's input box is on screen."""

import sys
import threading
import time

from tests.http_helpers import sse_events

SLOW = [sys.executable, "-m", "tests.fakes.slow_start_agent"]


def _statuses_until_stable(daemon, timeout: float = 30) -> list[tuple[float, str]]:
    """Every status_change (seconds since the call, status) up to the first 'stable'."""
    seen: list[tuple[float, str]] = []
    t0 = time.monotonic()
    with daemon.http.stream("GET", "/events?errors=true", timeout=timeout) as stream:
        watchdog = threading.Timer(timeout, stream.close)
        watchdog.start()
        try:
            for event, data in sse_events(stream):
                if event == "status_change":
                    seen.append((time.monotonic() - t0, data["status"]))
                    if data["status"] == "stable":
                        break
                elif event == "agent_error":
                    seen.append((time.monotonic() - t0, "agent_error: " + data["message"]))
        finally:
            watchdog.cancel()
    return seen


def test_an_agent_silent_for_3_s_is_running_until_it_draws_its_box(start_daemon):
    # The generic rules (the command is python, so the type is 'custom').
    daemon = start_daemon(agent=[*SLOW, "--silent", "3"])
    daemon.wait_listening()
    seen = _statuses_until_stable(daemon)
    assert [s for _, s in seen] == ["running", "stable"]
    # Stable came after the box (3 s) plus the two quiet seconds, not over the blank screen.
    assert seen[-1][0] >= 3.5
    assert daemon.messages()[0]["content"].startswith("✻ agentapi demo agent")
    # A client that waited for 'stable' types into the box, not into nothing.
    messages = daemon.turn("Hello agent, please greet me.")
    assert [(m["role"], m["content"]) for m in messages[1:]] == [
        ("user", "Hello agent, please greet me."),
        ("agent", "● You said: Hello agent, please greet me."),
    ]


def test_the_initial_prompt_waits_for_the_box_of_a_silent_agent(start_daemon):
    daemon = start_daemon(agent=[*SLOW, "--silent", "3"], flags=["-I", "typed when ready"])
    daemon.ready()
    messages = daemon.messages()
    assert [(m["role"], m["content"]) for m in messages[1:]] == [
        ("user", "typed when ready"),
        ("agent", "● You said: typed when ready"),
    ]


def test_an_unknown_dialog_is_stable_after_the_ready_timeout_and_answered_raw(start_daemon):
    daemon = start_daemon(agent=[*SLOW, "--dialog"], flags=["--ready-timeout", "3"])
    daemon.wait_listening()
    seen = _statuses_until_stable(daemon)
    kinds = [s.split(":")[0] for _, s in seen]
    assert kinds == ["running", "agent_error", "stable"]
    assert "input box has not been recognised" in seen[1][1]
    assert seen[-1][0] >= 3
    assert "Pick a colour theme" in daemon.messages()[0]["content"]
    # A person answers the dialog with a raw key; then the agent takes messages.
    assert daemon.send("1", "raw").status_code == 200
    daemon.wait_status("running")
    daemon.wait_status("stable")
    messages = daemon.turn("now a message")
    assert messages[-1]["content"] == "● You said: now a message"
