"""Removing the agent's echo of the user's message from the top of its reply."""

from __future__ import annotations

import re
from collections.abc import Callable

# Characters an agent may draw at the start of its echo of the user's input,
# or around it when it frames the input in a box.
_ECHO_CHROME = " \t>❯›»$│┃║|▌▐█▏▕╎"
BOX_CHARS = frozenset("─━═╌╍┄┅┈┉╭╮╰╯┌┐└┘┏┓┗┛╔╗╚╝├┤┬┴┼│┃║▀▄█▌▐▔▁╹╻ ")
# Echo matching starts within this many lines of the top of a reply.
SEARCH_LINES = 6


def _letters(text: str) -> str:
    # Agents re-render the echo (Markdown bullets, dropped code fences, wrapping), so
    # only letters and digits are compared.
    return "".join(c for c in text if c.isalnum())


def _strip_chrome(line: str) -> str:
    return line.strip().strip(_ECHO_CHROME)


def is_box_line(line: str) -> bool:
    return bool(line.strip()) and all(c in BOX_CHARS for c in line)


# What agents draw instead of a long paste: Claude Code's "[Pasted text #1 +42 lines]",
# OpenCode's "[Pasted ~3 lines]", Codex's "[Pasted Content 1234 chars]".
PASTE_PLACEHOLDER = re.compile(r"\[Pasted (?:text|Text|Content|~)[^\]]*\]")


def _symbols(text: str) -> str:
    # What a line without letters or digits is made of (`};`, a closing fence), spaces aside.
    return "".join(c for c in text if not c.isspace())


def _edges(user_input: str) -> tuple[str, str]:
    """The symbols of the input's whole lines before its first line with a letter or digit,
    and after its last one (opening braces, closing braces and fences)."""
    rows = user_input.split("\n")
    worded = [i for i, row in enumerate(rows) if any(c.isalnum() for c in row)]
    return _symbols("".join(rows[: worded[0]])), _symbols("".join(rows[worded[-1] + 1 :]))


def remove_echo(
    lines: list[str],
    user_input: str,
    *,
    prefix: re.Pattern[str] | None = None,
    frame: re.Pattern[str] | None = None,
    typed_first: str = "",
) -> list[str]:
    """Drop the agent's echo of the user's input from the top of a reply.

    The echo may be wrapped at the terminal width, prefixed by a prompt character,
    framed in a box or re-rendered as Markdown, so lines are compared by their
    letters and digits and accumulated until they spell the whole input. Lines of
    symbols only at either end of the input (``{``, ``};``, a code fence) are matched
    by their symbols. A paste the agent shows as a placeholder is the echo too.
    ``prefix`` matches an agent's own marks on echoed lines (a prompt before them, a time
    after them), every match removed; ``frame`` matches
    lines after the echo that still belong to it. ``typed_first`` is what the adapter types
    (and erases) before the message: a version that does not erase it (Claude Code 1.0
    keeps the x now and then) echoes it before the message.
    """
    if not _letters(user_input):
        return lines

    def bare(line: str) -> str:
        if prefix is not None:
            # Every match goes: an agent may mark an echoed line at both ends (Copilot's
            # "❯ " before it and the time it was sent at the right edge).
            line = prefix.sub("", line)
        return _strip_chrome(line)

    for first in range(min(len(lines), SEARCH_LINES)):
        text = bare(lines[first])
        if PASTE_PLACEHOLDER.search(text) and not PASTE_PLACEHOLDER.search(user_input):
            # Only the placeholder is left of the echo: drop it and the typed text around it.
            return _drop_echo_frame(lines[:first], lines[first + 1 :], frame)
    # As typed first; then as a Markdown renderer shows it, with its code fences dropped.
    variants = [user_input]
    unfenced = _FENCE.sub("", user_input)
    if unfenced != user_input and _letters(unfenced):
        variants.append(unfenced)
    for variant in variants:
        found = _find_echo(lines, variant, bare, _letters(typed_first))
        if found is not None:
            first, last = found
            head, tail = _edges(variant)
            before = _drop_symbol_lines(lines[:first], head, bare, from_end=True)
            after = _drop_symbol_lines(lines[last + 1 :], tail, bare, from_end=False)
            return _drop_echo_frame(before, after, frame)
    return lines


# A Markdown code fence line: ``` or ~~~, with an optional language.
_FENCE = re.compile(r"(?m)^[ \t]*(?:```|~~~)[\w+#.-]*[ \t]*$")


def _find_echo(
    lines: list[str], user_input: str, bare: Callable[[str], str], stray: str = ""
) -> tuple[int, int] | None:
    """The first and last line whose letters spell ``user_input``'s, starting near the top
    (the first one may start with ``stray``: keys typed before the message, not erased)."""
    target = _letters(user_input)
    for first in range(min(len(lines), SEARCH_LINES)):
        piece = _letters(bare(lines[first]))
        skip = 0
        if stray and piece.startswith(stray) and not target.startswith(piece):
            skip = len(stray)
        if not piece[skip:] or not target.startswith(piece[skip:]):
            continue
        acc = ""
        for last in range(first, len(lines)):
            line = bare(lines[last])
            if not line and all(c in BOX_CHARS for c in lines[last]):
                continue
            acc += _letters(line)[skip:] if last == first else _letters(line)
            if acc == target:
                return first, last
            if not target.startswith(acc):
                break
    return None


def _drop_symbol_lines(
    lines: list[str], symbols: str, bare: Callable[[str], str], *, from_end: bool
) -> list[str]:
    """Drop the letter-less lines next to the echo that spell ``symbols`` (the input's
    opening or closing braces and fences), nearest the echo first."""
    order = range(len(lines) - 1, -1, -1) if from_end else range(len(lines))
    rest = symbols
    keep_until: int | None = None
    for i in order:
        text = _symbols(bare(lines[i]))
        if not text:
            if all(c in BOX_CHARS for c in lines[i]):
                continue
            break
        if any(c.isalnum() for c in text):
            break
        if from_end and rest.endswith(text):
            rest = rest[: -len(text)]
        elif not from_end and rest.startswith(text):
            rest = rest[len(text) :]
        else:
            break
        keep_until = i
    if keep_until is None:
        return lines
    if from_end:
        # Blank rows between the dropped symbols and the echo go with them.
        return lines[:keep_until]
    return lines[keep_until + 1 :]


def _drop_echo_frame(
    before: list[str], after: list[str], frame: re.Pattern[str] | None = None
) -> list[str]:
    # Lines before the echo are blank or the top of a frame around it; a frame's
    # bottom edge (and whatever else the agent draws in the frame) follows it.
    kept = [ln for ln in before if ln.strip() and not is_box_line(ln)]
    rest = list(after)
    while rest and (is_box_line(rest[0]) or (frame is not None and frame.search(rest[0]))):
        rest.pop(0)
    return kept + rest
