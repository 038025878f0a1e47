"""The downstream-suite benchmark runs (its figures are in bench/README.md; no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bench.suite", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_the_suite_benchmark_runs_quick() -> None:
    out = run("--quick", "--suites", "fixture alone,in-process sync,socket async")
    assert "ms per test over the empty suite" in out
    assert "in-process sync" in out and "socket async" in out and "load during the runs" in out


def test_the_steps_of_a_test_are_measured() -> None:
    out = run("--steps", "--quick")
    assert "server.client(): the kept one" in out and "in process: an async test's body" in out
