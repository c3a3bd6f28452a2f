"""A minimal chat agent that answers at once: a prompt line, echo, and scripted replies.

It draws ``> `` and echoes what is typed or pasted (bracketed paste) on that
line, as real agents do, and on Enter answers immediately:
  /stream N SECONDS   N numbered lines spread evenly over SECONDS
  anything else       ``echo: TEXT``, after ``--spin-kb`` KiB of spinner redraws
The key Ctrl-F (sent as a raw message, not a turn) makes it write ``--flood-mb``
MiB of plain text lines as fast as the terminal takes them. With ``--no-echo``
it shows nothing of a paste until Enter, as many TUIs do.

  python chat.py --spin-kb 20 --flood-mb 10
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import termios
import time
import tty

PASTE_START = b"\x1b[200~"
PASTE_END = b"\x1b[201~"
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def write(data: str | bytes) -> None:
    view = memoryview(data.encode() if isinstance(data, str) else data)
    while view:
        n = os.write(1, view)
        view = view[n:]


class Chat:
    def __init__(self, spin_kb: float, flood_mb: float, echo: bool = True) -> None:
        self.echo = echo
        self.spin_bytes = int(spin_kb * 1024)
        self.flood_bytes = int(flood_mb * 1024 * 1024)
        self.buffer = ""
        self.pending = b""
        self.turns = 0
        # Numbering runs on across floods, so each flood leaves a different screen.
        self.flood_lines = 0

    def prompt(self) -> None:
        write("\r\x1b[K> " + self.buffer)

    def run(self) -> None:
        write("\x1b[?2004hbench chat agent: /stream N S, or anything to echo\r\n\r\n")
        self.prompt()
        while True:
            select.select([0], [], [])
            data = os.read(0, 65536)
            if not data:
                return
            self.handle(self.pending + data)

    def handle(self, data: bytes) -> None:
        self.pending = b""
        i = 0
        changed = False
        while i < len(data):
            if data.startswith(PASTE_START, i):
                end = data.find(PASTE_END, i)
                if end < 0:
                    self.pending = data[i:]
                    break
                text = data[i + len(PASTE_START) : end].decode(errors="replace")
                self.buffer += " ".join(text.split())
                i = end + len(PASTE_END)
                changed = True
            elif data[i : i + 1] in (b"\r", b"\n"):
                if changed and self.echo:
                    self.prompt()
                    changed = False
                text, self.buffer = self.buffer.strip(), ""
                if text:
                    self.answer(text)
                self.prompt()
                i += 1
            elif data[i : i + 1] == b"\x03":
                raise KeyboardInterrupt
            elif data[i : i + 1] == b"\x06":
                self.flood()
                self.prompt()
                i += 1
            elif data[i] < 0x20 or data[i] == 0x7F:
                i += 1
            else:
                j = i + 1
                while j < len(data) and (data[j] & 0xC0) == 0x80:
                    j += 1
                self.buffer += data[i:j].decode(errors="replace")
                i = j
                changed = True
        if changed and self.echo:
            self.prompt()

    def flood(self) -> None:
        total = self.flood_bytes
        buf = bytearray()
        filler = "abcdefghijklmnopqrstuvwxyz" * 2
        write("\r\n")
        while total > 0:
            while len(buf) < 65536:
                self.flood_lines += 1
                buf += f"flood line {self.flood_lines:09d} {filler}\r\n".encode()
            chunk = bytes(buf[: min(65536, total)])
            del buf[: len(chunk)]
            write(chunk)
            total -= len(chunk)
        write(f"\r\nflood done after {self.flood_lines} lines\r\n\r\n")

    def answer(self, text: str) -> None:
        self.turns += 1
        write("\r\n")
        words = text.split()
        if words[0] == "/stream" and len(words) >= 3:
            count, seconds = int(words[1]), float(words[2])
            start = time.monotonic()
            for n in range(1, count + 1):
                write(f"stream line {n:05d} of {count:05d}: the quick brown fox\r\n")
                pause = start + seconds * n / count - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        else:
            sent = 0
            frame = 0
            while sent < self.spin_bytes:
                data = f"\r\x1b[K{SPINNER[frame % len(SPINNER)]} working on turn {self.turns}…"
                write(data)
                sent += len(data.encode())
                frame += 1
            if self.spin_bytes:
                write("\r\x1b[K")
            write(f"echo: {text}\r\n")
        write("\r\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--spin-kb", type=float, default=0.0, help="KiB of spinner redraws before each echo reply"
    )
    parser.add_argument("--flood-mb", type=float, default=10.0, help="MiB written on Ctrl-F")
    parser.add_argument(
        "--no-echo", action="store_true", help="show nothing of typed or pasted text"
    )
    args = parser.parse_args(argv)
    saved = termios.tcgetattr(0) if os.isatty(0) else None
    if saved is not None:
        tty.setraw(0)
    try:
        Chat(args.spin_kb, args.flood_mb, echo=not args.no_echo).run()
    except KeyboardInterrupt:
        return 130
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        write(b"\x1b[?2004l")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
