"""A quiet agent that prints a unique marker line at random moments.

Each marker carries the wall-clock time of its own write (``MARK <n> <time>``),
so a reader on the same machine can measure the delay from the agent's write to
whatever the reader sees. Between markers the agent writes nothing at all.

  python marker.py --count 200 --min-gap 0.2 --max-gap 1.0 --delay 1.0
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200, help="markers to print (0: forever)")
    parser.add_argument("--min-gap", type=float, default=0.2, help="shortest pause, seconds")
    parser.add_argument("--max-gap", type=float, default=1.0, help="longest pause, seconds")
    parser.add_argument("--delay", type=float, default=1.0, help="pause before the first one")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    # Stopped by the daemon with SIGINT: exit quietly instead of with a traceback.
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    rng = random.Random(args.seed)
    os.write(1, b"marker agent: prints MARK lines at random moments\r\n\r\n")
    time.sleep(args.delay)
    n = 0
    while args.count == 0 or n < args.count:
        time.sleep(rng.uniform(args.min_gap, args.max_gap))
        n += 1
        # The timestamp is taken as late as possible: right before the write itself.
        os.write(1, f"MARK {n:06d} {time.time():.6f}\r\n".encode())
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    raise SystemExit(main())
