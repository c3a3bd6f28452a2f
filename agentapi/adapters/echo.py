"""Removing the agent's echo of the user's message from the top of its reply."""

from __future__ import annotations

import re

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

    for first in range(min(len(lines), SEARCH_LINES)):
        piece = _letters(bare(lines[first]))
        if not piece or not target.startswith(piece):
            continue
        acc = ""
        for last in range(first, len(lines)):
            line = bare(lines[last])
            if not line and all(c in BOX_CHARS for c in lines[last]):
                continue
            acc += _letters(line)
            if acc == target:
                return _drop_echo_frame(lines[:first], lines[last + 1 :], frame)
            if not target.startswith(acc):
                break
    return lines


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
