"""Session.interrupt on a scripted terminal and fake time: keys, settling, the restored box."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from agentapi.adapters import adapter_from_spec
from agentapi.errors import AgentBusy, AgentExited
from agentapi.messages import AgentIdentity, AgentStatus
from agentapi.session.hub import EventHub
from agentapi.session.session import Session, SessionOptions
from tests.fakes.scripted_terminal import ScriptedTerminal, pasted_text
from tests.unit.test_session import RULE, until_stable

pytestmark = pytest.mark.looptime

IDENTITY = AgentIdentity(agent_type="custom", adapter="worker", agent_name="Worker")


def adapter(clear: str = ""):  # type: ignore[no-untyped-def]
    return adapter_from_spec(
        {
            "name": "worker",
            "input": {"interrupt": "\x1b", "interrupt_clear": clear},
            "input_box": {"prompt": "^>( |$)", "rule": "^─{8,}$"},
        },
        "<test>",
    )


@dataclass
class Worker:
    """Works (a spinner redrawn every 0.5 s) after Enter until Esc; then, like Claude Code,
    it may put the interrupted message back into its box. Ctrl-U erases the box's last line,
    or the line break before it."""

    restores: bool = False
    history: list[str] = field(default_factory=lambda: ["Worker v1"])
    draft: str = ""
    working: asyncio.TimerHandle | None = None
    frame: int = 0

    def screen(self, spinner: str = "") -> str:
        box = [
            f"> {line}" if i == 0 else f"  {line}" for i, line in enumerate(self.draft.split("\n"))
        ]
        return "\n".join([*self.history, spinner, RULE, *box])

    def __call__(self, term: ScriptedTerminal, data: bytes) -> None:
        text = pasted_text(data)
        if text is not None:
            self.draft = text
        elif data == b"\r" and self.draft:
            self.history += [f"> {self.draft}"]
            self.sent, self.draft = self.draft, ""
            self._spin(term)
            return
        elif data == b"\x1b" and self.working is not None:
            self.working.cancel()
            self.working = None
            self.history += ["● Interrupted."]
            if self.restores:
                self.draft = self.sent
        elif data.startswith(b"\x15"):
            for _ in data:
                lines = self.draft.split("\n")
                self.draft = (
                    "\n".join(lines[:-1]) if lines[-1] == "" else "\n".join([*lines[:-1], ""])
                )
        term.draw(self.screen())

    def _spin(self, term: ScriptedTerminal) -> None:
        self.frame += 1
        term.draw(self.screen(f"✻ Working {self.frame}"))
        self.working = asyncio.get_running_loop().call_later(0.5, self._spin, term)


async def start(worker: Worker, clear: str = "") -> tuple[Session, ScriptedTerminal]:
    term = ScriptedTerminal(worker.screen(), worker)
    session = Session(term, adapter(clear), EventHub(), IDENTITY, SessionOptions(stable_ms=2000))
    session.start()
    await until_stable(session)
    return session, term


async def test_a_working_agent_gets_its_key_and_the_answer_waits_until_it_settled() -> None:
    worker = Worker()
    session, term = await start(worker)
    await session.send_user_message("do it")
    await asyncio.sleep(5)
    assert session.status is AgentStatus.RUNNING
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert await session.interrupt() is True
    # The Esc's own 100 ms, then two quiet seconds make it stable.
    assert loop.time() - began == pytest.approx(2.1, abs=0.1)
    assert session.status is AgentStatus.STABLE
    assert term.writes[-1].data == b"\x1b"
    assert session.messages[-1].content == "● Interrupted."


async def test_a_stable_agent_is_left_alone() -> None:
    session, term = await start(Worker())
    writes = len(term.writes)
    assert await session.interrupt() is False
    assert len(term.writes) == writes


async def test_a_message_put_back_in_the_box_is_erased_line_by_line() -> None:
    worker = Worker(restores=True)
    session, term = await start(worker, clear="\x15\x15")
    await session.send_user_message("line one\nline two")
    await asyncio.sleep(3)
    assert await session.interrupt() is True
    # Two Ctrl-U per line of the interrupted message, and a pair more.
    assert term.writes[-1].data == b"\x15\x15" * 3
    assert worker.draft == ""
    assert session.status is AgentStatus.STABLE
    await session.send_user_message("next")
    assert pasted_text(term.writes_of(b"\x1b[200~next\x1b[201~")[0].data) == "next"
    assert worker.history[-1] == "> next"


async def test_an_agent_that_never_settles_is_answered_at_the_timeout_still_running() -> None:
    worker = Worker()
    session, term = await start(worker)
    await session.send_user_message("do it")
    worker_ignores = Worker.__call__

    def deaf(self: Worker, term: ScriptedTerminal, data: bytes) -> None:
        if data != b"\x1b":
            worker_ignores(self, term, data)

    term._on_keys = lambda t, d: deaf(worker, t, d)
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert await session.interrupt(settle_timeout_s=4) is True
    assert loop.time() - began == pytest.approx(4, abs=0.01)
    assert session.status is AgentStatus.RUNNING


async def test_a_send_while_the_interrupt_settles_is_busy_and_an_exited_agent_refuses() -> None:
    worker = Worker()
    session, term = await start(worker)
    await session.send_user_message("do it")
    interrupting = asyncio.create_task(session.interrupt())
    await asyncio.sleep(0.5)
    with pytest.raises(AgentBusy):
        await session.send_user_message("too soon")
    assert await interrupting is True
    term.exit(0)
    with pytest.raises(AgentExited):
        await session.interrupt()
