"""Typed, frozen dataclasses to and from plain data (JSON and TOML documents).

The daemon's wire bodies and adapter specs are standard-library dataclasses, built and
checked here, so serving needs no schema library: importing one costs more start-up
time and memory than the whole HTTP layer. The same dataclasses still give the OpenAPI
document through pydantic (``agentapi.server.openapi``, loaded only when it is asked for),
which reads field descriptions from ``dataclasses.field(metadata=...)``.

What ``build`` checks is what the fields' types say, strictly (a string is not a number,
``true`` is not 1): ``str``, ``int``, ``bool``, ``Any``, string enums, ``re.Pattern``
(compiled), ``datetime`` (through the caller's parser), ``X | None``, ``list[X]`` and nested
record classes. Field metadata adds: ``alias`` (the key in the document), ``ge`` and
``min_length`` limits, ``one_or_many`` (a single value where a list is expected is a list
of one) and ``check`` (a function that returns the value or raises ``ValueError`` with the
reason). Every problem is collected, each with the place it was found, so a caller can say
all of them or the first in its own words.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")

Location = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a document, where it was found, and the value found there."""

    location: Location
    kind: str
    message: str
    value: object = None


class RecordError(ValueError):
    """A document that does not fit its record class; ``problems`` lists every mistake."""

    def __init__(self, record: str, problems: list[Problem]) -> None:
        self.record = record
        self.problems = problems
        first = problems[0]
        where = ".".join(str(p) for p in first.location) or "the document"
        super().__init__(f"{record}: {where} {first.message}")


# -- what a record class declares ------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    key: str
    annotation: Any
    required: bool
    meta: Mapping[str, Any]


@cache
def _fields(cls: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls)
    fields = []
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        key = f.metadata.get("alias", f.name)
        fields.append(_Field(f.name, key, hints[f.name], required, f.metadata))
    return tuple(fields)


# (attribute, key) per record class, for dump: looked up on every event sent.
_DUMP_PLANS: dict[type, tuple[tuple[str, str], ...]] = {}


def _dump_plan(cls: type) -> tuple[tuple[str, str], ...]:
    plan = _DUMP_PLANS.get(cls)
    if plan is None:
        plan = _DUMP_PLANS[cls] = tuple((f.name, f.key) for f in _fields(cls))
    return plan


def _forbids_extra(cls: type, default: bool) -> bool:
    config = getattr(cls, "__pydantic_config__", None) or {}
    extra = config.get("extra")
    return default if extra is None else extra == "forbid"


# -- plain data to records --------------------------------------------------------------------


class _Builder:
    def __init__(self, forbid_extra: bool, parsers: Mapping[type, Callable[[str], object]]) -> None:
        self.forbid_extra = forbid_extra
        self.parsers = parsers
        self.problems: list[Problem] = []

    def fail(self, loc: Location, kind: str, message: str, value: object) -> object:
        self.problems.append(Problem(loc, kind, message, value))
        return _BAD

    def record(self, cls: type, data: object, loc: Location) -> object:
        if not isinstance(data, Mapping):
            return self.fail(loc, "table", "must be a table", data)
        fields = _fields(cls)
        if _forbids_extra(cls, self.forbid_extra):
            known = {f.key for f in fields}
            for key in data:
                if key not in known:
                    self.fail((*loc, str(key)), "unknown", "is not a known field", data[key])
        values: dict[str, object] = {}
        ok = True
        for f in fields:
            if f.key not in data:
                if f.required:
                    ok = False
                    self.fail((*loc, f.key), "missing", "is required", None)
                continue
            value = self.field(f, data[f.key], (*loc, f.key))
            if value is _BAD:
                ok = False
            else:
                values[f.name] = value
        return cls(**values) if ok else _BAD

    def field(self, f: _Field, raw: object, loc: Location) -> object:
        if f.meta.get("one_or_many") and isinstance(raw, str):
            raw = [raw]
        value = self.value(f.annotation, raw, loc)
        if value is _BAD:
            return _BAD
        limit = f.meta.get("ge")
        if limit is not None and isinstance(value, int) and value < limit:
            message = "must not be negative" if limit == 0 else f"must be at least {limit}"
            return self.fail(loc, "too_small", message, raw)
        least = f.meta.get("min_length")
        if least is not None and isinstance(value, list) and len(value) < least:
            return self.fail(loc, "too_short", f"must hold at least {least} item(s)", raw)
        check = f.meta.get("check")
        if check is not None:
            try:
                value = check(value)
            except ValueError as exc:
                return self.fail(loc, "invalid", str(exc), raw)
        return value

    def value(self, annotation: Any, raw: object, loc: Location) -> object:
        origin = typing.get_origin(annotation)
        if origin in (types.UnionType, typing.Union):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if raw is None:
                return None
            return self.value(options[0], raw, loc)
        if origin is list:
            if not isinstance(raw, list):
                return self.fail(loc, "list", "must be a list", raw)
            (item,) = typing.get_args(annotation)
            built = [self.value(item, v, (*loc, i)) for i, v in enumerate(raw)]
            return _BAD if any(v is _BAD for v in built) else built
        if annotation is Any:
            return raw
        if annotation is str:
            return raw if isinstance(raw, str) else self.fail(loc, "str", "must be a string", raw)
        if annotation is bool:
            if isinstance(raw, bool):
                return raw
            return self.fail(loc, "bool", "must be true or false", raw)
        if annotation is int:
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            return self.fail(loc, "int", "must be a whole number", raw)
        if origin is re.Pattern or annotation is re.Pattern:
            return self.pattern(raw, loc)
        if isinstance(annotation, type):
            if issubclass(annotation, enum.Enum):
                return self.choice(annotation, raw, loc)
            if annotation is datetime:
                return self.time(raw, loc)
            if dataclasses.is_dataclass(annotation):
                return self.record(annotation, raw, loc)
        raise TypeError(f"records cannot build a {annotation!r}")

    def pattern(self, raw: object, loc: Location) -> object:
        if not isinstance(raw, str):
            return self.fail(loc, "str", "must be a string (a regular expression)", raw)
        try:
            return re.compile(raw)
        except re.error as exc:
            return self.fail(loc, "invalid", f"is not a valid regular expression: {exc}", raw)

    def choice(self, kind: type[enum.Enum], raw: object, loc: Location) -> object:
        if isinstance(raw, kind):
            return raw
        try:
            return kind(raw)
        except ValueError:
            words = " or ".join(repr(m.value) for m in kind)
            return self.fail(loc, "choice", f"must be {words}", raw)

    def time(self, raw: object, loc: Location) -> object:
        if isinstance(raw, datetime):
            return raw
        parse = self.parsers.get(datetime)
        if not isinstance(raw, str) or parse is None:
            return self.fail(loc, "time", "must be a time (RFC 3339)", raw)
        try:
            return parse(raw)
        except ValueError as exc:
            return self.fail(loc, "time", str(exc), raw)


# Marks a value that could not be built; its problem is already recorded.
_BAD: Any = object()


def build(
    cls: type[T],
    data: object,
    *,
    forbid_extra: bool = False,
    parsers: Mapping[type, Callable[[str], object]] | None = None,
) -> T:
    """A ``cls`` from a parsed document, or RecordError listing every mistake in it.

    Unknown keys are ignored unless ``forbid_extra`` (or the class's own
    ``__pydantic_config__ = {"extra": "forbid"}``) says they are mistakes.
    """
    builder = _Builder(forbid_extra, parsers or {})
    result = builder.record(cls, data, ())
    if builder.problems:
        raise RecordError(cls.__name__, builder.problems)
    return cast(T, result)


# -- records to plain data --------------------------------------------------------------------


def dump(obj: object, formatters: Mapping[type, Callable[[Any], object]]) -> dict[str, Any]:
    """A record as a JSON-ready dict: None fields left out, enums as their values, nested
    records and lists dumped in turn, and each type in ``formatters`` through its function."""
    out: dict[str, Any] = {}
    for name, key in _dump_plan(type(obj)):
        value = getattr(obj, name)
        if value is not None:
            out[key] = _plain(value, formatters)
    return out


def _plain(value: object, formatters: Mapping[type, Callable[[Any], object]]) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v, formatters) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dump(value, formatters)
    formatter = formatters.get(type(value))
    if formatter is not None:
        return formatter(value)
    return value
