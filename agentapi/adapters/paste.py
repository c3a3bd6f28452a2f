"""What of a user message may reach the agent's terminal.

A ``user`` message is text for the agent to read, typed as one bracketed paste
(``ESC[200~ … ESC[201~``). If the text itself could hold an escape sequence, a
message could end the paste early (``ESC[201~``) and type whatever follows as
keystrokes (``\\r/exit\\r``), or clear and redraw the agent's screen. So a user
message carries printable text, line breaks and tabs, and nothing else:

- ANSI escape sequences (CSI such as ``ESC[201~`` or ``ESC[31m``, OSC such as
  a window title, and two-character ``ESC x`` sequences) are removed whole, so
  coloured text pasted from a log reads as its words;
- every other C0 control (NUL, Ctrl-C, a lone ESC, …), DEL and the C1 controls
  U+0080–U+009F (one of which, U+009B, is an 8-bit CSI) are removed;
- ``\\r\\n`` and a lone ``\\r`` become ``\\n``: Enter is pressed by the daemon,
  once, after the paste, never by the content.

``raw`` messages are keystrokes on purpose and are not touched.
"""

from __future__ import annotations

import re

# CSI: ESC [ parameters intermediates final; OSC/DCS/APC/PM/SOS: ESC ] … up to BEL or ESC \;
# any other ESC followed by one character (an unterminated OSC loses only its ESC ]).
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[ -~]",
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def user_text(text: str) -> str:
    """``text`` with every terminal control sequence and control character taken out."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))
