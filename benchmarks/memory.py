"""Memory: the daemon's RSS after start-up, after floods of output, and over many turns.

The chat agent answers every turn at once (after ``--spin-kb`` KiB of spinner
redraws, so each turn also pushes output through the emulator) and floods
``--flood-mb`` MiB of text when sent Ctrl-F as a raw message. RSS (VmRSS from
/proc) is read:
  1. after start-up, once the status is stable;
  2. after one flood, and again after a second one: the first may grow the
     emulator's screen to its full height, the second must not grow anything;
  3. at checkpoints over ``--turns`` turns, each a POST /message followed by
     waiting for ``stable``.
"Flat" means no growth proportional to output: the second flood may add at
most 2 MiB, and the turns at most 2 MiB plus the transcript's own cost
(estimated generously as 1 KiB per message plus 4 times its text).

Every turn has to wait for the daemon's stability window (2 s without a screen
change, fixed), so a turn takes about 2.4 s: 500 turns take about 20 minutes.
"""

from __future__ import annotations

import time

from _common import (
    ORIGINAL_RSS_MIB,
    Daemon,
    Report,
    Result,
    agent_command,
    base_parser,
    compile_bytecode,
    rss_budget_kib,
    rss_kib,
)

SLACK_KIB = 2048
STARTUP_TARGET_MIB = 37.0


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--flood-mb", type=float, default=10.0)
    parser.add_argument("--spin-kb", type=float, default=20.0)
    parser.add_argument("--checkpoints", type=int, default=5)
    args = parser.parse_args(argv)
    if args.quick:
        args.turns, args.flood_mb, args.checkpoints = 2, 0.25, 1

    agent = agent_command("chat", "--spin-kb", str(args.spin_kb), "--flood-mb", str(args.flood_mb))
    points: list[tuple[str, int, int, int, float]] = []  # label, RSS, messages, bytes, output
    output_mb = 0.0
    compile_bytecode()
    with Daemon(agent) as daemon:
        daemon.wait_listening()
        watcher = daemon.watch()
        watcher.keep_events = False
        watcher.wait_stable()
        points.append(("after start-up", rss_kib(daemon.pid), *daemon.transcript(), output_mb))
        for label in ("after a flood", "after a second flood"):
            daemon.flood(watcher, 60 + args.flood_mb * 30)
            output_mb += args.flood_mb
            points.append((label, rss_kib(daemon.pid), *daemon.transcript(), output_mb))
        every = max(1, args.turns // max(1, args.checkpoints))
        started = time.monotonic()
        for turn in range(1, args.turns + 1):
            daemon.turn(watcher, f"turn {turn:05d}: please summarise the change")
            output_mb += args.spin_kb / 1024
            if turn % every == 0 or turn == args.turns:
                points.append(
                    (f"after {turn} turns", rss_kib(daemon.pid), *daemon.transcript(), output_mb)
                )
        turns_s = time.monotonic() - started
        watcher.close()

    report = Report(f"memory: daemon RSS (flood {args.flood_mb:g} MiB x 2, {args.turns} turns)")
    for label, rss, _, _, out in points:
        report.add(
            Result(
                f"RSS {label}",
                f"{rss / 1024:.1f} MiB ({out:.1f} MiB output so far)",
                value=rss / 1024,
            )
        )
    started_mib = points[0][1] / 1024
    report.add(
        Result(
            "RSS after start-up, against the target",
            f"{started_mib:.1f} MiB (the Go original: {ORIGINAL_RSS_MIB:.1f} MiB)",
            f"<= {STARTUP_TARGET_MIB:.0f} MiB",
            started_mib <= STARTUP_TARGET_MIB,
            started_mib,
        )
    )
    flood1, flood2 = points[1][1], points[2][1]
    flood_growth = flood2 - flood1
    report.add(
        Result(
            "growth over the second flood",
            f"{flood_growth / 1024:+.1f} MiB for {args.flood_mb:g} MiB of output",
            f"<= {SLACK_KIB // 1024} MiB",
            flood_growth <= SLACK_KIB,
            flood_growth / 1024,
        )
    )
    base = points[2]
    last = points[-1]
    turn_growth = last[1] - base[1]
    new_messages = last[2] - base[2]
    new_bytes = last[3] - base[3]
    budget = rss_budget_kib(SLACK_KIB, new_messages, new_bytes)
    turn_output = args.turns * args.spin_kb / 1024
    report.add(
        Result(
            f"growth over {args.turns} turns",
            f"{turn_growth / 1024:+.2f} MiB ({turn_growth / max(1, args.turns):.1f} KiB/turn)",
            f"<= {budget / 1024:.1f} MiB",
            turn_growth <= budget,
            turn_growth / 1024,
        )
    )
    report.notes.append(
        f"the turns added {new_messages} messages, {new_bytes / 1024:.1f} KiB of text, and "
        f"pushed {turn_output:.1f} MiB of spinner output through the emulator; "
        f"total agent output {output_mb:.1f} MiB; turns took {turns_s:.0f} s"
    )
    report.notes.append("target for the turns: 2 MiB + 1 KiB per new message + 4 x its text")
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
