"""Start-up: from launching ``agentapi server`` to the first 200 from GET /status.

The agent is ``sleep 60``, which draws nothing, so the figure is the daemon's
own start-up (interpreter, imports, binding the port); the daemon answers
/status before it even spawns the agent. /status is tried every 5 ms. The CPU
time the daemon used up to that answer is printed too: on a busy machine it
varies much less than the wall-clock figure. The Go original's figure is
printed beside ours.
"""

from __future__ import annotations

import statistics

from _common import (
    ORIGINAL_STARTUP_S,
    Daemon,
    Report,
    Result,
    base_parser,
    compile_bytecode,
    cpu_seconds,
)

TARGET_S = 0.25


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs

    compile_bytecode()
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        with Daemon(["sleep", "60"]) as daemon:
            times.append(daemon.wait_listening())
            cpu.append(cpu_seconds(daemon.pid))

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
        Result(
            "CPU time used up to that answer, median",
            f"{statistics.median(cpu) * 1000:.0f} ms",
            value=statistics.median(cpu),
        ),
        Result("the Go original, launch to first 200", f"{ORIGINAL_STARTUP_S * 1000:.0f} ms"),
    )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
