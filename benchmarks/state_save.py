"""State file lag: how long after a transcript change the change is on disk.

The daemon runs the chat agent with ``--state-file``. For each turn, the time
the client received the ``message_update`` carrying the reply is compared with
the first moment the state file (read every 5 ms) holds that reply. This is
what a daemon killed with SIGKILL, or a workspace that loses power, can lose.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

from _common import Daemon, Report, Result, agent_command, base_parser, percentile

TARGET_S = 1.0


class FilePoller:
    """Reads the state file every 5 ms on a thread; notes when each message first appears."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.first_seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            try:
                saved = json.loads(self.path.read_text())
            except (OSError, ValueError):
                continue
            now = time.time()
            for message in saved.get("messages", []):
                self.first_seen.setdefault(message.get("message", ""), now)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args(argv)
    turns = 2 if args.quick else args.turns

    lags: list[float] = []
    with tempfile.TemporaryDirectory(prefix="agentapi-state-") as folder:
        state = Path(folder) / "state.json"
        with Daemon(agent_command("chat"), flags=["--state-file", str(state)]) as daemon:
            daemon.wait_listening()
            watcher = daemon.watch()
            watcher.wait_stable()
            poller = FilePoller(state)
            for n in range(turns):
                text = f"turn {n} {time.time_ns()}"
                daemon.turn(watcher, text)
                reply = f"echo: {text}"
                # The receive time of the update that first carried the whole reply.
                arrived = next(
                    e.received
                    for e in watcher.events
                    if e.name == "message_update" and e.json()["message"] == reply
                )
                deadline = time.time() + 10
                while reply not in poller.first_seen:
                    if time.time() > deadline:
                        raise RuntimeError(f"turn {n}: the reply never reached {state}")
                    time.sleep(0.005)
                lags.append(max(0.0, poller.first_seen[reply] - arrived))
            poller.close()
            watcher.close()

    ms = [lag * 1000 for lag in lags]
    report = Report(f"state file: reply on screen -> reply on disk ({turns} turns)")
    p50, worst = percentile(ms, 50), max(ms)
    target_ms = TARGET_S * 1000
    target = f"<= {target_ms:.0f} ms"
    report.add(
        Result(
            "reply on disk after it reached SSE, p50",
            f"{p50:.0f} ms",
            target,
            p50 <= target_ms,
            p50,
        ),
        Result(
            "reply on disk after it reached SSE, max",
            f"{worst:.0f} ms",
            target,
            worst <= target_ms,
            worst,
        ),
    )
    report.notes.append("saves are debounced by 0.5 s, so a burst of updates is one write")
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
