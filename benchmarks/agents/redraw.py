"""A Gemini-CLI-like agent: a busy TUI redrawing its live region many times a second.

Like an Ink application (Gemini CLI, Claude Code) it prints a static header once
and then re-renders a dynamic region on every frame: it erases the previous
frame line by line (erase-line, cursor-up) and writes the new one, a spinner
with an elapsed-time counter and a 20-line panel of truecolour and 256-colour
SGR text that scrolls as new text streams in. Frames are paced so that the
output averages ``--rate-kb`` KiB per second.

  python redraw.py --rate-kb 100 --lines 20 --stats-file /tmp/redraw.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
TEXT = (
    "reading src/agentapi/terminal.py analysing the event loop checking vsync timers comparing "
    "screens computing a diff of the transcript writing tests running pytest collecting results "
    "formatting the reply streaming tokens"
)
WORDS = TEXT.split()
PALETTE = [
    "\x1b[38;2;137;180;250m",
    "\x1b[38;2;166;227;161m",
    "\x1b[38;2;249;226;175m",
    "\x1b[38;5;213m",
    "\x1b[38;5;117m",
    "\x1b[1;38;5;203m",
    "\x1b[2m",
]
RESET = "\x1b[0m"


def panel_line(n: int, width: int) -> str:
    """Line ``n`` of the streamed text: coloured word by word, at most ``width`` columns."""
    out = [f"\x1b[38;5;244m│{RESET} "]
    used = 2
    i = n * 7
    while True:
        word = WORDS[i % len(WORDS)]
        if used + len(word) + 1 > width:
            break
        out.append(f"{PALETTE[i % len(PALETTE)]}{word}{RESET} ")
        used += len(word) + 1
        i += 1
    return "".join(out)


def render(frame: int, elapsed: float, lines: int, width: int) -> list[str]:
    spin = SPINNER[frame % len(SPINNER)]
    status = (
        f"\x1b[38;2;137;180;250m{spin}{RESET} \x1b[1mThinking about the request…{RESET} "
        f"\x1b[2m(esc to cancel, {elapsed:.0f}s){RESET}"
    )
    top = frame // 4  # the panel scrolls by one line every few frames, as text streams in
    panel = [panel_line(top + k, width) for k in range(lines)]
    footer = (
        f"\x1b[38;5;244m~/work/project{RESET}  \x1b[38;5;117mgemini-2.5-pro{RESET} "
        f"\x1b[2m({99 - frame % 100}% context left){RESET}"
    )
    return [status, "", *panel, "", footer]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate-kb", type=float, default=100.0, help="KiB of output per second")
    parser.add_argument("--lines", type=int, default=20, help="rows in the redrawn panel")
    parser.add_argument("--width", type=int, default=78, help="columns used")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop redrawing (0: never)")
    parser.add_argument("--stats-file", help="keep {bytes, frames, time} up to date here")
    args = parser.parse_args(argv)
    # Stopped by the daemon with SIGINT: exit quietly instead of with a traceback.
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    rate = args.rate_kb * 1024
    os.write(
        1,
        b"\x1b[1;38;5;117m  GEMINI-LIKE TUI\x1b[0m\r\n\r\n"
        b"\x1b[2mTips: ask questions, edit files, run commands.\x1b[0m\r\n\r\n"
        b"\x1b[38;5;213m> \x1b[0mrefactor the terminal reader\r\n\r\n",
    )
    start = time.monotonic()
    written = 0
    frame = 0
    previous = 0
    last_stats = 0.0
    while args.seconds == 0 or time.monotonic() - start < args.seconds:
        now = time.monotonic()
        rows = render(frame, now - start, args.lines, args.width)
        # Ink's log-update: erase the previous frame line by line, then write the new one.
        erase = (
            "".join("\x1b[2K" + ("\x1b[1A" if i < previous - 1 else "") for i in range(previous))
            + "\x1b[G"
            if previous
            else ""
        )
        data = (erase + "\r\n".join(rows)).encode()
        previous = len(rows)
        view = memoryview(data)
        while view:
            n = os.write(1, view)
            view = view[n:]
        written += len(data)
        frame += 1
        if args.stats_file and now - last_stats >= 0.25:
            last_stats = now
            tmp = args.stats_file + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"bytes": written, "frames": frame, "time": time.time()}, f)
            os.replace(tmp, args.stats_file)
        # Pace the frames so the average rate is what was asked for.
        pause = start + written / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    raise SystemExit(main())
