"""One rule for chrome, the same for every agent (adapters/README.md, "One rule for chrome").

Every fixture's clean message (``expected.txt``, written by reading the screen) is held to the
rule, and so is what the adapter makes of the screen: spinners, thinking, finished-turn status
lines, token and cost lines, tips and ``coder_report_task`` calls never reach a message; every
other tool call drawn in the reply does, with its marker.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentapi.adapters import Adapter, default_registry
from agentapi.conversation.diff import new_section

SCREENS = Path(__file__).resolve().parent.parent / "fixtures" / "screens"
_REGISTRY = default_registry()

# Chrome, by kind, as the agents draw it (one pattern per way of drawing it).
ALWAYS_CUT = {
    "spinner": [
        r"^\s*[·✢✳✶✻✽] \S.*…",  # Claude Code: "✻ Harmonizing…"
        r"^\s*• Working \(",  # Codex
        r"^\s*[░▒▓█]* ?Waiting for ",  # Aider
        r"^\s*[⠀-⣿] .*(Thinking|esc to (interrupt|cancel))",  # Gemini, Q, Auggie
        r"^\s*⬡ \S+(…|\.\.\.)?\s*$",  # Cursor
        r"^\s*◐  \S.*\.\.\.$",  # Goose
    ],
    "thinking": [
        r"^\s*[✓⋯] Thinking( ▶| ▼)?\s*$",  # Amp
        r"^◐ \S",  # Copilot's reasoning lines (dedented)
    ],
    "finished-turn status": [
        r"^\s*✻ \w+ for \d",  # Claude Code: "✻ Worked for 3s"
        r"Worked for \d+s",  # Codex
        r"^\s*▣ ",  # OpenCode: "▣  Build · model · 2.1s"
    ],
    "token and cost": [r"\bTokens: .* sent\b", r"\bCost: \$"],
    "tip": [r"(^|[└●]\s)Tip: ", r"^\s*💡 ", r"Tips for getting started"],
    "coder_report_task": [r"coder_report_task"],
}

# Tool calls other than coder_report_task, as drawn: kept with their output.
TOOL_CALLS = [
    r"^\s*[●✓] (Read|Edit|Write|Update|Bash|Shell|Search|Grep|List)\b",  # Claude Code, Copilot
    r"^\s*\$ Shell\b",  # Copilot 1.0's shell item
    r"^\s*✓ (?!Thinking\b)\S",  # Amp: "✓ Glob **/*"
    r"^\s*⬢ (Read|Ran|Edit|Grep|Search|List)",  # Cursor
    r"🛠️  Using tool: (?!coder_report_task)",  # Amazon Q
    r"^\s*─── (?!coder)\S+ \|",  # Goose: "─── shell | developer ───"
]

CASES = sorted(p.parent for p in SCREENS.glob("*/*/expected.txt"))


def _id(case: Path) -> str:
    return f"{case.parent.name}/{case.name}"


def _read(path: Path) -> str:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return text[:-1] if text.endswith("\n") else text


def _adapter(case: Path) -> Adapter:
    adapter = _REGISTRY.lookup(case.parent.name)
    assert adapter is not None
    return adapter


def _chrome_in(text: str) -> list[str]:
    found = []
    for kind, patterns in ALWAYS_CUT.items():
        for line in text.split("\n"):
            if any(re.search(p, line) for p in patterns):
                found.append(f"{kind}: {line!r}")
    return found


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_clean_message_holds_no_chrome(case: Path) -> None:
    expected = _read(case / "expected.txt")
    assert _chrome_in(expected) == []


@pytest.mark.parametrize("case", [c for c in CASES if (c / "screen.txt").exists()], ids=_id)
def test_every_other_tool_call_is_kept(case: Path) -> None:
    adapter = _adapter(case)
    before = _read(case / "before.txt")
    section = new_section(before, _read(case / "screen.txt"), adapter.skip_header_lines)
    message, _ = adapter.format_message(section, _read(case / "user.txt"))
    calls = [
        line.strip()
        for line in section.split("\n")
        if any(re.search(p, line) for p in TOOL_CALLS) and "coder_report_task" not in line
    ]
    kept = {line.strip() for line in message.split("\n")}
    assert [call for call in calls if call not in kept] == []


def test_the_chrome_patterns_match_what_they_name() -> None:
    # The rule's own examples (adapters/README.md) are caught, so the check above can fail.
    for line in (
        "✻ Harmonizing…",
        "• Working (3s • esc to interrupt)",
        "⠋ Thinking...",
        "✓ Thinking ▶",
        "◐ The user wants to migrate",
        "✻ Worked for 3s",
        "Tokens: 2.5k sent, 6 received. Cost: $0.01 message, $0.02 session.",
        "  └ Tip: Use /keymap to configure",
        "● Tip: /app",
        "💡 Run /prompts to learn",
        "● coder_report_task (MCP: coder) · Fixed the typo",
    ):
        assert _chrome_in(line), line
    assert _chrome_in("● The capital of France is Paris.") == []
