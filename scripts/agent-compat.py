#!/usr/bin/env python3
"""Run the two-turn check against several versions of the real agent CLIs; print a table.

    .venv/bin/python scripts/agent-compat.py claude@1.0.83 claude claude@latest codex aider
    .venv/bin/python scripts/agent-compat.py --install codex@latest gemini@latest

``NAME`` is the pinned version (``scripts/install-agents.sh NAME``), ``NAME@VERSION`` another
one (``scripts/install-agents.sh NAME@VERSION``, into ``.agents/NAME@VERSION``; ``latest`` is
resolved to its number, by asking npm or pip, and installed if missing). ``--install`` installs
every other version that is missing first.

Each agent runs under a real daemon against the fake LLM (tests/fakes/fake_llm.py), exactly
as the end-to-end tests run it: an initial prompt (-I), then two user messages. Columns:

- ready recognised: the daemon became ``stable`` and typed the initial prompt without the
  "input box has not been recognised" warning;
- echo gone: no reply holds the user's message;
- input box gone: no reply holds a line of the chrome drawn below the reply on the screen
  (input box, hints, footer);
- reply complete: every reply holds the whole scripted answer;
- status right: ``running`` after each message and ``stable`` only once its answer was drawn;
- exact: every reply is exactly the answer as the agent draws it (what the e2e tests demand).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.e2e import agents  # noqa: E402
from tests.e2e._harness import INITIAL_PROMPT, INITIAL_REPLY, AgentRun  # noqa: E402
from tests.fakes.fake_llm import Reply  # noqa: E402

TURNS = (
    ("What is six times seven?", "The answer is 42."),
    ("And six times eight?", "That one is 48."),
)
REPLY_STYLE = {
    "claude": ("● ", "  "),
    "aider": ("", ""),
    "codex": ("• ", "  "),
    "gemini": ("✦ ", "  "),
    "opencode": ("", ""),
    "copilot": ("● ", "  "),
}
COLUMNS = ("ready recognised", "echo gone", "input box gone", "reply complete", "status right")
NOT_RECOGNISED = "input box has not been recognised"


@dataclass
class Row:
    agent: str
    version: str
    checks: dict[str, bool | None] = field(default_factory=dict)
    exact: bool | None = None
    notes: list[str] = field(default_factory=list)

    def cells(self) -> list[str]:
        def mark(value: bool | None) -> str:
            return "–" if value is None else ("yes" if value else "**no**")

        return [
            self.agent,
            self.version,
            *(mark(self.checks.get(c)) for c in COLUMNS),
            mark(self.exact),
            "; ".join(self.notes),
        ]


def _letters(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def _chrome_below(screen: str, answer: str) -> list[str]:
    """The non-blank screen lines below the last line that ends the answer."""
    lines = screen.split("\n")
    tail = _letters(answer)[-8:]
    for i in range(len(lines) - 1, -1, -1):
        if tail and _letters(lines[i]).endswith(tail):
            return [ln.strip() for ln in lines[i + 1 :] if ln.strip()]
    return []


def _as_drawn(name: str, text: str) -> str:
    marker, indent = REPLY_STYLE[name]
    first, *rest = text.split("\n")
    return "\n".join([marker + first, *(indent + line if line else "" for line in rest)])


def _install(spec: str) -> str | None:
    """Install ``spec`` (a no-op when it is there); the version installed, or None."""
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install-agents.sh"), spec],
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout.strip(), flush=True)
    found = re.search(r"(?:@|==)(\d[\w.+-]*)", result.stdout)
    return found.group(1) if result.returncode == 0 and found else None


def _resolve(spec: str, install: bool) -> tuple[str, str] | str:
    """(name, version) to run, or why it cannot run."""
    name, _, version = spec.partition("@")
    if name not in agents.AGENT_NAMES:
        return f"unknown agent {name!r} (known: {', '.join(agents.AGENT_NAMES)})"
    if version == "latest" or install:
        # Asks the registry which version is the newest (npm view, pip index).
        installed = _install(spec)
        if installed is None:
            return f"scripts/install-agents.sh {spec} failed"
        return name, installed
    return name, version or agents.PINNED_VERSIONS[name]


def check(name: str, version: str, newest: bool = False) -> Row:
    tags = [
        t
        for t, on in (("pinned", version == agents.PINNED_VERSIONS[name]), ("newest", newest))
        if on
    ]
    row = Row(name, f"{version} ({', '.join(tags)})" if tags else version)
    agents.use_version(name, version)
    if not agents.installed(name):
        row.notes.append(f"not installed: scripts/install-agents.sh {name}@{version}")
        return row
    with tempfile.TemporaryDirectory(prefix=f"compat-{name}-") as tmp:
        run = AgentRun(name, Path(tmp), INITIAL_PROMPT, INITIAL_REPLY)
        try:
            _two_turns(run, row)
        finally:
            run.close()
            agents.use_version(name, agents.PINNED_VERSIONS[name])
    return row


def _two_turns(run: AgentRun, row: Row) -> None:
    try:
        run.ensure_started()
    except AssertionError as exc:
        row.checks["ready recognised"] = False
        # The whole story (screen, messages, daemon log) is kept for whoever looks into it.
        report = (
            Path(tempfile.gettempdir()) / f"agent-compat-{run.name}-{row.version.split()[0]}.txt"
        )
        report.write_text(str(exc), encoding="utf-8")
        row.notes.append(f"{str(exc).splitlines()[0][:120]} (see {report})")
        return
    row.checks["ready recognised"] = NOT_RECOGNISED not in run.daemon_log(1_000_000)
    replies = [(INITIAL_PROMPT, INITIAL_REPLY, run.messages()[2:3])]
    status_right = True
    for prompt, answer in TURNS:
        mark = run.log.mark()
        try:
            _request, messages = run.turn(prompt, Reply(answer))
        except AssertionError as exc:
            status_right = False
            row.notes.append(f"{prompt!r}: {str(exc).splitlines()[0][:100]}")
            messages = run.messages()
        statuses = [e.data["status"] for e in run.log.statuses(mark)]
        if "running" not in statuses:
            status_right = False
        replies.append((prompt, answer, messages[-1:]))
    screen = run.screen()
    # The chrome is what is drawn below the last answer (input box, hints, footer); below
    # an earlier answer come the later turns too, whose reply markers are no chrome (Codex
    # 0.20 draws "codex" over every reply). Where the answer is not on the screen any
    # more, the screen's last lines are the chrome for every agent.
    bottom = [ln.strip() for ln in screen.split("\n") if ln.strip()][-3:]
    chrome = set(_chrome_below(screen, replies[-1][1]) or bottom)
    echo_gone = box_gone = complete = exact = True
    for prompt, answer, last in replies:
        content = last[0]["content"] if last and last[0]["role"] == "agent" else ""
        # The initial reply repeats the initial prompt's words ("first task") by design.
        if prompt != INITIAL_PROMPT and _letters(prompt) in _letters(content):
            echo_gone = False
        leaked = [ln.strip() for ln in content.split("\n") if ln.strip() in chrome and ln.strip()]
        if leaked:
            box_gone = False
            row.notes.append(f"chrome in the reply to {prompt!r}: {leaked[0][:60]!r}")
        if _letters(answer) not in _letters(content):
            complete = False
            row.notes.append(f"reply to {prompt!r}: {content[:80]!r}")
        if content != _as_drawn(run.name, answer) and exact:
            exact = False
            row.notes.append(f"not exact, the reply to {prompt!r}: {content[:80]!r}")
    row.checks.update(
        {
            "echo gone": echo_gone,
            "input box gone": box_gone,
            "reply complete": complete,
            "status right": status_right and complete,
        }
    )
    row.exact = exact


def table(rows: list[Row]) -> str:
    header = ["agent", "version", *COLUMNS, "exact", "notes"]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="+", help="NAME or NAME@VERSION (NAME@latest)")
    parser.add_argument("--install", action="store_true", help="install missing versions first")
    args = parser.parse_args()
    rows: list[Row] = []
    started = time.monotonic()
    for spec in args.specs:
        resolved = _resolve(spec, args.install)
        if isinstance(resolved, str):
            name, _, version = spec.partition("@")
            rows.append(Row(name, version or "pinned", notes=[resolved]))
            continue
        print(f"checking {resolved[0]} {resolved[1]} ...", flush=True)
        rows.append(check(*resolved, newest=spec.endswith("@latest")))
    print()
    print(table(rows))
    print(f"\n{len(rows)} versions checked in {time.monotonic() - started:.0f} s")
    ok = all(all(r.checks.get(c) for c in COLUMNS) for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
