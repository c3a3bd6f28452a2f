"""Send path: how long POST /message takes for an agent that reacts at once.

The chat agent echoes a pasted message on its prompt line immediately and
answers the moment Enter arrives. The daemon pastes, waits for the echo to
settle (until the screen has been quiet for 300 ms), presses Enter and answers
200 once the screen changed again. Each send is made after the status is
``stable`` again; the figure is the POST's round trip as the client sees it.

The same is then measured, without a target, for the chat agent with
``--no-echo``: many TUIs show nothing of a paste, and the daemon's wait for an
echo that never comes (at most 2 s) is then on every send.
"""

from __future__ import annotations

from _common import Daemon, Report, Result, agent_command, base_parser, percentile

TARGET_S = 1.0


def post_times(agent: list[str], sends: int) -> list[float]:
    """Milliseconds each POST /message took, each sent once the agent is stable."""
    times: list[float] = []
    with Daemon(agent) as daemon:
        daemon.wait_listening()
        watcher = daemon.watch()
        watcher.keep_events = False
        watcher.wait_stable()
        for n in range(sends):
            took = daemon.turn(watcher, f"message {n}: what changed in the last commit?")
            times.append(took * 1000)
        watcher.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--sends", type=int, default=20)
    parser.add_argument("--silent-sends", type=int, default=5, help="sends to the no-echo agent")
    args = parser.parse_args(argv)
    sends, silent_sends = (2, 1) if args.quick else (args.sends, args.silent_sends)

    ms = post_times(agent_command("chat"), sends)
    silent = post_times(agent_command("chat", "--no-echo"), silent_sends) if silent_sends else []

    p50 = percentile(ms, 50)
    report = Report(f"send path: POST /message to 200, instant-echo agent ({sends} sends)")
    report.add(
        Result(
            "POST /message round trip, p50",
            f"{p50:.0f} ms",
            f"< {TARGET_S * 1000:.0f} ms (no added seconds)",
            p50 < TARGET_S * 1000,
            p50,
        ),
        Result("min / max", f"{min(ms):.0f} / {max(ms):.0f} ms"),
    )
    if silent:
        quiet_p50 = percentile(silent, 50)
        report.add(
            Result(
                f"p50 for an agent that does not echo ({len(silent)} sends)",
                f"{quiet_p50:.0f} ms",
                value=quiet_p50,
            )
        )
    report.notes.append(
        "the daemon waits for the echo, then for 300 ms without screen change, before Enter"
    )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
