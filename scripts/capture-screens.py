#!/usr/bin/env python3
"""Capture real agent screens for the adapter fixtures.

Runs each installed agent CLI (see tests/e2e/agents.py) against the fake LLM server under
the project's own terminal layer (``AgentTerminal``: a PTY feeding ``TerminalScreen``),
types a user message the way the daemon does, and writes what the daemon would see:

    tests/fixtures/screens/AGENT/CASE/before.txt   screen just before the message was sent
    tests/fixtures/screens/AGENT/CASE/screen.txt   screen once the reply has settled
    tests/fixtures/screens/AGENT/CASE/user.txt     the message typed

``expected.txt`` (the clean reply) is written by hand and never touched here.

    .venv/bin/python scripts/capture-screens.py                  # every installed agent
    .venv/bin/python scripts/capture-screens.py claude --case one_line --case api_error
    .venv/bin/python scripts/capture-screens.py claude@1.0.83   # another installed version:
                                                   # folders named CASE_vVERSION
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from agentapi.adapters import Adapter, default_registry  # noqa: E402
from agentapi.terminal.pty import AgentTerminal  # noqa: E402
from tests.e2e import agents  # noqa: E402
from tests.fakes.fake_llm import FakeLLM, Reply, ToolCall  # noqa: E402

OUT = REPO_ROOT / "tests" / "fixtures" / "screens"
# A fixed place so the folder names the agents print are the same on every capture.
WORK_ROOT = Path("/tmp/agentapi-capture")

# What each agent's input box looks like once it is ready for a message.
READY = {
    "claude": re.compile(r"(?m)^❯ ?$"),
    "aider": re.compile(r"(?m)^> ?$"),
    "codex": re.compile(r"(?m)^› "),
    "gemini": re.compile(r"Type your message"),
    "opencode": re.compile(r"Ask anything"),
    "copilot": re.compile(r"(?m)^❯ ?$"),
}

STARTUP_QUIET_S = 2.0
ECHO_WAIT_S = 2.0
ECHO_QUIET_S = 0.3
SUBMIT_RETRY_S = 3.0
START_WAIT_S = 15.0
# The daemon calls an agent done after 2 s without a screen change; wait a bit longer.
REPLY_QUIET_S = 2.5
REPLY_TIMEOUT_S = 90.0

LONG_REPLY = "Here are the thirty steps:\n\n" + "\n".join(
    f"{n}. Step number {n} of the long answer." for n in range(1, 31)
)
CODE_REPLY = (
    "Here is a small Python function:\n\n"
    "```python\n"
    "def add(a: int, b: int) -> int:\n"
    '    """Return the sum of a and b."""\n'
    "    return a + b\n"
    "```\n\n"
    "Call it with two numbers."
)
MULTI_REPLY = (
    "Here is the plan:\n\n"
    "1. Read the configuration file.\n"
    "2. Change the timeout to 30 seconds.\n"
    "3. Run the tests again.\n\n"
    "Tell me when you want me to start."
)
# User messages of every size, for echo removal: the whole echo must go, whatever its length.
FIVE_LINES = "\n".join(f"Note {n}: keep the change small and tested." for n in range(1, 6))
THIRTY_LINES = "Please read these notes:\n" + "\n".join(
    f"{n}. Requirement number {n} of the pasted list." for n in range(1, 30)
)
TWO_HUNDRED_LINES = "\n".join(
    f"log line {n:03d}: request served in {n % 97} ms" for n in range(200)
)
CODE_WITH_BRACES = (
    "Why does this hook run twice?\n\n"
    "```js\n"
    "useEffect(() => {\n"
    "  const timer = setInterval(() => {\n"
    "    setCount((c) => c + 1);\n"
    "  }, 1000);\n"
    "  return () => {\n"
    "    clearInterval(timer);\n"
    "  };\n"
    "}, []);\n"
    "```"
)
LONG_LINES = (
    "This first line is much longer than the eighty columns of the terminal, so the agent has"
    " to wrap it over two or three rows of its screen before the reply starts.\n"
    "The second line is long as well: it repeats that a wrapped echo must be removed in one"
    " piece, from its first row down to its very last row, with nothing left over."
)
ECHO_REPLY = "I read all of it."
ERROR_MESSAGE = "The model fake-model is not available (fake error for tests)."


@dataclass
class Case:
    name: str
    user: str
    replies: list[Reply] = field(default_factory=list)
    only: tuple[str, ...] = ()
    mcp: bool = False
    # Extra time for transient overlays (OpenCode shows an error as a toast for a while)
    # to go away, as they do before anyone reads the transcript.
    linger_s: float = 0.0
    # A start-up dialog instead of the input box: keys of the agent's first-run state file
    # changed (Claude Code's ``.claude.json``), and keys pressed one at a time before the
    # screen is taken. The agent is not waited for to be ready, only for a quiet screen.
    first_run: dict[str, object] = field(default_factory=dict)
    keys: tuple[str, ...] = ()
    # Take the first screen that shows the input box (what a readiness rule that looks for
    # the box alone would call ready), not the settled one.
    first_box: bool = False


CASES = [
    Case("startup", ""),
    Case("one_line", "What is the capital of France?", [Reply("The capital of France is Paris.")]),
    Case("multi_line", "How would you change the timeout?", [Reply(MULTI_REPLY)]),
    Case("long_30_lines", "List thirty steps.", [Reply(LONG_REPLY)]),
    Case("code_block", "Write a Python function that adds two numbers.", [Reply(CODE_REPLY)]),
    Case(
        "api_error",
        "Say hello.",
        [Reply(error_status=400, error_message=ERROR_MESSAGE)],
        linger_s=8.0,
    ),
    Case(
        "pasted_multiline_user",
        "Please review this list:\n- first item\n- second item",
        [Reply("Both items look fine to me.")],
    ),
    Case("echo_5_lines", FIVE_LINES, [Reply(ECHO_REPLY)]),
    Case("echo_30_lines", THIRTY_LINES, [Reply(ECHO_REPLY)]),
    Case("echo_200_lines", TWO_HUNDRED_LINES, [Reply(ECHO_REPLY)]),
    Case("echo_code_braces", CODE_WITH_BRACES, [Reply(ECHO_REPLY)]),
    Case("echo_long_lines", LONG_LINES, [Reply(ECHO_REPLY)]),
    Case(
        "report_task",
        "Fix the typo in README.md and report when you are done.",
        [
            Reply(
                tool_calls=[
                    ToolCall(
                        "coder_report_task",
                        {"summary": "Fixed the typo in README.md", "link": "", "state": "complete"},
                    )
                ]
            ),
            Reply("I fixed the typo and reported the task as complete."),
        ],
        only=("claude", "codex", "gemini", "opencode", "copilot"),
        mcp=True,
    ),
    # Claude Code's onboarding: the theme picker (its preview is a dashed "╌" box in 2.1.8x)
    # and, after Enter, the security notes. Dialogs, not the input box.
    Case("onboarding_theme", "", only=("claude",), first_run={"hasCompletedOnboarding": False}),
    Case(
        "onboarding_security",
        "",
        only=("claude",),
        first_run={"hasCompletedOnboarding": False},
        keys=("\r",),
    ),
    # Gemini CLI draws its input box before its configuration is initialised (prompts typed
    # then are queued and the banner is drawn above them later); Codex draws its composer
    # while its header still says "loading".
    Case("initializing", "", only=("gemini", "codex"), first_box=True, mcp=True),
]


class Capture:
    """One agent process under a PTY, with a way to wait on its screen."""

    def __init__(self, launch: agents.AgentLaunch, adapter: Adapter) -> None:
        self.launch = launch
        self.adapter = adapter
        self.changed = asyncio.Event()
        self.last_change = time.monotonic()
        self.first_box: str | None = None
        self.terminal = AgentTerminal(
            launch.argv,
            columns=80,
            lines=1000,
            env=launch.env,
            cwd=launch.cwd,
        )

    def start(self) -> None:
        self.terminal.start(self._on_screen, self._on_exit)

    def _on_exit(self, _code: int) -> None:
        self.changed.set()

    def _on_screen(self, text: str) -> None:
        self.last_change = time.monotonic()
        if self.first_box is None and READY[self.launch.name].search(text):
            self.first_box = text
        self.changed.set()

    @property
    def screen(self) -> str:
        return self.terminal.publish_now()

    async def wait_for(self, test: Callable[[str], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not test(self.screen):
            if self.terminal.exit_code is not None:
                raise RuntimeError(f"agent exited ({self.terminal.exit_code}) waiting for {what}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {what} after {timeout:.0f} s:\n{self.screen[-2000:]}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))

    async def wait_quiet(self, quiet_s: float, timeout: float) -> None:
        """Until the screen has not changed for ``quiet_s``."""
        deadline = time.monotonic() + timeout
        while True:
            self.screen  # noqa: B018 - flushes a pending screen update
            idle = time.monotonic() - self.last_change
            if idle >= quiet_s:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"screen still changing after {timeout:.0f} s")
            await asyncio.sleep(min(quiet_s - idle, 0.1) + 0.01)

    async def send(self, text: str, llm: FakeLLM) -> None:
        """Type ``text`` and press Enter, as the daemon's send protocol does."""
        for keys in self.adapter.encode_message(text):
            await self.terminal.write(keys.data)
            if keys.settle_ms:
                await asyncio.sleep(keys.settle_ms / 1000)
        await asyncio.sleep(0.05)
        with contextlib.suppress(TimeoutError):
            await self.wait_quiet(ECHO_QUIET_S, ECHO_WAIT_S)
        mains = len(llm.main_requests())
        calls = len(llm.requests)
        deadline = time.monotonic() + START_WAIT_S
        while True:
            await self.terminal.write(self.adapter.submit.encode())
            retry_at = min(deadline, time.monotonic() + SUBMIT_RETRY_S)
            while time.monotonic() < retry_at and len(llm.requests) == calls:
                await asyncio.sleep(0.05)
            if len(llm.requests) > calls:
                # The agent took the message (a side call, such as OpenCode's title, may
                # come first: on a fresh HOME OpenCode makes its main call 8 to 27 s after
                # Enter here). Enter is not pressed again; the main call is waited for.
                await _wait_main_requests(llm, mains + 1, REPLY_TIMEOUT_S)
                return
            if time.monotonic() >= deadline:
                calls = "\n".join(f"  {r.summary()}" for r in llm.requests)
                raise TimeoutError(
                    f"the agent never asked the model:\n{self.screen[-2000:]}\n"
                    f"model calls so far:\n{calls}"
                )


async def capture_case(name: str, case: Case, out: Path, verbose: bool) -> float:
    root = WORK_ROOT / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    registry = default_registry()
    adapter = registry.lookup(name) or registry.lookup("custom")
    assert adapter is not None
    mcp = agents.fake_mcp_argv(root / "mcp-calls.jsonl") if case.mcp else None
    async with FakeLLM(case.replies) as llm:
        launch = agents.prepare(name, llm.url, root, mcp_server=mcp)
        if case.first_run:
            _change_first_run_state(launch, case.first_run)
        cap = Capture(launch, adapter)
        started = time.monotonic()
        cap.start()
        try:
            if adapter.on_start:
                await cap.terminal.write(adapter.on_start.encode())
            if case.first_run:
                await cap.wait_for(lambda screen: bool(screen.strip()), 30, "a dialog")
            else:
                # Other versions draw other boxes: the adapter's own readiness rule counts.
                await cap.wait_for(
                    lambda screen: bool(READY[name].search(screen)) or adapter.is_ready(screen),
                    launch.startup_timeout_s,
                    f"{name} input prompt",
                )
            await cap.wait_quiet(STARTUP_QUIET_S, 30)
            startup_s = time.monotonic() - started - STARTUP_QUIET_S
            for key in case.keys:
                await cap.terminal.write(key.encode())
                await asyncio.sleep(0.2)
                await cap.wait_quiet(STARTUP_QUIET_S, 30)
            files = {"SOURCE": _source_note(name, case), "user.txt": case.user}
            if case.user:
                files["before.txt"] = cap.screen
                await cap.send(case.user, llm)
                await _wait_main_requests(llm, len(case.replies), REPLY_TIMEOUT_S)
                await cap.wait_quiet(REPLY_QUIET_S, REPLY_TIMEOUT_S)
                if case.linger_s:
                    await asyncio.sleep(case.linger_s)
                    await cap.wait_quiet(REPLY_QUIET_S, REPLY_TIMEOUT_S)
            files["screen.txt"] = cap.screen
            if case.first_box:
                if cap.first_box is None:
                    raise RuntimeError("the input box was never drawn")
                files["screen.txt"] = cap.first_box.rstrip("\n")
            if verbose:
                for request in llm.requests:
                    print("   ", request.summary(), flush=True)
            if llm.pending_replies:
                print(f"  warning: {llm.pending_replies} scripted replies unused", flush=True)
            # Written only once the case is complete, so a failed capture leaves the
            # previous one whole.
            folder = out / name / case.name
            folder.mkdir(parents=True, exist_ok=True)
            for filename, text in files.items():
                _write(folder / filename, text)
            return startup_s
        finally:
            await cap.terminal.stop(grace=3)
            cap.terminal.close()


async def _wait_main_requests(llm: FakeLLM, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(llm.main_requests()) < count:
        if time.monotonic() >= deadline:
            raise TimeoutError(f"only {len(llm.main_requests())} of {count} model calls arrived")
        await asyncio.sleep(0.1)


def _change_first_run_state(launch: agents.AgentLaunch, changes: dict[str, object]) -> None:
    if launch.name != "claude":
        raise ValueError(f"no first-run state file known for {launch.name}")
    path = launch.home / ".claude.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    state.update(changes)
    path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def _source_note(name: str, case: Case) -> str:
    how = []
    if case.first_run:
        how.append(f"first-run state changed: {json.dumps(case.first_run)}")
    if case.keys:
        how.append(f"keys pressed before the screen was taken: {json.dumps(list(case.keys))}")
    if case.first_box:
        how.append("screen.txt is the first screen that showed the input box, not the settled one")
    return "\n".join(
        [
            f"captured by scripts/capture-screens.py from {name} {agents.VERSIONS[name]} "
            f"against tests/fakes/fake_llm.py, {time.strftime('%Y-%m-%d')}",
            *how,
            "before.txt, screen.txt and user.txt are captured; expected.txt is written by hand",
        ]
    )


def _foreign(folder: Path) -> bool:
    """A folder someone made by hand: never overwrite it."""
    source = folder / "SOURCE"
    if source.exists():
        return not source.read_text(encoding="utf-8").startswith("captured by")
    return (folder / "expected.txt").exists() and not (folder / "screen.txt").exists()


def _write(path: Path, text: str) -> None:
    path.write_text(text + "\n" if text else "", encoding="utf-8")


async def main_async(args: argparse.Namespace) -> int:
    names = args.agents or agents.installed_agents()
    failures = 0
    for spec in names:
        name, _, version = spec.partition("@")
        agents.use_version(name, version or agents.PINNED_VERSIONS[name])
        suffix = f"_v{version}" if version and version != agents.PINNED_VERSIONS[name] else ""
        if not agents.installed(name):
            print(f"{name}: not installed (scripts/install-agents.sh {name})", flush=True)
            failures += 1
            continue
        for case in CASES:
            if args.case and case.name not in args.case:
                continue
            if case.only and name not in case.only:
                continue
            if suffix:
                case = replace(case, name=case.name + suffix)
            if _foreign(args.out / name / case.name):
                print(f"{name}/{case.name}: skipped (a hand-made fixture is there)", flush=True)
                continue
            try:
                startup = await capture_case(name, case, args.out, args.verbose)
            except (TimeoutError, RuntimeError) as exc:
                failures += 1
                print(f"{name}/{case.name}: FAILED: {exc}", flush=True)
                continue
            print(f"{name}/{case.name}: ok (ready after {startup:.1f} s)", flush=True)
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("agents", nargs="*", help=f"any of {', '.join(agents.AGENT_NAMES)}")
    parser.add_argument("--case", action="append", help="only this case (repeatable)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("-v", "--verbose", action="store_true", help="print the model calls")
    args = parser.parse_args()
    unknown = {a.partition("@")[0] for a in args.agents} - set(agents.AGENT_NAMES)
    if unknown:
        parser.error(f"unknown agents: {', '.join(sorted(unknown))}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
