"""agentapi.records: dataclasses from plain data, strictly, and back, as the wire needs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import pytest

from agentapi.messages import (
    ConversationRole,
    ErrorDetail,
    ErrorModel,
    Message,
    MessagePart,
    MessageRequestBody,
    MessagesResponseBody,
    MessageType,
    PermissionOptionPart,
    StatusResponseBody,
)
from agentapi.records import RecordError, build, dump


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True, kw_only=True)
class Leaf:
    n: int = field(default=0, metadata={"ge": 0})


@dataclass(frozen=True, kw_only=True)
class Tree:
    name: str = field(metadata={"check": lambda v: v if v.islower() else _bad("lower case")})
    colour: Colour = Colour.RED
    flag: bool = False
    anything: Any = None
    pattern: re.Pattern[str] | None = None
    words: list[str] = field(default_factory=list, metadata={"one_or_many": True})
    leaves: list[Leaf] = field(default_factory=list)
    key: str | None = field(default=None, metadata={"alias": "$key"})


def _bad(reason: str) -> str:
    raise ValueError(f"must be {reason}")


def problems(data: object, **kw: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(RecordError) as caught:
        build(Tree, data, **kw)
    return [(p.location, p.message) for p in caught.value.problems]


def test_a_good_document_builds_every_kind_of_field() -> None:
    tree = build(
        Tree,
        {
            "name": "oak",
            "colour": "blue",
            "flag": True,
            "anything": {"x": [1]},
            "pattern": "^a+$",
            "words": "one",
            "leaves": [{"n": 2}, {}],
            "$key": "k",
        },
    )
    assert tree == Tree(
        name="oak",
        colour=Colour.BLUE,
        flag=True,
        anything={"x": [1]},
        pattern=re.compile("^a+$"),
        words=["one"],
        leaves=[Leaf(n=2), Leaf()],
        key="k",
    )
    assert tree.colour is Colour.BLUE


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        ({"name": 5}, ("name",), "must be a string"),
        ({"name": "a", "flag": 1}, ("flag",), "must be true or false"),
        ({"name": "a", "leaves": [{"n": True}]}, ("leaves", 0, "n"), "must be a whole number"),
        ({"name": "a", "leaves": [{"n": "3"}]}, ("leaves", 0, "n"), "must be a whole number"),
        ({"name": "a", "leaves": [{"n": -1}]}, ("leaves", 0, "n"), "must not be negative"),
        ({"name": "a", "leaves": {"n": 1}}, ("leaves",), "must be a list"),
        ({"name": "a", "leaves": ["x"]}, ("leaves", 0), "must be a table"),
        ({"name": "a", "colour": "green"}, ("colour",), "must be 'red' or 'blue'"),
        ({"name": "a", "pattern": "(["}, ("pattern",), "is not a valid regular expression"),
        ({"name": "Oak"}, ("name",), "must be lower case"),
        ({}, ("name",), "is required"),
    ],
)
def test_each_mistake_is_named_where_it_is(data: object, where: tuple, message: str) -> None:
    [(location, text)] = problems(data)
    assert location == where
    assert message in text


def test_every_mistake_is_collected_not_only_the_first() -> None:
    found = problems({"name": 1, "flag": "no", "leaves": [{"n": -2}]})
    assert [where for where, _ in found] == [("name",), ("flag",), ("leaves", 0, "n")]


def test_unknown_keys_are_ignored_unless_forbidden() -> None:
    assert build(Tree, {"name": "a", "newer": 1}).name == "a"
    assert problems({"name": "a", "newer": 1}, forbid_extra=True) == [
        (("newer",), "is not a known field")
    ]


def test_a_document_that_is_not_a_table_is_a_mistake() -> None:
    assert problems([1, 2]) == [((), "must be a table")]


def test_dump_leaves_out_none_and_writes_enums_times_and_nested_records() -> None:
    moment = datetime(2026, 12, 3, 7, 5, 44, 500000, tzinfo=UTC)
    message = Message(
        id=3,
        content="é ✻",
        role=ConversationRole.AGENT,
        time=moment,
        parts=[
            MessagePart(
                type="permission",
                options=[PermissionOptionPart(option_id="a", name="Allow", kind="allow_once")],
            )
        ],
    )
    assert message.to_wire() == {
        "id": 3,
        "content": "é ✻",
        "role": "agent",
        "time": "2026-12-03T07:05:44.5Z",
        "parts": [
            {
                "type": "permission",
                "options": [{"option_id": "a", "name": "Allow", "kind": "allow_once"}],
            }
        ],
    }
    # Compact UTF-8, as the original writes it.
    assert message.to_json().startswith('{"id":3,"content":"é ✻","role":"agent"'.encode())


def test_wire_bodies_round_trip_through_json() -> None:
    moment = datetime(2026, 12, 3, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    body = MessagesResponseBody(
        messages=[Message(id=0, content="hi", role=ConversationRole.USER, time=moment)],
        revision=4,
    )
    again = MessagesResponseBody.from_wire(json.loads(body.to_json()))
    assert again == body
    assert again.messages[0].time.utcoffset() == timedelta(hours=2)


def test_go_nanosecond_times_are_read() -> None:
    data = {"id": 1, "content": "", "role": "agent", "time": "2026-12-03T07:05:44.123456789Z"}
    assert Message.from_wire(data).time.microsecond == 123456


def test_a_lone_surrogate_is_escaped_not_an_error() -> None:
    body = StatusResponseBody(status="stable", agent_type="custom\udcff", transport="pty")
    assert json.loads(body.to_json())["agent_type"] == "custom\udcff"


def test_request_bodies_refuse_unknown_fields_and_take_the_schema_key() -> None:
    body = MessageRequestBody.from_wire(
        {"$schema": "http://x/s.json", "content": "q", "type": "raw"}
    )
    assert body.schema_url == "http://x/s.json" and body.type is MessageType.RAW
    with pytest.raises(RecordError) as caught:
        MessageRequestBody.from_wire({"content": "q", "type": "user", "extra": 1})
    assert [p.location for p in caught.value.problems] == [("extra",)]


def test_a_problem_document_keeps_its_default_type() -> None:
    problem = ErrorModel(title="Bad", status=400, errors=[ErrorDetail(location="body.x")])
    assert dump(problem, {}) == {
        "type": "about:blank",
        "title": "Bad",
        "status": 400,
        "errors": [{"location": "body.x"}],
    }
