"""The PTY session's send protocol and events, on a scripted terminal and fake time.

The agent here is a few lines of Python (``ChatAgent``) drawing screens into a
``ScriptedTerminal``; the event loop runs on looptime's fake clock, so a test that waits
15 s of agent silence takes milliseconds and every timing below is exact.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import pytest

from agentapi.adapters import Adapter, adapter_from_spec
from agentapi.errors import AgentBusy, AgentDidNotReact, AgentExited, AgentWriteFailed
from agentapi.messages import AgentIdentity, AgentStatus, ConversationRole, EventName
from agentapi.session.hub import EventHub
from agentapi.session.session import Session, SessionOptions
from tests.fakes.scripted_terminal import ScriptedTerminal, pasted_text

pytestmark = pytest.mark.looptime

RULE = "─" * 40

# A minimal agent with an input box under a rule, like most TUIs draw.
ADAPTER: Adapter = adapter_from_spec(
    {
        "name": "scripted",
        "display_name": "Scripted",
        "input": {"bracketed_paste": True, "submit": "\r"},
        "input_box": {"prompt": "^>( |$)", "rule": "^─{8,}$"},
        "reply": {"echo": True},
    },
    "<test>",
)
IDENTITY = AgentIdentity(agent_type="custom", adapter="scripted", agent_name="Scripted")


@dataclass
class ChatAgent:
    """Echoes a paste into its box and answers on Enter, unless told otherwise."""

    answers: bool = True  # draw a reply on Enter
    echoes: bool = True  # show the pasted text in the box
    # Exit this long after a paste arrives (while the session waits for the echo).
    exit_after_paste_s: float | None = None
    history: list[str] = field(default_factory=lambda: ["Scripted agent v1"])
    draft: str = ""

    def screen(self) -> str:
        return "\n".join([*self.history, "", RULE, f"> {self.draft}"])

    def __call__(self, term: ScriptedTerminal, data: bytes) -> None:
        text = pasted_text(data)
        if text is not None:
            if self.exit_after_paste_s is not None:
                asyncio.get_running_loop().call_later(self.exit_after_paste_s, term.exit, 3)
                return
            if self.echoes:
                self.draft = text
                term.draw(self.screen())
        elif data == b"\r" and self.answers and self.draft:
            self.history += [f"> {self.draft}", f"● You said: {self.draft}"]
            self.draft = ""
            term.draw(self.screen())


async def start_session(agent: ChatAgent) -> tuple[Session, ScriptedTerminal, EventHub]:
    term = ScriptedTerminal(agent.screen(), agent)
    hub = EventHub()
    session = Session(term, ADAPTER, hub, IDENTITY, SessionOptions(stable_ms=2000))
    session.start()
    await until_stable(session)
    return session, term, hub


async def until_stable(session: Session, limit_s: float = 60) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit_s
    while session.status is not AgentStatus.STABLE:
        assert loop.time() < end, "the session never became stable"
        await asyncio.sleep(0.05)


async def test_a_turn_records_the_message_and_the_clean_reply() -> None:
    session, term, _ = await start_session(ChatAgent())
    await session.send_user_message("hello")
    assert session.status is AgentStatus.RUNNING
    await until_stable(session)
    roles = [m.role for m in session.messages]
    assert roles == [ConversationRole.AGENT, ConversationRole.USER, ConversationRole.AGENT]
    assert session.messages[1].content == "hello"
    assert session.messages[2].content == "● You said: hello"
    assert term.typed == b"\x1b[200~hello\x1b[201~\r"


async def test_a_second_send_while_one_is_typed_is_refused_as_busy() -> None:
    # The agent never echoes: the first send waits for its echo, holding the send lock.
    session, _, _ = await start_session(ChatAgent(echoes=False, answers=False))
    first = asyncio.create_task(session.send_user_message("one"))
    await asyncio.sleep(0.1)
    with pytest.raises(AgentBusy):
        await session.send_user_message("two")
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    # Neither message is in the transcript: one was refused, one never reached the agent.
    assert [m.content for m in session.messages if m.role is ConversationRole.USER] == []


async def test_enter_is_pressed_again_every_3_s_then_the_send_answers_did_not_react() -> None:
    session, term, _ = await start_session(ChatAgent(answers=False))
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(AgentDidNotReact):
        await session.send_user_message("hello")
    enters = [w.at for w in term.writes_of(b"\r")]
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(enters)]
    assert len(enters) == 5 and gaps == [3.0, 3.0, 3.0, 3.0]
    # The echo settles (0.3 s quiet) and then the 15 s start wait runs out.
    assert loop.time() - began == pytest.approx(15.3, abs=0.05)
    assert [m.role for m in session.messages] == [ConversationRole.AGENT]
    assert session.status is AgentStatus.STABLE


async def test_an_agent_that_exits_during_a_send_is_answered_at_once() -> None:
    session, _, _ = await start_session(ChatAgent(exit_after_paste_s=0.5))
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(AgentExited):
        await session.send_user_message("hello")
    # When it exits, not after the 2 s echo wait or a 3 s Enter retry: the exit wakes the
    # sender.
    assert loop.time() - began == pytest.approx(0.5, abs=0.01)
    assert not session.agent_running
    assert [m.role for m in session.messages] == [ConversationRole.AGENT]


async def test_a_failed_write_is_an_error_and_records_nothing() -> None:
    session, term, _ = await start_session(ChatAgent())
    term.fail_writes = "Input/output error"
    with pytest.raises(AgentWriteFailed, match="Input/output error"):
        await session.send_user_message("hello")
    assert [m.role for m in session.messages] == [ConversationRole.AGENT]
    assert session.status is AgentStatus.STABLE
    with pytest.raises(AgentWriteFailed):
        await session.send_raw("\x1b")


async def test_raw_keys_are_typed_as_given_and_not_recorded() -> None:
    session, term, _ = await start_session(ChatAgent())
    await session.send_raw("\x1b[A\r")
    assert term.typed == b"\x1b[A\r"
    assert len(session.messages) == 1


async def test_the_stream_replays_the_state_then_goes_live_without_gap_or_duplicate() -> None:
    session, _, hub = await start_session(ChatAgent())
    await session.send_user_message("first")
    await until_stable(session)
    sub = hub.subscribe({EventName.MESSAGE_UPDATE, EventName.STATUS_CHANGE})
    await session.send_user_message("second")
    await until_stable(session)
    sub.close()
    frames = [f async for f in sub.frames()]
    names = [f.split(b"\n", 1)[0] for f in frames]
    replay, live = names[:4], names[4:]
    assert replay == [b"event: message_update"] * 3 + [b"event: status_change"]
    # Live: the new user message, running, the reply (perhaps in several updates), stable.
    ids = [int(f.split(b'"id":', 1)[1].split(b",", 1)[0]) for f in frames if b'"id":' in f]
    assert ids[:3] == [0, 1, 2] and set(ids[3:]) == {3, 4}
    assert live[-1] == b"event: status_change" and b'"stable"' in frames[-1]
    assert b'"running"' in b"".join(frames[4:])


async def test_a_subscriber_that_falls_behind_is_disconnected_not_buffered() -> None:
    hub = EventHub(queue_limit=3)
    slow = hub.subscribe({EventName.STATUS_CHANGE})
    fast = hub.subscribe({EventName.STATUS_CHANGE})
    fast_frames: list[bytes] = []

    async def read_fast() -> None:
        async for frame in fast.frames():
            fast_frames.append(frame)

    reader = asyncio.create_task(read_fast())
    for status in [AgentStatus.RUNNING, AgentStatus.STABLE] * 2:
        hub.status_change(IDENTITY.status_change(status))
        await asyncio.sleep(0)  # the fast reader keeps up; the slow one never reads
    assert slow.closed and slow.overflowed
    assert not fast.closed and len(fast_frames) == 4
    # What fitted is still delivered, then the stream ends instead of growing.
    assert len([f async for f in slow.frames()]) == 3
    fast.close()
    await reader
