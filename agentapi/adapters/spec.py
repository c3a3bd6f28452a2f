"""The adapter spec: what a TOML file may say about an agent, as typed dataclasses.

Every key is declared once, here, with its type and default; the engine reads the
parsed spec and nothing else (agentapi.records builds and checks it). Unknown keys
are refused, and every mistake is reported as one line naming the file and the key
(``adapters/x.toml: input_box.prompt is not a valid regular expression: ...``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from agentapi import records
from agentapi.errors import AdapterError


def _lower_case_word(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError("must be a lower-case word such as 'claude'")
    return value


def _lower(value: list[str] | None) -> list[str] | None:
    return None if value is None else [v.lower() for v in value]


def _module_and_function(value: str | None) -> str | None:
    if value is not None and ":" not in value:
        raise ValueError("must look like 'module:function'")
    return value


# Metadata for records.build: a list where one value may stand for a list of one; limits.
ONE_OR_MANY = {"one_or_many": True}
COUNT = {"ge": 0}

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


class _Table:
    """A table of a spec file: every key is declared, an unknown one is a mistake."""

    __slots__ = ()
    __pydantic_config__: ClassVar[dict[str, str]] = {"extra": "forbid"}


@dataclass(frozen=True, slots=True, kw_only=True)
class InputSpec(_Table):
    """How a message is typed."""

    # Keys written (and left to settle) before the message: an editor that swallows the start
    # of a paste that arrives first gets a character typed and erased. Each key is written
    # on its own and followed by type_first_settle_ms.
    type_first: str = ""
    type_first_settle_ms: int = field(default=0, metadata=COUNT)
    # Wrap the message in ESC[200~ … ESC[201~ so a multi-line message is one message.
    bracketed_paste: bool = True
    submit: str = "\r"
    # Keys written once, when the agent first draws (an animation that waits for a key).
    on_start: str = ""
    # Keys that stop what the agent is doing (POST /interrupt), written one after the other
    # with interrupt_settle_ms between them: Esc for most TUIs, Ctrl-C where that is the
    # agent's way. A single string is a list of one.
    interrupt: list[str] = field(
        default_factory=lambda: ["\u001b"], metadata={**ONE_OR_MANY, "min_length": 1}
    )
    interrupt_settle_ms: int = field(default=100, metadata=COUNT)
    # Written after an interrupt once per line of the interrupted message, and once more:
    # an agent that puts the interrupted message back into its input box (Claude Code) has
    # it erased, so the next message is not appended to it.
    interrupt_clear: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class InputBoxSpec(_Table):
    """The agent's input box at the bottom of the screen.

    From it come both rules that need it: everything from the box down is cut from
    replies, and the agent is ready for input while the box is drawn.
    """

    # The line the user types on.
    prompt: re.Pattern[str] | None = None
    # The line right above the prompt that opens the box (a rule, the box's top edge).
    # Without it, a prompt line is the box only when it is the last line and empty.
    rule: re.Pattern[str] | None = None
    # A line that marks the box on its own (a top or bottom edge, a composer line): the
    # screen is cut at the lowest one.
    edge: re.Pattern[str] | None = None
    # Lines drawn right above the box (hints, status lines): the unbroken run of lines
    # matching one of these goes with it. The run stops at a blank line, so a reply drawn
    # in the same style as the box is kept.
    above: list[re.Pattern[str]] = field(default_factory=list, metadata=ONE_OR_MANY)
    # How many non-blank lines up from the bottom the box is looked for: a tall alternate
    # screen leaves hundreds of blank rows between a reply and its footer.
    search_lines: int = field(default=8, metadata={"ge": 1})
    # Replaces "the box is drawn" as the readiness test; an empty list means ready as soon
    # as the screen settles.
    ready: list[re.Pattern[str]] | None = field(default=None, metadata=ONE_OR_MANY)

    @property
    def defined(self) -> bool:
        return self.prompt is not None or self.edge is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplySpec(_Table):
    """How the new part of the screen becomes a chat message."""

    # Remove the agent's echo of the user's message.
    echo: bool = True
    # What the agent draws before each echoed line, beyond the usual prompt characters.
    echo_prefix: re.Pattern[str] | None = None
    # Lines right after the echo that still belong to it (a name and time, a frame).
    echo_frame: re.Pattern[str] | None = None
    # Blanked out of every line, keeping the text in place (a frame down the left side).
    unframe: re.Pattern[str] | None = None
    # Remove the indentation every line shares (replies drawn indented as a block).
    dedent: bool = False
    # Top rows that change on every redraw (token counters), ignored when diffing screens.
    skip_header_lines: int = field(default=0, metadata=COUNT)
    # "package.module:function", called as f(text, user_message) -> text, last.
    hook: str | None = field(default=None, metadata={"check": _module_and_function})


@dataclass(frozen=True, slots=True, kw_only=True)
class NoiseSpec(_Table):
    """A block cut from replies: a tool-call report, a spinner, a status line."""

    name: str = ""
    start: re.Pattern[str]
    # The line after ``start`` must match too (a block announced over two lines).
    next: re.Pattern[str] | None = None
    # The block's last line; without it (or until it is drawn) the block runs to the
    # next blank line.
    end: re.Pattern[str] | None = None
    # After ``end``, run on to the next blank line (a "+ Show details" line).
    tail_to_blank: bool = False
    # At most this many lines after ``start``; 0 cuts the ``start`` line alone.
    max_lines: int = field(default=40, metadata=COUNT)
    # Log the cut block (a tool call is worth a line; a spinner is not).
    report: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class AdapterSpec(_Table):
    name: str = field(metadata={"check": _lower_case_word})
    # Shown to people ("Claude Code"); the description when not given.
    display_name: str = ""
    description: str = ""
    aliases: list[str] = field(default_factory=list, metadata={"check": _lower})
    # Executable names that select this adapter when no --type is given; [name] if absent.
    commands: list[str] | None = field(default=None, metadata={"check": _lower})
    input: InputSpec = field(default_factory=InputSpec)
    input_box: InputBoxSpec = field(default_factory=InputBoxSpec)
    reply: ReplySpec = field(default_factory=ReplySpec)
    noise: list[NoiseSpec] = field(default_factory=list)


# -- reading specs ---------------------------------------------------------------------------


def parse_spec(data: dict[str, Any], source: str) -> AdapterSpec:
    """Validate a parsed TOML document; every mistake is an AdapterError naming ``source``."""
    try:
        return records.build(AdapterSpec, data)
    except records.RecordError as exc:
        raise AdapterError(f"{source}: {_first_problem(exc)}") from None


def load_spec_data(text: str, source: str) -> dict[str, Any]:
    """A spec file's TOML document, not yet checked."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AdapterError(f"{source}: not a valid TOML file: {exc}") from None


def load_spec_text(text: str, source: str) -> AdapterSpec:
    return parse_spec(load_spec_data(text, source), source)


def load_spec_file(path: Path) -> AdapterSpec:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AdapterError(f"{path}: cannot read adapter spec: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdapterError(f"{path}: not a valid TOML file: {exc}") from None
    return load_spec_text(text, str(path))


# -- one line per mistake ----------------------------------------------------------------------


def _where(loc: records.Location) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _table_name(loc: records.Location) -> str:
    if not loc:
        return "the top level"
    where = _where(loc)
    return where if isinstance(loc[-1], int) else f"[{where}]"


def _first_problem(exc: records.RecordError) -> str:
    unknown = [p for p in exc.problems if p.kind == "unknown"]
    if unknown:
        parent = unknown[0].location[:-1]
        keys = sorted(str(p.location[-1]) for p in unknown if p.location[:-1] == parent)
        return f"unknown key(s) in {_table_name(parent)}: {', '.join(keys)}"
    return _describe(exc.problems[0])


def _describe(problem: records.Problem) -> str:
    loc = problem.location
    if problem.kind == "missing":
        if loc == ("name",):
            return "name must be a lower-case word such as 'claude'"
        table, key = loc[:-1], loc[-1]
        return f"{_where(table) or 'the top level'} needs at least a {str(key)!r}"
    return f"{_where(loc)} {problem.message}"
