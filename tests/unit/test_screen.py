"""The terminal emulator: what ends up on screen for the bytes agents really send."""

from __future__ import annotations

import random

import pyte
import pytest

from agentapi.terminal.screen import TerminalScreen


def screen_of(data: bytes | str, columns: int = 40, lines: int = 10) -> TerminalScreen:
    screen = TerminalScreen(columns, lines)
    screen.feed(data.encode() if isinstance(data, str) else data)
    return screen


class ReferenceScreen(pyte.Screen):
    """Stock pyte, except for one bug: deleting or inserting lines skips source rows
    it never stored, leaving stale text where a blank row should move in."""

    def delete_lines(self, count=None):
        count = count or 1
        top, bottom = self.margins or pyte.screens.Margins(0, self.lines - 1)
        if top <= self.cursor.y <= bottom:
            for y in range(self.cursor.y, bottom + 1):
                if y + count <= bottom:
                    self.buffer[y] = self.buffer[y + count]
                else:
                    self.buffer.pop(y, None)
            self.carriage_return()

    def insert_lines(self, count=None):
        count = count or 1
        top, bottom = self.margins or pyte.screens.Margins(0, self.lines - 1)
        if top <= self.cursor.y <= bottom:
            for y in range(bottom, self.cursor.y - 1, -1):
                if y - count >= self.cursor.y:
                    self.buffer[y] = self.buffer[y - count]
                else:
                    self.buffer.pop(y, None)
            self.carriage_return()


def stock_text(data: str, columns: int, lines: int) -> str:
    screen = ReferenceScreen(columns, lines)
    pyte.Stream(screen).feed(data)
    rows = [row.rstrip() for row in screen.display]
    while rows and not rows[-1]:
        rows.pop()
    return "\n".join(rows)


def test_plain_lines_and_trailing_blank_rows_dropped():
    screen = screen_of("hello\r\nworld   \r\n\r\n")
    assert screen.text() == "hello\nworld"
    assert screen.lines_text()[:3] == ["hello", "world", ""]
    assert len(screen.lines_text()) == 10


def test_full_screen_scrolls_one_row_per_line_feed():
    screen = screen_of("".join(f"line {i}\r\n" for i in range(25)), lines=10)
    assert screen.text().split("\n") == [f"line {i}" for i in range(16, 25)]
    assert screen.cursor == (0, 9)


def test_scroll_region_only_moves_rows_inside_it():
    data = "".join(f"\x1b[{y};1Hrow{y}" for y in range(1, 11))
    data += "\x1b[3;5r\x1b[5;1H\n\n"  # two line feeds at the region's bottom
    screen = screen_of(data, lines=10)
    rows = screen.lines_text()
    assert rows[:2] == ["row1", "row2"]
    assert rows[2:5] == ["row5", "", ""]
    assert rows[5:] == [f"row{y}" for y in range(6, 11)]


def test_csi_scroll_up_and_down():
    data = "".join(f"\x1b[{y};1H{y}" for y in range(1, 6))
    up = screen_of(data + "\x1b[2S", lines=5)
    assert up.lines_text() == ["3", "4", "5", "", ""]
    down = screen_of(data + "\x1b[1T", lines=5)
    assert down.lines_text() == ["", "1", "2", "3", "4"]


def test_reading_an_unchanged_screen_returns_the_same_object():
    screen = screen_of("stable text")
    first = screen.text()
    assert screen.text() is first
    screen.feed(b"\x1b[1;1Hstable text")  # rewritten identically
    assert screen.text() == first


@pytest.mark.parametrize(
    ("sequence", "label"),
    [
        ("\x1b[>4;1m", "modifyOtherKeys on"),
        ("\x1b[>4;0m", "modifyOtherKeys off"),
        ("\x1b[>4;?m", "modifyOtherKeys query"),
        ("\x1b[<u", "kitty keyboard pop"),
        ("\x1b[>1u", "kitty keyboard push"),
        ("\x1b[?u", "kitty keyboard query"),
        ("\x1b[=1;1u", "kitty keyboard set"),
        ("\x1b[4:3m", "curly underline"),
        ("\x1b[38:2::1:2:3m", "colon true colour"),
        ("\x1b[58:5:4m", "underline colour"),
        ("\x1bP+q544e\x1b\\", "XTGETTCAP"),
        ("\x1b_Gi=1;AAAA\x1b\\", "kitty graphics APC"),
        ("\x1b]0;a title\x07", "OSC title"),
        ("\x1b]8;;http://localhost/\x1b\\", "OSC hyperlink"),
        ("\x1b]11;?\x1b\\", "OSC colour query"),
        ("\x1b[?2004h\x1b[?2026h\x1b[?25l\x1b[?1004h", "private modes"),
        ("\x1b[2 q", "DECSCUSR"),
        ("\x1b[?2026$p", "DECRQM"),
        ("\x1b[?1000h\x1b[?1006h", "mouse modes"),
        ("\x1b[?3h", "DECCOLM"),
        ("\x1b(B\x1b)0", "charset designations"),
    ],
)
def test_sequences_agents_send_leave_no_trace_on_screen(sequence, label):
    screen = screen_of("before" + sequence + "after")
    assert screen.text() == "beforeafter", label
    assert screen.columns == 40, label


def test_private_marker_sgr_does_not_change_attributes():
    screen = TerminalScreen(20, 3, attributes=True)
    screen.feed(b"\x1b[>4;1mplain")
    char = screen._screen.buffer[0][0]
    assert (char.bold, char.underscore) == (False, False)


def test_attributes_are_tracked_only_when_asked_for():
    data = b"\x1b[1;38;2;10;20;30mbold\x1b[0m \x1b[4:3mcurly\x1b[m"
    tracked = TerminalScreen(20, 3, attributes=True)
    tracked.feed(data)
    first = tracked._screen.buffer[0][0]
    assert first.bold and first.fg == "0a141e"
    assert tracked._screen.buffer[0][5].underscore
    plain = TerminalScreen(20, 3)
    plain.feed(data)
    assert not plain._screen.buffer[0][0].bold
    assert plain.text() == tracked.text() == "bold curly"


def test_zero_width_joiner_and_variation_selector_keep_the_rest_of_the_line():
    screen = screen_of("🛠️  Using tool: x\r\na\u200db c\r\n👍🏽 ok")
    assert screen.lines_text()[:3] == ["🛠️  Using tool: x", "a\u200db c", "👍🏽 ok"]


def test_wide_characters_take_two_cells():
    screen = screen_of("漢字x")
    assert screen.text() == "漢字x"
    assert screen.cursor == (5, 0)


def test_combining_accent_joins_its_letter():
    assert screen_of("e\u0301!").text() == "e\u0301!"


def test_alternate_screen_switch_and_restore():
    screen = screen_of("main screen\r\n")
    screen.feed(b"\x1b[?1049h\x1b[H\x1b[2Jfull-screen app")
    assert screen.alternate
    assert screen.text() == "full-screen app"
    screen.feed(b"\x1b[?1049l")
    assert not screen.alternate
    assert screen.text() == "main screen"


@pytest.mark.parametrize("mode", [47, 1047])
def test_older_alternate_screen_modes(mode):
    screen = screen_of("kept")
    screen.feed(f"\x1b[?{mode}hother".encode())
    assert "kept" not in screen.text()
    screen.feed(f"\x1b[?{mode}l".encode())
    assert screen.text() == "kept"


def test_sequences_split_across_reads():
    data = "ab\x1b[31mcd\x1b]0;t\x07ef\x1b[?1049lgh\x1bP+q\x1b\\ij 漢字 ✓".encode()
    whole = screen_of(data).text()
    for cut in range(1, len(data)):
        screen = TerminalScreen(40, 10)
        screen.feed(data[:cut])
        screen.feed(data[cut:])
        assert screen.text() == whole, cut
    assert whole == "abcdefghij 漢字 ✓"


def test_replies_to_terminal_queries():
    screen = screen_of("abc\x1b[6n")
    assert screen.take_replies() == b"\x1b[1;4R"
    assert screen.take_replies() == b""
    screen.feed(b"\x1b[5n\x1b[c\x1b[>c")
    replies = screen.take_replies()
    assert replies.startswith(b"\x1b[0n\x1b[?")
    assert replies.endswith(b"\x1b[>0;276;0c")
    screen.feed(b"\x1b[>q")
    assert screen.take_replies().startswith(b"\x1bP>|")


def test_title_from_osc():
    assert screen_of("\x1b]2;my agent\x07").title == "my agent"


def test_resize_keeps_content():
    screen = screen_of("hello")
    screen.resize(60, 20)
    assert (screen.columns, screen.lines) == (60, 20)
    assert screen.text() == "hello"


def test_invalid_utf8_is_replaced_not_fatal():
    assert screen_of(b"ok \xff\xfe done").text() == "ok \ufffd\ufffd done"


def _tui_bytes(rng: random.Random, columns: int, lines: int) -> str:
    parts = []
    for _ in range(300):
        kind = rng.randrange(8)
        if kind == 0:
            parts.append(f"\x1b[{rng.randint(1, lines)};{rng.randint(1, columns)}H")
        elif kind == 1:
            parts.append(f"\x1b[{rng.choice(['', '0', '1', '2'])}K")
        elif kind == 2:
            parts.append(f"\x1b[{rng.choice(['0', '1', '3', '32', '1;34', '38;5;99'])}m")
        elif kind == 3:
            parts.append("\r\n")
        elif kind == 4:
            parts.append(f"\x1b[{rng.randint(1, 3)}{rng.choice('ABCD')}")
        elif kind == 5:
            parts.append(f"\x1b[{rng.randint(1, 2)}{rng.choice('LMP@X')}")
        else:
            word = "".join(rng.choice("abcdef XYZ-=|") for _ in range(rng.randint(1, 30)))
            parts.append(word)
    return "".join(parts)


@pytest.mark.parametrize("seed", range(25))
def test_matches_stock_pyte_on_ordinary_tui_output(seed):
    rng = random.Random(seed)
    data = _tui_bytes(rng, 30, 12)
    ours = TerminalScreen(30, 12)
    # Fed in random slices, as PTY reads arrive.
    raw = data.encode()
    pos = 0
    while pos < len(raw):
        step = rng.randint(1, 64)
        ours.feed(raw[pos : pos + step])
        pos += step
    assert ours.text() == stock_text(data, 30, 12)


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_never_raise(seed):
    rng = random.Random(1000 + seed)
    screen = TerminalScreen(20, 8)
    alphabet = b"\x1b[]()?>=<;:0123456789mHJKhlnPcqu\x07\\\r\n\x08\t a\xe2\x94\x80\xf0\x9f"
    for _ in range(200):
        screen.feed(bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 40))))
    screen.text()
    screen.take_replies()
    assert screen.columns == 20 and screen.lines == 8
