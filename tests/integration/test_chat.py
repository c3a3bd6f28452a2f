"""A full chat with the demo agent through a real daemon, PTY and HTTP server."""

import threading
from pathlib import Path

from tests.http_helpers import sse_events


def test_full_turn_gives_clean_greeting_user_message_and_reply(demo):
    messages = demo.turn("hello agent")
    assert [(m["id"], m["role"]) for m in messages] == [(0, "agent"), (1, "user"), (2, "agent")]
    assert messages[0]["content"].startswith("✻ agentapi demo agent")
    assert "─" not in messages[0]["content"]  # no input box
    assert messages[1]["content"] == "hello agent"
    assert messages[2]["content"].splitlines()[0] == "● You said: hello agent"
    assert "❯" not in messages[2]["content"]  # no echo, no prompt
    assert "Thinking" not in messages[2]["content"]
    for m in messages:
        assert m["time"][-6] in "+-" or m["time"].endswith("Z")


def test_second_turn_continues_ids_and_keeps_the_first_reply(demo):
    demo.turn("first")
    messages = demo.turn("second")
    assert [m["id"] for m in messages] == [0, 1, 2, 3, 4]
    assert messages[2]["content"].startswith("● You said: first")
    assert messages[4]["content"].startswith("● You said: second")
    assert "first" not in messages[4]["content"]


def test_surrounding_whitespace_is_trimmed_not_refused(demo):
    messages = demo.turn("  padded message \n")
    assert messages[1]["content"] == "padded message"


def test_multi_line_message_is_one_user_message(demo):
    messages = demo.turn("line one\nline two\nline three")
    assert messages[1]["content"] == "line one\nline two\nline three"
    reply = messages[2]["content"]
    assert reply == "● You said: line one\n  line two\n  line three"


def test_non_ascii_round_trip(demo):
    text = "你好, world 🌍 ┌──┐ café"
    messages = demo.turn(text)
    assert messages[1]["content"] == text
    assert messages[2]["content"] == f"● You said: {text}"


def test_long_multi_line_reply(demo):
    messages = demo.turn("/lines 30")
    lines = messages[2]["content"].splitlines()
    assert len(lines) == 30
    assert lines[0] == "● Line 1 of 30."
    assert lines[-1] == "  Line 30 of 30."


def test_slow_agent_is_running_then_stable_and_refuses_a_second_send(demo):
    response = demo.send("/think 3 pondered")
    assert response.status_code == 200
    assert demo.status() == "running"
    refused = demo.send("too soon")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["status"] == 409
    demo.wait_status("stable")
    messages = demo.messages()
    assert [m["content"] for m in messages if m["role"] == "user"] == ["/think 3 pondered"]
    assert messages[-1]["content"] == "● pondered"


def test_raw_keys_answer_a_confirmation_prompt(demo):
    assert demo.send("/confirm").status_code == 200
    demo.wait_status("stable")
    assert "Proceed with the plan? (y/n)" in demo.messages()[-1]["content"]
    response = demo.send("y", type_="raw")
    assert response.status_code == 200 and response.json() == {"ok": True}
    demo.wait_status("stable")
    messages = demo.messages()
    assert messages[-1]["content"] == "● Confirmed."
    assert [m["role"] for m in messages] == ["agent", "user", "agent"]  # raw is not recorded


def test_raw_esc_interrupts_the_demo_agent_and_the_next_message_arrives_whole(demo):
    assert demo.send("/think 30 never said").status_code == 200
    assert demo.status() == "running"
    assert demo.send("\x1b", type_="raw").status_code == 200
    demo.wait_status("stable", timeout=10)
    assert demo.messages()[-1]["content"] == "● Interrupted."
    # An Esc typed at the prompt right before a paste must not eat the paste's start.
    assert demo.send("\x1b", type_="raw").status_code == 200
    messages = demo.turn("hi again")
    assert messages[-2]["content"] == "hi again"
    assert messages[-1]["content"] == "● You said: hi again"


def test_events_replay_then_live_updates(demo):
    demo.turn("before subscribing")
    received: list[tuple[str, dict]] = []
    done = threading.Event()

    def follow() -> None:
        with demo.http.stream("GET", "/events", timeout=30) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["x-accel-buffering"] == "no"
            assert "no-cache" in stream.headers["cache-control"]
            for event, data in sse_events(stream):
                received.append((event, data))
                if (
                    event == "message_update"
                    and "after subscribing" in data["message"]
                    and data["role"] == "agent"
                ):
                    done.set()
                    return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    assert demo.send("after subscribing").status_code == 200
    assert done.wait(20), received
    names = {name for name, _ in received}
    assert names <= {"message_update", "status_change"}
    replayed_ids = [d["id"] for n, d in received[:3] if n == "message_update"]
    assert replayed_ids == [0, 1, 2]
    assert received[3][0] == "status_change" and received[3][1]["status"] == "stable"
    assert received[3][1]["agent_type"] == "custom"
    live_ids = [d["id"] for n, d in received[4:] if n == "message_update"]
    assert live_ids[0] == 3 and set(live_ids) <= {3, 4}
    user = next(d for n, d in received if n == "message_update" and d["id"] == 3)
    assert user == {**user, "role": "user", "message": "after subscribing"}


def test_screen_stream_shows_the_terminal(demo):
    with demo.http.stream("GET", "/internal/screen", timeout=10) as stream:
        for event, data in sse_events(stream):
            assert event == "screen"
            assert "agentapi demo agent" in data["screen"]
            assert "❯" in data["screen"]
            break


def test_adapter_start_keys_are_typed_once_after_the_agent_draws(start_daemon, tmp_path):
    spec = tmp_path / "demo-start.toml"
    spec.write_text(
        (Path(__file__).parents[2] / "adapters" / "demo.toml")
        .read_text()
        .replace("bracketed_paste = true", 'bracketed_paste = true\non_start = "woke"')
    )
    daemon = start_daemon(flags=["--type", "demo", "--adapter", str(spec)])
    daemon.wait_listening()
    daemon.wait_status("stable")
    # The demo agent draws typed keys in its input box.
    with daemon.http.stream("GET", "/internal/screen", timeout=10) as stream:
        for event, data in sse_events(stream):
            assert event == "screen"
            prompt_lines = [ln for ln in data["screen"].split("\n") if ln.startswith("❯")]
            assert prompt_lines == ["❯ woke"]
            break
