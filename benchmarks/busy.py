"""Busy cost: a Gemini-like agent redrawing its TUI at 100 KiB/s, one SSE client on /events.

The redraw agent re-renders a spinner and a 20-line SGR-coloured panel with
erase-line and cursor-up, paced to ``--rate-kb`` KiB/s. The daemon's CPU time
(daemon process only, from /proc) over ``--seconds`` is reported as a
percentage of one core, next to the rate the agent really achieved.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from _common import CpuWindow, Daemon, Report, Result, agent_command, base_parser

TARGET_PERCENT = 3.0
WARMUP_S = 2.0


def read_stats(path: Path, timeout: float = 15.0) -> dict[str, float]:
    # The agent rewrites the file every 0.25 s once it runs; a loaded machine may start it late.
    deadline = time.monotonic() + timeout
    while True:
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the redraw agent wrote no stats to {path}") from None
            time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring window")
    parser.add_argument("--rate-kb", type=float, default=100.0, help="agent output, KiB/s")
    parser.add_argument("--lines", type=int, default=20, help="rows of the redrawn panel")
    args = parser.parse_args(argv)
    seconds = 1.0 if args.quick else args.seconds

    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "redraw.json"
        agent = agent_command(
            "redraw",
            "--rate-kb",
            str(args.rate_kb),
            "--lines",
            str(args.lines),
            "--stats-file",
            str(stats),
        )
        with Daemon(agent) as daemon:
            daemon.wait_listening()
            watcher = daemon.watch()
            watcher.keep_events = False
            agent_pid = daemon.agent_pid()
            time.sleep(0.5 if args.quick else WARMUP_S)
            first = read_stats(stats)
            count0 = watcher.counts.get("message_update", 0)
            daemon_cpu = CpuWindow(daemon.pid).start()
            agent_cpu = CpuWindow(agent_pid).start()
            time.sleep(seconds)
            daemon_cpu.stop()
            agent_cpu.stop()
            last = read_stats(stats)
            updates = watcher.counts.get("message_update", 0) - count0
            watcher.close()

    rate = (last["bytes"] - first["bytes"]) / max(last["time"] - first["time"], 1e-9) / 1024
    fps = (last["frames"] - first["frames"]) / max(last["time"] - first["time"], 1e-9)
    report = Report(f"busy: Gemini-like redraws at {args.rate_kb:.0f} KiB/s for {seconds:.0f} s")
    report.add(
        Result(
            "daemon CPU (% of one core)",
            f"{daemon_cpu.percent:.1f}% ({daemon_cpu.cpu:.2f} s / {daemon_cpu.wall:.1f} s)",
            f"<= {TARGET_PERCENT:.0f}%",
            daemon_cpu.percent <= TARGET_PERCENT,
            daemon_cpu.percent,
        ),
        Result("agent output achieved", f"{rate:.1f} KiB/s, {fps:.1f} frames/s", value=rate),
        Result("agent CPU (% of one core)", f"{agent_cpu.percent:.1f}%", value=agent_cpu.percent),
        Result(
            "message_update events per second",
            f"{updates / daemon_cpu.wall:.1f}",
            value=updates / daemon_cpu.wall,
        ),
    )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
