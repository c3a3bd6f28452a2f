"""ACP streaming: text delta to SSE message_update latency and daemon CPU, beside PTY mode.

An ACP agent (``agents/acp_stream.py``) answers one prompt with 50 KB/s of text in
chunks every 10 ms, each starting with ``MARK <n> <time.time()>``; a client on /events
timestamps the first message_update holding each mark. The same client then watches a
terminal agent (``agents/pty_stream.py``) print the same rate under the PTY transport.
The daemon's CPU (its own process, not the agent's) is read from /proc over the stream.
"""

from __future__ import annotations

import re
import sys
import threading
import time

from _common import (
    AGENTS,
    CpuWindow,
    Daemon,
    Report,
    Result,
    SseEvent,
    base_parser,
    percentile,
)

MARK = re.compile(r"MARK (\d{6}) (\d+\.\d+)")
TARGET_P50_MS = 50.0
TARGET_CPU_PERCENT = 25.0


def _measure(daemon: Daemon, start_stream, seconds: float) -> tuple[list[float], float, int]:
    latencies: dict[int, float] = {}
    lock = threading.Lock()

    def on_event(event: SseEvent) -> None:
        if event.name != "message_update":
            return
        with lock:
            for match in MARK.finditer(event.json()["message"]):
                n = int(match.group(1))
                if n not in latencies:
                    latencies[n] = event.received - float(match.group(2))

    watcher = daemon.watch(on_event)
    watcher.keep_events = False
    time.sleep(0.3)
    cpu = CpuWindow(daemon.pid).start()
    start_stream()
    time.sleep(seconds + 1.0)
    cpu.stop()
    watcher.close()
    values = [v * 1000 for _, v in sorted(latencies.items())]
    return values, cpu.percent, len(values)


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=50 * 1024, help="bytes per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 1.5
    report = Report(f"ACP streaming at {args.rate // 1024} KB/s for {args.seconds:g} s")

    acp_agent = [sys.executable, str(AGENTS / "acp_stream.py")]
    with Daemon(acp_agent, flags=["--experimental-acp"]) as daemon:
        daemon.wait_listening()
        daemon.wait_stable(60)
        acp, acp_cpu, acp_n = _measure(
            daemon,
            lambda: daemon.post_message(f"stream {args.rate} {args.seconds}"),
            args.seconds,
        )
    pty_agent = [
        sys.executable,
        str(AGENTS / "pty_stream.py"),
        "--rate",
        str(args.rate),
        "--seconds",
        str(args.seconds),
        "--delay",
        "3",
    ]
    with Daemon(pty_agent, flags=["--type", "custom", "--ready-timeout", "0"]) as daemon:
        daemon.wait_listening()
        # The agent starts on its own, 3 s after launch: be watching by then.
        pty, pty_cpu, pty_n = _measure(daemon, lambda: time.sleep(2.0), args.seconds + 1.0)

    for name, values, cpu, count in (
        ("ACP", acp, acp_cpu, acp_n),
        ("PTY", pty, pty_cpu, pty_n),
    ):
        p50, p99 = percentile(values, 50), percentile(values, 99)
        is_acp = name == "ACP"
        report.add(
            Result(
                f"{name} p50 latency",
                f"{p50:.1f} ms",
                f"<= {TARGET_P50_MS:.0f} ms" if is_acp else "",
                p50 <= TARGET_P50_MS if is_acp else None,
                p50,
            ),
            Result(f"{name} p99 latency", f"{p99:.1f} ms", "", None, p99),
            Result(
                f"{name} daemon CPU",
                f"{cpu:.1f} % of a core",
                f"<= {TARGET_CPU_PERCENT:.0f} %" if is_acp else "",
                cpu <= TARGET_CPU_PERCENT if is_acp else None,
                cpu,
            ),
            Result(f"{name} marks seen", str(count)),
        )
    chunk = max(40, int(args.rate * 0.02))
    achieved = acp_n * chunk / args.seconds / 1024
    report.add(
        Result(
            "ACP rate streamed",
            f"{achieved:.0f} KB/s",
            f">= {0.9 * args.rate / 1024:.0f} KB/s",
            achieved >= 0.9 * args.rate / 1024,
            achieved,
        ),
    )
    report.notes.append(
        "PTY marks that scroll past the screen between two publications are never seen; "
        "ACP publishes every chunk (coalesced once per event-loop iteration)"
    )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
