"""The event hub's bounds: bytes per subscriber, and the length of one event line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from agentapi.messages import ConversationRole, EventName, Message
from agentapi.session.hub import MAX_EVENT_LINE, EventHub

GO_SDK_LINE_LIMIT = 128 * 1024


def message(content: str, id_: int = 1) -> Message:
    return Message(id=id_, content=content, role=ConversationRole.AGENT, time=datetime.now(UTC))


def data_lines(frames: list[bytes]) -> list[bytes]:
    return [line for f in frames for line in f.split(b"\n") if line.startswith(b"data: ")]


async def drain(sub) -> list[bytes]:
    sub.close()
    return [f async for f in sub.frames()]


def test_a_subscriber_is_cut_off_by_bytes_not_only_by_count():
    hub = EventHub(queue_limit=10_000, queue_bytes=1024 * 1024)
    stalled = hub.subscribe({EventName.SCREEN})
    big_screen = ("x" * 79 + "\n") * 1000  # one full 80x1000 screen: ~80 KB a frame
    for n in range(40):
        hub.screen(big_screen + str(n))
    assert stalled.closed and stalled.overflowed
    # What it holds stays under the byte limit (about a dozen screens, not 40).
    assert stalled._queued_bytes <= 1024 * 1024
    stalled.discard()
    assert stalled._queued_bytes == 0 and not stalled._queue


async def test_the_replay_never_counts_as_falling_behind():
    hub = EventHub(queue_bytes=1000)
    for i in range(20):
        hub.message_update(message("y" * 500, i))
    sub = hub.subscribe({EventName.MESSAGE_UPDATE})
    assert not sub.closed
    assert len(await drain(sub)) == 20


@pytest.mark.parametrize(
    "content",
    [
        "a" * 200_000,  # ASCII
        "é" * 100_000,  # two bytes each
        "日本" * 50_000,  # three bytes each
        "\x1b" * 40_000,  # six bytes each once escaped as \u001b
        ("line of text\n" * 20_000),
    ],
    ids=["ascii", "latin", "cjk", "escaped", "lines"],
)
async def test_a_message_update_fits_the_go_sdk_line_limit(content):
    hub = EventHub()
    sub = hub.subscribe({EventName.MESSAGE_UPDATE})
    hub.message_update(message(content))
    [line] = data_lines(await drain(sub))
    assert len(line) <= MAX_EVENT_LINE < GO_SDK_LINE_LIMIT
    body = json.loads(line[len(b"data: ") :])
    kept, mark = body["message"].rsplit("\n… [", 1)
    assert content.startswith(kept) and len(kept) > MAX_EVENT_LINE // 8
    missing = len(content) - len(kept)
    assert mark == f"{missing} more characters; the whole message is in GET /messages]"


async def test_a_message_under_the_limit_is_sent_whole():
    hub = EventHub()
    sub = hub.subscribe({EventName.MESSAGE_UPDATE, EventName.STATUS_CHANGE})
    content = "z" * (MAX_EVENT_LINE - 200)
    hub.message_update(message(content))
    [line] = data_lines(await drain(sub))
    assert json.loads(line[len(b"data: ") :])["message"] == content
