"""The benchmark suite: each figure beside a baseline measured in the same run.

    python -m bench                 # everything, full sizes (about 25 minutes on 2 cores, with the
                                    # in-process cycle and the downstream suites in openai 3.x and 2.x)
    python -m bench --quick         # tiny sizes: proves the benchmarks work (no wrk needed)
    python -m bench --only cycle,load
    python -m bench --only load,big --before PATH   # and another checkout of mockfiles, in the same rounds

Servers run in their own processes (the same uvicorn settings for mockfiles and for
baseline (a), the bare Starlette app in bench/tools/baseline.py), so that the client never
shares their interpreter. Every figure is a median; ratios compare runs interleaved
with their baseline, round by round, so machine noise falls on both alike, and their
spread (min–max over the rounds) is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import httpx2
import openai

from bench.domain import growth
from bench.socket import bigupload, load
from bench.tools.baseline import canned_transport
from bench.tools.procstat import Meter, wait_for_quiet
from bench.tools.servers import baseline_server, mockfiles_server

BATCH = b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\n'


@dataclass
class Sizes:
    cycles: int = 300
    cycle_rounds: int = 11  # a round is short (300 cycles: 1.5 s) and latency-bound: noise shows
    rounds: int = 7
    load_seconds: int = 4
    sweep_seconds: int = 3
    sweep_rounds: int = 3
    big_mib: int = 200
    big_rounds: int = 6
    big_uploads: int = 3
    many_files: int = 100_000
    probes: int = 300


QUICK = Sizes(
    cycles=10, cycle_rounds=2, rounds=1, load_seconds=1, sweep_seconds=1, sweep_rounds=1,
    big_mib=4, big_rounds=1, big_uploads=1, many_files=2_000, probes=20,
)  # fmt: skip


def report(name: str, lines: list[str]) -> None:
    print(f"\n## {name}")
    for line in lines:
        print(f"  {line}")
    sys.stdout.flush()


# --- 1. the SDK cycle -------------------------------------------------------------------------------


def sdk_cycle(client: openai.OpenAI, cycles: int) -> float:
    """Milliseconds per (create, retrieve, list, content, delete)."""
    started = time.perf_counter()
    for _ in range(cycles):
        f = client.files.create(file=("data.jsonl", BATCH), purpose="batch")
        client.files.retrieve(f.id)
        client.files.list()
        client.files.content(f.id).read()
        client.files.delete(f.id)
    return (time.perf_counter() - started) / cycles * 1000


def bench_cycle(sizes: Sizes, quick: bool) -> None:
    with mockfiles_server() as ours, baseline_server() as base:
        clients = [openai.OpenAI(base_url=s.url + "/v1", api_key="bench", max_retries=0) for s in (ours, base)]
        floor = openai.OpenAI(
            base_url="http://sdk.floor/v1",
            api_key="bench",
            max_retries=0,
            http_client=httpx2.Client(transport=canned_transport(httpx2, BATCH)),
        )
        for c in (*clients, floor):
            sdk_cycle(c, max(1, sizes.cycles // 10))  # warm-up
        runs: list[list[float]] = [[], [], []]  # ms per cycle
        server_ms: list[list[float]] = [[], []]  # each server's CPU per cycle
        rest: list[list[float]] = [[], [], []]  # the rest of the machine's cores meanwhile
        for r in range(sizes.cycle_rounds):  # interleaved, the order alternating from one round to the next
            for i in [0, 1, 2] if r % 2 == 0 else [2, 1, 0]:
                if not quick:
                    wait_for_quiet()
                meter = Meter((ours, base, ours)[i].pid, resource.RUSAGE_SELF)
                runs[i].append(sdk_cycle((*clients, floor)[i], sizes.cycles))
                wall, spent, _, others = meter.read()
                rest[i].append(others / wall)
                if i < 2:
                    server_ms[i].append(spent.cpu / sizes.cycles * 1000)
    ours_ms, base_ms, floor_ms = (statistics.median(r) for r in runs)
    ours_cpu, base_cpu = (statistics.median(r) for r in server_ms)
    ratios = [o / b for o, b in zip(runs[0], runs[1], strict=True)]
    quiet = [o / b for o, b, x, y in zip(runs[0], runs[1], rest[0], rest[1], strict=True) if max(x, y) < load.QUIET]
    lines = [
        f"mockfiles      {ours_ms:7.2f} ms/cycle ({min(runs[0]):.2f}–{max(runs[0]):.2f}); server CPU "
        f"{ours_cpu:.2f} ms/cycle",
        f"baseline (a)   {base_ms:7.2f} ms/cycle ({min(runs[1]):.2f}–{max(runs[1]):.2f}); server CPU "
        f"{base_cpu:.2f} ms/cycle   bare Starlette, same uvicorn, canned bodies",
        f"baseline (b)   {floor_ms:7.2f} ms/cycle   the SDK on an in-memory transport (its own floor)",
        f"ratio mockfiles / (a), round by round: {load.spread(ratios, 3)}   (target <= 1.10); the rest of the "
        f"machine took {statistics.median(rest[0] + rest[1]):.2f} core (median; at most {max(rest[0] + rest[1]):.2f})",
    ]
    if len(quiet) < len(ratios):
        lines.append(
            f"  in the {len(quiet)} of {len(ratios)} rounds where the rest of the machine took less than "
            f"{load.QUIET} core: " + (load.spread(quiet, 3) if quiet else "-")
        )
    report(
        f"1. SDK cycle: {sizes.cycles} x (create, retrieve, list, content, delete), rate limits off, "
        f"{sizes.cycle_rounds} interleaved rounds",
        lines,
    )


# --- the others ----------------------------------------------------------------------------------


def bench_load(sizes: Sizes, quick: bool) -> None:
    load.bench_load(quick, sizes.rounds, sizes.load_seconds, before=BEFORE[0])


def bench_sweep(sizes: Sizes, quick: bool) -> None:
    if quick:  # a chart only when matplotlib is there, and never over the committed one
        try:
            import matplotlib  # noqa: F401

            chart: Path | None = Path(tempfile.mkdtemp(prefix="bench-")) / "throughput.png"
        except ImportError:
            print("matplotlib is not installed (pip install -e '.[bench]'): no chart", flush=True)
            chart = None
    else:
        chart = load.CHART
    load.bench_concurrency(quick, sizes.sweep_rounds, sizes.sweep_seconds, chart)


def bench_big(sizes: Sizes, quick: bool) -> None:
    rounds = f"fresh servers for each of {sizes.big_rounds} rounds: 1 warm-up upload, then {sizes.big_uploads}"
    report(
        f"3. a {sizes.big_mib} MiB file ({rounds} interleaved)",
        bigupload.bench_big(sizes.big_mib, sizes.big_rounds, sizes.big_uploads, quiet=not quick, before=BEFORE[0]),
    )


def bench_many(sizes: Sizes, quick: bool) -> None:
    report(
        "4. one account with many files (time per call over HTTP, median; memory per stored file's metadata)",
        growth.bench_many(sizes.many_files, sizes.probes),
    )


def bench_batches(sizes: Sizes, quick: bool) -> None:
    report(
        "4b. one account with many batches (time per call over HTTP, median)",
        growth.bench_many_batches(sizes.many_files, sizes.probes),
    )
    lines = 1_000 if quick else 50_000
    report(f"4c. a {lines:,}-request batch through the API (mockfiles serve)", growth.bench_batch_api(lines))


def bench_fixture(sizes: Sizes, quick: bool) -> None:
    from mockfiles import MockFilesServer

    starts = []
    for _ in range(5):
        started = time.perf_counter()
        server = MockFilesServer().start()
        starts.append((time.perf_counter() - started) * 1000)
        server.stop()
    with MockFilesServer() as server:
        resets = []
        for _ in range(1000):
            started = time.perf_counter()
            server.reset()
            resets.append((time.perf_counter() - started) * 1e6)
        marker_resets = []
        for _ in range(1000):
            started = time.perf_counter()
            server.reset(profile="dashscope", rate_limits=False, scenario={"faults": [{"status": 500}]})
            marker_resets.append((time.perf_counter() - started) * 1e6)
    report(
        "5. the pytest fixture",
        [
            f"session start-up (MockFilesServer().start())  {statistics.median(starts):7.1f} ms",
            f"per-test reset, empty store                   {statistics.median(resets):7.1f} us",
            f"per-test reset with a marker (profile, dict scenario) {statistics.median(marker_resets):7.1f} us",
        ],
    )


def bench_elsewhere(sizes: Sizes, quick: bool) -> None:
    report("6. run on their own", growth.elsewhere())


def run_module(module: str, args: list[str]) -> list[str]:
    """Another benchmark of bench/, in a process of its own (each makes fresh processes per round), its output."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"python -m {module} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()


def bench_inprocess(sizes: Sizes, quick: bool) -> None:
    lines = run_module("bench.inprocess.inprocess", ["--quick", "--no-peer"] if quick else [])
    report("7. in process: the SDK cycle against the SDK's own floor (python -m bench.inprocess.inprocess)", lines)


def bench_suite(sizes: Sizes, quick: bool) -> None:
    args = ["--quick", "--suites", "fixture alone,in-process sync"] if quick else []
    report(
        "8. a downstream suite's cost per test (python -m bench.inprocess.suite)",
        run_module("bench.inprocess.suite", args),
    )


BENCHES = {
    "cycle": bench_cycle,
    "load": bench_load,
    "sweep": bench_sweep,
    "big": bench_big,
    "many": bench_many,
    "batches": bench_batches,
    "fixture": bench_fixture,
    "elsewhere": bench_elsewhere,
    "inprocess": bench_inprocess,
    "suite": bench_suite,
}


BEFORE: list[Path | None] = [None]  # --before


def versions() -> str:
    names = ("uvicorn", "httptools", "uvloop", "starlette", "python-multipart", "orjson", "openai")
    return ", ".join(f"{name} {version(name)}" for name in names)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the benchmarks run")
    parser.add_argument("--only", help=f"comma-separated: {','.join(BENCHES)}")
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout of mockfiles (git archive <commit> | tar -x -C PATH), run by the load "
        "and big-upload benchmarks in the same rounds",
    )
    args = parser.parse_args(argv)
    BEFORE[0] = args.before.resolve() if args.before else None
    sizes = QUICK if args.quick else Sizes()
    chosen = args.only.split(",") if args.only else list(BENCHES)
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(unknown)} (choose from {', '.join(BENCHES)})")
    print(
        f"# mockfiles benchmarks ({'quick' if args.quick else 'full'}, {time.strftime('%Y-%m-%d %H:%M')}): "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {versions()}\n# {json.dumps(asdict(sizes))}"
    )
    for name in chosen:
        BENCHES[name](sizes, args.quick)
