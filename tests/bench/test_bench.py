"""The benchmarks run (tiny sizes, no timing assertions): they must not rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.socket.hotspots import KERNEL, part_of, shares
from bench.tools.procstat import TICK, Usage, parse_stat
from bench.tools.wrk import parse_summary

ROOT = Path(__file__).parents[2]


def test_benchmarks_run_quick() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    sections = (
        "1. SDK cycle",
        "2. under load",
        "2b. GET /v1/files/{id} against connections",
        "3. a 4 MiB file",
        "4. one account",
        "5. the pytest fixture",
        "6. run on their own",
        "7. in process: the SDK cycle against the SDK's own floor",
        "8. a downstream suite's cost per test",
    )
    for section in sections:
        assert section in result.stdout
    assert "ratio" in result.stdout and "Traceback" not in result.stderr
    assert "minor page faults" in result.stdout and "CPU per request" in result.stdout
    assert "python -m bench.inprocess.inprocess" in result.stdout  # the benchmarks that run on their own are named


def test_proc_stat_fields() -> None:
    """/proc/<pid>/stat: a command name with spaces and parentheses does not shift the fields."""
    line = "42 (a (b) c) S 1 42 42 0 -1 4194304 1234 0 5 0 300 150 0 0 20 0 3 0 100 2998272 391"
    assert parse_stat(line) == Usage(user=300 * TICK, system=150 * TICK, minor_faults=1234, major_faults=5)
    assert (parse_stat(line) - Usage(user=100 * TICK)).cpu == pytest.approx(350 * TICK)


def test_wrk_summary_line() -> None:
    output = "Running 5s test @ http://127.0.0.1:1/v1/files\nWRK_SUMMARY 83000 5001234 2 3 1990 3275 9000 2050\n"
    assert parse_summary(output) == (83000, 5.001234, 5, 1.99, 3.275)
    with pytest.raises(RuntimeError, match="no summary"):
        parse_summary("wrk: connection refused")


def test_profile_samples_are_put_in_the_innermost_known_part() -> None:
    app = "MockFilesApp.__call__ (mockfiles/web/app.py:101)"
    raw = "\n".join(
        [
            f"serve (mockfiles/server.py:249);{app};authenticate (mockfiles/admission/auth.py:28);_PyEval (libpython3.11.so) 3",
            f"serve (mockfiles/server.py:249);{app};Journal.record (mockfiles/core/journal.py:32) 1",
            f"serve (mockfiles/server.py:249);{app};write (libc.so.6) 6",
        ]
    )
    parts, samples = shares(raw)
    assert samples == 4 and parts == {"authentication": 0.75, "journal": 0.25}
    assert part_of(["x (mockfiles/web/app.py:1)", "write (libc.so.6)"]) == KERNEL


def test_connection_benchmark_runs_quick() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.socket.connections", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "HTTP/1.1 431" in result.stdout and "closed by the server" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_batch_benchmark_runs_small() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.domain.batches", "--lines", "300", "--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "batch of 300 lines" in result.stdout and "peak traced memory while completing" in result.stdout


def test_the_fine_tuning_benchmark_runs_small() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.domain.fine_tuning", "--examples", "300", "--rounds", "1", "--http"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "300 examples" in result.stdout and "over HTTP (openai SDK): upload" in result.stdout


def test_big_scenario_benchmark_runs_quick() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.socket.scenarios", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1. mockfiles check" in result.stdout and "during PUT" in result.stdout


def test_the_uploads_benchmark_runs_quick() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.socket.uploads", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ratio Parts / one POST /files" in result.stdout and "RSS growth" in result.stdout
    assert "complete with md5" in result.stdout


def test_the_hostile_account_benchmark_runs_quick() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.socket.hostile", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    for case in ("images", "chat", "quota", "rates", "uploads", "journal", "idle", "results", "calls", "creates"):
        assert f"  {case} " in result.stdout, (case, result.stdout)
    assert "RSS" in result.stdout and "health check" in result.stdout and " 0 5xx" in result.stdout


def test_the_chat_benchmark_runs_quick() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.socket.chat", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "files.retrieve" in result.stdout and "chat, a 1 KiB file, streamed" in result.stdout
    assert "Traceback" not in result.stderr
