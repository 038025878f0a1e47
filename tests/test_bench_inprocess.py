"""The in-process benchmark runs (its figures are in bench/README.md; no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_in_process_benchmark_runs_quick() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", "--quick", "--no-peer"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "/ floor" in done.stdout and "/ socket" in done.stdout and "async / async floor" in done.stdout
