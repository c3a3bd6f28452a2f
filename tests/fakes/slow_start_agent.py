"""A terminal agent that is slow to show its input box, for the readiness tests.

    python -m tests.fakes.slow_start_agent --silent 3            # nothing on screen for 3 s
    python -m tests.fakes.slow_start_agent --dialog              # a dialog until a key is typed

Keys typed before the box is drawn are thrown away (real TUIs discard keys while they load),
so anything the daemon types too early is lost and shows up as a missing reply. After that it
is the demo agent.
"""

from __future__ import annotations

import argparse
import os
import sys
import termios
import time
import tty

from agentapi import demo_agent

DIALOG = "Pick a colour theme:\r\n  [1] dark\r\n  [2] light\r\n"


def _discard_typed_keys() -> None:
    if os.isatty(0):
        termios.tcflush(0, termios.TCIFLUSH)


def _wait_for_a_key() -> None:
    saved = termios.tcgetattr(0)
    tty.setraw(0)
    try:
        os.read(0, 64)
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)
    os.write(1, b"\x1b[2J\x1b[H")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--silent", type=float, default=0.0, help="seconds with a blank screen")
    parser.add_argument("--dialog", action="store_true", help="show a dialog until a key")
    args = parser.parse_args()
    time.sleep(args.silent)
    _discard_typed_keys()
    if args.dialog:
        os.write(1, DIALOG.encode())
        _wait_for_a_key()
    return demo_agent.main(["--think", "0.2"])


if __name__ == "__main__":
    sys.exit(main())
