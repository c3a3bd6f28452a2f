"""Every adapter against folders of real and hand-made screens.

A case is a folder ``tests/fixtures/screens/AGENT/CASE/`` holding:

- ``screen.txt``: the screen as the daemon sees it after the agent answered;
- ``before.txt`` (optional): the screen just before the user message was sent; without
  it the case is the start-up screen (message 0) and its section is the whole screen;
- ``user.txt``: the user message (empty for start-up);
- ``expected.txt``: the clean message, written by hand by reading the screen;
- ``removed.txt`` (optional): the noise blocks the adapter must cut, separated by a
  line holding only ``---``;
- ``SOURCE``: where the screen comes from.

A single trailing newline of ``user.txt``, ``expected.txt`` and ``removed.txt`` is not
part of their content. Adding a case is adding a folder.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agentapi.adapters import Adapter, default_registry
from agentapi.conversation import Conversation
from agentapi.conversation.diff import new_section
from tests.agent_types import AGENT_TYPES

SCREENS = Path(__file__).resolve().parent.parent / "fixtures" / "screens"

_REGISTRY = default_registry()


def _cases() -> list[Path]:
    return sorted(p.parent for p in SCREENS.glob("*/*/screen.txt"))


def _read(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text[:-1] if text.endswith("\n") else text


def _optional(path: Path) -> str | None:
    return _read(path) if path.exists() else None


def _adapter(case: Path) -> Adapter:
    adapter = _REGISTRY.lookup(case.parent.name)
    assert adapter is not None, f"no adapter for fixture folder {case.parent.name!r}"
    return adapter


def _is_noise_case(case: Path) -> bool:
    return (case / "removed.txt").exists() or any(
        word in case.name for word in ("report_task", "noise")
    )


def _section(case: Path, adapter: Adapter) -> str:
    screen = (case / "screen.txt").read_text(encoding="utf-8")
    before_file = case / "before.txt"
    before = before_file.read_text(encoding="utf-8") if before_file.exists() else ""
    # With no earlier screen this is the whole screen, less the header rows the
    # daemon skips too.
    return new_section(before, screen, adapter.skip_header_lines)


CASES = _cases()


def _id(case: Path) -> str:
    return f"{case.parent.name}/{case.name}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_fixture_formats_to_expected_message(case: Path) -> None:
    adapter = _adapter(case)
    user = _optional(case / "user.txt") or ""
    if not (case / "expected.txt").exists():
        pytest.fail(f"{_id(case)} has no expected.txt: write the clean message by hand")
    expected = _read(case / "expected.txt")
    message, _ = adapter.format_message(_section(case, adapter), user)
    assert message == expected


@pytest.mark.parametrize("case", [c for c in CASES if "startup" in c.name], ids=_id)
def test_start_up_screen_shows_the_input_box(case: Path) -> None:
    adapter = _adapter(case)
    assert adapter.is_ready((case / "screen.txt").read_text(encoding="utf-8"))


# Screens that come before the agent can take a message: first-run dialogs, login screens,
# and an input box drawn while the agent is still initialising.
_NOT_READY_WORDS = ("onboarding", "dialog", "login", "initializing")


@pytest.mark.parametrize(
    "case", [c for c in CASES if any(w in c.name for w in _NOT_READY_WORDS)], ids=_id
)
def test_dialog_and_initialising_screens_are_not_ready(case: Path) -> None:
    # The daemon stays running over them (and the initial prompt waits) until the agent
    # shows its input box for real, or --ready-timeout lets a person answer them raw.
    adapter = _adapter(case)
    assert not adapter.is_ready((case / "screen.txt").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", [c for c in CASES if _is_noise_case(c)], ids=_id)
def test_noise_blocks_are_cut_and_reported(case: Path) -> None:
    adapter = _adapter(case)
    user = _optional(case / "user.txt") or ""
    _, removed = adapter.format_message(_section(case, adapter), user)
    assert removed, "the case expects at least one noise block to be cut"
    wanted = _optional(case / "removed.txt")
    if wanted is not None:
        assert removed == [block.strip("\n") for block in wanted.split("\n---\n")]


@pytest.mark.parametrize("case", [c for c in CASES if _is_noise_case(c)], ids=_id)
def test_conversation_logs_the_cut_block_once(case: Path, caplog: pytest.LogCaptureFixture) -> None:
    adapter = _adapter(case)
    user = _optional(case / "user.txt") or "go"
    before = _optional(case / "before.txt") or ""
    screen = (case / "screen.txt").read_text(encoding="utf-8")
    now = 1_000_000.0
    conv = Conversation(adapter, now)
    conv.on_screen(before, now)
    now += 5_000
    conv.tick(now)
    conv.begin_send(user, now)
    conv.send_started(now)
    with caplog.at_level(logging.INFO, logger="agentapi.conversation"):
        conv.on_screen(screen, now + 10)
        conv.on_screen(screen + "\n", now + 20)
    logged = [r for r in caplog.records if "removed a tool-call block" in r.getMessage()]
    _, removed = adapter.format_message(_section(case, adapter), user)
    assert len(logged) == len(set(removed)) >= 1


@pytest.mark.parametrize("agent", AGENT_TYPES)
def test_every_agent_type_has_fixtures(agent: str) -> None:
    cases = [c for c in CASES if c.parent.name == agent]
    assert len(cases) >= 3, f"{agent} has {len(cases)} fixture(s), needs at least 3"
    assert _REGISTRY.lookup(agent) is not None
