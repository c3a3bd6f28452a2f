"""The state file: the original's format, atomic saves, clear errors, debounced saving."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agentapi.conversation import SavedTranscript as SavedState
from agentapi.errors import StateFileError
from agentapi.messages import Message, Role, format_rfc3339, parse_rfc3339
from agentapi.session import statefile as persistence
from agentapi.session.statefile import (
    StateSaver,
    load_state,
    move_aside,
    save_state,
)

T0 = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


def sample_state() -> SavedState:
    plus2 = timezone(timedelta(hours=2))
    minus530 = timezone(-timedelta(hours=5, minutes=30))
    return SavedState(
        messages=(
            Message(id=0, role=Role.AGENT, content="Welcome ✻ to the agent\n\n  > ready", time=T0),
            Message(
                id=1,
                role=Role.USER,
                content='fix the "bug" in <main.py> & résumé 日本語 🚀',
                time=T0.astimezone(plus2),
            ),
            Message(
                id=2,
                role=Role.AGENT,
                content="line one\nline two\r\n\ttabbed\\",
                time=T0.replace(microsecond=0),
            ),
            Message(id=3, role=Role.USER, content="", time=T0.astimezone(minus530)),
        ),
        initial_prompt="do the thing\nplease",
        initial_prompt_sent=True,
    )


def tree(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- round trip and format ------------------------------------------------------------------


def test_round_trip_keeps_everything_exactly(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = sample_state()
    save_state(path, state)
    loaded = load_state(path)
    assert loaded == state
    for before, after in zip(state.messages, loaded.messages, strict=True):
        assert after.time == before.time
        assert after.time.utcoffset() == before.time.utcoffset()
        assert isinstance(after.role, Role)


def test_missing_file_is_none(tmp_path: Path) -> None:
    assert load_state(tmp_path / "nope.json") is None


def test_written_layout_matches_the_original(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, sample_state())
    raw = path.read_bytes()
    assert raw.endswith(b"}\n") and raw.count(b"\n") == 1
    doc = json.loads(raw)
    assert list(doc) == ["version", "messages", "initial_prompt", "initial_prompt_sent"]
    assert doc["version"] == 1
    assert list(doc["messages"][0]) == ["id", "message", "role", "time"]
    assert doc["messages"][0]["time"] == "2025-03-04T05:06:07.123456Z"
    assert doc["messages"][1]["time"] == "2025-03-04T07:06:07.123456+02:00"
    assert doc["messages"][2]["time"] == "2025-03-04T05:06:07Z"
    assert doc["messages"][3]["time"] == "2025-03-03T23:36:07.123456-05:30"
    # Non-ASCII text is stored as UTF-8, not escaped.
    assert "日本語".encode() in raw


def test_loads_a_file_written_by_the_original(tmp_path: Path) -> None:
    # As Go's json.Encoder writes an AgentState: compact, newline, RFC3339Nano times.
    path = tmp_path / "state.json"
    path.write_text(
        '{"version":1,"messages":['
        '{"id":0,"message":"Hello! Ready to help.","role":"agent",'
        '"time":"2025-01-01T00:00:00.5Z"},'
        '{"id":1,"message":"test prompt","role":"user",'
        '"time":"2025-06-30T14:03:59.123456789+02:00"},'
        '{"id":2,"message":"Response \\u003cb\\u003e \\u0026 done","role":"agent",'
        '"time":"2025-06-30T12:04:00.000000001Z"}],'
        '"initial_prompt":"test prompt","initial_prompt_sent":true}\n',
        encoding="utf-8",
    )
    state = load_state(path)
    assert state is not None
    assert [m.id for m in state.messages] == [0, 1, 2]
    assert [m.role for m in state.messages] == [Role.AGENT, Role.USER, Role.AGENT]
    assert state.messages[2].content == "Response <b> & done"
    assert state.messages[0].time == datetime(2025, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    second = state.messages[1].time
    assert second.utcoffset() == timedelta(hours=2)
    assert second == datetime(2025, 6, 30, 12, 3, 59, 123456, tzinfo=UTC)
    assert state.messages[2].time == datetime(2025, 6, 30, 12, 4, tzinfo=UTC)
    assert state.initial_prompt == "test prompt"
    assert state.initial_prompt_sent is True


def test_loads_the_originals_early_untagged_field_names(tmp_path: Path) -> None:
    # Before its JSON tags, the original wrote Go field names; Go reads keys case-insensitively.
    path = tmp_path / "state.json"
    path.write_text(
        '{"version":1,"messages":[{"Id":0,"Message":"hi","Role":"agent",'
        '"Time":"2025-01-01T00:00:00Z"}],"initial_prompt":"","initial_prompt_sent":false}'
    )
    state = load_state(path)
    assert state is not None
    assert state.messages == (
        Message(id=0, role=Role.AGENT, content="hi", time=datetime(2025, 1, 1, tzinfo=UTC)),
    )


def test_optional_fields_default_like_go(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"version":1,"messages":null,"extra":"ignored"}')
    assert load_state(path) == SavedState(messages=(), initial_prompt="", initial_prompt_sent=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01T00:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01t00:00:00.1z", datetime(2025, 1, 1, 0, 0, 0, 100000, tzinfo=UTC)),
        ("2025-01-01T00:00:00.999999999Z", datetime(2025, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)),
        (
            "2024-02-29T23:59:59.000001-07:00",
            datetime(2024, 3, 1, 6, 59, 59, 1, tzinfo=UTC),
        ),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_rfc3339(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


@pytest.mark.parametrize(
    "text",
    ["2025-01-01T00:00:00", "2025-01-01 00:00:00Z", "2025-13-01T00:00:00Z", "yesterday", ""],
)
def test_parse_rfc3339_refuses_times_without_offset_or_invalid(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(text)


def test_format_rfc3339_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        format_rfc3339(datetime(2025, 1, 1))


def test_format_rfc3339_second_offsets_become_utc() -> None:
    odd = timezone(timedelta(minutes=5, seconds=30))
    moment = datetime(2025, 1, 1, 0, 5, 30, tzinfo=odd)
    assert format_rfc3339(moment) == "2025-01-01T00:00:00Z"


def test_lone_surrogates_survive(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = SavedState((Message(id=0, role=Role.AGENT, content="bad \udcff byte", time=T0),))
    save_state(path, state)
    path.read_bytes().decode("utf-8")  # still valid UTF-8
    assert load_state(path) == state


# --- atomic writes --------------------------------------------------------------------------


def test_save_is_private_and_leaves_no_temp_files(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    path = folder / "state.json"
    save_state(path, sample_state())
    save_state(path, SavedState(()))
    assert tree(folder) == ["state.json"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert load_state(path) == SavedState(())


def test_failed_write_keeps_the_old_file_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    save_state(path, sample_state())
    before = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(persistence.os, "fsync", broken_fsync)
    with pytest.raises(StateFileError) as info:
        save_state(path, SavedState(()))
    assert str(info.value) == f"state file {path} cannot be written: no space left on device"
    assert path.read_bytes() == before
    assert tree(tmp_path) == ["state.json"]


# --- errors ---------------------------------------------------------------------------------


def load_error(path: Path, content: str | bytes) -> str:
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    with pytest.raises(StateFileError) as info:
        load_state(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_corrupt_json(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    message = load_error(path, '{"version": 1, "messages": [')
    assert message.startswith(f"state file {path} is not valid JSON: ")


def test_truncated_and_empty(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    assert load_error(path, "") == f"state file {path} is empty"
    assert load_error(path, "\n  \n") == f"state file {path} is empty"
    assert "not valid JSON" in load_error(path, b"\x00\x00\x00\x00")


def test_unknown_version(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    message = load_error(path, '{"version": 7, "messages": []}')
    assert message == f"state file {path} has unknown version 7 (this agentapi reads version 1)"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[]", "the top level is an array, expected an object"),
        ('{"messages": []}', "no 'version' field"),
        ('{"version": "1"}', "'version' is a string"),
        ('{"version": true}', "'version' is a boolean"),
        ('{"version": 1, "messages": {}}', "'messages' is an object"),
        ('{"version": 1, "messages": [3]}', "messages[0] is a number"),
        (
            '{"version": 1, "messages": [{"id": 0, "message": "x", "role": "agent"}]}',
            "messages[0] has no 'time' field",
        ),
        (
            '{"version":1,"messages":[{"id":"0","message":"x","role":"agent",'
            '"time":"2025-01-01T00:00:00Z"}]}',
            "messages[0].id is a string, expected an integer",
        ),
        (
            '{"version":1,"messages":[{"id":1.5,"message":"x","role":"agent",'
            '"time":"2025-01-01T00:00:00Z"}]}',
            "messages[0].id is a number, expected an integer",
        ),
        (
            '{"version":1,"messages":[{"id":0,"message":null,"role":"agent",'
            '"time":"2025-01-01T00:00:00Z"}]}',
            "messages[0].message is null",
        ),
        (
            '{"version":1,"messages":[{"id":0,"message":"x","role":"bot",'
            '"time":"2025-01-01T00:00:00Z"}]}',
            'messages[0].role is "bot", expected "user" or "agent"',
        ),
        (
            '{"version":1,"messages":[{"id":0,"message":"x","role":"user",'
            '"time":"2025-01-01 00:00"}]}',
            "messages[0].time: '2025-01-01 00:00' is not an RFC 3339 time",
        ),
        ('{"version": 1, "initial_prompt": 5}', "'initial_prompt' is a number"),
        ('{"version": 1, "initial_prompt_sent": "yes"}', "'initial_prompt_sent' is a string"),
    ],
)
def test_wrong_types(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "s.json"
    message = load_error(path, content)
    assert message.startswith(f"state file {path} is not a valid state file: ")
    assert fragment in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    save_state(path, sample_state())
    path.chmod(0)
    try:
        with pytest.raises(StateFileError) as info:
            load_state(path)
    finally:
        path.chmod(0o600)
    assert str(info.value) == f"state file {path} cannot be read: permission denied"


def test_a_folder_in_its_place(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.mkdir()
    with pytest.raises(StateFileError) as info:
        load_state(path)
    assert str(info.value) == f"state file {path} cannot be read: is a directory"


def test_move_aside_keeps_the_file_under_a_new_name(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"garbage one")
    first = move_aside(path)
    assert not path.exists()
    assert first.parent == tmp_path
    assert first.name.startswith("state.json.corrupt-")
    assert first.read_bytes() == b"garbage one"

    # Same second, same name: the earlier one is kept, not overwritten.
    path.write_bytes(b"garbage two")
    second = move_aside(path)
    assert second != first
    assert first.read_bytes() == b"garbage one"
    assert second.read_bytes() == b"garbage two"
    assert tree(tmp_path) == sorted([first.name, second.name])


def test_move_aside_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(persistence.os, "link", no_links)
    path = tmp_path / "state.json"
    path.write_bytes(b"one")
    first = move_aside(path)
    path.write_bytes(b"two")
    second = move_aside(path)
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")


# --- StateSaver -----------------------------------------------------------------------------


class Recorder:
    """Counts real writes by wrapping the atomic save."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes: list[bytes] = []
        self.event = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        real = persistence._save_bytes

        def recording(path: Path, data: bytes) -> None:
            real(path, data)
            self.writes.append(data)
            self.loop.call_soon_threadsafe(self.event.set)

        monkeypatch.setattr(persistence, "_save_bytes", recording)

    async def wait(self, count: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.writes) < count:
                self.event.clear()
                if len(self.writes) >= count:
                    break
                await self.event.wait()


class Transcript:
    def __init__(self) -> None:
        self.messages: list[Message] = [Message(id=0, role=Role.AGENT, content="start", time=T0)]
        self.snapshots = 0

    def snapshot(self) -> SavedState:
        self.snapshots += 1
        return SavedState(tuple(self.messages), "p", False)

    def add(self, text: str) -> None:
        self.messages.append(Message(id=len(self.messages), role=Role.USER, content=text, time=T0))


async def test_saver_writes_once_for_a_burst(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = Recorder(monkeypatch)
    path = tmp_path / "state.json"
    transcript = Transcript()
    saver = StateSaver(path, transcript.snapshot, delay=0.05)
    for i in range(20):
        transcript.add(f"m{i}")
        saver.mark_dirty()
    await rec.wait(1)
    # Give a stray second timer a chance to show itself.
    await asyncio.sleep(0.15)
    assert len(rec.writes) == 1
    assert transcript.snapshots == 1
    loaded = load_state(path)
    assert loaded is not None and len(loaded.messages) == 21
    saver.close()


async def test_saver_skips_unchanged_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder(monkeypatch)
    transcript = Transcript()
    saver = StateSaver(tmp_path / "state.json", transcript.snapshot, delay=0.02)
    saver.mark_dirty()
    await rec.wait(1)
    saver.mark_dirty()  # nothing really changed
    assert await saver.flush() is False
    assert await saver.flush() is False  # not dirty at all
    transcript.add("new")
    saver.mark_dirty()
    assert await saver.flush() is True
    assert len(rec.writes) == 2
    saver.close()


async def test_flush_writes_at_once_and_cancels_the_timer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = Recorder(monkeypatch)
    transcript = Transcript()
    path = tmp_path / "state.json"
    saver = StateSaver(path, transcript.snapshot, delay=30)
    saver.mark_dirty()
    assert await saver.flush() is True
    assert len(rec.writes) == 1
    assert load_state(path) == transcript.snapshot()
    saver.close()


async def test_writes_never_overlap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    active = 0
    peak = 0
    real = persistence._save_bytes

    def slow(path: Path, data: bytes) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        try:
            time.sleep(0.05)
            real(path, data)
        finally:
            active -= 1

    monkeypatch.setattr(persistence, "_save_bytes", slow)
    transcript = Transcript()
    path = tmp_path / "state.json"
    saver = StateSaver(path, transcript.snapshot, delay=0.01)
    results = []
    for i in range(4):
        transcript.add(f"m{i}")
        saver.mark_dirty()
        results.append(asyncio.create_task(saver.flush()))
    await asyncio.gather(*results)
    assert peak == 1
    loaded = load_state(path)
    assert loaded is not None and len(loaded.messages) == 5
    saver.close()


async def test_save_errors_are_logged_and_retried_on_the_next_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    path = blocker / "state.json"
    transcript = Transcript()
    saver = StateSaver(path, transcript.snapshot, delay=0.01)
    with caplog.at_level(logging.ERROR, logger="agentapi.session.statefile"):
        saver.mark_dirty()
        assert await saver.flush() is False
    assert any("saving the conversation failed" in r.getMessage() for r in caplog.records)
    assert all(r.name == "agentapi.session.statefile" for r in caplog.records)

    blocker.unlink()
    assert await saver.flush() is True  # still dirty from the failure
    assert load_state(path) == transcript.snapshot()
    saver.close()


async def test_snapshot_errors_do_not_escape(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> SavedState:
        raise RuntimeError("boom")

    saver = StateSaver(tmp_path / "state.json", broken, delay=0.01)
    with caplog.at_level(logging.ERROR, logger="agentapi.session.statefile"):
        saver.mark_dirty()
        assert await saver.flush() is False
    assert "boom" in caplog.text
    saver.close()


async def test_close_cancels_the_pending_save(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    transcript = Transcript()
    saver = StateSaver(path, transcript.snapshot, delay=0.02)
    saver.mark_dirty()
    saver.close()
    await asyncio.sleep(0.1)
    assert not path.exists()
    saver.mark_dirty()  # after close: no timer
    await asyncio.sleep(0.05)
    assert not path.exists()
    assert await saver.flush() is True  # an explicit flush still saves
    assert path.exists()


async def test_each_failed_save_is_reported_once_and_a_later_success_clears_it(
    tmp_path: Path,
) -> None:
    # A plain file where the folder should be: every write fails until it goes away.
    blocker = tmp_path / "folder"
    blocker.write_text("not a folder")
    path = blocker / "state.json"
    transcript = Transcript()
    reports: list[str] = []
    saver = StateSaver(path, transcript.snapshot, delay=0.01, on_error=reports.append)
    transcript.add("one")
    saver.mark_dirty()
    assert await saver.flush() is False
    transcript.add("two")
    saver.mark_dirty()
    assert await saver.flush() is False
    assert len(reports) == 2 and all("cannot be written" in r for r in reports)
    assert saver.last_error == reports[-1]
    blocker.unlink()
    assert await saver.flush() is True
    assert saver.last_error is None
    assert len(reports) == 2
    loaded = load_state(path)
    assert loaded is not None and [m.content for m in loaded.messages][-1] == "two"
    saver.close()
