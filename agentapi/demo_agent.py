"""A small scripted terminal chat agent, so the API can be tried with no LLM account.

It draws like the real agents do: a banner, an input box between two rules,
the user's message echoed into the history, a spinner while it "thinks", and
a reply prefixed with a bullet. It accepts typed keys and bracketed paste.

Replies are scripted by the message's first word:
  /think N TEXT   think for N seconds, then answer TEXT
  /lines N        answer with N numbered lines
  /confirm        ask "Proceed? (y/n)" and wait for one key
  /exit [CODE]    exit with CODE (default 0)
  anything else   answer "You said: ..." (after --think seconds, default 0.5)

While it thinks, Esc or Ctrl-C interrupts it ("● Interrupted."), as real agents do; an
Esc that starts an escape sequence (a paste, an arrow key) is not an interrupt.

Run it: python -m agentapi.demo_agent [--think SECONDS] [--startup SECONDS]
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import signal
import sys
import termios
import time
import tty
import unicodedata

SPINNER = "✻✽✶✳✢·"
PASTE_START = b"\x1b[200~"
PASTE_END = b"\x1b[201~"
ESC = b"\x1b"
CTRL_C = b"\x03"
# How long a lone Esc waits for the rest of an escape sequence before it counts as the key.
ESC_WAIT_S = 0.05


def _width(text: str) -> int:
    total = 0
    for ch in text:
        if unicodedata.combining(ch) or ch in "\u200d\ufe0f":
            continue
        total += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return total


class DemoAgent:
    def __init__(self, think: float, out: int = 1, inp: int = 0) -> None:
        self.think = think
        self.out = out
        self.inp = inp
        self.columns = shutil.get_terminal_size((80, 24)).columns
        self.buffer = ""
        self.box_rows = 0
        self.pending = b""

    # -- drawing ----------------------------------------------------------------------------

    def write(self, text: str) -> None:
        data = text.replace("\n", "\r\n").encode()
        while data:
            n = os.write(self.out, data)
            data = data[n:]

    def _rows(self, line: str) -> int:
        return max(1, -(-_width(line) // self.columns))

    def draw_box(self) -> None:
        rule = "─" * self.columns
        lines = [rule]
        body = self.buffer.split("\n")
        for i, part in enumerate(body):
            lines.append(("❯ " if i == 0 else "  ") + part)
        lines.append(rule)
        lines.append("  /think N · /lines N · /confirm · /exit")
        self.write("\n".join(lines))
        self.box_rows = sum(self._rows(line) for line in lines)
        # Leave the cursor at the end of the input text, as a real prompt would.
        below = 2
        self.write(f"\x1b[{below}A\r\x1b[{_width(lines[-3]) % self.columns}C")
        self.cursor_row_in_box = self.box_rows - below - 1

    def clear_box(self) -> None:
        if self.box_rows:
            up = self.cursor_row_in_box
            self.write("\r" + (f"\x1b[{up}A" if up else "") + "\x1b[J")
        self.box_rows = 0

    def redraw_box(self) -> None:
        self.clear_box()
        self.draw_box()

    # -- input ------------------------------------------------------------------------------

    def read_keys(self, timeout: float | None) -> bytes:
        ready, _, _ = select.select([self.inp], [], [], timeout)
        if not ready:
            return b""
        data = os.read(self.inp, 4096)
        if not data:
            raise EOFError
        return data

    def run(self) -> int:
        self.write("\x1b[?2004h")
        self.write("✻ agentapi demo agent\n\n  A scripted chat agent for trying agentapi.\n\n")
        self.draw_box()
        while True:
            # Keys kept from a reply are handled at once, not after the next key press.
            data = self.pending + self.read_keys(0 if self.pending else None)
            self.pending = b""
            submitted = self.handle_input(data)
            if submitted is not None:
                code = self.answer(submitted)
                if code is not None:
                    return code

    def handle_input(self, data: bytes) -> str | None:
        i = 0
        changed = False
        while i < len(data):
            if data.startswith(PASTE_START, i):
                end = data.find(PASTE_END, i)
                if end < 0:
                    # The rest of the paste has not arrived yet.
                    self.pending = data[i:]
                    break
                pasted = data[i + len(PASTE_START) : end].decode(errors="replace")
                self.buffer += pasted.replace("\r\n", "\n").replace("\r", "\n")
                i = end + len(PASTE_END)
                changed = True
                continue
            byte = data[i : i + 1]
            if byte == b"\r" or byte == b"\n":
                text = self.buffer.strip()
                self.buffer = ""
                self.pending = data[i + 1 :]
                if text:
                    return text
                changed = True
            elif byte in (b"\x7f", b"\x08"):
                self.buffer = self.buffer[:-1]
                changed = True
            elif byte == b"\x03":
                raise KeyboardInterrupt
            elif byte == b"\x1b":
                # A second Esc right after one starts a new key: the first was a lone Esc.
                match = re.match(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[^\x1b]", data[i:])
                i += len(match.group(0)) if match else 1
                continue
            else:
                # Decode a whole UTF-8 character.
                j = i + 1
                while j < len(data) and (data[j] & 0xC0) == 0x80:
                    j += 1
                self.buffer += data[i:j].decode(errors="replace")
                i = j
                changed = True
                continue
            i += 1
        if changed:
            self.redraw_box()
        return None

    # -- answering --------------------------------------------------------------------------

    def answer(self, text: str) -> int | None:
        self.clear_box()
        lines = text.split("\n")
        self.write("❯ " + "\n  ".join(lines) + "\n\n")
        words = text.split()
        command = words[0] if words else ""
        think = self.think
        reply: list[str]
        if command == "/exit":
            code = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
            self.write(f"● Goodbye (exit code {code}).\n")
            return code
        if command == "/think" and len(words) > 1:
            think = float(words[1])
            reply = [" ".join(words[2:]) or "Done thinking."]
        elif command == "/lines" and len(words) > 1 and words[1].isdigit():
            reply = [f"Line {n} of {words[1]}." for n in range(1, int(words[1]) + 1)]
        elif command == "/confirm":
            reply = self.confirm()
            think = 0.2
        else:
            reply = ["You said: " + lines[0], *lines[1:]]
        if not self.spin(think):
            reply = ["Interrupted."]
        self.write("● " + "\n  ".join(reply) + "\n\n")
        self.draw_box()
        return None

    def spin(self, seconds: float) -> bool:
        """Think for ``seconds``; False when Esc or Ctrl-C interrupted the thinking."""
        deadline = time.monotonic() + seconds
        frame = 0
        while time.monotonic() < deadline:
            self.write(f"\r\x1b[K{SPINNER[frame % len(SPINNER)]} Thinking… (esc to interrupt)")
            frame += 1
            # Keys typed while thinking are kept for later, as a real agent would.
            self.pending += self.read_keys(min(0.1, max(0.0, deadline - time.monotonic())))
            if self._take_interrupt():
                self.write("\r\x1b[K")
                return False
        self.write("\r\x1b[K")
        return True

    def _take_interrupt(self) -> bool:
        """Remove an interrupt key (Ctrl-C, or an Esc that starts no sequence) from the keys."""
        if CTRL_C in self.pending:
            self.pending = self.pending.replace(CTRL_C, b"", 1)
            return True
        if self.pending.endswith(ESC):
            # The rest of an escape sequence may still be on its way.
            self.pending += self.read_keys(ESC_WAIT_S)
        i = self.pending.find(ESC)
        while i >= 0:
            if i + 1 == len(self.pending) or self.pending[i + 1 : i + 2] == ESC:
                self.pending = self.pending[:i] + self.pending[i + 1 :]
                return True
            i = self.pending.find(ESC, i + 1)
        return False

    def confirm(self) -> list[str]:
        self.write("● Proceed with the plan? (y/n)\n")
        while True:
            data = self.pending + self.read_keys(None)
            self.pending = b""
            for byte in data:
                ch = chr(byte).lower()
                if ch in "yn":
                    self.write("\x1b[1A\r\x1b[J")
                    return ["Confirmed." if ch == "y" else "Cancelled."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agentapi-demo-agent", description=__doc__.split("\n")[0])
    parser.add_argument("--think", type=float, default=0.5, help="seconds to think per reply")
    parser.add_argument("--startup", type=float, default=0.0, help="seconds of start-up screen")
    args = parser.parse_args(argv)
    if args.startup:
        sys.stdout.write("Loading demo agent…")
        sys.stdout.flush()
        time.sleep(args.startup)
        # Like real agents, keys typed while loading are thrown away.
        if os.isatty(0):
            termios.tcflush(0, termios.TCIFLUSH)
        sys.stdout.write("\r\x1b[K")
        sys.stdout.flush()
    agent = DemoAgent(args.think)
    interactive = os.isatty(0)
    saved = termios.tcgetattr(0) if interactive else None
    if interactive:
        tty.setraw(0)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return agent.run()
    except (KeyboardInterrupt, EOFError):
        return 130
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        os.write(1, b"\x1b[?2004l")


if __name__ == "__main__":
    raise SystemExit(main())
