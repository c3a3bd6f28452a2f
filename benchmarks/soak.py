"""Soak: a chatty agent for a long time; RSS, open files and CPU must stay flat.

The chat agent answers every turn after ``--spin-kb`` KiB of spinner redraws and
floods ``--flood-mb`` MiB of text on Ctrl-F. For ``--duration`` seconds the
script keeps it busy: turns one after the other (POST /message, then waiting
for ``stable``), a flood every ``--flood-every`` turns, and SSE clients coming
and going (an /events client and an /internal/screen client opened every turn,
each reading a few events and hanging up; a long-lived /events watcher stays).
Every ``--interval`` seconds it prints the daemon's RSS (VmRSS), its open file
descriptors (/proc/PID/fd), its threads, and its CPU use over the interval.

"Flat" means: the RSS of the last sample exceeds the first sample after warm-up
(the second one) by at most 4 MiB plus what the transcript itself holds
(generously 1 KiB per message plus 4 times its text: _common.rss_budget_kib), and the
last sample holds no more file descriptors than the first one plus 2.

  python benchmarks/soak.py --duration 1800 --interval 60     the 30-minute soak
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from _common import (
    CpuWindow,
    Daemon,
    Report,
    Result,
    SseClient,
    agent_command,
    base_parser,
    rss_budget_kib,
    rss_kib,
)

SLACK_KIB = 4096
FD_SLACK = 2


@dataclass
class Sample:
    elapsed_s: float
    rss_kib: int
    fds: int
    threads: int
    cpu_percent: float
    turns: int
    floods: int
    clients: int
    messages: int
    text_bytes: int


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def brief_client(port: int, path: str, events: int) -> None:
    """An SSE client that reads the replay's first few events and hangs up."""
    client = SseClient(port, path, timeout=10)
    try:
        for n, _ in enumerate(client.events(), start=1):
            if n >= events:
                break
    except OSError:  # a timeout included
        pass
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds to run")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--spin-kb", type=float, default=20.0)
    parser.add_argument("--flood-mb", type=float, default=2.0)
    parser.add_argument("--flood-every", type=int, default=10, help="turns between floods")
    parser.add_argument(
        "--no-visitors", action="store_true", help="no SSE clients coming and going (to compare)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.interval, args.flood_mb, args.flood_every = 12.0, 4.0, 0.25, 2

    agent = agent_command("chat", "--spin-kb", str(args.spin_kb), "--flood-mb", str(args.flood_mb))
    samples: list[Sample] = []
    turns = floods = clients = 0
    with Daemon(agent) as daemon:
        daemon.wait_listening()
        watcher = daemon.watch()
        watcher.keep_events = False
        watcher.wait_stable()
        started = time.monotonic()
        window = CpuWindow(daemon.pid).start()
        next_sample = started

        def sample() -> None:
            nonlocal window
            window.stop()
            count, size = daemon.transcript()
            samples.append(
                Sample(
                    time.monotonic() - started,
                    rss_kib(daemon.pid),
                    open_fds(daemon.pid),
                    threads(daemon.pid),
                    window.percent,
                    turns,
                    floods,
                    clients,
                    count,
                    size,
                )
            )
            s = samples[-1]
            print(
                f"  {s.elapsed_s:7.0f} s  RSS {s.rss_kib / 1024:6.1f} MiB  fds {s.fds:3d}  "
                f"threads {s.threads:2d}  CPU {s.cpu_percent:5.1f}%  turns {s.turns:5d}  "
                f"floods {s.floods:4d}  SSE clients {s.clients:5d}  messages {s.messages} "
                f"({s.text_bytes / 1024:.0f} KiB of text)",
                flush=True,
            )
            window = CpuWindow(daemon.pid).start()

        while True:
            now = time.monotonic()
            if now >= next_sample:
                sample()
                next_sample += args.interval
            if now - started >= args.duration:
                break
            # Clients come and go while the turn runs.
            visitors = [
                threading.Thread(target=brief_client, args=(daemon.port, "/events", 3)),
                threading.Thread(target=brief_client, args=(daemon.port, "/internal/screen", 2)),
            ]
            if args.no_visitors:
                visitors = []
            for visitor in visitors:
                visitor.start()
            daemon.turn(watcher, f"turn {turns + 1:05d}: summarise the change")
            turns += 1
            for visitor in visitors:
                visitor.join(15)
            clients += len(visitors)
            if turns % args.flood_every == 0:
                daemon.flood(watcher, 60 + args.flood_mb * 30)
                floods += 1
        if samples[-1].elapsed_s < args.duration - 1:
            sample()
        # A subscriber the daemon had to drop for falling behind is a client it lost track of.
        dropped = daemon.log().count("fell")
        with contextlib.suppress(Exception):
            watcher.close()

    report = Report(
        f"soak: {args.duration:g} s of turns, floods ({args.flood_mb:g} MiB every "
        f"{args.flood_every} turns) and SSE clients coming and going"
    )
    base = samples[1] if len(samples) > 2 else samples[0]
    last = samples[-1]
    new_messages = last.messages - base.messages
    new_bytes = last.text_bytes - base.text_bytes
    budget = rss_budget_kib(SLACK_KIB, new_messages, new_bytes)
    growth = last.rss_kib - base.rss_kib
    report.add(
        Result(
            "RSS growth after warm-up",
            f"{growth / 1024:+.2f} MiB ({base.rss_kib / 1024:.1f} → {last.rss_kib / 1024:.1f} MiB "
            f"over {last.elapsed_s - base.elapsed_s:.0f} s)",
            f"<= {budget / 1024:.1f} MiB",
            growth <= budget,
            growth / 1024,
        ),
        Result(
            "open file descriptors, first → last sample",
            f"{samples[0].fds} → {last.fds} (max {max(s.fds for s in samples)})",
            f"<= {samples[0].fds + FD_SLACK}",
            last.fds <= samples[0].fds + FD_SLACK,
            last.fds,
        ),
        Result(
            "daemon CPU per interval, min / median / max",
            " / ".join(
                f"{v:.1f}%"
                for v in (
                    min(s.cpu_percent for s in samples[1:] or samples),
                    sorted(s.cpu_percent for s in samples[1:] or samples)[
                        len(samples[1:] or samples) // 2
                    ],
                    max(s.cpu_percent for s in samples[1:] or samples),
                )
            ),
        ),
        Result("turns / floods / SSE clients", f"{last.turns} / {last.floods} / {last.clients}"),
        Result("event subscribers dropped for falling behind", str(dropped), value=dropped),
    )
    for s in samples:
        report.notes.append(
            f"{s.elapsed_s:.0f} s: RSS {s.rss_kib / 1024:.1f} MiB, {s.fds} fds, "
            f"{s.threads} threads, CPU {s.cpu_percent:.1f}%, {s.turns} turns, "
            f"{s.floods} floods, {s.clients} SSE clients, {s.messages} messages "
            f"({s.text_bytes / 1024:.0f} KiB of text)"
        )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
