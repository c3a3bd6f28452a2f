"""The adapter spec: what a TOML file may say about an agent, as a typed model.

Every key is declared once, here, with its type and default; the engine reads the
parsed model and nothing else. Unknown keys are refused, and every mistake is
reported as one line naming the file and the key (``adapters/x.toml:
input_box.prompt is not a valid regular expression: ...``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from agentapi.errors import AdapterError


def _compile(value: object) -> re.Pattern[str]:
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string (a regular expression)")
    try:
        return re.compile(value)
    except re.error as exc:
        raise ValueError(f"is not a valid regular expression: {exc}") from None


def _one_or_many(value: object) -> object:
    # A single pattern where a list is expected is a list of one.
    return [value] if isinstance(value, str) else value


Regex = Annotated[re.Pattern[str], PlainValidator(_compile)]
RegexList = Annotated[list[Regex], BeforeValidator(_one_or_many)]
Count = Annotated[StrictInt, Field(ge=0)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class InputSpec(_Table):
    """How a message is typed."""

    # Keys written (and left to settle) before the message: an editor that swallows the start
    # of a paste that arrives first gets a character typed and erased. Each key is written
    # on its own and followed by type_first_settle_ms.
    type_first: StrictStr = ""
    type_first_settle_ms: Count = 0
    # Wrap the message in ESC[200~ … ESC[201~ so a multi-line message is one message.
    bracketed_paste: StrictBool = True
    submit: StrictStr = "\r"
    # Keys written once, when the agent first draws (an animation that waits for a key).
    on_start: StrictStr = ""
    # Keys that stop what the agent is doing (POST /interrupt), written one after the other
    # with interrupt_settle_ms between them: Esc for most TUIs, Ctrl-C where that is the
    # agent's way. A single string is a list of one.
    interrupt: Annotated[list[StrictStr], BeforeValidator(_one_or_many), Field(min_length=1)] = [
        "\u001b"
    ]
    interrupt_settle_ms: Count = 100
    # Written after an interrupt once per line of the interrupted message, and once more:
    # an agent that puts the interrupted message back into its input box (Claude Code) has
    # it erased, so the next message is not appended to it.
    interrupt_clear: StrictStr = ""


class InputBoxSpec(_Table):
    """The agent's input box at the bottom of the screen.

    From it come both rules that need it: everything from the box down is cut from
    replies, and the agent is ready for input while the box is drawn.
    """

    # The line the user types on.
    prompt: Regex | None = None
    # The line right above the prompt that opens the box (a rule, the box's top edge).
    # Without it, a prompt line is the box only when it is the last line and empty.
    rule: Regex | None = None
    # A line that marks the box on its own (a top or bottom edge, a composer line): the
    # screen is cut at the lowest one.
    edge: Regex | None = None
    # Lines drawn right above the box (hints, status lines): the unbroken run of lines
    # matching one of these goes with it. The run stops at a blank line, so a reply drawn
    # in the same style as the box is kept.
    above: RegexList = []
    # How many non-blank lines up from the bottom the box is looked for: a tall alternate
    # screen leaves hundreds of blank rows between a reply and its footer.
    search_lines: Annotated[StrictInt, Field(ge=1)] = 8
    # Replaces "the box is drawn" as the readiness test; an empty list means ready as soon
    # as the screen settles.
    ready: RegexList | None = None

    @property
    def defined(self) -> bool:
        return self.prompt is not None or self.edge is not None


class ReplySpec(_Table):
    """How the new part of the screen becomes a chat message."""

    # Remove the agent's echo of the user's message.
    echo: StrictBool = True
    # What the agent draws before each echoed line, beyond the usual prompt characters.
    echo_prefix: Regex | None = None
    # Lines right after the echo that still belong to it (a name and time, a frame).
    echo_frame: Regex | None = None
    # Blanked out of every line, keeping the text in place (a frame down the left side).
    unframe: Regex | None = None
    # Remove the indentation every line shares (replies drawn indented as a block).
    dedent: StrictBool = False
    # Top rows that change on every redraw (token counters), ignored when diffing screens.
    skip_header_lines: Count = 0
    # "package.module:function", called as f(text, user_message) -> text, last.
    hook: StrictStr | None = None

    @field_validator("hook")
    @classmethod
    def _module_and_function(cls, value: str | None) -> str | None:
        if value is not None and ":" not in value:
            raise ValueError("must look like 'module:function'")
        return value


class NoiseSpec(_Table):
    """A block cut from replies: a tool-call report, a spinner, a status line."""

    name: StrictStr = ""
    start: Regex
    # The line after ``start`` must match too (a block announced over two lines).
    next: Regex | None = None
    # The block's last line; without it (or until it is drawn) the block runs to the
    # next blank line.
    end: Regex | None = None
    # After ``end``, run on to the next blank line (a "+ Show details" line).
    tail_to_blank: StrictBool = False
    # At most this many lines after ``start``; 0 cuts the ``start`` line alone.
    max_lines: Count = 40
    # Log the cut block (a tool call is worth a line; a spinner is not).
    report: StrictBool = True


_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


class AdapterSpec(_Table):
    name: StrictStr
    # Shown to people ("Claude Code"); the description when not given.
    display_name: StrictStr = ""
    description: StrictStr = ""
    aliases: list[StrictStr] = []
    # Executable names that select this adapter when no --type is given; [name] if absent.
    commands: list[StrictStr] | None = None
    input: InputSpec = InputSpec()
    input_box: InputBoxSpec = InputBoxSpec()
    reply: ReplySpec = ReplySpec()
    noise: list[NoiseSpec] = []

    @field_validator("name")
    @classmethod
    def _lower_case_word(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("must be a lower-case word such as 'claude'")
        return value

    @field_validator("aliases", "commands")
    @classmethod
    def _lower(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [v.lower() for v in value]


# -- reading specs ---------------------------------------------------------------------------


def parse_spec(data: dict[str, Any], source: str) -> AdapterSpec:
    """Validate a parsed TOML document; every mistake is an AdapterError naming ``source``."""
    try:
        return AdapterSpec.model_validate(data)
    except ValidationError as exc:
        raise AdapterError(f"{source}: {_first_problem(exc)}") from None


def load_spec_text(text: str, source: str) -> AdapterSpec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AdapterError(f"{source}: not a valid TOML file: {exc}") from None
    return parse_spec(data, source)


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

_TYPE_WORDS = {
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "model_type": "must be a table",
    "dict_type": "must be a table",
}


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _table_name(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "the top level"
    where = _where(loc)
    return where if isinstance(loc[-1], int) else f"[{where}]"


def _first_problem(exc: ValidationError) -> str:
    errors = exc.errors()
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        parent = unknown[0]["loc"][:-1]
        keys = sorted(str(e["loc"][-1]) for e in unknown if e["loc"][:-1] == parent)
        return f"unknown key(s) in {_table_name(parent)}: {', '.join(keys)}"
    return _describe(errors[0])


def _describe(error: ErrorDetails) -> str:
    loc = error["loc"]
    kind = error["type"]
    if kind == "missing":
        if loc == ("name",):
            return "name must be a lower-case word such as 'claude'"
        table, key = loc[:-1], loc[-1]
        return f"{_where(table) or 'the top level'} needs at least a {str(key)!r}"
    where = _where(loc)
    if kind == "greater_than_equal":
        limit = (error.get("ctx") or {}).get("ge", 0)
        return (
            f"{where} must not be negative" if limit == 0 else f"{where} must be at least {limit}"
        )
    if kind in _TYPE_WORDS:
        return f"{where} {_TYPE_WORDS[kind]}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where} {message}"
