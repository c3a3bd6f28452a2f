"""Latency: from an agent's write to an SSE client holding the message_update with it.

The marker agent stays silent for a random 0.2–1.0 s, then writes one line
``MARK <n> <time.time()>``. The client on /events timestamps each frame when
its bytes arrive; the difference is the end-to-end latency: PTY, emulator,
vsync, conversation, event hub, HTTP. No user message is ever sent, so the
markers arrive as updates of message 0 (the start-up screen).
"""

from __future__ import annotations

import re
import threading

from _common import (
    Daemon,
    Report,
    Result,
    SseEvent,
    agent_command,
    base_parser,
    percentile,
)

MARK = re.compile(r"MARK (\d{6}) (\d+\.\d+)")
TARGET_P50_MS = 50.0
TARGET_P99_MS = 150.0


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--min-gap", type=float, default=0.2)
    parser.add_argument("--max-gap", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.min_gap, args.max_gap = 8, 0.1, 0.3
    samples = args.samples

    latencies: dict[int, float] = {}
    done = threading.Event()

    def on_event(event: SseEvent) -> None:
        if event.name != "message_update":
            return
        for match in MARK.finditer(event.json()["message"]):
            n = int(match.group(1))
            if n not in latencies:
                latencies[n] = event.received - float(match.group(2))
        if len(latencies) >= samples:
            done.set()

    agent = agent_command(
        "marker",
        "--count",
        str(samples),
        "--delay",
        "1.0",
        "--min-gap",
        str(args.min_gap),
        "--max-gap",
        str(args.max_gap),
    )
    with Daemon(agent) as daemon:
        daemon.wait_listening()
        # The agent waits a second before its first marker: the client is connected by then.
        watcher = daemon.watch(on_event)
        watcher.keep_events = False
        done.wait(5.0 + samples * args.max_gap * 1.5)
        watcher.close()

    values = [v * 1000 for _, v in sorted(latencies.items())]
    report = Report(f"latency: agent write -> SSE message_update ({len(values)} samples)")
    p50, p99 = percentile(values, 50), percentile(values, 99)
    report.add(
        Result(
            "p50 latency", f"{p50:.1f} ms", f"<= {TARGET_P50_MS:.0f} ms", p50 <= TARGET_P50_MS, p50
        ),
        Result(
            "p99 latency", f"{p99:.1f} ms", f"<= {TARGET_P99_MS:.0f} ms", p99 <= TARGET_P99_MS, p99
        ),
        Result("min / max", f"{min(values, default=0):.1f} / {max(values, default=0):.1f} ms"),
        Result(
            "markers received",
            f"{len(values)} of {samples}",
            f"{samples}",
            len(values) == samples,
            len(values),
        ),
    )
    report.notes.append("the daemon waits 16 ms of quiet output (vsync) before publishing")
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
