"""A scripted ACP agent for tests, built on the ``agent-client-protocol`` package's agent side.

Run as ``python -m tests.fakes.acp_agent [--flags]``; what each prompt does is in
``tests.fakes.acp_script``. Start-up flags: ``--exit-at-start CODE`` (write to stderr and
exit before speaking), ``--no-init`` (never answer initialize), ``--garbage-at-start`` (a
banner on stdout), ``--load`` (advertise loadSession; history kept in ``--history FILE``),
``--chunk-delay S`` (seconds between streamed chunks).

The start-up failures happen before the protocol package is imported (over a second).
"""

from __future__ import annotations

import argparse
import os
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exit-at-start", type=int, default=None)
    parser.add_argument("--no-init", action="store_true")
    parser.add_argument("--garbage-at-start", action="store_true")
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--history", default="")
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    args = parser.parse_args()
    if args.exit_at_start is not None:
        print("fake agent: cannot find my configuration", file=sys.stderr, flush=True)
        sys.exit(args.exit_at_start)
    if args.garbage_at_start:
        os.write(1, b"Welcome to the fake agent!\n")
    from tests.fakes.acp_script import run

    run(args)


if __name__ == "__main__":
    main()
