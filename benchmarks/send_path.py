"""Send path: how long POST /message takes for an agent that reacts at once.

The chat agent echoes a pasted message on its prompt line immediately and
answers the moment Enter arrives. The daemon pastes, waits for the echo to
settle, presses Enter and answers 200 once the screen changed again. Each
send is made after the status is ``stable`` again; the figure is the POST's
round trip as the client sees it.
"""

from __future__ import annotations

from _common import Daemon, Report, Result, agent_command, base_parser, percentile

TARGET_S = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--sends", type=int, default=20)
    args = parser.parse_args(argv)
    sends = 2 if args.quick else args.sends

    times: list[float] = []
    with Daemon(agent_command("chat")) as daemon:
        daemon.wait_listening()
        watcher = daemon.watch()
        watcher.keep_events = False
        watcher.wait_stable()
        for n in range(sends):
            times.append(daemon.turn(watcher, f"message {n}: what changed in the last commit?"))
        watcher.close()

    ms = [t * 1000 for t in times]
    p50 = percentile(ms, 50)
    report = Report(f"send path: POST /message to 200, instant-echo agent ({sends} sends)")
    report.add(
        Result(
            "p50",
            f"{p50:.0f} ms",
            f"< {TARGET_S * 1000:.0f} ms (no added seconds)",
            p50 < TARGET_S * 1000,
            p50,
        ),
        Result("min / max", f"{min(ms):.0f} / {max(ms):.0f} ms"),
    )
    report.notes.append(
        "the daemon waits for the echo, then for 300 ms without screen change, before Enter"
    )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
