"""Find the part of a screen that is new relative to an earlier screen.

The agent's reply is whatever the screen shows now that it did not show just
before the user spoke. Lines are aligned in order (a longest-matching-blocks
diff), so a reply that repeats an older line, or a screen that has scrolled,
does not fool it the way a plain "is this line anywhere in the old screen"
test would.
"""

from difflib import SequenceMatcher


def _blank(line: str) -> bool:
    return not line.strip()


def new_section(old_screen: str, new_screen: str, skip_header_lines: int = 0) -> str:
    """Return the lines of ``new_screen`` from the first line the old screen cannot explain.

    ``skip_header_lines`` leading rows are ignored on both screens: some agents
    redraw a header (token counts, costs) that changes on every frame.
    """
    old = old_screen.split("\n")[skip_header_lines:] if old_screen else []
    new = new_screen.split("\n")[skip_header_lines:]
    start = _first_unexplained_line(old, new)
    if start is None:
        return ""
    return "\n".join(new[start:])


def _first_unexplained_line(old: list[str], new: list[str]) -> int | None:
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    old_rest = old[prefix:]
    new_rest = new[prefix:]
    if not old_rest:
        return _first_non_blank(new_rest, prefix)
    # Blank rows carry no information and would otherwise match each other all
    # over the screen: give each a unique stand-in so they never match.
    old_keys = [line if not _blank(line) else ("o", i) for i, line in enumerate(old_rest)]
    new_keys = [line if not _blank(line) else ("n", i) for i, line in enumerate(new_rest)]
    matcher = SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    covered = bytearray(len(new_rest))
    for block in matcher.get_matching_blocks():
        covered[block.b : block.b + block.size] = b"\x01" * block.size
    for i, line in enumerate(new_rest):
        if not covered[i] and not _blank(line):
            return prefix + i
    return None


def _first_non_blank(lines: list[str], offset: int) -> int | None:
    for i, line in enumerate(lines):
        if not _blank(line):
            return offset + i
    return None
