"""Responsiveness under a flood: /status response times while the agent floods output.

The flood agent waits until the daemon reports ``stable``, then writes
``--mb`` MiB of plain text as fast as the PTY takes it. Meanwhile this script
asks GET /status every ``--interval`` seconds, each on a fresh connection (as
a monitoring script with curl would), and keeps the requests made between the
flood's first and last write (the agent records both). Every request must be
answered within 50 ms. The answers themselves are checked too: an agent that
is printing is not waiting for input, so the status should read ``running``
once the first screen of the flood has been published (the vsync publishes at
least every 48 ms of busy output; requests in the flood's first
``SETTLE_S`` are not held to this). One client on /events counts the
message_update events it gets meanwhile, and one on /internal/screen times
the gaps between published screens: a daemon that stops publishing while
output keeps coming shows a stale transcript for as long as the flood lasts.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import time
from pathlib import Path

from _common import (
    Daemon,
    Report,
    Result,
    ScreenWatcher,
    agent_command,
    base_parser,
    http_request,
    percentile,
)

TARGET_MS = 50.0
# The daemon calls a screen stable after 2 s without change: start the flood after that.
FLOOD_DELAY_S = 3.0
# The first screen of the flood is due within the vsync cap (48 ms); leave room for it.
SETTLE_S = 0.1
# The vsync cap is 48 ms: twice that, so scheduling noise on a loaded machine is not a miss.
TARGET_GAP_MS = 100.0


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="MiB the agent writes")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between requests")
    args = parser.parse_args(argv)
    mb = 2.0 if args.quick else args.mb

    samples: list[tuple[float, float, str]] = []  # (wall time sent, seconds, status)
    update_counts: list[int] = []  # message_update events seen when each request was sent
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
            screens = ScreenWatcher(daemon.port, ["FLOOD DONE"])
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
                update_counts.append(watcher.counts.get("message_update", 0))
                time.sleep(max(0.0, args.interval - took))
            # Past the flood, the status must settle again: the daemon caught up.
            shown = screens.wait_for("FLOOD DONE", 60)
            watcher.wait_stable(60)
            watcher.close()
            screens.close()
            stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}

    start, done = stats.get("start", 0.0), stats.get("done", float("inf"))
    window = [i for i, (t0, _, _) in enumerate(samples) if start <= t0 <= done]
    during = [samples[i][1] * 1000 for i in window]
    settled = [i for i in window if samples[i][0] >= start + SETTLE_S]
    running = sum(1 for i in settled if samples[i][2] == "running")
    updates = update_counts[window[-1]] - update_counts[window[0]] if window else 0
    marks = [start, *(t for t in screens.times if start < t < done), done]
    gap_ms = max(b - a for a, b in itertools.pairwise(marks)) * 1000
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
            f"answers saying 'running' (from {SETTLE_S * 1000:.0f} ms into the flood)",
            f"{running} / {len(settled)}",
            "all",
            running == len(settled) and bool(settled),
            running,
        ),
        Result(
            "longest gap between published screens during the flood",
            f"{gap_ms:.0f} ms ({len(marks) - 2} screens in {flood_s:.1f} s)",
            f"<= {TARGET_GAP_MS:.0f} ms",
            gap_ms <= TARGET_GAP_MS,
            gap_ms,
        ),
        Result("message_update events during the flood", str(updates), value=updates),
        Result(
            "flood duration (agent's first to last write)",
            f"{flood_s:.1f} s ({mb / flood_s:.2f} MiB/s)",
            value=flood_s,
        ),
        Result(
            "last line on the daemon's screen after the agent's last write",
            f"{(shown - done) * 1000:.0f} ms",
            value=shown - done,
        ),
    )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
