"""The conversation state machine, driven with plain strings and a fake clock."""

import dataclasses

import pytest

from agentapi.adapters import Adapter, default_registry
from agentapi.conversation import (
    Conversation,
    MessageUpdated,
    ReadinessOverdue,
    SavedTranscript,
    StatusChanged,
)
from agentapi.errors import AgentBusy
from agentapi.messages import AgentStatus as Status
from agentapi.messages import Message, Role, wall_time

RULE = "─" * 40
BOX = f"{RULE}\n❯ \n{RULE}\n  ? for shortcuts"
START = f"✻ Welcome to the agent\n\n{BOX}"


def generic():
    return default_registry().lookup("custom")


def boxed():
    """The generic rules, but ready only once the generic input box is on screen."""
    spec = generic().spec
    return Adapter(
        dataclasses.replace(spec, input_box=dataclasses.replace(spec.input_box, ready=None))
    )


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000.0

    def __call__(self, advance: float = 0) -> float:
        self.ms += advance
        return self.ms


def settle(conv: Conversation, clock: Clock) -> list:
    return conv.tick(clock(2000))


def started(screen: str = START) -> tuple[Conversation, Clock]:
    clock = Clock()
    conv = Conversation(generic(), clock())
    conv.on_screen(screen, clock(10))
    settle(conv, clock)
    return conv, clock


def turn(before: str, user: str, reply: list[str]) -> str:
    """The screen of an inline agent after it answered."""
    history = before.rsplit(RULE, 2)[0].rstrip("\n")
    return "\n".join([history, f"❯ {user}", "", *reply, "", BOX])


def test_message_zero_is_the_cleaned_start_up_screen():
    conv, _ = started()
    assert [(m.id, m.role, m.content) for m in conv.messages] == [
        (0, Role.AGENT, "✻ Welcome to the agent")
    ]


def test_message_zero_exists_before_any_screen():
    clock = Clock()
    conv = Conversation(generic(), clock())
    assert [(m.id, m.content) for m in conv.messages] == [(0, "")]
    assert conv.status is Status.RUNNING


def test_stable_only_after_two_quiet_seconds():
    clock = Clock()
    conv = Conversation(generic(), clock())
    conv.on_screen(START, clock())
    assert conv.tick(clock(1999)) == []
    assert conv.status is Status.RUNNING
    assert conv.tick(clock(1)) == [StatusChanged(Status.STABLE)]
    assert conv.next_deadline_ms(clock()) is None


def test_a_change_restarts_the_stability_window():
    conv, clock = started()
    events = conv.on_screen(START + "\nspinner ✻", clock(5))
    assert StatusChanged(Status.RUNNING) in events
    assert conv.next_deadline_ms(clock()) == clock() + 2000
    conv.tick(clock(1500))
    assert conv.status is Status.RUNNING


def test_full_turn_ids_roles_and_clean_reply():
    conv, clock = started()
    conv.begin_send("hello there", clock(1))
    typed = START.replace("❯ ", "❯ hello there")
    conv.on_screen(typed, clock(20))
    assert conv.messages[-1].content == "✻ Welcome to the agent"  # the echo did not leak
    after_enter = turn(START, "hello there", ["✻ Thinking…"])
    conv.on_screen(after_enter, clock(30))
    events = conv.send_started(clock(1))
    assert [type(e) for e in events][:1] == [MessageUpdated]
    assert conv.status is Status.RUNNING
    final = turn(START, "hello there", ["● Hi! How can I help?", "  Two lines."])
    conv.on_screen(final, clock(500))
    settle(conv, clock)
    assert [(m.id, m.role, m.content) for m in conv.messages] == [
        (0, Role.AGENT, "✻ Welcome to the agent"),
        (1, Role.USER, "hello there"),
        (2, Role.AGENT, "● Hi! How can I help?\n  Two lines."),
    ]
    assert conv.status is Status.STABLE


def test_reply_is_updated_in_place_while_the_agent_works():
    conv, clock = started()
    conv.begin_send("count", clock(1))
    conv.on_screen(turn(START, "count", ["✻ Thinking…"]), clock(20))
    conv.send_started(clock(1))
    conv.on_screen(turn(START, "count", ["● one"]), clock(100))
    first = conv.messages[-1]
    events = conv.on_screen(turn(START, "count", ["● one", "  two"]), clock(100))
    assert conv.messages[-1].id == first.id == 2
    assert conv.messages[-1].content == "● one\n  two"
    assert MessageUpdated(conv.messages[-1]) in events


def test_second_turn_reply_repeating_an_old_line_is_kept_whole():
    conv, clock = started()
    conv.begin_send("first", clock(1))
    s1 = turn(START, "first", ["● Done."])
    conv.on_screen(s1, clock(10))
    conv.send_started(clock(1))
    settle(conv, clock)
    conv.begin_send("second", clock(1))
    s2 = turn(s1, "second", ["● Done.", "  And more."])
    conv.on_screen(s2, clock(10))
    conv.send_started(clock(1))
    settle(conv, clock)
    assert conv.messages[-1].content == "● Done.\n  And more."
    assert conv.messages[-1].id == 4


def test_sending_requires_stable():
    conv, clock = started()
    conv.on_screen(START + "\n✻ busy", clock(1))
    with pytest.raises(AgentBusy, match="status is 'stable'"):
        conv.begin_send("hi", clock())


def test_only_one_send_at_a_time():
    conv, clock = started()
    conv.begin_send("one", clock())
    with pytest.raises(AgentBusy, match="Another message"):
        conv.begin_send("two", clock())


def test_failed_send_records_nothing_and_resumes_updates():
    conv, clock = started()
    before = list(conv.messages)
    conv.begin_send("lost", clock())
    assert conv.status is Status.RUNNING
    conv.send_failed(clock(15000))
    assert list(conv.messages) == before
    settle(conv, clock)
    assert conv.status is Status.STABLE


def test_multi_line_user_message_echo_is_removed():
    conv, clock = started()
    text = "line one\nline two\nline three"
    conv.begin_send(text, clock())
    screen = "\n".join(
        [
            "✻ Welcome to the agent",
            "",
            "❯ line one",
            "  line two",
            "  line three",
            "",
            "● Got three lines.",
            "",
            BOX,
        ]
    )
    conv.on_screen(screen, clock(10))
    conv.send_started(clock())
    assert conv.messages[-1].content == "● Got three lines."


def test_wrapped_echo_of_a_long_message_is_removed():
    conv, clock = started()
    text = "word " * 30
    conv.begin_send(text.strip(), clock())
    echo = "❯ " + text.strip()
    wrapped = [echo[i : i + 40] for i in range(0, len(echo), 40)]
    screen = "\n".join(["✻ Welcome to the agent", "", *wrapped, "", "● ok", "", BOX])
    conv.on_screen(screen, clock(10))
    conv.send_started(clock())
    assert conv.messages[-1].content == "● ok"


def test_non_ascii_content_survives():
    conv, clock = started()
    conv.begin_send("你好 🌍 ┌─┐", clock())
    screen = turn(START, "你好 🌍 ┌─┐", ["● 世界 ✅", "  │ box │"])
    conv.on_screen(screen, clock(10))
    conv.send_started(clock())
    assert conv.messages[-1].content == "● 世界 ✅\n  │ box │"


def test_reply_that_draws_nothing_still_gets_an_agent_message():
    conv, clock = started()
    conv.begin_send("quiet", clock())
    conv.on_screen(turn(START, "quiet", []), clock(10))
    conv.send_started(clock())
    settle(conv, clock)
    assert [(m.role, m.content) for m in conv.messages[1:]] == [
        (Role.USER, "quiet"),
        (Role.AGENT, ""),
    ]
    assert conv.status is Status.STABLE


def test_scrolled_screen_still_yields_only_the_reply():
    history = [f"old line {i}" for i in range(50)]
    screen1 = "\n".join([*history, "", BOX])
    conv, clock = started(screen1)
    conv.begin_send("go", clock())
    scrolled = "\n".join([*history[10:], "", "❯ go", "", "● gone", "", BOX])
    conv.on_screen(scrolled, clock(10))
    conv.send_started(clock())
    assert conv.messages[-1].content == "● gone"


def test_initial_prompt_keeps_status_running_until_sent():
    clock = Clock()
    conv = Conversation(generic(), clock(), initial_prompt="do the task")
    conv.on_screen(START, clock(10))
    conv.tick(clock(5000))
    assert conv.status is Status.RUNNING
    assert conv.initial_prompt_due(clock()) == "do the task"
    conv.begin_send("do the task", clock(), initial=True)
    assert conv.initial_prompt_due(clock()) is None
    conv.on_screen(turn(START, "do the task", ["● on it"]), clock(10))
    conv.send_started(clock(), initial=True)
    assert conv.initial_prompt_sent
    assert conv.initial_prompt_due(clock()) is None
    settle(conv, clock)
    assert conv.status is Status.STABLE
    assert conv.messages[1].content == "do the task"


def test_initial_prompt_waits_for_a_settled_screen():
    clock = Clock()
    conv = Conversation(generic(), clock(), initial_prompt="x")
    assert conv.initial_prompt_due(clock()) is None  # nothing drawn yet
    conv.on_screen("Loading…", clock(10))
    assert conv.initial_prompt_due(clock(500)) is None  # not settled
    assert conv.next_deadline_ms(clock()) is not None


# -- restoring a saved transcript -------------------------------------------------------------

from datetime import UTC, datetime  # noqa: E402

from agentapi.conversation import TranscriptRestored  # noqa: E402

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
SAVED = (
    Message(id=0, role=Role.AGENT, content="old greeting", time=T0),
    Message(id=1, role=Role.USER, content="old question", time=T0),
    Message(id=2, role=Role.AGENT, content="● old answer", time=T0),
)


def restoring(prompt: str = "", saved_prompt: str = "", sent: bool = False, boxed_only=False):
    clock = Clock()
    formatter = boxed() if boxed_only else generic()
    conv = Conversation(formatter, clock(), initial_prompt=prompt)
    conv.schedule_restore(SavedTranscript(SAVED, saved_prompt, sent))
    return conv, clock


def test_restore_waits_for_a_ready_agent_and_keeps_ids_contents_times():
    conv, clock = restoring()
    conv.on_screen(START, clock(10))
    assert conv.status is Status.RUNNING
    events = conv.tick(clock(2000))
    assert events[0] == TranscriptRestored()
    assert list(conv.messages) == list(SAVED)
    assert conv.status is Status.STABLE


def test_restore_is_not_applied_to_a_loading_screen():
    conv, clock = restoring(boxed_only=True)
    conv.on_screen("Loading…", clock(10))
    conv.tick(clock(5000))
    assert conv.restore_pending and conv.status is Status.RUNNING
    conv.on_screen(START, clock(10))
    conv.tick(clock(2000))
    assert not conv.restore_pending
    assert conv.messages[-1].content == "● old answer"


def test_fresh_screen_does_not_overwrite_the_restored_reply_and_next_turn_continues():
    conv, clock = restoring()
    conv.on_screen(START, clock(10))
    conv.tick(clock(2000))
    conv.on_screen(START + "\nsome redraw", clock(10))
    conv.tick(clock(2000))
    assert conv.messages[-1].content == "● old answer"
    conv.begin_send("new question", clock())
    conv.on_screen(turn(START, "new question", ["● new answer"]), clock(10))
    conv.send_started(clock())
    conv.tick(clock(2000))
    assert [(m.id, m.content) for m in conv.messages[3:]] == [
        (3, "new question"),
        (4, "● new answer"),
    ]


@pytest.mark.parametrize(
    "prompt, saved_prompt, sent, expected_due",
    [
        ("task", "task", True, None),  # same prompt, already sent: not typed again
        ("other task", "task", True, "other task"),  # a different new prompt is typed
        ("", "task", False, "task"),  # a saved prompt that was never sent is typed
        ("", "task", True, None),
        ("", "", False, None),
    ],
)
def test_initial_prompt_after_restore(prompt, saved_prompt, sent, expected_due):
    conv, clock = restoring(prompt, saved_prompt, sent)
    conv.on_screen(START, clock(10))
    conv.tick(clock(2000))
    assert not conv.restore_pending
    assert conv.initial_prompt_due(clock()) == expected_due


# -- an input box that never shows up ---------------------------------------------------------


def test_readiness_overdue_is_reported_once_when_the_prompt_cannot_be_typed():
    clock = Clock()
    conv = Conversation(boxed(), clock(), initial_prompt="x", ready_warning_ms=30_000)
    conv.on_screen("Do you trust this folder? (y/n)", clock(10))
    assert conv.tick(clock(2000)) == []
    deadline = conv.next_deadline_ms(clock())
    assert deadline == clock() - 2000 + 30_000
    events = conv.tick(deadline)
    # Warned, then stable: a person can answer the dialog with a raw message.
    assert events == [
        ReadinessOverdue("the initial prompt", 30_000),
        StatusChanged(Status.STABLE),
    ]
    # The prompt is not typed into the dialog.
    assert conv.initial_prompt_due(deadline) is None
    assert conv.tick(deadline + 60_000) == []
    assert conv.next_deadline_ms(deadline + 60_000) is None
    # Once the dialog is answered, the prompt goes out as usual.
    conv.on_screen(START, deadline + 61_000)
    assert conv.initial_prompt_due(deadline + 63_000) == "x"


# -- ready means ready ------------------------------------------------------------------------


def test_status_stays_running_over_a_settled_screen_without_the_input_box():
    clock = Clock()
    conv = Conversation(generic(), clock(), ready_warning_ms=30_000)
    conv.on_screen("loading...", clock(10))
    assert conv.tick(clock(2000)) == []
    assert conv.status is Status.RUNNING
    assert not conv.ready_seen
    # The box appears: stable two quiet seconds later.
    conv.on_screen(START, clock(1000))
    assert conv.tick(clock(1999)) == []
    assert conv.tick(clock(1)) == [StatusChanged(Status.STABLE)]
    assert conv.ready_seen


def test_a_blank_first_screen_is_not_stable():
    # Aider's cold start: the daemon drew nothing for seconds and was called stable.
    clock = Clock()
    conv = Conversation(generic(), clock(), ready_warning_ms=30_000)
    conv.on_screen("", clock(10))
    assert conv.tick(clock(10_000)) == []
    assert conv.status is Status.RUNNING


def test_once_recognised_the_box_need_not_stay_for_later_turns():
    conv, clock = started()
    assert conv.status is Status.STABLE
    conv.begin_send("hi", clock())
    conv.on_screen("✻ Welcome to the agent\n❯ hi\n\n● working, no box drawn", clock(10))
    conv.send_started(clock())
    assert conv.tick(clock(2000)) == [StatusChanged(Status.STABLE)]


def test_an_unrecognised_screen_becomes_stable_after_the_ready_timeout_with_one_warning():
    clock = Clock()
    conv = Conversation(generic(), clock(), ready_warning_ms=30_000)
    conv.on_screen("Pick a theme: [1] dark [2] light", clock(10))
    assert conv.tick(clock(2000)) == []
    deadline = conv.next_deadline_ms(clock())
    assert deadline == clock() - 2000 + 30_000
    assert conv.tick(deadline - 1) == []
    assert conv.status is Status.RUNNING
    assert conv.tick(deadline) == [ReadinessOverdue("", 30_000), StatusChanged(Status.STABLE)]
    # One warning only, also after the screen changes and settles again.
    conv.on_screen("Pick a theme: [1] dark [2] light\n> 1", deadline + 10)
    assert conv.tick(deadline + 100_000) == [StatusChanged(Status.STABLE)]


def test_the_ready_timeout_counts_from_the_last_change():
    clock = Clock()
    conv = Conversation(generic(), clock(), ready_warning_ms=30_000)
    conv.on_screen("loading 1", clock(10))
    conv.tick(clock(20_000))
    conv.on_screen("loading 2", clock())
    assert conv.tick(clock(20_000)) == []
    assert conv.status is Status.RUNNING
    assert conv.next_deadline_ms(clock()) == clock() + 10_000


def test_a_restore_waits_for_the_box_too():
    saved = SavedTranscript(
        (
            Message(id=0, role=Role.AGENT, content="hello", time=wall_time(0)),
            Message(id=1, role=Role.USER, content="q", time=wall_time(0)),
        )
    )
    clock = Clock()
    conv = Conversation(generic(), clock())
    conv.schedule_restore(saved)
    conv.on_screen("loading...", clock(10))
    conv.tick(clock(5000))
    assert conv.restore_pending
    conv.on_screen(START, clock(10))
    conv.tick(clock(2000))
    assert not conv.restore_pending
    assert conv.status is Status.STABLE
