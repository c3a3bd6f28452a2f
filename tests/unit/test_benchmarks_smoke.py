"""The benchmarks still run: each script with ``--quick`` (tiny sizes), all at once.

The scripts are started together and checked one by one, so the whole file
takes about as long as the slowest script (about 15 s; the budget is 55 s).
Figures and verdicts are not checked: on a loaded test machine they mean
nothing. A crash, a hang, or a report that run_all.py could not put in the
README table fails the test.
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
# Every script writes a JSON report, except throughput.py, which prints a table that
# run_all.py parses.
JSON_SCRIPTS = [
    "startup",
    "idle",
    "latency",
    "send_path",
    "daemon_throughput",
    "flood_status",
    "fanout",
    "busy",
    "memory",
]
SCRIPTS = [*JSON_SCRIPTS, "throughput"]
TIMEOUT_S = 55.0


@dataclass
class Run:
    code: int | None
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    seconds: float


@pytest.fixture(scope="module")
def run_all() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCHMARKS_DIR))
    try:
        yield importlib.import_module("run_all")
    finally:
        sys.path.remove(str(BENCHMARKS_DIR))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("benchmarks")
    started = time.monotonic()
    procs: dict[str, subprocess.Popen[str]] = {}
    for name in SCRIPTS:
        command = [sys.executable, str(BENCHMARKS_DIR / f"{name}.py"), "--quick"]
        if name in JSON_SCRIPTS:
            command += ["--json", str(tmp / f"{name}.json")]
        procs[name] = subprocess.Popen(
            command,
            cwd=BENCHMARKS_DIR.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    deadline = started + TIMEOUT_S
    results: dict[str, Run] = {}
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
            err += f"\n(killed after the {TIMEOUT_S:.0f} s budget)"
        report_path = tmp / f"{name}.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else None
        results[name] = Run(proc.returncode, out, err, report, time.monotonic() - started)
    return results


def check_report(report: dict[str, Any]) -> None:
    assert isinstance(report["benchmark"], str) and report["benchmark"]
    results = report["results"]
    assert isinstance(results, list) and results
    for result in results:
        assert isinstance(result["name"], str) and result["name"], result
        assert isinstance(result["figure"], str) and result["figure"], result
        # A figure with a target carries a verdict; one without has none.
        if result["target"]:
            assert result["passed"] in (True, False), result
        else:
            assert result["passed"] is None, result


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_runs(runs: dict[str, Run], run_all: ModuleType, name: str) -> None:
    run = runs[name]
    assert run.code == 0, f"{name} exited with {run.code}:\n{run.stdout}\n{run.stderr}"
    assert "Traceback" not in run.stderr, run.stderr
    if name in JSON_SCRIPTS:
        assert run.report is not None, f"{name} wrote no JSON report"
        report = run.report
        # The printed table shows the same figures, each verdict with it.
        assert f"== {report['benchmark']} ==" in run.stdout
        for result in report["results"]:
            assert result["figure"] in run.stdout
        assert re.search(r"\b(PASS|MISS)\b", run.stdout), run.stdout
    else:
        report = asdict(run_all.throughput_report(run.stdout))
        assert len(report["results"]) >= 4, run.stdout
    check_report(report)


def test_whole_smoke_run_fits_the_budget(runs: dict[str, Run]) -> None:
    slowest = max(runs.values(), key=lambda r: r.seconds)
    assert slowest.seconds < TIMEOUT_S


def test_readme_table_is_built_from_the_reports(runs: dict[str, Run], run_all: ModuleType) -> None:
    reports = {n: r.report for n, r in runs.items() if r.report is not None}
    assert reports, "no benchmark wrote a report"
    store = {
        "benchmarks": {
            name: report | {"machine": "test", "ran": "now", "load": 0.0, "seconds": 1}
            for name, report in reports.items()
        }
    }
    block = run_all.results_markdown(store)
    assert block.startswith(run_all.BEGIN) and block.endswith(run_all.END)
    for name in reports:
        assert f"`{name}`" in block


def test_run_all_lists_every_benchmark() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS_DIR / "run_all.py"), "--list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    assert sorted(out) == sorted(SCRIPTS)
    on_disk = {p.stem for p in BENCHMARKS_DIR.glob("*.py") if not p.stem.startswith("_")}
    assert on_disk - {"run_all"} == set(SCRIPTS)
