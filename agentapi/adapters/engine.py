"""Agent adapters: how to type to an agent and how to clean its replies.

Agents differ in how their screens look, not in how the daemon works, so an
adapter is data: a TOML spec interpreted by this one engine. Built-in specs
live in the top-level ``adapters/`` folder (shipped as
``agentapi.builtin_adapters``); a user can load more with ``--adapter FILE``.
"""

from __future__ import annotations

import logging
import re
import textwrap
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import import_module, resources
from pathlib import Path
from typing import Any

log = logging.getLogger("agentapi.adapters")

BRACKETED_PASTE_START = "\x1b[200~"
BRACKETED_PASTE_END = "\x1b[201~"

# Characters an agent may draw at the start of its echo of the user's input,
# or around it when it frames the input in a box.
_ECHO_CHROME = " \t>❯›»$│┃║|▌▐█▏▕╎"
_BOX_CHARS = set("─━═╌╍┄┅┈┉╭╮╰╯┌┐└┘┏┓┗┛╔╗╚╝├┤┬┴┼│┃║▀▄█▌▐▔▁╹╻ ")


class AdapterError(ValueError):
    """A spec file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Keystrokes:
    """One write to the agent's terminal, and how long to let it settle afterwards."""

    data: bytes
    settle_ms: int = 0


@dataclass(frozen=True)
class NoiseBlock:
    name: str
    start: re.Pattern[str]
    end: re.Pattern[str] | None
    # Lines after ``start`` that may belong to the block when ``end`` is not drawn yet.
    max_lines: int = 40
    # Some blocks are announced over two lines ("• Called" then the tool's name): the
    # line after ``start`` must then match this too, so other blocks are left alone.
    next: re.Pattern[str] | None = None
    # A tool call is worth a log line; a spinner that is cut the same way is not.
    report: bool = True
    # Whether the lines after ``end`` up to the next blank line belong to the block too
    # (a finished call with a "+ Show details" line under its result).
    tail_to_blank: bool = False

    def starts_at(self, lines: list[str], i: int) -> bool:
        if not self.start.search(lines[i]):
            return False
        if self.next is None:
            return True
        return i + 1 < len(lines) and bool(self.next.search(lines[i + 1]))


@dataclass
class Adapter:
    name: str
    aliases: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    description: str = ""
    # Typing a message.
    type_first: str = ""
    type_first_settle_ms: int = 0
    bracketed_paste: bool = True
    submit: str = "\r"
    # Keystrokes written once, right after the agent starts (an agent that animates its
    # start-up screen until a key is pressed would otherwise never look settled).
    on_start: str = ""
    # Cleaning a reply.
    skip_header_lines: int = 0
    echo: bool = True
    input_prompt: re.Pattern[str] = field(default_factory=lambda: re.compile(r"^\s*[>❯›]"))
    rule: re.Pattern[str] = field(default_factory=lambda: re.compile(r"^\s*[─━═]{8,}\s*$"))
    # How many non-blank lines up from the bottom the input box is looked for: a tall
    # alternate screen leaves hundreds of blank rows between a reply and its footer.
    input_box_search_lines: int = 8
    cut_from_bottom: tuple[re.Pattern[str], ...] = ()
    # Lines drawn right above the input box (hints, status): the unbroken run of lines
    # matching one of these, just above the box, is cut with it. The run stops at a
    # blank line so that a reply drawn in the same style as the box is kept.
    trailing_chrome: tuple[re.Pattern[str], ...] = ()
    drop_lines: tuple[re.Pattern[str], ...] = ()
    # What the agent draws before each line of its echo of the user's input, when the
    # generic prompt and frame characters do not cover it (e.g. Goose's "( O)>").
    echo_prefix: re.Pattern[str] | None = None
    # Lines right after the echo that still belong to it (a name and time stamp, the
    # rest of the frame the echo is drawn in).
    echo_frame: re.Pattern[str] | None = None
    # A frame drawn down the left of some blocks of a reply (an error box): every match is
    # blanked out, keeping the text where it was.
    unframe: re.Pattern[str] | None = None
    # Remove the indentation every line of the message shares (an agent that draws its
    # replies indented as a block).
    dedent: bool = False
    noise: tuple[NoiseBlock, ...] = ()
    # Readiness: any of these patterns on screen means the input box is there.
    ready: tuple[re.Pattern[str], ...] = ()
    hook: Callable[[str, str], str] | None = None
    source: str = "<built-in>"

    # -- typing ---------------------------------------------------------------------------

    def encode_message(self, text: str) -> list[Keystrokes]:
        """The writes that put ``text`` into the agent's input box (without submitting)."""
        writes: list[Keystrokes] = []
        if self.type_first:
            writes.append(Keystrokes(self.type_first.encode(), self.type_first_settle_ms))
        body = BRACKETED_PASTE_START + text + BRACKETED_PASTE_END if self.bracketed_paste else text
        writes.append(Keystrokes(body.encode()))
        return writes

    # -- reading --------------------------------------------------------------------------

    def is_ready(self, screen: str) -> bool:
        if not self.ready:
            return True
        return any(p.search(screen) for p in self.ready)

    def format_message(self, section: str, user_input: str) -> tuple[str, list[str]]:
        """Clean the new part of the screen into a chat message.

        Returns the message and the noise blocks that were cut from it (for logging).
        """
        lines = section.split("\n")
        lines = [line.rstrip() for line in lines]
        lines, removed = self._strip_noise(lines)
        if self.drop_lines:
            lines = [ln for ln in lines if not any(p.search(ln) for p in self.drop_lines)]
        lines = self._cut_input_box(lines)
        if self.echo and user_input:
            lines = remove_echo(lines, user_input, prefix=self.echo_prefix, frame=self.echo_frame)
        if self.unframe is not None:
            lines = [_blank_out(self.unframe, line).rstrip() for line in lines]
        text = "\n".join(trim_rule_edges(trim_blank_edges(lines)))
        if self.dedent:
            text = textwrap.dedent(text)
        if self.hook is not None:
            text = self.hook(text, user_input)
        return text, removed

    def _cut_input_box(self, lines: list[str]) -> list[str]:
        end = _last_non_blank(lines, len(lines)) + 1
        for pattern in self.cut_from_bottom:
            for i in _recent_lines(lines, end, self.input_box_search_lines):
                if pattern.search(lines[i]):
                    end = i
                    break
        end = self._cut_prompt(lines, end)
        if self.trailing_chrome:
            end = _last_non_blank(lines, end) + 1
            while (
                end
                and lines[end - 1].strip()
                and any(p.search(lines[end - 1]) for p in self.trailing_chrome)
            ):
                end -= 1
        return lines[:end]

    def _cut_prompt(self, lines: list[str], end: int) -> int:
        """Where the prompt line of the input box (and the rule above it) starts."""
        last = _last_non_blank(lines, end)
        for i in _recent_lines(lines, end, self.input_box_search_lines):
            if not self.input_prompt.search(lines[i]):
                continue
            above = _last_non_blank(lines, i)
            if above >= 0 and self.rule.search(lines[above]):
                return above
            if i == last and self._is_bare_prompt(lines[i]):
                return i
            break
        return end

    def _is_bare_prompt(self, line: str) -> bool:
        # An empty prompt at the very bottom is the input box even with no rule above.
        return not self.input_prompt.sub("", line, count=1).strip()

    def _strip_noise(self, lines: list[str]) -> tuple[list[str], list[str]]:
        if not self.noise:
            return lines, []
        removed: list[str] = []
        out: list[str] = []
        i = 0
        while i < len(lines):
            block = next((b for b in self.noise if b.starts_at(lines, i)), None)
            if block is None:
                out.append(lines[i])
                i += 1
                continue
            stop, complete = _find_block_end(lines, i, block)
            # A block still being drawn is cut but reported only once it is whole.
            if block.report and complete:
                removed.append("\n".join(lines[i:stop]))
            i = stop
            # The blank lines that set the block apart go with it, so cutting a block
            # between two paragraphs leaves one gap, not two.
            if not out or not out[-1].strip():
                while i < len(lines) and not lines[i].strip():
                    i += 1
        return out, removed


def _find_block_end(lines: list[str], start: int, block: NoiseBlock) -> tuple[int, bool]:
    """Index just past a noise block, and whether its end was found.

    A block whose end is not drawn yet runs to the next blank line or the end of
    the screen, so a half-drawn block is hidden too."""
    limit = min(len(lines), start + 1 + block.max_lines)
    if block.end is not None:
        for j in range(start + 1, limit):
            if block.end.search(lines[j]):
                stop = j + 1
                if block.tail_to_blank:
                    while stop < len(lines) and lines[stop].strip():
                        stop += 1
                return stop, True
    for j in range(start + 1, limit):
        if not lines[j].strip():
            return j, block.end is None
    return limit, block.end is None


def _last_non_blank(lines: list[str], end: int) -> int:
    for i in range(end - 1, -1, -1):
        if lines[i].strip():
            return i
    return -1


def _blank_out(pattern: re.Pattern[str], line: str) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), line)


def _recent_lines(lines: list[str], end: int, count: int) -> Iterable[int]:
    """Indices of the last ``count`` non-blank lines before ``end``, bottom first."""
    seen = 0
    for i in range(end - 1, -1, -1):
        if not lines[i].strip():
            continue
        yield i
        seen += 1
        if seen >= count:
            return


def _letters(text: str) -> str:
    # Agents re-render the echo (Markdown bullets, dropped code fences, wrapping), so
    # only letters and digits are compared.
    return "".join(c for c in text if c.isalnum())


def _strip_chrome(line: str) -> str:
    return line.strip().strip(_ECHO_CHROME)


def remove_echo(
    lines: list[str],
    user_input: str,
    *,
    prefix: re.Pattern[str] | None = None,
    frame: re.Pattern[str] | None = None,
) -> list[str]:
    """Drop the agent's echo of the user's input from the top of a reply.

    The echo may be wrapped at the terminal width, prefixed by a prompt character,
    framed in a box or re-rendered as Markdown, so lines are compared by their
    letters and digits and accumulated until they spell the whole input.
    ``prefix`` is an agent's own prompt drawn before echoed lines; ``frame``
    matches lines after the echo that still belong to it.
    """
    target = _letters(user_input)
    if not target:
        return lines

    def bare(line: str) -> str:
        if prefix is not None:
            line = prefix.sub("", line, count=1)
        return _strip_chrome(line)

    search = min(len(lines), 6)
    for first in range(search):
        piece = _letters(bare(lines[first]))
        if not piece or not target.startswith(piece):
            continue
        acc = ""
        for last in range(first, len(lines)):
            line = bare(lines[last])
            if not line and all(c in _BOX_CHARS for c in lines[last]):
                continue
            acc += _letters(line)
            if acc == target:
                return _drop_echo_frame(lines[:first], lines[last + 1 :], frame)
            if not target.startswith(acc):
                break
    return lines


def _is_box_line(line: str) -> bool:
    return bool(line.strip()) and all(c in _BOX_CHARS for c in line)


def _drop_echo_frame(
    before: list[str], after: list[str], frame: re.Pattern[str] | None = None
) -> list[str]:
    # Lines before the echo are blank or the top of a frame around it; a frame's
    # bottom edge (and whatever else the agent draws in the frame) follows it.
    kept = [ln for ln in before if ln.strip() and not _is_box_line(ln)]
    rest = list(after)
    while rest and (_is_box_line(rest[0]) or (frame is not None and frame.search(rest[0]))):
        rest.pop(0)
    return kept + rest


_RULE_CHARS = set("─━═▀▄")


def _is_rule(line: str) -> bool:
    text = line.strip()
    return len(text) >= 3 and all(c in _RULE_CHARS for c in text)


def trim_rule_edges(lines: list[str]) -> list[str]:
    """Drop horizontal rules (and the blank lines beside them) at either end of a
    message: a rule there separates the message from chrome and means nothing alone."""
    start = 0
    end = len(lines)
    while start < end and (not lines[start].strip() or _is_rule(lines[start])):
        start += 1
    while end > start and (not lines[end - 1].strip() or _is_rule(lines[end - 1])):
        end -= 1
    return lines[start:end]


def trim_blank_edges(lines: list[str]) -> list[str]:
    start = 0
    end = len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


# -- loading specs -------------------------------------------------------------------------


def _compile(source: str, key: str, value: Any) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise AdapterError(f"{source}: {key} must be a string (a regular expression)")
    try:
        return re.compile(value)
    except re.error as exc:
        raise AdapterError(f"{source}: {key} is not a valid regular expression: {exc}") from None


def _compile_list(source: str, key: str, value: Any) -> tuple[re.Pattern[str], ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise AdapterError(f"{source}: {key} must be a list of regular expressions")
    return tuple(_compile(source, f"{key}[{i}]", v) for i, v in enumerate(value))


def _typed(
    source: str, table: dict[str, Any], key: str, kind: type, default: Any, where: str = ""
) -> Any:
    """``table[key]`` checked to be of ``kind`` (TOML gives ints, bools and strings)."""
    value = table.get(key, default)
    # bool is a subclass of int: true where a number is wanted is a mistake too.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise AdapterError(f"{source}: {where}{key} must be {_KIND_NAMES[kind]}")
    if kind is int and value < 0:
        raise AdapterError(f"{source}: {where}{key} must not be negative")
    return value


_KIND_NAMES = {int: "a whole number", bool: "true or false", str: "a string"}


def _str_list(source: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AdapterError(f"{source}: {key} must be a list of strings")
    return tuple(v.lower() for v in value)


_KNOWN_TOP = {"name", "aliases", "commands", "description", "input", "reply", "ready", "noise"}
_KNOWN_NOISE = {"name", "start", "next", "end", "max_lines", "report", "tail_to_blank"}
_KNOWN_INPUT = {"type_first", "type_first_settle_ms", "bracketed_paste", "submit", "on_start"}
_KNOWN_REPLY = {
    "skip_header_lines",
    "echo",
    "echo_prefix",
    "echo_frame",
    "unframe",
    "dedent",
    "input_prompt",
    "rule",
    "input_box_search_lines",
    "cut_from_bottom",
    "trailing_chrome",
    "drop_lines",
    "hook",
}


def _check_keys(source: str, where: str, table: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise AdapterError(f"{source}: unknown key(s) in {where}: {', '.join(unknown)}")


def adapter_from_spec(spec: dict[str, Any], source: str) -> Adapter:
    """Build an adapter from a parsed spec; every mistake is an AdapterError naming ``source``."""
    _check_keys(source, "the top level", spec, _KNOWN_TOP)
    name = spec.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise AdapterError(f"{source}: name must be a lower-case word such as 'claude'")
    inp = spec.get("input", {})
    reply = spec.get("reply", {})
    ready = spec.get("ready", {})
    if not isinstance(inp, dict) or not isinstance(reply, dict) or not isinstance(ready, dict):
        raise AdapterError(f"{source}: [input], [reply] and [ready] must be tables")
    _check_keys(source, "[input]", inp, _KNOWN_INPUT)
    _check_keys(source, "[reply]", reply, _KNOWN_REPLY)
    _check_keys(source, "[ready]", ready, {"patterns"})
    adapter = Adapter(
        name=name,
        aliases=_str_list(source, "aliases", spec.get("aliases")),
        commands=_str_list(source, "commands", spec.get("commands", [name])),
        description=_typed(source, spec, "description", str, ""),
        type_first=_typed(source, inp, "type_first", str, "", "input."),
        type_first_settle_ms=_typed(source, inp, "type_first_settle_ms", int, 0, "input."),
        bracketed_paste=_typed(source, inp, "bracketed_paste", bool, True, "input."),
        submit=_typed(source, inp, "submit", str, "\r", "input."),
        on_start=_typed(source, inp, "on_start", str, "", "input."),
        skip_header_lines=_typed(source, reply, "skip_header_lines", int, 0, "reply."),
        echo=_typed(source, reply, "echo", bool, True, "reply."),
        dedent=_typed(source, reply, "dedent", bool, False, "reply."),
        input_box_search_lines=_typed(source, reply, "input_box_search_lines", int, 8, "reply."),
        cut_from_bottom=_compile_list(
            source, "reply.cut_from_bottom", reply.get("cut_from_bottom")
        ),
        trailing_chrome=_compile_list(
            source, "reply.trailing_chrome", reply.get("trailing_chrome")
        ),
        drop_lines=_compile_list(source, "reply.drop_lines", reply.get("drop_lines")),
        noise=_noise_blocks(source, spec.get("noise", [])),
        ready=_compile_list(source, "ready.patterns", ready.get("patterns")),
        source=source,
    )
    if "input_prompt" in reply:
        adapter.input_prompt = _compile(source, "reply.input_prompt", reply["input_prompt"])
    if "rule" in reply:
        adapter.rule = _compile(source, "reply.rule", reply["rule"])
    for key in ("echo_prefix", "echo_frame", "unframe"):
        if key in reply:
            setattr(adapter, key, _compile(source, f"reply.{key}", reply[key]))
    if "hook" in reply:
        adapter.hook = _load_hook(source, reply["hook"])
    return adapter


def _noise_blocks(source: str, value: Any) -> tuple[NoiseBlock, ...]:
    if not isinstance(value, list):
        raise AdapterError(f"{source}: [[noise]] must be an array of tables")
    blocks = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or "start" not in item:
            raise AdapterError(f"{source}: noise[{i}] needs at least a 'start' pattern")
        _check_keys(source, f"noise[{i}]", item, _KNOWN_NOISE)
        end = item.get("end")
        nxt = item.get("next")
        blocks.append(
            NoiseBlock(
                name=_typed(source, item, "name", str, f"noise{i}", f"noise[{i}]."),
                start=_compile(source, f"noise[{i}].start", item["start"]),
                end=_compile(source, f"noise[{i}].end", end) if end is not None else None,
                max_lines=_typed(source, item, "max_lines", int, 40, f"noise[{i}]."),
                next=_compile(source, f"noise[{i}].next", nxt) if nxt is not None else None,
                report=_typed(source, item, "report", bool, True, f"noise[{i}]."),
                tail_to_blank=_typed(source, item, "tail_to_blank", bool, False, f"noise[{i}]."),
            )
        )
    return tuple(blocks)


def _load_hook(source: str, ref: Any) -> Callable[[str, str], str]:
    if not isinstance(ref, str) or ":" not in ref:
        raise AdapterError(f"{source}: reply.hook must look like 'module:function'")
    module_name, func_name = ref.split(":", 1)
    try:
        func = getattr(import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise AdapterError(f"{source}: cannot load hook {ref!r}: {exc}") from None
    if not callable(func):
        raise AdapterError(f"{source}: hook {ref!r} is not callable")
    return func  # type: ignore[no-any-return]


def load_adapter_file(path: Path) -> Adapter:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AdapterError(f"{path}: cannot read adapter spec: {exc.strerror}") from None
    try:
        spec = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AdapterError(f"{path}: not a valid TOML file: {exc}") from None
    return adapter_from_spec(spec, str(path))


class AdapterRegistry:
    """Known adapters by name and alias; later registrations override earlier ones."""

    def __init__(self, adapters: Iterable[Adapter] = ()) -> None:
        self._by_name: dict[str, Adapter] = {}
        for adapter in adapters:
            self.add(adapter)

    def add(self, adapter: Adapter) -> None:
        self._by_name[adapter.name] = adapter

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def all(self) -> list[Adapter]:
        return [self._by_name[n] for n in self.names()]

    def lookup(self, type_name: str) -> Adapter | None:
        key = type_name.strip().lower()
        if key in self._by_name:
            return self._by_name[key]
        for adapter in self._by_name.values():
            if key in adapter.aliases:
                return adapter
        return None

    def guess(self, command: str) -> Adapter:
        """The adapter for an agent command, from its base name; ``custom`` otherwise."""
        base = Path(command).name.lower()
        for adapter in self._by_name.values():
            if base == adapter.name or base in adapter.aliases or base in adapter.commands:
                return adapter
        return self._by_name["custom"]


def builtin_adapters() -> list[Adapter]:
    adapters = []
    folder = resources.files("agentapi.builtin_adapters")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            source = f"adapters/{entry.name}"
            try:
                spec = tomllib.loads(entry.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise AdapterError(f"{source}: not a valid TOML file: {exc}") from None
            adapters.append(adapter_from_spec(spec, source))
    return adapters


def default_registry(extra_files: Iterable[Path] = ()) -> AdapterRegistry:
    registry = AdapterRegistry(builtin_adapters())
    for path in extra_files:
        registry.add(load_adapter_file(path))
    return registry
