"""Emulator throughput: our TerminalScreen beside stock pyte, and the raw PTY read rate.

Each kind of output is generated once and fed to both emulators in 4 KiB
slices on an 80x1000 screen, with one screen read at the end (as the daemon
does after a burst). Prints MB/s per kind and the cost of reading the screen.

    python benchmarks/throughput.py [--mb 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import pty
import random
import sys
import time
from collections.abc import Callable

import pyte

from agentapi.terminal.screen import TerminalScreen

COLUMNS, LINES = 80, 1000
SLICE = 4096


def plain_text(size: int) -> bytes:
    rng = random.Random(1)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"]
    out: list[str] = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(words) for _ in range(11))[:79]
        out.append(line + "\r\n")
        total += len(line) + 2
    return "".join(out).encode()


def sgr_text(size: int) -> bytes:
    rng = random.Random(2)
    out: list[str] = []
    total = 0
    while total < size:
        parts = []
        for _ in range(8):
            colour = rng.randrange(30, 38)
            parts.append(f"\x1b[1;{colour}mword{rng.randrange(100)}\x1b[0m")
        line = " ".join(parts) + "\r\n"
        out.append(line)
        total += len(line)
    return "".join(out).encode()


def tui_redraws(size: int) -> bytes:
    rng = random.Random(3)
    out: list[str] = []
    total = 0
    frame = 0
    spinner = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    while total < size:
        parts = [f"\x1b[?2026h\x1b[1;1H\x1b[2K{spinner[frame % 10]} Thinking… ({frame}s)"]
        for row in range(20):
            text = " ".join(str(rng.randrange(10**6)) for _ in range(8))
            parts.append(f"\x1b[{row + 3};1H\x1b[2K\x1b[3{row % 8}m{text}\x1b[0m")
        parts.append("\x1b[25;1H\x1b[2K> \x1b[?2026l")
        chunk = "".join(parts)
        out.append(chunk)
        total += len(chunk.encode())
        frame += 1
    return "".join(out).encode()


def wide_boxes(size: int) -> bytes:
    rng = random.Random(4)
    cjk = "你好世界漢字測試終端模擬"
    emoji = "🚀✅🔥📦🧪"
    out: list[str] = []
    total = 0
    while total < size:
        inner = "".join(rng.choice(cjk) for _ in range(20)) + " " + rng.choice(emoji) + " ok"
        line = f"│ {inner} │\r\n"
        block = f"╭{'─' * 60}╮\r\n{line}{line}╰{'─' * 60}╯\r\n"
        out.append(block)
        total += len(block.encode())
    return "".join(out).encode()


KINDS: dict[str, Callable[[int], bytes]] = {
    "plain text": plain_text,
    "SGR colour": sgr_text,
    "TUI redraws": tui_redraws,
    "box + wide chars": wide_boxes,
}


def run_stock(data: bytes) -> float:
    screen = pyte.Screen(COLUMNS, LINES)
    stream = pyte.ByteStream(screen)
    start = time.perf_counter()
    for i in range(0, len(data), SLICE):
        stream.feed(data[i : i + SLICE])
    "\n".join(screen.display)
    return time.perf_counter() - start


def run_ours(data: bytes) -> float:
    screen = TerminalScreen(COLUMNS, LINES)
    start = time.perf_counter()
    for i in range(0, len(data), SLICE):
        screen.feed(data[i : i + SLICE])
    screen.text()
    return time.perf_counter() - start


def raw_pty_rate(size: int) -> float:
    """MB/s of a child writing ``size`` bytes into a PTY while we os.read the master."""
    pid, fd = pty.fork()
    if pid == 0:
        # Raw mode: no newline translation, so the byte count is exact.
        import tty

        tty.setraw(0)
        block = b"x" * 65536
        left = size
        while left > 0:
            left -= os.write(1, block[: min(left, len(block))])
        os._exit(0)
    received = 0
    start = time.perf_counter()
    while received < size:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        received += len(chunk)
    elapsed = time.perf_counter() - start
    os.waitpid(pid, 0)
    os.close(fd)
    return received / elapsed / 1e6


def read_costs() -> tuple[float, float]:
    """Microseconds to read an unchanged full screen, and after one changed line."""
    screen = TerminalScreen(COLUMNS, LINES)
    screen.feed(plain_text(120_000))
    screen.text()
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        screen.text()
    unchanged = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for i in range(n):
        screen.feed(f"\x1b[500;1H\x1b[2Kline {i}".encode())
        screen.text()
    one_line = (time.perf_counter() - start) / n * 1e6
    return unchanged, one_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=5.0, help="MB of output per kind")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    args = parser.parse_args(argv)
    size = 50_000 if args.quick else int(args.mb * 1e6)
    print(f"emulator throughput, {COLUMNS}x{LINES} screen, {size / 1e6:.2f} MB per kind")
    print(f"{'kind':<18} {'stock pyte':>12} {'agentapi':>12} {'speed-up':>9}")
    for name, make in KINDS.items():
        data = make(size)
        stock = len(data) / run_stock(data) / 1e6
        ours = len(data) / run_ours(data) / 1e6
        print(f"{name:<18} {stock:>8.2f} MB/s {ours:>8.2f} MB/s {ours / stock:>8.1f}x")
    pty_size = 2_000_000 if args.quick else 50_000_000
    print(f"raw PTY read rate: {raw_pty_rate(pty_size):.1f} MB/s")
    unchanged, one_line = read_costs()
    print(f"screen read: {unchanged:.2f} µs unchanged, {one_line:.1f} µs after one changed line")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
