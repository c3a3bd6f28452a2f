"""Responsiveness under a flood: /status response times while the agent floods output.

The flood agent waits until the daemon reports ``stable``, then writes
``--mb`` MiB of plain text as fast as the PTY takes it. Meanwhile this script
asks GET /status every ``--interval`` seconds, each on a fresh connection (as
a monitoring script with curl would), and keeps the requests made between the
flood's first and last write (the agent records both). Every request must be
answered within 50 ms. The answers themselves are checked too: an agent that
is printing is not waiting for input, so the status should read ``running``,
and one client on /events counts the message_update events it gets meanwhile.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from _common import (
    Daemon,
    Report,
    Result,
    agent_command,
    base_parser,
    http_request,
    percentile,
)

TARGET_MS = 50.0
# The daemon calls a screen stable after 2 s without change: start the flood after that.
FLOOD_DELAY_S = 3.0


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="MiB the agent writes")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between requests")
    args = parser.parse_args(argv)
    mb = 0.5 if args.quick else args.mb

    samples: list[tuple[float, float, str]] = []  # (wall time sent, seconds, status)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        stats_file = Path(tmp) / "flood.json"
        agent = agent_command(
            "flood",
            "--mb",
            str(mb),
            "--delay",
            str(FLOOD_DELAY_S),
            "--stats-file",
            str(stats_file),
        )
        with Daemon(agent) as daemon:
            daemon.wait_listening()
            watcher = daemon.watch()
            watcher.keep_events = False
            update_times: list[float] = []
            deadline = time.monotonic() + 60 + mb * 20
            while not stats_file.exists() and time.monotonic() < deadline:
                t0 = time.time()
                try:
                    status, body = http_request(daemon.port, "GET", "/status", timeout=10)
                except OSError:
                    status, body = 0, None
                took = time.time() - t0
                if status != 200:
                    failures += 1
                samples.append((t0, took, body.get("status", "") if status == 200 else ""))
                update_times.append(watcher.counts.get("message_update", 0))
                time.sleep(max(0.0, args.interval - took))
            # Past the flood, the status must settle again: the daemon caught up.
            watcher.wait_stable(60)
            watcher.close()
            stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}

    start, done = stats.get("start", 0.0), stats.get("done", float("inf"))
    window = [i for i, (t0, _, _) in enumerate(samples) if start <= t0 <= done]
    during = [samples[i][1] * 1000 for i in window]
    running = sum(1 for i in window if samples[i][2] == "running")
    updates = update_times[window[-1]] - update_times[window[0]] if window else 0
    p50, p99 = percentile(during, 50), percentile(during, 99)
    worst = max(during, default=float("nan"))
    flood_s = done - start if stats else float("nan")
    report = Report(f"flood: GET /status while the agent writes {mb:g} MiB of text")
    report.add(
        Result("/status p50", f"{p50:.1f} ms", f"<= {TARGET_MS:.0f} ms", p50 <= TARGET_MS, p50),
        Result("/status p99", f"{p99:.1f} ms", value=p99),
        Result(
            "/status max", f"{worst:.1f} ms", f"<= {TARGET_MS:.0f} ms", worst <= TARGET_MS, worst
        ),
        Result(
            "requests during the flood",
            f"{len(during)} ({failures} failed)",
            "none failed",
            failures == 0 and bool(during),
            len(during),
        ),
        Result(
            "answers saying 'running' during the flood",
            f"{running} / {len(during)}",
            "all",
            running == len(during) and bool(during),
            running,
        ),
        Result("message_update events during the flood", str(updates), value=updates),
        Result(
            "flood duration (agent's first to last write)",
            f"{flood_s:.1f} s ({mb / flood_s:.2f} MiB/s)",
            value=flood_s,
        ),
    )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
