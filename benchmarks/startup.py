"""Start-up: from launching ``agentapi server`` to the first 200 from GET /status.

The agent is ``sleep 60``, which draws nothing, so the figure is the daemon's
own start-up (interpreter, imports, binding the port); the daemon answers
/status before it even spawns the agent. /status is tried every 5 ms.
"""

from __future__ import annotations

import statistics

from _common import Daemon, Report, Result, base_parser

TARGET_S = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs

    times: list[float] = []
    for _ in range(runs):
        with Daemon(["sleep", "60"]) as daemon:
            times.append(daemon.wait_listening())

    median = statistics.median(times)
    report = Report(f"start-up: launch to first 200 from /status ({runs} runs)")
    report.add(
        Result(
            "launch to first 200 from /status, median",
            f"{median * 1000:.0f} ms",
            f"<= {TARGET_S * 1000:.0f} ms",
            median <= TARGET_S,
            median,
        ),
        Result("min / max", f"{min(times) * 1000:.0f} / {max(times) * 1000:.0f} ms"),
    )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
