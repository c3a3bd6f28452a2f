"""Claude Code's first-run onboarding under the daemon: a dialog is not the input box.

With ``hasCompletedOnboarding`` false, Claude Code starts with a theme picker (its preview
is a dashed ``╌`` box in 2.1.8x) and then security notes. The daemon must not call that
ready: it stays ``running`` with the initial prompt held back, then after ``--ready-timeout``
reports ``stable`` with a warning, so a person can answer the dialogs with raw keys; once the
real input box is drawn the initial prompt is typed, exactly once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e._harness import INITIAL_PROMPT, INITIAL_REPLY, TURN_TIMEOUT_S, AgentRun
from tests.e2e.agents import installed

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not installed("claude"), reason="claude CLI not installed: run scripts/install-agents.sh"
    ),
]

READY_TIMEOUT_S = 4


@pytest.fixture
def onboarding(tmp_path: Path) -> Iterator[AgentRun]:
    run = AgentRun("claude", tmp_path, INITIAL_PROMPT, INITIAL_REPLY)
    try:
        state_file = run.launch.home / ".claude.json"
        state = json.loads(state_file.read_text(encoding="utf-8"))
        state["hasCompletedOnboarding"] = False
        state_file.write_text(json.dumps(state), encoding="utf-8")
        run.extra_flags = ("--ready-timeout", str(READY_TIMEOUT_S))
        yield run
    finally:
        run.close()


def test_onboarding_dialogs_are_answered_raw_then_the_initial_prompt_goes(
    onboarding: AgentRun,
) -> None:
    run = onboarding
    log = run.spawn()
    began = time.monotonic()
    # The theme picker is drawn, and the status stays running over it until the timeout.
    shown, screen = run.wait_screen(lambda s: "Dark mode" in s, 30)
    assert shown, screen
    stable = log.wait_status("stable", 60)
    assert stable is not None, run.describe()
    assert stable.at - began >= READY_TIMEOUT_S, "stable before --ready-timeout over a dialog"
    assert "input box has not been recognised" in run.daemon_log(1_000_000)
    assert "Dark mode" in run.messages()[0]["content"], "message 0 keeps the dialog"
    assert not run.llm.main_requests(), "the initial prompt was typed into the dialog"

    # Enter picks the theme, Enter again passes the security notes.
    for wanted in ("Security notes", "? for shortcuts"):
        response = run.post("\r", kind="raw")
        assert response.status_code == 200, response.text
        shown, screen = run.wait_screen(lambda s, w=wanted: w in s, 30)
        assert shown, f"no {wanted!r} after Enter:\n{screen[-1500:]}"

    request = run.llm.wait_for_main_requests(1, timeout=TURN_TIMEOUT_S)[0]
    assert INITIAL_PROMPT in request.user_text
    run.wait_reply_settled(request, 0.0)
    messages = run.messages()
    assert [m["role"] for m in messages] == ["agent", "user", "agent"], messages
    assert messages[1]["content"] == INITIAL_PROMPT
    assert messages[2]["content"] == f"● {INITIAL_REPLY}"
    assert "Dark mode" not in messages[0]["content"], "message 0 is the agent's screen now"
    assert run.llm.prompt_count(INITIAL_PROMPT) == 1
