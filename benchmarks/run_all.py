"""Run every daemon benchmark, one subprocess each, and print a summary table.

  python benchmarks/run_all.py            full sizes (about 30 minutes, most of it memory.py)
  python benchmarks/run_all.py --quick    tiny sizes, a smoke run
  python benchmarks/run_all.py --only idle latency
  python benchmarks/run_all.py --skip memory

``throughput.py`` is run too when it is present (with ``--quick`` passed on);
its own output is shown as is.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine

HERE = Path(__file__).resolve().parent
# Short ones first, so a broken set-up shows up early.
BENCHMARKS = [
    "startup",
    "idle",
    "latency",
    "send_path",
    "fanout",
    "busy",
    "flood_status",
    "memory",
]
EXTERNAL = ["throughput"]  # scripts that may not take --json


def available() -> list[str]:
    return BENCHMARKS + [name for name in EXTERNAL if (HERE / f"{name}.py").exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run just these")
    parser.add_argument("--skip", nargs="+", metavar="NAME", default=[], help="leave these out")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    names = [n for n in available() if (not args.only or n in args.only) and n not in args.skip]
    unknown = set(args.only or []) - set(available())
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.list:
        print("\n".join(names))
        return 0

    print(f"machine: {machine()}")
    rows: list[tuple[str, str, str, str, str]] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            command = [sys.executable, str(HERE / f"{name}.py")]
            if args.quick:
                command.append("--quick")
            out = Path(tmp) / f"{name}.json"
            if name not in EXTERNAL:
                command += ["--json", str(out)]
            started = time.monotonic()
            code = subprocess.call(command, cwd=HERE.parent)
            took = time.monotonic() - started
            print(f"  ({name}: {took:.0f} s, exit code {code})", flush=True)
            if code != 0:
                failed.append(name)
            if out.exists():
                report = json.loads(out.read_text())
                for r in report["results"]:
                    if r["target"]:
                        verdict = "PASS" if r["passed"] else "MISS"
                        rows.append((name, r["name"], r["figure"], r["target"], verdict))
            elif name in EXTERNAL:
                rows.append((name, "(see its output above)", "", "", "ran" if not code else "FAIL"))

    header = ("benchmark", "figure", "value", "target", "result")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
    print("\n== summary ==")
    for i, row in enumerate([header, *rows]):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    if failed:
        print(f"\nbenchmarks that crashed: {', '.join(failed)}")
    # A missed target is a result, not a failure; a crash is a failure.
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
