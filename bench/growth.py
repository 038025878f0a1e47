"""4. Growth: list and retrieve cost the same with 100 or 100,000 files in an account; and the
benchmarks that wait for routes not served yet (they say so and skip).

The store is filled through the domain API (no HTTP), then timed over HTTP against a server in
this process: medians of ``probes`` calls each.
"""

from __future__ import annotations

import gc
import importlib.util
import statistics
import time
import tracemalloc

import httpx

from mockfiles import MockFilesServer


def fill(files: object, count: int) -> list[str]:
    """Store ``count`` one-byte files straight through the domain API (no HTTP)."""
    create = files.create  # type: ignore[attr-defined]
    return [create("bench", purpose="user_data", filename=f"f{i}.txt", chunks=(b"x",), size=1).id for i in range(count)]


def probe_ms(http: httpx.Client, path: str, params: dict[str, str | int], probes: int) -> float:
    timings = []
    for _ in range(probes):
        started = time.perf_counter()
        r = http.get(path, params=params)
        timings.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    return statistics.median(timings)


def bench_many(many_files: int, probes: int) -> list[str]:
    results = {}
    for count in (100, many_files):
        with MockFilesServer(rate_limits=False) as server:
            files = server.emulator.files
            gc.collect()
            tracemalloc.start()
            ids = fill(files, count)
            held, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            middle = ids[len(ids) // 2]
            with httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer bench"}) as http:

                def probe(path: str, **params: str | int) -> float:
                    return probe_ms(http, path, params, probes)

                results[count] = {
                    "list(limit=100)": probe("/files", limit=100),
                    "list(limit=50, after=middle)": probe("/files", limit=50, after=middle),
                    "list(limit=100, purpose)": probe("/files", limit=100, purpose="user_data"),
                    "retrieve": probe(f"/files/{middle}"),
                    "bytes per file": held / count,
                }
    small, large = results[100], results[many_files]
    lines = [f"{'':32} {'100 files':>12} {many_files:>10,} files  ratio"]
    for name in small:
        unit = "" if name == "bytes per file" else " ms"
        lines.append(
            f"{name:32} {small[name]:>9.3f}{unit:3} {large[name]:>9.3f}{unit:3}  {large[name] / small[name]:6.2f}"
        )
    return lines


# --- waiting for their routes ----------------------------------------------------------------


def served_route(path: str) -> bool:
    """Whether mockfiles serves ``GET path`` (an unknown path is a 404 "Invalid URL")."""
    with MockFilesServer(rate_limits=False) as server:
        r = httpx.get(server.url + path, headers={"Authorization": f"Bearer {server.api_key}"})
    return not (r.status_code == 404 and "Invalid URL" in r.text)


PENDING = {
    "100,000 batches listed and retrieved, flat against 100": ("route", "/v1/batches"),
    "a 50,000-line batch through the API: validated and completed, time and peak memory": ("route", "/v1/batches"),
    "300 SDK cycles in-process against the openai-responses peer (target <= 0.7 x the peer)": (
        "module",
        "mockfiles.transport",
    ),
}


def bench_pending() -> list[str]:
    """The benchmarks still to come: each says what it waits for, and skips."""
    lines = []
    for name, (kind, needed) in PENDING.items():
        there = served_route(needed) if kind == "route" else importlib.util.find_spec(needed) is not None
        if there:
            lines.append(f"{name}: skipped: {needed} exists now, but this benchmark is not written yet")
        else:
            waits = f"the {needed} routes" if kind == "route" else f"the in-process transport ({needed})"
            lines.append(f"{name}: not available yet (needs {waits}); skipped")
    lines.append("the batch domain alone (no HTTP): python -m bench.batches")
    lines.append("1 GiB through /v1/uploads in Parts against one POST /v1/files: python -m bench.uploads")
    return lines
