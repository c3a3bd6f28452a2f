"""Long-polls: many idle waiters cost nothing, and a change wakes them at once.

``--clients`` long-polls (``GET /messages?wait=60&revision=R``) and as many SSE
clients (``GET /events``) are parked on one daemon with the demo agent settled; the
daemon's CPU is read from /proc over ``--seconds``. Then, ``--rounds`` times, every
long-poll is parked again and one user message is posted: each long-poll's wake-up
latency is the time from the change (the POST's 200 arrives: the daemon records the
user message just before writing it) to receiving its answer: one change, N answers.
"""

from __future__ import annotations

import asyncio
import json
import time

from _common import (
    DEMO_AGENT,
    HOST,
    CpuWindow,
    Daemon,
    Report,
    Result,
    SseParser,
    base_parser,
    http_request,
    percentile,
    sse_request,
)

TARGET_PERCENT = 0.5
TARGET_P50_MS = 50.0


async def long_poll(port: int, revision: int, wait_s: float) -> tuple[float, int]:
    """One long-poll on its own connection: (monotonic time of the answer, status code)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    path = f"/messages?wait={wait_s:g}&revision={revision}"
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readline()
    answered = time.monotonic()
    await reader.read()  # the rest of the answer, until the daemon closes
    writer.close()
    return answered, int(head.split()[1])


async def sse_client(port: int, ready: asyncio.Event, stop: asyncio.Event) -> int:
    """An SSE client that reads its replay and then idles; returns live events seen."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(sse_request(port, "/events"))
    parser = SseParser()
    live = 0
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            reading = asyncio.create_task(reader.read(1 << 16))
            done, _ = await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if reading not in done:
                reading.cancel()
                break
            data = reading.result()
            if not data:
                break
            for event in parser.feed(data, 0.0):
                if ready.is_set():
                    live += 1
                elif event.name == "status_change":
                    ready.set()  # the replay ends with the status
    finally:
        stopping.cancel()
        writer.close()
    return live


def revision(daemon: Daemon) -> int:
    return int(daemon.get("/messages")["revision"])


async def idle_cost(daemon: Daemon, clients: int, seconds: float) -> tuple[CpuWindow, int, int]:
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(clients)]
    streams = [asyncio.create_task(sse_client(daemon.port, r, stop)) for r in readies]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    current = revision(daemon)
    polls = [
        asyncio.create_task(long_poll(daemon.port, current, seconds + 20)) for _ in range(clients)
    ]
    await asyncio.sleep(1.0)  # every long-poll parked, the connections' own work done
    cpu = CpuWindow(daemon.pid).start()
    await asyncio.sleep(seconds)
    cpu.stop()
    answered_early = sum(1 for p in polls if p.done())
    stop.set()
    live = sum(await asyncio.gather(*streams))
    for poll in polls:
        poll.cancel()
    await asyncio.gather(*polls, return_exceptions=True)
    return cpu, answered_early, live


def post_message(port: int, content: str) -> float:
    """POST a user message; the monotonic time its 200 answer arrived."""
    status, answer = http_request(port, "POST", "/message", {"content": content, "type": "user"})
    if status != 200:
        raise RuntimeError(f"POST /message answered {status}: {json.dumps(answer)}")
    return time.monotonic()


async def wake_latencies(daemon: Daemon, clients: int, rounds: int) -> list[float]:
    """Each long-poll's answer time minus the arrival of the POST's 200.

    The daemon records the user message (the change) just before it writes that 200,
    so this is the wake-up and the answer of every waiter, measured from the change.
    """
    latencies: list[float] = []
    for n in range(rounds):
        daemon.wait_stable()
        current = revision(daemon)
        polls = [asyncio.create_task(long_poll(daemon.port, current, 60)) for _ in range(clients)]
        await asyncio.sleep(0.5)
        posted = await asyncio.to_thread(post_message, daemon.port, f"round {n}")
        answers = await asyncio.wait_for(asyncio.gather(*polls), 30)
        latencies += [answered - posted for answered, code in answers if code == 200]
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="long-polls, and SSE clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="idle measuring window")
    parser.add_argument("--rounds", type=int, default=5, help="wake-ups measured")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.seconds, args.rounds = 5, 1.0, 1

    report = Report(
        f"longpoll: {args.clients} idle long-polls + {args.clients} idle SSE clients, "
        f"{args.seconds:g} s; wake-up of {args.clients} long-polls x {args.rounds}"
    )
    with Daemon([*DEMO_AGENT, "--think", "0.1"]) as daemon:
        daemon.wait_listening()
        daemon.wait_stable()
        cpu, early, live = asyncio.run(idle_cost(daemon, args.clients, args.seconds))
        latencies = asyncio.run(wake_latencies(daemon, args.clients, args.rounds))
        single = asyncio.run(wake_latencies(daemon, 1, args.rounds * 2))

    p50 = percentile(latencies, 50) * 1000
    p99 = percentile(latencies, 99) * 1000
    report.add(
        Result(
            "daemon CPU while idle (% of one core)",
            f"{cpu.percent:.3f}% ({cpu.cpu:.2f} s / {cpu.wall:.1f} s)",
            f"< {TARGET_PERCENT}%",
            cpu.percent < TARGET_PERCENT,
            cpu.percent,
        ),
        Result("long-polls answered while idle", str(early), "0", early == 0, early),
        Result("SSE events received while idle", str(live), value=live),
        Result(
            "long-poll wake-up latency p50",
            f"{p50:.1f} ms",
            f"< {TARGET_P50_MS:g} ms",
            p50 < TARGET_P50_MS,
            p50 / 1000,
        ),
        Result(
            "long-poll wake-up latency p99",
            f"{p99:.1f} ms ({len(latencies)} wake-ups)",
            value=p99 / 1000,
        ),
        Result(
            "one waiter alone: wake-up latency p50 / max",
            f"{percentile(single, 50) * 1000:.1f} ms / {max(single) * 1000:.1f} ms "
            f"({len(single)} wake-ups)",
            value=percentile(single, 50),
        ),
    )
    report.notes.append(
        "latency: from the POST /message 200 (written right after the user message is "
        "recorded) to each long-poll's status line; all are woken by the same change, so "
        "p99 includes answering every one of them"
    )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
