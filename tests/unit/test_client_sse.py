"""The client's SSE parser, fed by hand: no server involved."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from agentapi.client import (
    AgentApiError,
    AgentError,
    MessageUpdate,
    ScreenUpdate,
    SSEEvent,
    SSEParser,
    StatusChange,
    normalize_url,
    parse_event,
)


def feed_all(chunks: list[bytes]) -> list[SSEEvent]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events


def test_one_event_per_blank_line() -> None:
    stream = b'event: status_change\ndata: {"status":"stable"}\n\nevent: x\ndata: 2\n\n'
    assert feed_all([stream]) == [
        SSEEvent("status_change", '{"status":"stable"}'),
        SSEEvent("x", "2"),
    ]


def test_an_event_is_only_complete_at_its_blank_line() -> None:
    parser = SSEParser()
    assert parser.feed(b"event: a\ndata: 1\n") == []
    assert parser.feed(b"\n") == [SSEEvent("a", "1")]


def test_multi_line_data_is_joined_with_newlines() -> None:
    stream = b"data: first\ndata: second\ndata:\ndata: fourth\n\n"
    assert feed_all([stream]) == [SSEEvent("message", "first\nsecond\n\nfourth")]


def test_comments_and_pings_are_skipped() -> None:
    stream = b": ping\n\n:another comment\nevent: a\n: inside\ndata: 1\n\n: ping\n\n"
    assert feed_all([stream]) == [SSEEvent("a", "1")]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending(eol: bytes) -> None:
    stream = eol.join([b"event: a", b"data: x", b"data: y", b"", b"data: z", b"", b""])
    assert feed_all([stream]) == [SSEEvent("a", "x\ny"), SSEEvent("message", "z")]


def test_crlf_split_between_chunks_ends_one_line_only() -> None:
    # A lone CR ends a line too, so the LF that follows in the next chunk must not
    # count as a second (blank) line that would dispatch early.
    events = feed_all([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"])
    assert events == [SSEEvent("message", "a\nb")]


def test_every_split_point_gives_the_same_events() -> None:
    stream = (
        b"event: message_update\r\n"
        b'data: {"id":1,"message":"caf\xc3\xa9 \xe2\x9c\xbb \xf0\x9f\x8c\x8d"}\r\n'
        b"\r\n"
        b": ping\r\n\r\n"
        b"event: status_change\ndata: line1\ndata: line2\n\n"
    )
    whole = feed_all([stream])
    assert len(whole) == 2
    assert json.loads(whole[0].data)["message"] == "café ✻ 🌍"
    for cut in range(1, len(stream)):
        assert feed_all([stream[:cut], stream[cut:]]) == whole, cut
    assert feed_all([stream[i : i + 1] for i in range(len(stream))]) == whole


def test_field_details() -> None:
    stream = (
        b"\xef\xbb\xbfevent: a\n"  # a byte-order mark at the very start is dropped
        b"data:no-space\n"  # the space after the colon is optional
        b"data:  two spaces\n"  # only one space is removed
        b"id: 7\n"
        b"retry: 1500\n"
        b"unknown: ignored\n"
        b"data\n"  # a field with no colon has an empty value
        b"\n"
    )
    assert feed_all([stream]) == [SSEEvent("a", "no-space\n two spaces\n", "7", 1500)]


def test_event_name_without_data_is_not_dispatched_and_does_not_leak() -> None:
    assert feed_all([b"event: lonely\n\ndata: 1\n\n"]) == [SSEEvent("message", "1")]


def test_unfinished_event_at_the_end_is_not_dispatched() -> None:
    assert feed_all([b"event: a\ndata: 1"]) == []


def test_large_event_in_many_chunks() -> None:
    screen = "\n".join(f"row {n} " + "x" * 70 for n in range(1000))
    frame = f"event: screen\ndata: {json.dumps({'screen': screen})}\n\n".encode()
    chunks = [frame[i : i + 4096] for i in range(0, len(frame), 4096)]
    (event,) = feed_all(chunks)
    parsed = parse_event(event)
    assert isinstance(parsed, ScreenUpdate) and parsed.screen == screen


def test_typed_events() -> None:
    time = "2026-01-02T03:04:05.123456+00:00"
    update = parse_event(
        SSEEvent(
            "message_update",
            json.dumps({"id": 2, "role": "agent", "message": "● hi", "time": time}),
        )
    )
    assert update == MessageUpdate(
        id=2, role="agent", message="● hi", time=datetime.fromisoformat(time)
    )
    status = parse_event(SSEEvent("status_change", '{"status":"running","agent_type":"claude"}'))
    assert status == StatusChange(status="running", agent_type="claude")
    error = parse_event(
        SSEEvent("agent_error", json.dumps({"message": "m", "level": "warning", "time": time}))
    )
    assert isinstance(error, AgentError) and error.level == "warning"
    # A newer daemon's extra fields and event kinds do not break an older client.
    extra = parse_event(SSEEvent("status_change", '{"status":"stable","agent_type":"x","n":1}'))
    assert extra == StatusChange(status="stable", agent_type="x")
    assert parse_event(SSEEvent("something_new", "{}")) is None


def test_malformed_known_event_is_an_error() -> None:
    with pytest.raises(AgentApiError, match="status_change"):
        parse_event(SSEEvent("status_change", '{"status": "sleeping"}'))


@pytest.mark.parametrize(
    "given, expected",
    [
        ("localhost:3284", "http://localhost:3284"),
        ("127.0.0.1:9", "http://127.0.0.1:9"),
        ("http://127.0.0.1:9/", "http://127.0.0.1:9"),
        ("https://agent.example/base/", "https://agent.example/base"),
        (" HTTP://h:1 ", "HTTP://h:1"),
    ],
)
def test_normalize_url(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


@pytest.mark.parametrize("bad", ["", "   ", "ftp://h:1"])
def test_normalize_url_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_url(bad)
