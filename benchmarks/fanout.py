"""Fan-out: many SSE clients on one daemon while the agent streams a long reply.

``--clients`` clients connect to /events, then one user message makes the
chat agent stream ``--lines`` lines over ``--seconds`` seconds. Every client
must receive every event, in the same order (the sequences of (event, data)
are compared client by client), and each message's content must only grow.
The daemon's CPU seconds over the whole turn are divided by the number of
events delivered (events x clients).
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from _common import (
    HOST,
    CpuWindow,
    Daemon,
    Report,
    Result,
    SseParser,
    agent_command,
    base_parser,
    http_request,
    sse_request,
)


class Client:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.replayed = asyncio.Event()
        self.finished = asyncio.Event()
        self.replay_len = 0
        self.bytes = 0
        self.error = ""

    async def run(self, port: int) -> None:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError as exc:
            self.error = f"connect: {exc}"
            self.replayed.set()
            self.finished.set()
            return
        writer.write(sse_request(port, "/events"))
        parser = SseParser()
        saw_running = False
        try:
            while not self.finished.is_set():
                data = await reader.read(1 << 16)
                if not data:
                    self.error = "the daemon closed the stream"
                    break
                self.bytes += len(data)
                for event in parser.feed(data, 0.0):
                    self.events.append((event.name, event.data))
                    if event.name != "status_change":
                        continue
                    status = json.loads(event.data)["status"]
                    if not self.replayed.is_set():
                        # The replay ends with the current status.
                        self.replay_len = len(self.events)
                        self.replayed.set()
                    elif status == "running":
                        saw_running = True
                    elif status == "stable" and saw_running:
                        self.finished.set()
        finally:
            self.replayed.set()
            self.finished.set()
            writer.close()

    @property
    def live(self) -> list[tuple[str, str]]:
        return self.events[self.replay_len :]


def in_order(events: list[tuple[str, str]]) -> bool:
    """Ids never go back and a message's content only grows while it streams."""
    last_id = -1
    contents: dict[int, str] = {}
    for name, data in events:
        if name != "message_update":
            continue
        update = json.loads(data)
        if update["id"] < last_id:
            return False
        last_id = update["id"]
        before = contents.get(update["id"], "")
        if not update["message"].startswith(before.rstrip()):
            return False
        contents[update["id"]] = update["message"]
    return True


async def measure(
    daemon: Daemon, clients: int, lines: int, seconds: float
) -> tuple[list[Client], CpuWindow]:
    crowd = [Client() for _ in range(clients)]
    tasks = [asyncio.create_task(c.run(daemon.port)) for c in crowd]
    await asyncio.wait_for(asyncio.gather(*(c.replayed.wait() for c in crowd)), 60)
    cpu = CpuWindow(daemon.pid).start()
    status, body = await asyncio.to_thread(
        http_request,
        daemon.port,
        "POST",
        "/message",
        {"content": f"/stream {lines} {seconds}", "type": "user"},
    )
    if status != 200:
        raise RuntimeError(f"POST /message answered {status}: {body}")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(c.finished.wait() for c in crowd)), seconds + 60)
    cpu.stop()
    for c in crowd:
        c.finished.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return crowd, cpu


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--lines", type=int, default=200, help="lines in the streamed reply")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of the stream")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.lines, args.seconds = 5, 20, 0.5

    with Daemon(agent_command("chat")) as daemon:
        daemon.wait_listening()
        daemon.wait_stable()
        crowd, cpu = asyncio.run(measure(daemon, args.clients, args.lines, args.seconds))
        final = daemon.get("/messages")["messages"]
    # The same turn with one client: what the emulator and the conversation cost on
    # their own, so the cost of each extra delivery can be told apart.
    with Daemon(agent_command("chat")) as daemon:
        daemon.wait_listening()
        daemon.wait_stable()
        solo, solo_cpu = asyncio.run(measure(daemon, 1, args.lines, args.seconds))

    reference = crowd[0].events
    identical = sum(1 for c in crowd if c.events == reference and not c.error)
    ordered = sum(1 for c in crowd if in_order(c.events))
    complete = sum(1 for c in crowd if c.finished.is_set() and not c.error)
    last_content = final[-1]["content"] if final else ""
    reference_last = ""
    for name, data in reversed(reference):
        if name == "message_update":
            reference_last = json.loads(data)["message"]
            break
    per_client = len(crowd[0].live)
    delivered = sum(len(c.live) for c in crowd)
    mb = sum(c.bytes for c in crowd) / 1e6
    errors = sorted({c.error for c in crowd if c.error})
    extra = delivered - len(solo[0].live)
    marginal = (cpu.cpu - solo_cpu.cpu) / extra if extra > 0 else float("nan")

    report = Report(
        f"fanout: {args.clients} SSE clients, a {args.lines}-line reply over {args.seconds} s"
    )
    all_ok = identical == ordered == len(crowd) and reference_last == last_content
    report.add(
        Result(
            "clients with identical event sequences",
            f"{identical} / {len(crowd)}",
            "all",
            identical == len(crowd),
            identical,
        ),
        Result(
            "clients whose events are in order",
            f"{ordered} / {len(crowd)}",
            "all",
            ordered == len(crowd),
            ordered,
        ),
        Result(
            "last update equals GET /messages",
            str(reference_last == last_content),
            "True",
            reference_last == last_content,
        ),
        Result("live events per client", str(per_client), value=per_client),
        Result("events delivered (all clients)", f"{delivered} ({mb:.1f} MB)", value=delivered),
        Result(
            "daemon CPU per event delivered",
            f"{cpu.cpu / max(delivered, 1) * 1e6:.0f} µs",
            value=cpu.cpu / max(delivered, 1),
        ),
        Result(
            "daemon CPU per extra delivery (vs 1 client)",
            f"{marginal * 1e6:.0f} µs",
            value=marginal,
        ),
        Result(
            "daemon CPU during the turn",
            f"{cpu.cpu:.2f} s in {cpu.wall:.2f} s ({cpu.percent:.0f}% of a core)",
            value=cpu.percent,
        ),
        Result("every client got every event", "yes" if all_ok else "no", "yes", all_ok),
    )
    report.notes.append(f"clients that finished the turn: {complete} / {len(crowd)}")
    report.notes.append(
        f"with 1 client the same turn took {solo_cpu.cpu:.2f} s of daemon CPU for "
        f"{len(solo[0].live)} events; CPU is counted from the POST to the final 'stable'"
    )
    for error in errors:
        report.notes.append(f"client error: {error}")
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
