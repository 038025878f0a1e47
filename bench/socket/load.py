"""Load: `GET /v1/files/{id}`, `GET /v1/files` and small uploads driven by wrk, mockfiles
against baseline (a), and the retrieve's throughput against the number of connections.

Each figure is a median over rounds that interleave the two servers (the order alternating
from one round to the next, so that neither always runs first); each round gives one ratio,
and the ratios' median and spread (min–max) are reported. Beside requests per second, every
run reports the CPU each side spent (bench/tools/wrk.py): the server's per request, and the shares
of a core taken by the server, by wrk and by the rest of the machine. On a machine of its own
the server is near one core and wrk well below; where other work takes a core, the server
gets less than one, and the ratio of CPU per request (what the throughput ratio would be with
a core to each server alone) is the steadier figure.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.tools.procstat import wait_for_quiet
from bench.tools.servers import AUTH, Served, baseline_server, mockfiles_server
from bench.tools.wrk import Load, LoadRun, find_wrk, run_python, run_wrk

BOUNDARY = "5f0e7c1a9b3d4e2f8a6c0b1d3e5f7a9c"  # 32 hex digits, as httpx (so the openai SDK) draws them
BATCH_LINE = b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\n'
CONCURRENCY = (1, 2, 4, 8, 16, 32, 64)
CHART = Path(__file__).parents[1] / "results" / "throughput.png"  # bench/results/

Generate = Callable[[Served, Load, int, int], LoadRun]


def small_upload(key: str) -> Load:
    """The SDK cycle's upload (one JSONL line, purpose batch) as one multipart body, under its own key
    so that the files it leaves do not change what the list returns."""
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="data.jsonl"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + BATCH_LINE
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return Load("POST", "/v1/files", key=key, body=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


def loads(ours: Served) -> dict[str, Load]:
    """The measured requests; the retrieved file is created first (the baseline answers any id)."""
    created = httpx.post(
        ours.url + "/v1/files", headers=AUTH, files={"file": ("a.txt", b"x")}, data={"purpose": "assistants"}
    )
    created.raise_for_status()
    return {
        "GET /v1/files/{id}": Load("GET", f"/v1/files/{created.json()['id']}"),
        "GET /v1/files (one file)": Load("GET", "/v1/files"),
        "POST /v1/files (a one-line JSONL)": small_upload("bench-uploads"),
    }


def generator(quick: bool) -> tuple[str, Generate]:
    """wrk when it is there (installed when missing, except in quick runs), else the Python client."""
    wrk = find_wrk(install=not quick)
    if wrk is not None:
        return "wrk -t1", lambda server, load, connections, seconds: run_wrk(wrk, server, load, connections, seconds)
    if quick:
        print("wrk is not installed: the quick run uses the Python client instead", flush=True)
    return "the Python client (wrk unavailable)", run_python


@dataclass
class Series:
    """Interleaved runs of one load: mockfiles' and the baseline's, round by round."""

    ours: list[LoadRun] = field(default_factory=list)
    base: list[LoadRun] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [o.rps / b.rps for o, b in zip(self.ours, self.base, strict=True)]

    def cpu_ratios(self) -> list[float]:
        return [b.server_us / o.server_us for o, b in zip(self.ours, self.base, strict=True)]


def spread(values: Sequence[float], digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def describe(name: str, runs: list[LoadRun]) -> str:
    m = statistics.median
    return (
        f"{name:13}{m(r.rps for r in runs):9,.0f} req/s  {m(r.server_us for r in runs):5.1f} us CPU/request "
        f"(user {m(r.server.user / r.requests * 1e6 for r in runs):4.1f} + kernel "
        f"{m(r.server.system / r.requests * 1e6 for r in runs):4.1f})  cores: server "
        f"{m(r.server_share for r in runs):.2f}, generator {m(r.generator_share for r in runs):.2f}, "
        f"rest of the machine {m(r.others_cores for r in runs):.2f}"
        + (f"  p50 {m(r.p50_ms for r in runs if r.p50_ms is not None):.2f} ms" if runs[0].p50_ms is not None else "")
        + (f"  ERRORS {sum(r.errors for r in runs)}" if any(r.errors for r in runs) else "")
    )


def interleaved(
    generate: Generate,
    ours: Served,
    base: Served,
    load: Load,
    connections: int,
    seconds: int,
    rounds: int,
    patience: float = 30.0,
) -> Series:
    """Rounds of one run each, the order alternating; before each run, a wait (at most ``patience``
    seconds) for the rest of the machine to quiet down."""
    series = Series()
    for i in range(rounds):
        pair = (ours, base) if i % 2 == 0 else (base, ours)
        for server in pair:
            if patience:
                wait_for_quiet(patience=patience)
            (series.ours if server is ours else series.base).append(generate(server, load, connections, seconds))
    return series


QUIET = 0.15  # cores: a run during which the rest of the machine took less is undisturbed


def ratio_lines(series: Series, target: str = "") -> list[str]:
    """The ratios over every round, and over the undisturbed rounds alone when some were not."""
    lines = [
        f"ratio mockfiles / (a): requests/s {spread(series.ratios())}; "
        f"CPU per request (a) / mockfiles {spread(series.cpu_ratios())}{target}"
    ]
    quiet = Series()
    for o, b in zip(series.ours, series.base, strict=True):
        if o.others_cores < QUIET and b.others_cores < QUIET:
            quiet.ours.append(o)
            quiet.base.append(b)
    if len(quiet.ours) < len(series.ours):
        lines.append(
            f"  in the {len(quiet.ours)} of {len(series.ours)} rounds where the rest of the machine took less than "
            f"{QUIET} core: "
            + (
                f"requests/s {spread(quiet.ratios())}; CPU per request {spread(quiet.cpu_ratios())}"
                if quiet.ours
                else "-"
            )
        )
    return lines


def bench_load(quick: bool, rounds: int, seconds: int, connections: int = 32, before: Path | None = None) -> None:
    """The loads against the baseline; with ``before`` (another checkout of mockfiles, as
    ``git archive <commit> | tar -x -C PATH`` makes one), its server runs in the same rounds too,
    each of the three in turn, so that the two versions' ratios come from one run."""
    name, generate = generator(quick)
    with contextlib.ExitStack() as servers:
        ours, base = servers.enter_context(mockfiles_server()), servers.enter_context(baseline_server())
        old = servers.enter_context(mockfiles_server(env={"PYTHONPATH": str(before)})) if before else None
        old_loads = loads(old) if old is not None else {}
        for label, load in loads(ours).items():
            if load.body and name != "wrk -t1":
                report(f"2. under load: {name}", [f"{label}: skipped (the Python client sends no bodies)"])
                continue
            if old is None:
                if not quick:  # warm-up: imports, caches, the allocator's first pages
                    interleaved(generate, ours, base, load, connections, 1, 1, patience=0)
                series = interleaved(generate, ours, base, load, connections, seconds, rounds, 0 if quick else 30)
                earlier = None
            else:
                for server, its_load in ((ours, load), (base, load), (old, old_loads[label])):  # warm-up
                    generate(server, its_load, connections, 1)
                series, earlier = three_ways(
                    generate, ours, base, old, load, old_loads[label], connections, seconds, rounds
                )
            target = "   (target >= 0.8)" if label.startswith("GET /v1/files/{id}") else ""
            lines = [
                label,
                "  " + describe("mockfiles", series.ours),
                "  " + describe("baseline (a)", series.base),
                *("  " + line for line in ratio_lines(series, target)),
            ]
            if earlier is not None:
                lines += [
                    "  " + describe("before", earlier.ours),
                    f"  before: ratio / (a): requests/s {spread(earlier.ratios())}; "
                    f"CPU per request {spread(earlier.cpu_ratios())}",
                    f"  mockfiles / before, CPU per request (before / mockfiles): "
                    f"{spread([b.server_us / o.server_us for o, b in zip(series.ours, earlier.ours, strict=True)])}",
                ]
            report(f"2. under load: {name} -c{connections} -d{seconds}s, {rounds} interleaved rounds", lines)


def three_ways(
    generate: Generate,
    ours: Served,
    base: Served,
    old: Served,
    load: Load,
    old_load: Load,
    connections: int,
    seconds: int,
    rounds: int,
) -> tuple[Series, Series]:
    """Rounds of mockfiles, the baseline and mockfiles before, the order turning from round to round
    (each server first once in three rounds); the baseline's runs serve both series."""
    series, earlier = Series(), Series()
    runs: list[tuple[Served, Load, list[LoadRun]]] = [
        (ours, load, series.ours),
        (base, load, series.base),
        (old, old_load, earlier.ours),
    ]
    for i in range(rounds):
        for server, its_load, into in runs[i % 3 :] + runs[: i % 3]:
            wait_for_quiet(patience=30)
            into.append(generate(server, its_load, connections, seconds))
    earlier.base = series.base
    return series, earlier


def least_disturbed(measure: Callable[[], Series], attempts: int) -> Series:
    """A point of the chart measured again (at most ``attempts`` times in all) while other work took
    CPU during any of its runs; the least disturbed measure is kept (its load is printed)."""
    best: Series | None = None
    for _ in range(attempts):
        series = measure()
        if best is None or disturbance(series) < disturbance(best):
            best = series
        if disturbance(best) < QUIET:
            break
    assert best is not None
    return best


def disturbance(series: Series) -> float:
    return max(r.others_cores for r in series.ours + series.base)


def bench_concurrency(quick: bool, rounds: int, seconds: int, chart: Path | None) -> None:
    """The retrieve at 1 to 64 connections, both servers, and a chart of it. A point whose runs
    were disturbed by other work is measured again, up to twice."""
    name, generate = generator(quick)
    levels = (1, 8) if quick else CONCURRENCY
    results: dict[str, dict[int, list[LoadRun]]] = {"mockfiles": {}, "baseline (a)": {}}
    with mockfiles_server() as ours, baseline_server() as base:
        load = loads(ours)["GET /v1/files/{id}"]
        for connections in levels:
            series = least_disturbed(
                functools.partial(
                    interleaved, generate, ours, base, load, connections, seconds, rounds, 0 if quick else 30
                ),
                attempts=1 if quick else 3,
            )
            results["mockfiles"][connections], results["baseline (a)"][connections] = series.ours, series.base
    m = statistics.median
    lines = [
        f"{'connections':>11} {'mockfiles':>28} {'baseline (a)':>28} {'ratio':>6} {'rest':>5}",
        f"{'':11} {'req/s  us/req  cores':>28} {'req/s  us/req  cores':>28}",
    ]
    for connections in levels:
        o, b = results["mockfiles"][connections], results["baseline (a)"][connections]
        cells = [
            f"{m(r.rps for r in s):>10,.0f} {m(r.server_us for r in s):7.1f} {m(r.server_share for r in s):6.2f}"
            for s in (o, b)
        ]
        ratio, rest = m(r.rps for r in o) / m(r.rps for r in b), max(r.others_cores for r in o + b)
        lines.append(f"{connections:>11} {cells[0]:>28} {cells[1]:>28} {ratio:6.2f} {rest:5.2f}")
    lines.append("us/req: the server's CPU per request; cores: its share of one core;")
    lines.append("rest: the most of the machine's cores any of the point's runs saw taken by other work")
    if chart is not None:
        from bench.tools.chart import throughput_chart

        throughput_chart(chart, levels, results, f"GET /v1/files/{{id}}, {name}, {seconds} s per point")
        lines.append(f"chart: {chart}")
    report(f"2b. GET /v1/files/{{id}} against connections: {name} -d{seconds}s, {rounds} interleaved rounds", lines)


def report(name: str, lines: list[str]) -> None:
    print(f"\n## {name}")
    for line in lines:
        print(f"  {line}")
    sys.stdout.flush()
