"""Idle cost: the daemon with the demo agent settled on screen and one SSE client.

An idle daemon should do no work: no polling, no timers firing while nothing
changes. CPU seconds are read from /proc for the daemon process alone and,
separately, for the agent, over ``--seconds`` of wall time.
"""

from __future__ import annotations

import time

from _common import DEMO_AGENT, CpuWindow, Daemon, Report, Result, base_parser

TARGET_PERCENT = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring window")
    args = parser.parse_args(argv)
    seconds = 1.0 if args.quick else args.seconds

    report = Report("idle: demo agent stable, one SSE client on /events")
    with Daemon(DEMO_AGENT) as daemon:
        daemon.wait_listening()
        watcher = daemon.watch()
        watcher.wait_stable()
        agent_pid = daemon.agent_pid()
        # Let the stable transition's own work finish before the window opens.
        time.sleep(0.5)
        before = len(watcher.events)
        daemon_cpu = CpuWindow(daemon.pid).start()
        agent_cpu = CpuWindow(agent_pid).start()
        time.sleep(seconds)
        daemon_cpu.stop()
        agent_cpu.stop()
        events = len(watcher.events) - before
        watcher.close()

    report.add(
        Result(
            "daemon CPU (% of one core)",
            f"{daemon_cpu.percent:.3f}% ({daemon_cpu.cpu:.2f} s / {daemon_cpu.wall:.1f} s)",
            f"< {TARGET_PERCENT}%",
            daemon_cpu.percent < TARGET_PERCENT,
            daemon_cpu.percent,
        ),
        Result(
            "agent CPU (% of one core)",
            f"{agent_cpu.percent:.3f}% ({agent_cpu.cpu:.2f} s)",
            value=agent_cpu.percent,
        ),
        Result("SSE events received while idle", str(events), value=events),
    )
    report.notes.append("CPU time comes from /proc/PID/stat utime+stime, in 1/100 s ticks")
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
