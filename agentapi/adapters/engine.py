"""The cleaning engine: one adapter spec applied to a screen.

An adapter says how to type to its agent (``encode_message``), whether the agent
is ready for input (``is_ready``) and how the new part of its screen becomes a
chat message (``format_message``). All of it is read from the spec; nothing here
knows any agent by name.
"""

from __future__ import annotations

import logging
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import import_module

from agentapi.adapters.echo import remove_echo
from agentapi.adapters.paste import user_text
from agentapi.adapters.spec import AdapterSpec, InputBoxSpec, NoiseSpec
from agentapi.errors import AdapterError

log = logging.getLogger("agentapi.adapters")

BRACKETED_PASTE_START = "\x1b[200~"
BRACKETED_PASTE_END = "\x1b[201~"

Hook = Callable[[str, str], str]


@dataclass(frozen=True)
class Keystrokes:
    """One write to the agent's terminal, and how long to let it settle afterwards."""

    data: bytes
    settle_ms: int = 0


class Adapter:
    """An agent's rules, read from its spec."""

    def __init__(self, spec: AdapterSpec, source: str = "<built-in>") -> None:
        self.spec = spec
        self.source = source
        self._hook = _load_hook(source, spec.reply.hook) if spec.reply.hook else None

    # -- identity ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(self.spec.aliases)

    @property
    def commands(self) -> tuple[str, ...]:
        commands = self.spec.commands
        return (self.spec.name,) if commands is None else tuple(commands)

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def display_name(self) -> str:
        return self.spec.display_name or self.spec.description or self.spec.name

    # -- typing -----------------------------------------------------------------------------

    @property
    def submit(self) -> str:
        return self.spec.input.submit

    @property
    def on_start(self) -> str:
        return self.spec.input.on_start

    def interrupt_keys(self) -> list[Keystrokes]:
        """The writes that stop what the agent is doing."""
        inp = self.spec.input
        return [Keystrokes(keys.encode(), inp.interrupt_settle_ms) for keys in inp.interrupt]

    def interrupt_clear_keys(self, interrupted: str) -> Keystrokes | None:
        """The write that erases ``interrupted`` from the input box, if the agent puts it back."""
        clear = self.spec.input.interrupt_clear
        if not clear:
            return None
        return Keystrokes((clear * (interrupted.count("\n") + 2)).encode())

    def encode_message(self, text: str) -> list[Keystrokes]:
        """The writes that put ``text`` into the agent's input box (without submitting).

        Control characters are taken out of ``text`` first (see ``paste.user_text``), so
        nothing in it can end the paste or press a key.
        """
        text = user_text(text)
        inp = self.spec.input
        writes: list[Keystrokes] = []
        # One key per write, each left to settle: Claude Code 1.0 reads "x\x7f" arriving in
        # one chunk as one key and keeps the x.
        for key in inp.type_first:
            writes.append(Keystrokes(key.encode(), inp.type_first_settle_ms))
        body = BRACKETED_PASTE_START + text + BRACKETED_PASTE_END if inp.bracketed_paste else text
        writes.append(Keystrokes(body.encode()))
        return writes

    # -- reading ----------------------------------------------------------------------------

    @property
    def skip_header_lines(self) -> int:
        return self.spec.reply.skip_header_lines

    def is_ready(self, screen: str) -> bool:
        """Whether the agent's input box is on ``screen``."""
        box = self.spec.input_box
        if box.ready is not None:
            return not box.ready or any(p.search(screen) for p in box.ready)
        if not box.defined:
            return True
        lines = [line.rstrip() for line in screen.split("\n")]
        return _box_start(box, lines, len(lines)) is not None

    def format_message(self, section: str, user_input: str) -> tuple[str, list[str]]:
        """Clean the new part of the screen into a chat message.

        Returns the message and the noise blocks that were cut from it (for logging).
        """
        reply = self.spec.reply
        lines = [line.rstrip() for line in section.split("\n")]
        lines, removed = _strip_noise(self._noise, lines)
        lines = lines[: _cut_input_box(self.spec.input_box, lines)]
        if reply.echo and user_input:
            lines = remove_echo(
                lines,
                user_input,
                prefix=reply.echo_prefix,
                frame=reply.echo_frame,
                typed_first=self.spec.input.type_first,
            )
        if reply.unframe is not None:
            lines = [_blank_out(reply.unframe, line).rstrip() for line in lines]
        text = "\n".join(_squeeze_blank_runs(trim_rule_edges(trim_blank_edges(lines))))
        if reply.dedent:
            text = textwrap.dedent(text)
        if self._hook is not None:
            text = self._hook(text, user_input)
        return text, removed

    @cached_property
    def _noise(self) -> tuple[NoiseSpec, ...]:
        return tuple(self.spec.noise)


# -- the input box -----------------------------------------------------------------------------


def _cut_input_box(box: InputBoxSpec, lines: list[str]) -> int:
    """Where the input box (and the chrome right above it) starts: the length to keep."""
    end = _last_non_blank(lines, len(lines)) + 1
    start = _box_start(box, lines, end)
    while start is not None:
        end = start
        # A box drawn twice (a prompt redrawn one row lower) leaves an empty copy above the
        # live one: it is chrome too. A copy with text on its prompt line is not taken.
        start = _empty_box_start(box, lines, end)
    if box.above:
        end = _last_non_blank(lines, end) + 1
        while end and lines[end - 1].strip() and any(p.search(lines[end - 1]) for p in box.above):
            end -= 1
    return end


def _empty_box_start(box: InputBoxSpec, lines: list[str], end: int) -> int | None:
    """Where an input box with an empty prompt ends ``lines[:end]``, if one does."""
    if box.prompt is None or box.rule is None:
        return None
    last = _last_non_blank(lines, end)
    if last < 0 or not box.prompt.search(lines[last]):
        return None
    if box.prompt.sub("", lines[last], count=1).strip():
        return None
    above = _last_non_blank(lines, last)
    return above if above >= 0 and box.rule.search(lines[above]) else None


def _box_start(box: InputBoxSpec, lines: list[str], end: int) -> int | None:
    """The index of the box's first line among ``lines[:end]``, or None when it is not there."""
    found: int | None = None
    if box.edge is not None:
        for i in _recent_lines(lines, end, box.search_lines):
            if box.edge.search(lines[i]):
                found = end = i
                break
    if box.prompt is None:
        return found
    last = _last_non_blank(lines, end)
    for i in _recent_lines(lines, end, box.search_lines):
        if not box.prompt.search(lines[i]):
            continue
        above = _last_non_blank(lines, i)
        if box.rule is not None and above >= 0 and box.rule.search(lines[above]):
            return above
        if i == last and not box.prompt.sub("", lines[i], count=1).strip():
            # An empty prompt at the very bottom is the input box even with no rule above.
            return i
        break
    return found


def _last_non_blank(lines: list[str], end: int) -> int:
    for i in range(end - 1, -1, -1):
        if lines[i].strip():
            return i
    return -1


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


# -- noise blocks ------------------------------------------------------------------------------


def _starts_at(block: NoiseSpec, lines: list[str], i: int) -> bool:
    if not block.start.search(lines[i]):
        return False
    if block.next is None:
        return True
    return i + 1 < len(lines) and bool(block.next.search(lines[i + 1]))


def _strip_noise(blocks: tuple[NoiseSpec, ...], lines: list[str]) -> tuple[list[str], list[str]]:
    if not blocks:
        return lines, []
    removed: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(lines):
        block = next((b for b in blocks if _starts_at(b, lines, i)), None)
        if block is None:
            out.append(lines[i])
            i += 1
            continue
        stop, complete = _find_block_end(lines, i, block)
        # A block still being drawn is cut but reported only once it is whole.
        if block.report and complete:
            removed.append("\n".join(lines[i:stop]))
        i = stop
        # The blank lines that set a block apart go with it, so cutting a block between
        # two paragraphs leaves one gap, not two.
        if not out or not out[-1].strip():
            while i < len(lines) and not lines[i].strip():
                i += 1
    return out, removed


def _find_block_end(lines: list[str], start: int, block: NoiseSpec) -> tuple[int, bool]:
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


# -- edges -------------------------------------------------------------------------------------


def _blank_out(pattern: re.Pattern[str], line: str) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), line)


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


def _squeeze_blank_runs(lines: list[str], longest: int = 2) -> list[str]:
    """A run of more than ``longest`` blank lines becomes one: the empty rows of a tall
    alternate screen between a banner and a notice are not part of a message."""
    out: list[str] = []
    run = 0
    for line in lines:
        run = run + 1 if not line.strip() else 0
        out.append(line)
        if run == longest + 1:
            del out[-longest - 1 : -1]
        elif run > longest + 1:
            out.pop()
    return out


def trim_blank_edges(lines: list[str]) -> list[str]:
    start = 0
    end = len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _load_hook(source: str, ref: str) -> Hook:
    module_name, func_name = ref.split(":", 1)
    try:
        func = getattr(import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise AdapterError(f"{source}: cannot load hook {ref!r}: {exc}") from None
    if not callable(func):
        raise AdapterError(f"{source}: hook {ref!r} is not callable")
    return func
