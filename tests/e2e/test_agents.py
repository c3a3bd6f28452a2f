"""Real agent CLIs under the real daemon, against the fake LLM, driven over HTTP only.

Run with ``pytest tests/e2e -m e2e``. The checks of one agent share a daemon (see
conftest.py) and run in file order; the shutdown check comes last and the next agent
starts fresh. A check that finds the shared daemon stopped starts a new one.

What is checked, besides the HTTP answers: the fake's record of what reached the model
(a prompt exactly once, a tool's output after a confirmation) and, for the shutdown,
/proc (nothing of the agent's process group or session is left).
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

import pytest

from tests.e2e._harness import (
    INITIAL_PROMPT,
    INITIAL_REPLY,
    SHUTDOWN_TIMEOUT_S,
    TURN_TIMEOUT_S,
    AgentRun,
    ProcInfo,
    children_of,
    compact_screen,
    descendants_of,
    proc_info,
    processes_in,
    reply_mismatch,
)
from tests.fakes.fake_llm import Reply, ToolCall

pytestmark = pytest.mark.e2e

# Paragraphs separated by blank lines render the same in every agent, Aider's Markdown
# renderer included (it would join lines separated by a single newline).
MULTILINE_REPLY = (
    "Here is the plan for the change.\n"
    "\n"
    "First, read the configuration file.\n"
    "\n"
    "Then update the parser to accept the new key.\n"
    "\n"
    "Finally, add a test for the empty value."
)

DELAY_S = 4.0

# Typed raw into the input box and erased again; letters only, so no agent treats it as a
# command or shortcut.
RAW_MARKER = "zebraquokka"


@dataclass(frozen=True)
class Confirmation:
    """A shell tool call the agent asks the user about before running it."""

    tool: str
    question: str  # on the screen while the agent waits for the answer


# A command that changes something: read-only commands such as a bare ``echo`` are run
# without asking.
CONFIRM_COMMAND = "touch made-by-e2e.txt && echo confirmed-by-e2e"
CONFIRM_OUTPUT = "confirmed-by-e2e"
CONFIRMATIONS = {
    "claude": Confirmation(tool="Bash", question="Do you want to proceed?"),
    "gemini": Confirmation(tool="run_shell_command", question="Allow execution"),
    "copilot": Confirmation(tool="bash", question="Do you want to run this command?"),
}
NO_CONFIRMATION = {
    "aider": "started with --yes-always, so it never asks",
    "codex": "configured with approval_policy = never, so it never asks",
    "opencode": "runs its shell tool without asking in its default permissions",
}


# How each agent draws a plain-text reply: a marker before the first line and an indent
# on the lines after it. The transcript keeps a reply as the agent drew it, markers
# included, and drops only the TUI around it: echo, input box, spinner, hints, footer
# (the convention of tests/fixtures/screens/README.md, as in the original AgentAPI).
REPLY_STYLE = {
    "claude": ("● ", "  "),
    "aider": ("", ""),
    "codex": ("• ", "  "),
    "gemini": ("✦ ", "  "),
    "opencode": ("", ""),
    "copilot": ("● ", "  "),
}


def as_drawn(agent: AgentRun, text: str) -> str:
    """The clean transcript message for a scripted reply of plain text."""
    marker, indent = REPLY_STYLE[agent.name]
    first, *rest = text.split("\n")
    return "\n".join([marker + first, *(indent + line if line else "" for line in rest)])


def assert_reply(agent: AgentRun, message: dict, text: str) -> None:
    """The agent's message is exactly the scripted reply as drawn: nothing of the TUI
    around it."""
    assert message["role"] == "agent", message
    expected = as_drawn(agent, text)
    if message["content"] != expected:
        pytest.fail(
            f"{agent.name}: reply is not the clean text\n"
            f"{reply_mismatch(message['content'], expected)}\n\n{agent.describe()}"
        )


# A line of each agent's start-up banner: message 0 must hold it. Gemini CLI draws its input
# box before its banner (while it initialises): called ready then, the banner would land in
# the reply to the initial prompt.
BANNER = {
    "claude": "Claude Code v",
    "aider": "Aider v",
    "codex": "OpenAI Codex",
    "gemini": "Gemini CLI v",
    "opencode": "█▀▀█",
    "copilot": "Copilot v",
}


def test_ready(agent: AgentRun) -> None:
    facts = agent.facts
    # /status answers as soon as the daemon listens, before the agent is ready.
    assert facts.first_status_code == 200, facts
    assert facts.first_status.get("agent_type") == agent.launch.agent_type, facts
    assert facts.first_status.get("status") in ("running", "stable"), facts
    assert facts.first_status.get("transport") == "pty", facts
    assert facts.stable_s is not None
    assert facts.listen_s < facts.stable_s, facts
    assert facts.stable_s < agent.launch.startup_timeout_s, (
        f"stable after {facts.stable_s:.1f}s, start-up timeout "
        f"{agent.launch.startup_timeout_s:.0f}s"
    )
    messages = agent.messages()
    assert messages, "no messages at all"
    assert messages[0]["id"] == 0
    assert messages[0]["role"] == "agent"
    assert BANNER[agent.name] in messages[0]["content"], messages[0]
    assert agent.status()["status"] == "stable"


def test_initial_prompt_sent_once(agent: AgentRun) -> None:
    assert agent.llm.prompt_count(INITIAL_PROMPT) == 1, [
        r.summary() for r in agent.llm.main_requests()
    ]
    messages = agent.messages()
    assert len(messages) >= 3, agent.describe()
    assert [m["role"] for m in messages[1:3]] == ["user", "agent"]
    assert messages[1]["content"] == INITIAL_PROMPT
    assert_reply(agent, messages[2], INITIAL_REPLY)


def test_two_turns_clean_reply(agent: AgentRun) -> None:
    for prompt, text in (
        ("What is six times seven?", "The answer is 42."),
        ("And six times eight?", "That one is 48."),
    ):
        request, messages = agent.turn(prompt, Reply(text))
        assert prompt in request.user_text
        assert messages[-2]["role"] == "user"
        assert messages[-2]["content"] == prompt
        assert_reply(agent, messages[-1], text)
    assert agent.llm.prompt_count("What is six times seven?") == 1


def test_multiline_reply(agent: AgentRun) -> None:
    prompt = "Outline the plan in a few lines."
    _, messages = agent.turn(prompt, Reply(MULTILINE_REPLY))
    assert messages[-2]["content"] == prompt
    assert_reply(agent, messages[-1], MULTILINE_REPLY)


def test_running_while_llm_delays(agent: AgentRun) -> None:
    prompt = "Take your time with this one."
    text = "Done after a short wait."
    assert agent.log.wait_settled(TURN_TIMEOUT_S)
    mark = agent.log.mark()
    before = len(agent.llm.main_requests())
    agent.llm.push(Reply(text, delay_s=DELAY_S))

    # /status is sampled on a thread for the whole turn, next to the SSE log.
    samples: list[tuple[float, str]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            # A failed sample is simply missing; the SSE log is checked as well.
            with contextlib.suppress(Exception):
                samples.append((time.time(), agent.client.get("/status").json()["status"]))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        agent.send_user(prompt)
        request = agent.llm.wait_for_main_requests(before + 1, TURN_TIMEOUT_S)[before]
        # A second message while the agent works is refused, not typed into its screen.
        if time.time() < request.time + DELAY_S - 1:
            busy = agent.post("Are you done yet?")
            assert busy.status_code == 409, f"{busy.status_code} {busy.text}"
        agent.wait_reply_settled(request, DELAY_S)
    finally:
        done.set()
        sampler.join(5)

    # While the fake held its answer back (from the request until the reply left), every
    # /status sample and every status event says running.
    window = (request.time + 0.3, request.time + DELAY_S - 0.3)
    during = [status for at, status in samples if window[0] <= at <= window[1]]
    assert during, "no /status sample during the delay"
    assert set(during) == {"running"}, during
    offset = time.time() - time.monotonic()
    changes = [(e.at + offset, e.data["status"]) for e in agent.log.statuses(mark)]
    assert "running" in [s for _, s in changes], changes
    held = [s for at, s in changes if window[0] <= at <= window[1]]
    assert "stable" not in held, changes
    assert changes[-1][1] == "stable"
    assert changes[-1][0] > request.time + DELAY_S
    messages = agent.messages()
    assert messages[-2]["content"] == prompt
    assert all(m["content"] != "Are you done yet?" for m in messages)
    assert_reply(agent, messages[-1], text)


def test_raw_keystroke_answers_confirmation(agent_run: AgentRun) -> None:
    """The model asks for a shell command; the agent asks the user; a raw Enter picks
    the highlighted first choice (run it once) and the command runs."""
    confirm = CONFIRMATIONS.get(agent_run.name)
    if confirm is None:
        pytest.skip(f"no confirmation prompt offline: {NO_CONFIRMATION[agent_run.name]}")
    agent = agent_run.ensure_started()
    prompt = "Run the marker command."
    final = "The command printed the marker."
    assert agent.log.wait_settled(TURN_TIMEOUT_S)
    before = len(agent.llm.main_requests())
    call = ToolCall(confirm.tool, {"command": CONFIRM_COMMAND, "description": "Print a marker"})
    agent.llm.push(Reply(tool_calls=[call]), Reply(final))
    agent.send_user(prompt)
    agent.llm.wait_for_main_requests(before + 1, TURN_TIMEOUT_S)

    asked, screen = agent.wait_screen(lambda s: confirm.question in s, 30)
    assert asked, f"no confirmation prompt on the screen:\n{compact_screen(screen)}"
    # Waiting for a person is not work: clients may answer once the status is stable.
    assert agent.log.wait_settled(TURN_TIMEOUT_S), agent.describe()
    assert len(agent.llm.main_requests()) == before + 1, "the command ran without an answer"

    response = agent.post("\r", "raw")
    assert response.status_code == 200, response.text
    try:
        mains = agent.llm.wait_for_main_requests(before + 2, TURN_TIMEOUT_S)
    except TimeoutError:
        pytest.fail(f"the answer did not run the command\n{agent.describe()}")
    # The command's output goes back to the model as the tool's result.
    assert CONFIRM_OUTPUT in json.dumps(mains[before + 1].body), "tool result missing"
    agent.wait_reply_settled(mains[before + 1], 0.0)
    messages = agent.messages()
    assert messages[-2]["content"] == prompt
    assert messages[-1]["role"] == "agent"
    # Tool output is part of the transcript here; the reply must end it and the
    # answered question must be gone.
    assert final in messages[-1]["content"], agent.describe()
    assert confirm.question not in messages[-1]["content"], agent.describe()
    assert agent.llm.pending_replies == 0


def test_raw_keystrokes_typed_and_erased(agent: AgentRun) -> None:
    """Raw input checked by its visible effect: letters typed into the input box, then
    erased with backspaces, all without a message being recorded."""
    assert agent.log.wait_settled(TURN_TIMEOUT_S)
    count = len(agent.messages())
    response = agent.post(RAW_MARKER, "raw")
    assert response.status_code == 200, response.text
    seen, screen = agent.wait_screen(lambda s: RAW_MARKER in s, 20)
    assert seen, f"typed text not on the screen:\n{compact_screen(screen)}"
    response = agent.post("\x7f" * len(RAW_MARKER), "raw")
    assert response.status_code == 200, response.text
    gone, screen = agent.wait_screen(lambda s: RAW_MARKER not in s, 20)
    assert gone, f"typed text not erased:\n{compact_screen(screen)}"
    assert agent.log.wait_settled(TURN_TIMEOUT_S)
    # Raw keystrokes are not recorded as messages.
    messages = agent.messages()
    assert len(messages) == count
    assert all(RAW_MARKER not in m["content"] for m in messages)
    assert agent.llm.prompt_count(RAW_MARKER) == 0


def test_interrupt_stops_the_turn_and_the_next_message_arrives_intact(agent: AgentRun) -> None:
    """POST /interrupt sends the adapter's key (Esc, Ctrl-C for Aider) while the model
    holds its answer back: the agent stops and settles, the late answer never shows, and
    the next message reaches the model whole (no leftover key eats its start)."""
    prompt = "Think about this one for a long while."
    late = "This answer arrives far too late."
    assert agent.log.wait_settled(TURN_TIMEOUT_S)
    before = len(agent.llm.main_requests())
    agent.llm.push(Reply(late, delay_s=30))
    agent.send_user(prompt)
    agent.llm.wait_for_main_requests(before + 1, TURN_TIMEOUT_S)
    assert agent.status()["status"] == "running"

    response = agent.client.post("/interrupt", timeout=TURN_TIMEOUT_S)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "interrupted": True, "status": "stable"}, (
        agent.describe()
    )
    messages = agent.messages()
    assert messages[-2]["content"] == prompt if messages[-2]["role"] == "user" else True
    assert all(late not in m["content"] for m in messages)

    next_prompt = "What is two plus two?"
    text = "Two plus two is four."
    request, messages = agent.turn(next_prompt, Reply(text))
    assert next_prompt in request.user_text
    assert messages[-2]["content"] == next_prompt, agent.describe()
    assert_reply(agent, messages[-1], text)
    assert all(late not in m["content"] for m in agent.messages())


def test_clean_shutdown(agent: AgentRun) -> None:
    assert agent.proc is not None and agent.agent_pid is not None
    agent_pid = agent.agent_pid
    assert children_of(agent.proc.pid) == [agent_pid]
    tree = [info for pid in descendants_of(agent_pid) if (info := proc_info(pid)) is not None]
    assert processes_in(agent_pid), "the agent has no process group of its own"
    began = time.monotonic()
    agent.proc.send_signal(signal.SIGTERM)
    try:
        code = agent.proc.wait(SHUTDOWN_TIMEOUT_S + 5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"daemon still running {SHUTDOWN_TIMEOUT_S + 5:.0f}s after SIGTERM")
    took = time.monotonic() - began
    assert took < SHUTDOWN_TIMEOUT_S, f"shutdown took {took:.1f}s"
    assert code == 0, agent.daemon_log()

    # Orphans are reaped by init a moment later: give them that moment, then nothing of
    # the agent's group or session, and none of its former descendants, may remain.
    deadline = time.monotonic() + 5
    while True:
        left = [p for p in processes_in(agent_pid) if p.state != "Z"]
        survivors = [p for p in tree if _alive(p)]
        if (not left and not survivors) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not left, left
    assert not survivors, survivors


def _alive(old: ProcInfo) -> bool:
    now = proc_info(old.pid)
    return now is not None and now.started == old.started and now.state != "Z"
