"""Run every benchmark, one subprocess each, and print a summary table.

  python benchmarks/run_all.py                    full sizes (about 30 minutes, most of it memory)
  python benchmarks/run_all.py --quick            tiny sizes, a smoke run
  python benchmarks/run_all.py --only idle busy   just these
  python benchmarks/run_all.py --skip memory      all but these
  python benchmarks/run_all.py --write-readme     also record the results and rewrite the
                                                  table in benchmarks/README.md

``--write-readme`` merges this run's reports into ``benchmarks/results.json``
(one entry per benchmark, replaced when that benchmark runs again), so a
single noisy benchmark can be re-run without redoing the others, and then
regenerates the results block of the README from that file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import Report, Result, machine

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
RESULTS = HERE / "results.json"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

# Short ones first, so a broken set-up shows up early. The number is the item of the
# performance issue each benchmark answers, and orders the README table (None: an extra).
BENCHMARKS: dict[str, int | None] = {
    "startup": 7,
    "idle": 1,
    "latency": 3,
    "send_path": 8,
    "state_save": None,
    "chat_page": None,
    "throughput": 2,
    "daemon_throughput": 2,
    "flood_status": 2,
    "fanout": 4,
    "longpoll": None,
    "busy": 5,
    "memory": 6,
    "acp_stream": None,
    "soak": None,
}
# Scripts that print a table of their own instead of writing a JSON report.
TEXT_ONLY = {"throughput"}

_THROUGHPUT_ROW = re.compile(
    r"^(?P<kind>.+?)\s+(?P<stock>[\d.]+) MB/s\s+(?P<ours>[\d.]+) MB/s\s+(?P<x>[\d.]+)x$"
)


def throughput_report(stdout: str) -> Report:
    """The figures ``throughput.py`` prints, as a report (emulator only, no daemon)."""
    report = Report("emulator throughput (throughput.py)")
    for line in stdout.splitlines():
        line = line.strip()
        match = _THROUGHPUT_ROW.match(line)
        if match:
            stock, ours = float(match["stock"]), float(match["ours"])
            report.add(
                Result(
                    f"{match['kind']}: emulator (stock pyte)",
                    f"{ours:.2f} MB/s ({stock:.2f} MB/s, x{match['x']})",
                    value=ours,
                )
            )
        elif line.startswith(("raw PTY read rate:", "screen read:")):
            name, _, figure = line.partition(":")
            report.add(Result(name, figure.strip()))
    if not report.results:
        raise ValueError("throughput.py printed no figures")
    return report


def run_one(name: str, quick: bool, tmp: Path) -> tuple[int, dict[str, Any] | None]:
    command = [sys.executable, str(HERE / f"{name}.py")]
    if quick:
        command.append("--quick")
    out = tmp / f"{name}.json"
    if name not in TEXT_ONLY:
        command += ["--json", str(out)]
    load = os.getloadavg()[0]
    ran = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.monotonic()
    proc = subprocess.run(command, cwd=HERE.parent, stdout=subprocess.PIPE, text=True)
    took = time.monotonic() - started
    print(proc.stdout, end="")
    print(f"  ({name}: {took:.0f} s, exit code {proc.returncode})", flush=True)
    if proc.returncode != 0:
        return proc.returncode, None
    if name in TEXT_ONLY:
        report: dict[str, Any] = asdict(throughput_report(proc.stdout))
    elif out.exists():
        report = json.loads(out.read_text())
    else:
        return 1, None
    report["ran"] = ran
    report["load"] = round(load, 2)
    report["seconds"] = round(took)
    return 0, report


def verdict(result: dict[str, Any]) -> str:
    if not result.get("target"):
        return "-"
    return "PASS" if result["passed"] else "MISS"


def summary_rows(reports: dict[str, dict[str, Any]]) -> list[tuple[str, ...]]:
    rows = []
    for name, report in reports.items():
        for r in report["results"]:
            if r["target"]:
                rows.append((name, r["name"], r["figure"], r["target"], verdict(r)))
    return rows


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for i, row in enumerate([header, *rows]):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def results_markdown(store: dict[str, Any]) -> str:
    """The README's results block: machine, the targets table, then the other figures."""
    reports: dict[str, dict[str, Any]] = store["benchmarks"]
    order = list(BENCHMARKS)

    def rank(name: str) -> tuple[int, int]:
        return (BENCHMARKS.get(name) or 99, order.index(name) if name in order else 99)

    ordered = sorted(reports, key=rank)
    machines = sorted({reports[n]["machine"] for n in ordered})
    lines = [BEGIN, ""]
    for m in machines:
        lines.append(f"Machine: {m}.")
    lines += [
        "",
        "| # | benchmark | figure | target | result | verdict |",
        "|---|---|---|---|---|---|",
    ]
    others = []
    for name in ordered:
        report = reports[name]
        for r in report["results"]:
            item = BENCHMARKS.get(name)
            row = (str(item) if item else "-", f"`{name}`", r["name"], r["target"], r["figure"])
            if r["target"]:
                lines.append("| " + " | ".join(_cell(c) for c in row) + f" | {verdict(r)} |")
            else:
                others.append(row)
    lines += [
        "",
        "Other figures (reported, no target):",
        "",
        "| # | benchmark | figure | result |",
        "|---|---|---|---|",
    ]
    for number, bench, figure, _, result in others:
        lines.append(f"| {number} | {bench} | {_cell(figure)} | {_cell(result)} |")
    lines += ["", "When each ran (start time, and the 1-minute load average just before):", ""]
    for name in ordered:
        r = reports[name]
        lines.append(f"- `{name}`: {r['ran']}, load {r['load']}, took {r['seconds']} s")
    lines += ["", END]
    return "\n".join(lines)


def write_readme(new: dict[str, dict[str, Any]]) -> None:
    store: dict[str, Any] = {"benchmarks": {}}
    if RESULTS.exists():
        store = json.loads(RESULTS.read_text())
    description = machine(date=False)  # each report has its own date, in "ran"
    for name, report in new.items():
        report["machine"] = description
        store["benchmarks"][name] = report
    RESULTS.write_text(json.dumps(store, indent=2, ensure_ascii=False) + "\n")
    text = README.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{README} has no {BEGIN} ... {END} block to rewrite")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + results_markdown(store) + tail)
    print(f"\nwrote {RESULTS.name} and the results table of {README.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run just these")
    parser.add_argument("--skip", nargs="+", metavar="NAME", default=[], help="leave these out")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--write-readme", action="store_true", help="record the results, rewrite the README table"
    )
    args = parser.parse_args(argv)

    unknown = set(args.only or []) | set(args.skip)
    unknown -= set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.quick and args.write_readme:
        parser.error("--quick figures do not belong in the README")
    names = [n for n in BENCHMARKS if (not args.only or n in args.only) and n not in args.skip]
    if args.list:
        print("\n".join(names))
        return 0

    print(f"machine: {machine()}")
    reports: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            code, report = run_one(name, args.quick, Path(tmp))
            if code != 0 or report is None:
                failed.append(name)
            else:
                reports[name] = report

    print("\n== summary ==")
    print_table(("benchmark", "figure", "value", "target", "result"), summary_rows(reports))
    if failed:
        print(f"\nbenchmarks that crashed: {', '.join(failed)}")
    if args.write_readme and reports:
        write_readme(reports)
    # A missed target is a result, not a failure; a crash is a failure.
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
