"""The whole echo of a user message goes, whatever its length and however it is drawn."""

import re
import textwrap

import pytest

from agentapi.adapters.echo import remove_echo

WIDTH = 80
REPLY = ["● I read all of it.", "  Second line of the reply."]

CODE = """Why does this hook run twice?

```js
useEffect(() => {
  const timer = setInterval(() => {
    setCount((c) => c + 1);
  }, 1000);
  return () => {
    clearInterval(timer);
  };
}, []);
```"""

OPENS_WITH_BRACES = """{
  "name": "agentapi",
  "version": 1
}"""

LONG = (
    "This first line is much longer than the eighty columns of the terminal, so the agent has"
    " to wrap it over two or three rows of its screen before the reply starts.\n"
    "The second line is long as well: a wrapped echo must be removed in one piece."
)


def lines_of(n: int) -> str:
    return "\n".join(f"log line {i:03d}: request served in {i % 97} ms" for i in range(n))


MESSAGES = {
    "1 line": "What is the capital of France?",
    "5 lines": lines_of(5),
    "30 lines": lines_of(30),
    "200 lines": lines_of(200),
    "code with braces and fences": CODE,
    "opens with braces": OPENS_WITH_BRACES,
    "lines longer than the terminal": LONG,
}


def wrapped(text: str, first: str, rest: str, right: str = "") -> list[str]:
    """``text`` drawn the way an agent echoes it: wrapped at the width, each row framed."""
    inner = WIDTH - len(first) - len(right)
    rows: list[str] = []
    for line in text.split("\n"):
        parts = textwrap.wrap(line, inner, drop_whitespace=False) or [""]
        for part in parts:
            lead = first if not rows else rest
            rows.append((lead + part.ljust(inner) + right).rstrip() if right else lead + part)
    return rows


FRAMES = {
    "claude ❯": lambda t: wrapped(t, "❯ ", "  "),
    "aider > each line": lambda t: [ln for part in t.split("\n") for ln in wrapped(part, "> ", "")],
    "gemini │ box │": lambda t: [
        "╭" + "─" * (WIDTH - 2) + "╮",
        *wrapped(t, "│ > ", "│   ", " │"),
        "╰" + "─" * (WIDTH - 2) + "╯",
    ],
    "opencode ┃ block": lambda t: ["┃", *wrapped(t, "┃  ", "┃  "), "┃  you (12:00)", "┃"],
    "codex › ": lambda t: wrapped(t, "› ", "  "),
}


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
@pytest.mark.parametrize("frame", FRAMES.values(), ids=FRAMES.keys())
def test_the_whole_echo_goes(frame, message):
    section = ["", *frame(message), "", *REPLY]
    kept = remove_echo(section, message, frame=re.compile(r"^┃"))
    assert [ln for ln in kept if ln.strip()] == REPLY


def test_nothing_of_the_closing_lines_is_left():
    # The tail the issue found at the top of replies: `};`, `}, []);`, a closing fence.
    section = [*wrapped(CODE, "❯ ", "  "), "", *REPLY]
    kept = remove_echo(section, CODE)
    assert not any(ln.strip() in ("};", "}, []);", "```") for ln in kept)
    assert kept[-2:] == REPLY


def test_symbol_lines_of_the_reply_itself_are_kept():
    # Only the input's own closing symbols go: a reply that starts with a fence keeps it.
    section = ["❯ show me", "", "```", "code", "```"]
    assert remove_echo(section, "show me") == ["", "```", "code", "```"]


@pytest.mark.parametrize(
    "placeholder",
    ["❯ [Pasted text #1 +199 lines]", "> [Pasted text #2 +41 lines] ", "┃  [Pasted ~3 lines]"],
)
def test_a_paste_shown_as_a_placeholder_is_the_echo(placeholder):
    section = ["", placeholder, "", *REPLY]
    assert [ln for ln in remove_echo(section, lines_of(200)) if ln.strip()] == REPLY


def test_a_placeholder_the_user_typed_is_compared_like_any_text():
    text = "what is [Pasted text #1] in Claude Code?"
    section = [f"❯ {text}", "", "● A collapsed paste."]
    assert remove_echo(section, text) == ["", "● A collapsed paste."]


def test_an_echo_that_does_not_match_is_left_alone():
    section = ["❯ something else entirely", "", *REPLY]
    assert remove_echo(section, lines_of(5)) == section


def test_an_echo_rendered_without_its_code_fences_goes_too():
    # Codex draws the pasted code block without the ``` lines.
    shown = [ln for ln in CODE.split("\n") if not ln.startswith("```")]
    section = [*wrapped("\n".join(shown), "› ", "  "), "", *REPLY]
    assert [ln for ln in remove_echo(section, CODE) if ln.strip()] == REPLY


def test_the_prefix_pattern_removes_marks_at_both_ends_of_an_echoed_line():
    # Copilot 1.0 echoes " ❯ text" with the time it was sent at the right edge.
    marks = re.compile(r"^ ❯ |\s+\d{1,2}:\d{2}$")
    echo = [" ❯ Note 1: keep it small." + " " * 40 + "06:29", "   Note 2: and tested.", ""]
    user = "Note 1: keep it small.\nNote 2: and tested."
    assert remove_echo(echo + REPLY, user, prefix=marks) == ["", *REPLY]
