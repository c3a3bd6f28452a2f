"""An agent that writes the bytes of a file as fast as the terminal takes them, on a key press.

It prints a banner and waits with its terminal in raw mode (so the bytes reach
the daemon exactly as they are in the file, with no newline translation). The
first key it reads starts the replay: it records the wall-clock time, writes
the whole file, then writes an end marker on a line of its own and records the
time its last byte was taken by the terminal. Then it sits idle so the last
screen stays up.

  python replay.py --file output.bin --marker "REPLAY DONE 1234" --stats-file /tmp/r.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
import tty
from pathlib import Path

CHUNK = 64 * 1024


def write_all(data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(1, view)
        view = view[n:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", required=True, help="the bytes to write")
    parser.add_argument("--marker", required=True, help="text written after the last byte")
    parser.add_argument("--stats-file", help="write {start, done, bytes} wall-clock times here")
    args = parser.parse_args(argv)
    # Stopped by the daemon with SIGINT: exit quietly instead of with a traceback.
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    data = Path(args.file).read_bytes()
    if os.isatty(0):
        tty.setraw(0)
    write_all(b"replay agent: press a key to start\r\n")
    os.read(0, 1024)
    started = time.time()
    for i in range(0, len(data), CHUNK):
        write_all(data[i : i + CHUNK])
    # Reset attributes and start a fresh line, so the marker is plain text whatever came before.
    write_all(f"\x1b[0m\r\n{args.marker}\r\n".encode())
    done = time.time()
    if args.stats_file:
        tmp = args.stats_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"start": started, "done": done, "bytes": len(data)}, f)
        os.replace(tmp, args.stats_file)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    raise SystemExit(main())
