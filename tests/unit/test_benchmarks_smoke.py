"""The benchmarks still run: each script with ``--quick`` (tiny sizes), all at once.

The scripts are started together and checked together, so the run takes about
as long as the slowest script (about 15 s; the budget is 55 s). It is one test
on purpose: under pytest-xdist a module-scoped fixture would run once per
worker, starting every benchmark twice. Figures and verdicts are not checked:
on a loaded test machine they mean nothing. A crash, a hang, or a report that
run_all.py could not put in the README table fails the test.
"""

from __future__ import annotations

import importlib
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
# Scripts that print a table of their own that run_all.py parses, instead of a JSON report.
TEXT_ONLY = {"throughput"}
TIMEOUT_S = 55.0


@dataclass
class Run:
    code: int | None
    stdout: str
    stderr: str
    report: dict[str, Any] | None


@pytest.fixture(scope="module")
def run_all() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCHMARKS_DIR))
    try:
        yield importlib.import_module("run_all")
    finally:
        sys.path.remove(str(BENCHMARKS_DIR))


def run_quick(names: list[str], tmp: Path) -> tuple[dict[str, Run], float]:
    """Every script with --quick, in parallel; the runs and the seconds they took in all."""
    started = time.monotonic()
    procs: dict[str, subprocess.Popen[str]] = {}
    for name in names:
        command = [sys.executable, str(BENCHMARKS_DIR / f"{name}.py"), "--quick"]
        if name not in TEXT_ONLY:
            command += ["--json", str(tmp / f"{name}.json")]
        procs[name] = subprocess.Popen(
            command,
            cwd=BENCHMARKS_DIR.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    deadline = started + TIMEOUT_S
    runs: dict[str, Run] = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            # Ctrl-C, not SIGTERM: the script's daemon runs in a session of its own, and
            # only an orderly exit of the script (its ``with Daemon``) stops it.
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            err += f"\n(interrupted after the {TIMEOUT_S:.0f} s budget)"
        report_path = tmp / f"{name}.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else None
        runs[name] = Run(proc.returncode, out, err, report)
    return runs, time.monotonic() - started


def problems_with(name: str, run: Run, run_all: ModuleType) -> list[str]:
    """What is wrong with one script's run; empty when it is fine."""
    if run.code != 0:
        return [f"exited with {run.code}:\n{run.stdout}\n{run.stderr}"]
    if "Traceback" in run.stderr:
        return [f"printed a traceback:\n{run.stderr}"]
    found: list[str] = []
    if name in TEXT_ONLY:
        try:
            report = asdict(run_all.throughput_report(run.stdout))
        except ValueError as exc:
            return [f"{exc}:\n{run.stdout}"]
    elif run.report is None:
        return ["wrote no JSON report"]
    else:
        report = run.report
        # The printed table shows the same figures, each verdict with it.
        if f"== {report['benchmark']} ==" not in run.stdout:
            found.append("printed no report title")
        found += [
            f"did not print {r['figure']!r}"
            for r in report["results"]
            if r["figure"] not in run.stdout
        ]
        if not re.search(r"\b(PASS|MISS)\b", run.stdout):
            found.append("printed no PASS or MISS")
    if not isinstance(report.get("benchmark"), str) or not report["results"]:
        found.append(f"empty report: {report}")
    for r in report["results"]:
        if not (isinstance(r["name"], str) and r["name"] and isinstance(r["figure"], str)):
            found.append(f"malformed result {r}")
        # A figure with a target carries a verdict; one without has none.
        elif r["target"] and r["passed"] not in (True, False):
            found.append(f"no verdict beside a target: {r}")
        elif not r["target"] and r["passed"] is not None:
            found.append(f"a verdict without a target: {r}")
    return found


def test_every_benchmark_runs_quick(run_all: ModuleType, tmp_path: Path) -> None:
    names = list(run_all.BENCHMARKS)
    runs, seconds = run_quick(names, tmp_path)
    problems = {name: problems_with(name, runs[name], run_all) for name in names}
    failed = {name: found for name, found in problems.items() if found}
    assert not failed, "\n\n".join(f"{n}: " + "\n".join(f) for n, f in failed.items())
    assert seconds < TIMEOUT_S

    # The README's results block can be built from these reports.
    store: dict[str, dict[str, Any]] = {"benchmarks": {}}
    for name, run in runs.items():
        report = run.report or asdict(run_all.throughput_report(run.stdout))
        extra = {"machine": "test machine", "ran": "now", "load": 0.0, "seconds": 1}
        store["benchmarks"][name] = report | extra
    block = run_all.results_markdown(store)
    assert block.startswith(run_all.BEGIN) and block.endswith(run_all.END)
    for name in names:
        assert f"`{name}`" in block


def test_run_all_knows_every_script() -> None:
    listed = subprocess.run(
        [sys.executable, str(BENCHMARKS_DIR / "run_all.py"), "--list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    on_disk = {p.stem for p in BENCHMARKS_DIR.glob("*.py") if not p.stem.startswith("_")}
    assert set(listed) == on_disk - {"run_all"}
