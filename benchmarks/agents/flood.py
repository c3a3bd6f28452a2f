"""An agent that writes N MB of plain text lines as fast as the terminal takes them.

It prints ``FLOOD START``, then the lines, then ``FLOOD DONE <bytes>``, and then
sits idle so its last screen stays up. With ``--stats-file`` it records the
wall-clock times at which the flood started and at which its last byte was
taken by the terminal.

  python flood.py --mb 20 --delay 1.0 --stats-file /tmp/flood.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time

CHUNK = 64 * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="megabytes (MiB) to write")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds before the flood")
    parser.add_argument("--width", type=int, default=78, help="characters per line")
    parser.add_argument("--stats-file", help="write {start, done} wall-clock times here")
    args = parser.parse_args(argv)
    # Stopped by the daemon with SIGINT: exit quietly instead of with a traceback.
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    total = int(args.mb * 1024 * 1024)
    os.write(1, b"flood agent\r\n")
    time.sleep(args.delay)
    started = time.time()
    os.write(1, b"FLOOD START\r\n")
    written = 0
    line_no = 0
    buf = bytearray()
    while written < total:
        while len(buf) < CHUNK:
            line_no += 1
            head = f"flood line {line_no:09d} "
            buf += (head + "abcdefghijklmnopqrstuvwxyz" * 3)[: args.width].encode() + b"\r\n"
        chunk = bytes(buf[: min(CHUNK, total - written)])
        del buf[: len(chunk)]
        view = memoryview(chunk)
        while view:
            n = os.write(1, view)
            view = view[n:]
        written += len(chunk)
    os.write(1, f"\r\nFLOOD DONE {written}\r\n".encode())
    if args.stats_file:
        with open(args.stats_file + ".tmp", "w") as f:
            json.dump({"start": started, "done": time.time(), "bytes": written}, f)
        os.replace(args.stats_file + ".tmp", args.stats_file)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    raise SystemExit(main())
