"""The daemon benchmarks still run: each script with ``--quick`` (tiny sizes).

The scripts are started all at once and checked one by one, so the whole file
takes about as long as the slowest script. Figures are not checked: on a busy
test machine they mean nothing; a crash, a hang or a malformed report does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BENCHMARKS_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = [
    "startup",
    "idle",
    "latency",
    "send_path",
    "fanout",
    "busy",
    "flood_status",
    "memory",
]
TIMEOUT_S = 50.0


@dataclass
class Run:
    code: int | None
    stdout: str
    stderr: str
    report: dict[str, object] | None


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    tmp = tmp_path_factory.mktemp("benchmarks")
    procs: dict[str, subprocess.Popen[str]] = {}
    for name in SCRIPTS:
        procs[name] = subprocess.Popen(
            [
                sys.executable,
                str(BENCHMARKS_DIR / f"{name}.py"),
                "--quick",
                "--json",
                str(tmp / f"{name}.json"),
            ],
            cwd=BENCHMARKS_DIR.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    deadline = time.monotonic() + TIMEOUT_S
    results: dict[str, Run] = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        report_path = tmp / f"{name}.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else None
        results[name] = Run(proc.returncode, out, err, report)
    yield results


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_runs(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    assert run.code == 0, f"{name} exited with {run.code}:\n{run.stdout}\n{run.stderr}"
    assert "Traceback" not in run.stderr, run.stderr
    assert run.report is not None, f"{name} wrote no JSON report"
    results = run.report["results"]
    assert isinstance(results, list) and results
    # Every figure with a target carries a verdict, and the table shows them.
    for result in results:
        if result["target"]:
            assert result["passed"] in (True, False), result
    assert "PASS" in run.stdout or "MISS" in run.stdout


def test_run_all_lists_every_benchmark() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS_DIR / "run_all.py"), "--list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    assert set(SCRIPTS) <= set(out)
    assert set(out) - set(SCRIPTS) <= {"throughput"}
