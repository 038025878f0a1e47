"""The benchmarks run (tiny sizes, no timing assertions): they must not rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_benchmarks_run_quick() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for section in ("1. SDK cycle", "2. GET", "3. a 4 MiB file", "4. one account", "5. the pytest fixture"):
        assert section in result.stdout
    assert "ratio" in result.stdout and "Traceback" not in result.stderr


def test_connection_benchmark_runs_quick() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.connections", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "HTTP/1.1 431" in result.stdout and "closed by the server" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_batch_benchmark_runs_small() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.batches", "--lines", "300", "--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "batch of 300 lines" in result.stdout and "peak traced memory while completing" in result.stdout


def test_big_scenario_benchmark_runs_quick() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.scenarios", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1. mockfiles check" in result.stdout and "during PUT" in result.stdout
