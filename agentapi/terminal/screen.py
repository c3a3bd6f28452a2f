"""The terminal emulator: agent bytes in, screen text out.

pyte keeps the screen model (cells, cursor, modes, margins); this module
replaces the parts that are slow or wrong for agent TUIs:

- Parsing. pyte's parser is a generator fed one character at a time. Here a
  regular expression splits the input into printable runs and whole escape
  sequences, so plain text reaches the screen in one call per run.
- Drawing. Runs of ASCII are written with cached cell objects in one
  ``dict.update`` per row instead of a width lookup and a namedtuple copy per
  character. Zero-width joiners and variation selectors join the previous
  cell instead of silently ending the write (pyte 0.8.2 drops the rest of it).
- Scrolling. Rows live in a list, so a line feed at the bottom of a full
  screen moves one row instead of re-keying all of them, and marks nothing
  else dirty.
- Reading. Each row's text is cached and re-rendered only when the row was
  touched, so reading an unchanged screen costs nothing.
- Gaps. Alternate screens, ``CSI S``/``CSI T``, private-marker SGR, kitty
  keyboard sequences, colon sub-parameters, DCS/APC strings and terminal
  queries (answered through ``take_replies``) are handled explicitly.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import pyte
from pyte import modes as mo
from pyte.screens import Char, Margins, StaticDefaultDict
from wcwidth import wcwidth

# We answer queries as an xterm-compatible terminal and draw 256 colours.
TERM_NAME = "xterm-256color"

_ESC = "\x1b"
_TOKEN = re.compile(
    r"(?P<text>[^\x00-\x1f\x7f-\x9f]+)"
    r"|\x1b\[(?P<params>[0-?]*)(?P<inter>[ -/]*)(?P<final>[@-~])"
    r"|\x1b\](?P<osc>[^\x07\x1b]*)(?:\x07|\x1b\\)"
    r"|\x1b[P_^X][^\x1b]*\x1b\\"
    # Two-character escapes; '[', ']', 'P', 'X', '^' and '_' open longer sequences.
    r"|\x1b(?P<esc_inter>[ -/]*)(?P<esc_final>[0-OQ-WYZ\\`-~])"
    r"|(?P<ctrl>[\x00-\x1a\x1c-\x1f\x7f-\x9f])",
    re.DOTALL,
)
# What an escape sequence cut off at the end of a read can look like so far.
_INCOMPLETE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[P_^X][^\x1b]*\x1b?|[ -/]*)?\Z", re.DOTALL
)
_MAX_PENDING = 64 * 1024
_ASCII_RUNS = re.compile(r"[\x20-\x7e]+|[^\x20-\x7e]+")
# Colours and styles, removed in one pass when the screen does not keep attributes.
_PLAIN_SGR = re.compile(r"\x1b\[[0-9;:]*m")

# Private modes that switch to the alternate screen.
_ALT_SCREEN_MODES = {47, 1047, 1049}
# Modes we must not let pyte act on: DECCOLM would resize the screen to 132 columns.
_IGNORED_PRIVATE_MODES = {3}
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_PRINTABLE_ASCII = [chr(c) for c in range(0x20, 0x7F)]
_PLAIN_PARAMS = re.compile(r"[0-9;]*\Z")

_CSI_METHODS = dict(pyte.Stream.csi)
_CSI_METHODS.update({"S": "scroll_up", "T": "scroll_down"})
_ESC_METHODS = dict(pyte.Stream.escape)


def _joins_previous(ch: str) -> bool:
    """Zero-width characters that belong to the cell before them."""
    code = ord(ch)
    return (
        unicodedata.combining(ch) != 0
        or code == 0x200D
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or code in _SKIN_TONES
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences
    )


class _Rows:
    """pyte's row mapping, kept as a list so scrolling moves rows, not keys."""

    def __init__(self, count: int, factory: Callable[[], StaticDefaultDict[int, Char]]) -> None:
        self._factory = factory
        self.rows = [factory() for _ in range(count)]

    def __getitem__(self, y: int) -> StaticDefaultDict[int, Char]:
        return self.rows[y]

    def __setitem__(self, y: int, row: StaticDefaultDict[int, Char]) -> None:
        self.rows[y] = row

    def __contains__(self, y: object) -> bool:
        return isinstance(y, int) and 0 <= y < len(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.rows)))

    def pop(self, y: int, default: Any = None) -> Any:
        if not 0 <= y < len(self.rows):
            return default
        row = self.rows[y]
        self.rows[y] = self._factory()
        return row

    def values(self) -> list[StaticDefaultDict[int, Char]]:
        return self.rows

    def clear(self) -> None:
        self.rows = [self._factory() for _ in range(len(self.rows))]

    def fresh(self) -> StaticDefaultDict[int, Char]:
        return self._factory()


class _Screen(pyte.Screen):
    """pyte's screen with list-backed rows and a per-row text cache."""

    def __init__(self, columns: int, lines: int) -> None:
        self._cell_cache: dict[Char, dict[str, Char]] = {}
        super().__init__(columns, lines)
        self.buffer = _Rows(lines, self._new_row)  # type: ignore[assignment]
        self.texts: list[str] = [""] * lines
        self.replies: list[str] = []
        self.alternate = False
        self._main: tuple[_Rows, list[str], Any] | None = None
        self.changed = True

    def _new_row(self) -> StaticDefaultDict[int, Char]:
        return StaticDefaultDict(self.default_char)

    # -- rendering ------------------------------------------------------------------------

    def render_row(self, y: int) -> str:
        row = self.buffer[y]
        if not row:
            return ""
        columns = self.columns
        cells = [" "] * columns
        for x, char in row.items():
            if x < columns:
                cells[x] = char.data
        return "".join(cells).rstrip()

    def _render_dirty(self) -> None:
        texts = self.texts
        lines = self.lines
        for y in self.dirty:
            if y < lines:
                text = self.render_row(y)
                # pyte marks rows rewritten with identical text: not a change.
                if texts[y] != text:
                    texts[y] = text
                    self.changed = True
        self.dirty.clear()

    def refresh(self) -> bool:
        """Re-render dirty rows; True when any row's text changed since the last call."""
        if self.dirty:
            self._render_dirty()
        changed = self.changed
        self.changed = False
        return changed

    # -- drawing --------------------------------------------------------------------------

    def _cells_for(self, attrs: Char) -> dict[str, Char]:
        """One shared cell per printable ASCII character in these attributes."""
        cells = self._cell_cache.get(attrs)
        if cells is None:
            if len(self._cell_cache) > 512:
                self._cell_cache.clear()
            make = attrs._replace
            cells = self._cell_cache[attrs] = {ch: make(data=ch) for ch in _PRINTABLE_ASCII}
        return cells

    def draw(self, data: str) -> None:
        if mo.IRM in self.mode or mo.DECAWM not in self.mode:
            self._draw_unicode(data)
        elif data.isascii():
            self._draw_ascii(data)
        else:
            # Mixed text (a box edge around ASCII, an emoji in a sentence): only the
            # non-ASCII pieces go one character at a time.
            for piece in _ASCII_RUNS.findall(data):
                if piece.isascii():
                    self._draw_ascii(piece)
                else:
                    self._draw_unicode(piece)

    def _draw_ascii(self, data: str) -> None:
        cursor = self.cursor
        columns = self.columns
        attrs = cursor.attrs
        cell_of = self._cells_for(attrs).__getitem__
        dirty = self.dirty
        i = 0
        n = len(data)
        while i < n:
            if cursor.x >= columns:
                dirty.add(cursor.y)
                cursor.x = 0
                self.linefeed()
            x = cursor.x
            take = min(n - i, columns - x)
            chunk = data[i : i + take]
            row = self.buffer[cursor.y]
            row.update(zip(range(x, x + take), map(cell_of, chunk), strict=True))
            cursor.x = x + take
            dirty.add(cursor.y)
            i += take

    def _draw_unicode(self, data: str) -> None:
        cursor = self.cursor
        columns = self.columns
        for ch in data:
            if _joins_previous(ch):
                self._join_previous(ch)
                continue
            width = wcwidth(ch)
            if width <= 0:
                continue
            if cursor.x + width > columns:
                if mo.DECAWM in self.mode:
                    self.dirty.add(cursor.y)
                    cursor.x = 0
                    self.linefeed()
                else:
                    cursor.x = max(0, columns - width)
            if mo.IRM in self.mode:
                self.insert_characters(width)
            row = self.buffer[cursor.y]
            row[cursor.x] = cursor.attrs._replace(data=ch)
            if width == 2 and cursor.x + 1 < columns:
                row[cursor.x + 1] = cursor.attrs._replace(data="")
            cursor.x = min(cursor.x + width, columns)
            self.dirty.add(cursor.y)

    def _join_previous(self, ch: str) -> None:
        cursor = self.cursor
        y, x = cursor.y, cursor.x - 1
        row = self.buffer[y]
        # Step back over the stub cell of a wide character.
        if x > 0 and row[x].data == "" and x - 1 in row:
            x -= 1
        if x < 0:
            if y == 0:
                return
            y, x = y - 1, self.columns - 1
            row = self.buffer[y]
        last = row[x]
        row[x] = last._replace(data=last.data + ch)
        self.dirty.add(y)

    # -- scrolling ------------------------------------------------------------------------

    def _region(self) -> tuple[int, int]:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        return top, bottom

    def _scroll(self, top: int, bottom: int, count: int) -> None:
        """Move rows top..bottom up by ``count`` (down when negative), blanking the gap."""
        span = bottom - top + 1
        count = max(-span, min(span, count))
        if count == 0:
            return
        # Render pending rows first, so row indices in ``dirty`` never need moving;
        # each row is rendered once either way.
        if self.dirty:
            self._render_dirty()
        rows = self.buffer.rows  # type: ignore[attr-defined]
        texts = self.texts
        fresh = self.buffer.fresh  # type: ignore[attr-defined]
        if count > 0:
            del rows[top : top + count]
            rows[bottom - count + 1 : bottom - count + 1] = [fresh() for _ in range(count)]
            del texts[top : top + count]
            texts[bottom - count + 1 : bottom - count + 1] = [""] * count
        else:
            n = -count
            del rows[bottom - n + 1 : bottom + 1]
            rows[top:top] = [fresh() for _ in range(n)]
            del texts[bottom - n + 1 : bottom + 1]
            texts[top:top] = [""] * n
        self.changed = True

    def index(self) -> None:
        top, bottom = self._region()
        if self.cursor.y == bottom:
            self._scroll(top, bottom, 1)
        else:
            self.cursor_down()

    def reverse_index(self) -> None:
        top, bottom = self._region()
        if self.cursor.y == top:
            self._scroll(top, bottom, -1)
        else:
            self.cursor_up()

    def scroll_up(self, count: int = 0, *_: Any) -> None:
        top, bottom = self._region()
        self._scroll(top, bottom, count or 1)

    def scroll_down(self, count: int = 0, *_: Any) -> None:
        top, bottom = self._region()
        self._scroll(top, bottom, -(count or 1))

    def insert_lines(self, count: int | None = None) -> None:
        top, bottom = self._region()
        if top <= self.cursor.y <= bottom:
            self._scroll(self.cursor.y, bottom, -(count or 1))
            self.carriage_return()

    def delete_lines(self, count: int | None = None) -> None:
        top, bottom = self._region()
        if top <= self.cursor.y <= bottom:
            self._scroll(self.cursor.y, bottom, count or 1)
            self.carriage_return()

    # -- erasing --------------------------------------------------------------------------

    def _blank_attrs(self) -> bool:
        attrs = self.cursor.attrs
        return (
            attrs.bg == "default"
            and attrs.reverse == (mo.DECSCNM in self.mode)
            and attrs.data == " "
        )

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        if how in (2, 3) and self._blank_attrs():
            # A cleared screen with default colours is simply empty rows.
            self.buffer.clear()
            self.texts = [""] * self.lines
            self.dirty.clear()
            self.changed = True
            return
        super().erase_in_display(how, *args, **kwargs)

    def erase_in_line(self, how: int = 0, private: bool = False) -> None:
        if how in (0, 2) and self._blank_attrs():
            row = self.buffer[self.cursor.y]
            start = 0 if how == 2 else self.cursor.x
            if start == 0:
                row.clear()
            else:
                for x in [x for x in row if x >= start]:
                    del row[x]
            self.dirty.add(self.cursor.y)
            return
        super().erase_in_line(how, private)

    # -- modes ----------------------------------------------------------------------------

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            modes = self._switch_screens(modes, entering=True)
            if not modes:
                return
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            modes = self._switch_screens(modes, entering=False)
            if not modes:
                return
        super().reset_mode(*modes, **kwargs)

    def _switch_screens(self, modes: tuple[int, ...], *, entering: bool) -> tuple[int, ...]:
        """Act on the alternate-screen modes; the private modes left for pyte."""
        rest = []
        for mode in modes:
            if mode in _ALT_SCREEN_MODES:
                # Only 1049 saves and restores the cursor with the switch.
                if entering:
                    self.enter_alternate(save_cursor=mode == 1049)
                else:
                    self.leave_alternate(restore_cursor=mode == 1049)
            elif mode not in _IGNORED_PRIVATE_MODES:
                rest.append(mode)
        return tuple(rest)

    def enter_alternate(self, save_cursor: bool) -> None:
        if self.alternate:
            return
        if save_cursor:
            self.save_cursor()
        # The main screen's texts must be current before they are set aside.
        self._render_dirty()
        self._main = (self.buffer, self.texts, self.margins)  # type: ignore[assignment]
        self.buffer = _Rows(self.lines, self._new_row)  # type: ignore[assignment]
        self.texts = [""] * self.lines
        self.dirty.clear()
        self.alternate = True
        self.changed = True

    def leave_alternate(self, restore_cursor: bool) -> None:
        if not self.alternate or self._main is None:
            return
        self.buffer, self.texts, self.margins = self._main  # type: ignore[assignment]
        self._main = None
        self.dirty.clear()
        # The restored texts are current, but the reader's view must change back to them.
        self.alternate = False
        self.changed = True
        if restore_cursor:
            self.restore_cursor()

    def reset(self) -> None:
        super().reset()
        if isinstance(self.buffer, _Rows):
            self.texts = [""] * self.lines
            self.alternate = False
            self._main = None
            self.changed = True

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        lines = lines or self.lines
        columns = columns or self.columns
        if (lines, columns) == (self.lines, self.columns):
            return
        rows = self.buffer.rows  # type: ignore[attr-defined]
        if lines < self.lines:
            del rows[: self.lines - lines]
        else:
            rows.extend(self._new_row() for _ in range(lines - self.lines))
        if columns < self.columns:
            for row in rows:
                for x in [x for x in row if x >= columns]:
                    del row[x]
        self.lines, self.columns = lines, columns
        self.texts = [""] * lines
        self.dirty.update(range(lines))
        self.set_margins()
        self.cursor.x = min(self.cursor.x, columns - 1)
        self.cursor.y = min(self.cursor.y, lines - 1)
        self.changed = True

    # -- queries --------------------------------------------------------------------------

    def report_device_status(self, mode: int = 0, **kwargs: Any) -> None:
        if mode == 5:
            self.replies.append("\x1b[0n")
        elif mode == 6:
            x, y = self.cursor.x + 1, self.cursor.y + 1
            if self.margins is not None and mo.DECOM in self.mode:
                y -= self.margins.top
            prefix = "?" if kwargs.get("private") else ""
            self.replies.append(f"\x1b[{prefix}{y};{x}R")

    def report_device_attributes(self, mode: int = 0, **kwargs: Any) -> None:
        if mode == 0:
            self.replies.append("\x1b[?62;22c")

    def write_process_input(self, data: str) -> None:
        self.replies.append(data)


class TerminalScreen:
    """Raw PTY bytes in, screen text out; see the module docstring."""

    def __init__(self, columns: int, lines: int, *, attributes: bool = False) -> None:
        # The daemon reads only text, so by default colours and styles are parsed and
        # dropped: SGR-heavy TUIs (truecolour panels) cost a third as much that way.
        self._attributes = attributes
        self._screen = _Screen(columns, lines)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self._text = ""
        self._lines_cache: list[str] | None = None
        self._csi = {final: getattr(self._screen, name) for final, name in _CSI_METHODS.items()}
        self._esc = {final: getattr(self._screen, name) for final, name in _ESC_METHODS.items()}
        self._sgr_cache: dict[tuple[Char, str], Char] = {}

    @property
    def columns(self) -> int:
        return int(self._screen.columns)

    @property
    def lines(self) -> int:
        return int(self._screen.lines)

    @property
    def cursor(self) -> tuple[int, int]:
        return self._screen.cursor.x, self._screen.cursor.y

    @property
    def alternate(self) -> bool:
        return self._screen.alternate

    @property
    def title(self) -> str:
        return str(getattr(self._screen, "title", ""))

    def resize(self, columns: int, lines: int) -> None:
        self._screen.resize(lines, columns)

    # -- input ----------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decoder.decode(data)
        self._pending = ""
        if not self._attributes and "\x1b[" in text:
            text = _PLAIN_SGR.sub("", text)
        screen = self._screen
        draw = screen.draw
        match = _TOKEN.match
        plain_params = _PLAIN_PARAMS.match
        csi = self._csi
        pos = 0
        end = len(text)
        while pos < end:
            m = match(text, pos)
            if m is None:
                # Only a lone or unfinished escape sequence fails to match.
                rest = text[pos:]
                if _INCOMPLETE.match(rest) and len(rest) < _MAX_PENDING:
                    self._pending = rest
                    return
                pos += 1
                continue
            pos = m.end()
            kind = m.lastgroup
            if kind == "text":
                draw(m.group("text"))
            elif kind == "final":
                params, inter, final = m.group("params", "inter", "final")
                # The common case inline: plain numeric parameters, no marker.
                if not inter and plain_params(params):
                    if final == "m":
                        self._sgr(params)
                        continue
                    method = csi.get(final)
                    if method is not None and final != "s" and final != "u":
                        method(*[min(int(p), 9999) if p else 0 for p in params.split(";")])
                        continue
                self._csi_sequence(params, inter, final)
            elif kind == "ctrl":
                self._control(m.group("ctrl"))
            elif kind == "osc":
                self._osc(m.group("osc"))
            elif kind == "esc_final":
                self._escape(m.group("esc_inter"), m.group("esc_final"))
            # DCS, APC, PM and SOS strings carry nothing for the screen.

    def _sgr(self, params: str) -> None:
        """Apply an SGR sequence, remembering the result for the same attributes."""
        if not self._attributes:
            return
        cursor = self._screen.cursor
        key = (cursor.attrs, params)
        attrs = self._sgr_cache.get(key)
        if attrs is None:
            self._screen.select_graphic_rendition(
                *[min(int(p), 9999) if p else 0 for p in params.split(";")]
            )
            if len(self._sgr_cache) > 4096:
                self._sgr_cache.clear()
            self._sgr_cache[key] = cursor.attrs
        else:
            cursor.attrs = attrs

    def _control(self, ch: str) -> None:
        screen = self._screen
        if ch == "\n" or ch == "\x0b" or ch == "\x0c":
            screen.linefeed()
        elif ch == "\r":
            screen.carriage_return()
        elif ch == "\x08":
            screen.backspace()
        elif ch == "\t":
            screen.tab()

    def _escape(self, inter: str, final: str) -> None:
        if inter:
            if inter == "#" and final == "8":
                self._screen.alignment_display()
            return  # charset designations: input is always UTF-8
        method = self._esc.get(final)
        if method is not None:
            method()

    def _osc(self, body: str) -> None:
        code, _, param = body.partition(";")
        if code in ("0", "2"):
            self._screen.set_title(param)
        if code in ("0", "1"):
            self._screen.set_icon_name(param)

    def _csi_sequence(self, raw: str, inter: str, final: str) -> None:
        screen = self._screen
        marker = raw[:1] if raw[:1] in ("<", "=", ">", "?") else ""
        body = raw[len(marker) :]
        if inter:
            return  # DECSCUSR, DECRQM, DECSTR and friends: nothing to draw
        if marker in ("<", "=", ">"):
            if marker == ">" and final == "c":
                screen.replies.append("\x1b[>0;276;0c")
            elif marker == ">" and final == "q":
                screen.replies.append("\x1bP>|agentapi\x1b\\")
            return  # kitty keyboard, modifyOtherKeys and other private-marker sequences
        if any(c in body for c in "<=>?"):
            return
        if final == "m" and not self._attributes:
            return
        if ":" in body:
            if final != "m":
                return
            params = _sgr_with_subparams(body)
        else:
            params = [min(int(p), 9999) if p else 0 for p in body.split(";")]
        if final in ("s", "u"):
            # SCOSC/SCORC; with parameters these are kitty or margin sequences.
            if not marker and not body:
                (screen.save_cursor if final == "s" else screen.restore_cursor)()
            return
        if marker == "?":
            if final in ("h", "l"):
                (screen.set_mode if final == "h" else screen.reset_mode)(*params, private=True)
            elif final == "n":
                screen.report_device_status(params[0], private=True)
            return
        method = self._csi.get(final)
        if method is not None:
            method(*params)

    # -- output ---------------------------------------------------------------------------

    def take_replies(self) -> bytes:
        replies = self._screen.replies
        if not replies:
            return b""
        data = "".join(replies).encode()
        replies.clear()
        return data

    def _sync(self) -> None:
        screen = self._screen
        if screen.refresh():
            texts = screen.texts
            last = len(texts)
            while last and not texts[last - 1]:
                last -= 1
            self._text = "\n".join(texts[:last])
            self._lines_cache = None

    def text(self) -> str:
        """The screen: rows right-stripped, trailing empty rows dropped."""
        self._sync()
        return self._text

    def lines_text(self) -> list[str]:
        """Every row, right-stripped."""
        self._sync()
        if self._lines_cache is None:
            self._lines_cache = list(self._screen.texts)
        return self._lines_cache


def _sgr_with_subparams(body: str) -> list[int]:
    """Read SGR colon sub-parameters (``38:2::r:g:b``, ``4:3``) as pyte's plain form."""
    params: list[int] = []
    for group in body.split(";"):
        if ":" not in group:
            params.append(min(int(group), 9999) if group else 0)
            continue
        parts = [int(p) if p else 0 for p in group.split(":")]
        head = parts[0]
        if head in (38, 48) and len(parts) >= 2:
            if parts[1] == 2 and len(parts) >= 5:
                params.extend([head, 2, *parts[-3:]])
            elif parts[1] == 5 and len(parts) >= 3:
                params.extend([head, 5, parts[2]])
        elif head == 4:
            params.append(4 if parts[1:] and parts[1] else 24)
        elif head != 58:  # underline colour: nothing to draw
            params.append(head)
    return params
