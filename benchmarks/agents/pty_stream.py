"""A terminal agent that prints RATE bytes per second of text for SECONDS, after DELAY.

Every line starts with ``MARK <n> <time.time()>``, as ``acp_stream.py`` does over ACP, so
the two transports are timed with the same client.

  python pty_stream.py --rate 51200 --seconds 5 --delay 2
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

TICK_S = 0.01


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=51200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--delay", type=float, default=2.0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    sys.stdout.write("pty stream agent ready\n> ")
    sys.stdout.flush()
    time.sleep(args.delay)
    per_tick = max(40, int(args.rate * TICK_S))
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < args.seconds:
        head = f"MARK {n:06d} {time.time():.6f} "
        # Lines of at most 78 characters, so the 80-column screen never wraps them.
        body = head + "x" * max(0, min(per_tick, 78) - len(head))
        sys.stdout.write("\r\n" + body)
        sys.stdout.flush()
        n += 1
        time.sleep(max(0.0, start + n * TICK_S * min(per_tick, 78) / per_tick - time.monotonic()))
    sys.stdout.write("\r\nSTREAM DONE\r\n> ")
    sys.stdout.flush()
    signal.pause()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
