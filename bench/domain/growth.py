"""4. Growth: list and retrieve cost the same with 100 or 100,000 files in an account; and the
benchmarks that wait for routes not served yet (they say so and skip).

The store is filled through the domain API (no HTTP), then timed over HTTP against a server in
this process: medians of ``probes`` calls each.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable

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


# --- measured by modules of their own ------------------------------------------------------


def elsewhere() -> list[str]:
    """The benchmarks that run in processes or venvs of their own, and how to run them."""
    return [
        "the batch domain alone (no HTTP): python -m bench.domain.batches",
        "1 GiB through /v1/uploads in Parts against one POST /v1/files: python -m bench.socket.uploads",
        "the pieces of a downstream test's cost, in one process: python -m bench.inprocess.suite --steps",
    ]


# --- batches -----------------------------------------------------------------------------------

CHAT = "/v1/chat/completions"
BATCH_LINE = {
    "method": "POST",
    "url": CHAT,
    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Summarise item number 7."}]},
}


def batch_line(i: int) -> bytes:
    messages = [{"role": "user", "content": f"Summarise item number {i} in one sentence."}]
    line = {"custom_id": f"r{i}", **BATCH_LINE, "body": {"model": "gpt-4o-mini", "messages": messages}}
    return json.dumps(line).encode() + b"\n"


def fill_batches(batches: object, files: object, count: int) -> tuple[list[str], float]:
    """``count`` batches of one request each, made straight through the domain API (no HTTP), all
    from one input file; and the seconds that took."""
    content = batch_line(0)
    source = files.create("bench", purpose="batch", filename="in.jsonl", chunks=(content,), size=len(content))  # type: ignore[attr-defined]
    create = batches.create  # type: ignore[attr-defined]
    started = time.perf_counter()
    made = [create("bench", input_file_id=source.id, endpoint=CHAT, completion_window="24h").id for _ in range(count)]
    return made, time.perf_counter() - started


def bench_many_batches(many: int, probes: int) -> list[str]:
    """List and retrieve with 100 and with ``many`` batches in one account, all completed (their
    result files written). Both servers run at once and each probe times one call on each in turn,
    so that whatever else loads the machine weighs on both alike."""
    counts = (100, many)
    with contextlib.ExitStack() as stack:
        clients, middles, notes = {}, {}, []
        for count in counts:
            server = stack.enter_context(MockFilesServer(rate_limits=False))
            ids, filled = fill_batches(server.emulator.batches, server.emulator.files, count)
            middles[count] = ids[len(ids) // 2]
            auth = {"Authorization": "Bearer bench"}
            http = clients[count] = stack.enter_context(httpx.Client(base_url=server.base_url, headers=auth))
            assert http.get("/batches", params={"limit": 1}).status_code == 200
            notes.append(
                f"{count:>7,} batches made in {filled:.1f} s through the domain (the emulator's scheduler writes "
                "their results meanwhile; the first request waits for them)"
            )
        calls: dict[str, Callable[[int], tuple[str, dict[str, str | int]]]] = {
            "list(limit=100)": lambda n: ("/batches", {"limit": 100}),
            "list(limit=50, after=middle)": lambda n: ("/batches", {"limit": 50, "after": middles[n]}),
            "list() (20)": lambda n: ("/batches", {}),
            "retrieve(middle)": lambda n: (f"/batches/{middles[n]}", {}),
        }
        lines = [f"{'':32} {'100 batches':>12} {many:>10,} batches  ratio"]
        for name, call in calls.items():
            timings: dict[int, list[float]] = {count: [] for count in counts}
            for _ in range(probes):
                for count in counts:
                    path, params = call(count)
                    timings[count].append(probe_ms(clients[count], path, params, 1))
            small, large = (statistics.median(timings[count]) for count in counts)
            lines.append(f"{name:32} {small:>9.3f} ms {large:>9.3f} ms  {large / small:6.2f}")
    return [*lines, *notes]


def bench_batch_api(lines: int) -> list[str]:
    """A ``lines``-request chat batch through the API of a ``mockfiles serve`` process: upload,
    create (validated there), the clock moved past its hour of in_progress, the retrieve that
    completes it (its output file written); time of each, and the server's resident memory."""
    from bench.tools.procstat import rss
    from bench.tools.servers import mockfiles_server

    content = b"".join(batch_line(i) for i in range(lines))
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as scenario:
        scenario.write("batches: {timing: {validating: 0s, in_progress: 1h, finalizing: 0s}}\n")
    try:
        with mockfiles_server("--scenario", scenario.name) as served:
            with httpx.Client(base_url=served.url, headers={"Authorization": "Bearer bench"}, timeout=600) as http:
                idle, _ = rss(served.pid)
                started = time.perf_counter()
                source = http.post("/v1/files", files={"file": ("big.jsonl", content)}, data={"purpose": "batch"})
                uploaded = time.perf_counter() - started
                assert source.status_code == 200, source.text
                held, upload_peak = rss(served.pid)
                body = {"input_file_id": source.json()["id"], "endpoint": CHAT, "completion_window": "24h"}
                started = time.perf_counter()
                batch = http.post("/v1/batches", json=body).json()
                created = time.perf_counter() - started
                _, create_peak = rss(served.pid)
                assert batch["status"] == "validating", batch
                assert http.post("/_mockfiles/clock", json={"advance": 3600}).status_code == 200
                started = time.perf_counter()
                done = http.get(f"/v1/batches/{batch['id']}").json()
                completed = time.perf_counter() - started
                after, complete_peak = rss(served.pid)
                assert done["status"] == "completed" and done["request_counts"]["completed"] == lines, done
                output = http.get(f"/v1/files/{done['output_file_id']}").json()["bytes"]
    finally:
        os.unlink(scenario.name)
    mib = 1024 * 1024
    return [
        f"input {len(content) / mib:.1f} MiB, {lines:,} requests; output file {output / mib:.1f} MiB",
        f"upload (POST /v1/files)                      {uploaded:7.2f} s",
        f"create (validation, POST /v1/batches)        {created:7.2f} s",
        f"complete (first retrieve after the advance)  {completed:7.2f} s",
        f"create -> completed, the clock advanced      {created + completed:7.2f} s",
        f"server RSS: idle {idle / mib:.0f} MiB; holding the input {held / mib:.0f} MiB "
        f"(peak {upload_peak / mib:.0f}); peak while validating {create_peak / mib:.0f} MiB; "
        f"peak while completing {complete_peak / mib:.0f} MiB; after {after / mib:.0f} MiB",
    ]
