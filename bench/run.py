"""The benchmark suite: each figure beside a baseline measured in the same run.

    python -m bench                 # everything, full sizes (a few minutes)
    python -m bench --quick         # tiny sizes: proves the benchmarks work
    python -m bench --only cycle,load

Servers run in their own processes (the same uvicorn settings for mockfiles and for
baseline (a), the bare Starlette app in bench/baseline.py), so that the client never
shares their interpreter. Every figure is a median; ratios compare runs interleaved
with their baseline, so machine noise falls on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import httpx2
import openai

BATCH = b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\n'
MiB = 1024 * 1024


@dataclass
class Sizes:
    cycles: int = 300
    rounds: int = 5
    load_requests: int = 20_000
    connections: int = 32
    big_mib: int = 200
    many_files: int = 100_000
    probes: int = 300


QUICK = Sizes(cycles=10, rounds=2, load_requests=400, connections=8, big_mib=4, many_files=2_000, probes=20)


# --- servers in their own processes ---------------------------------------------------------


@dataclass
class Served:
    url: str
    pid: int


@contextlib.contextmanager
def served(*command: str) -> Iterator[Served]:
    process = subprocess.Popen([sys.executable, "-m", *command], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        match = re.search(r"http://[\d.]+:\d+", process.stdout.readline())
        assert match, f"{command} did not start"
        yield Served(match.group(0), process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def mockfiles_server() -> contextlib.AbstractContextManager[Served]:
    return served("mockfiles", "serve", "--port", "0", "--quiet", "--no-rate-limits")


def baseline_server() -> contextlib.AbstractContextManager[Served]:
    return served("bench.baseline", "--port", "0")


def rss(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process, in bytes (Linux)."""
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def median_of(rounds: int, *measures: Callable[[], float]) -> list[float]:
    """Interleaved rounds of several measures; the median of each."""
    results: list[list[float]] = [[] for _ in measures]
    for _ in range(rounds):
        for i, measure in enumerate(measures):
            results[i].append(measure())
    return [statistics.median(r) for r in results]


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


def canned_transport() -> httpx2.MockTransport:
    from bench.baseline import DELETED_BODY, FILE_BODY, LIST_BODY

    def handler(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path.endswith("/content"):
            return httpx2.Response(200, content=BATCH)
        if path.endswith("/files"):
            return httpx2.Response(200, content=FILE_BODY if request.method == "POST" else LIST_BODY)
        return httpx2.Response(200, content=DELETED_BODY if request.method == "DELETE" else FILE_BODY)

    return httpx2.MockTransport(handler)


def bench_cycle(sizes: Sizes) -> None:
    with mockfiles_server() as ours, baseline_server() as base:
        clients = [openai.OpenAI(base_url=s.url + "/v1", api_key="bench", max_retries=0) for s in (ours, base)]
        floor = openai.OpenAI(
            base_url="http://sdk.floor/v1",
            api_key="bench",
            max_retries=0,
            http_client=httpx2.Client(transport=canned_transport()),
        )
        for c in (*clients, floor):
            sdk_cycle(c, max(1, sizes.cycles // 10))  # warm-up
        ours_ms, base_ms, floor_ms = median_of(
            sizes.rounds, *(lambda c=c: sdk_cycle(c, sizes.cycles) for c in (*clients, floor))
        )
    report(
        f"1. SDK cycle: {sizes.cycles} x (create, retrieve, list, content, delete), rate limits off",
        [
            f"mockfiles      {ours_ms:7.2f} ms/cycle",
            f"baseline (a)   {base_ms:7.2f} ms/cycle   bare Starlette, same uvicorn, canned bodies",
            f"baseline (b)   {floor_ms:7.2f} ms/cycle   the SDK on an in-memory transport (its own floor)",
            f"ratio mockfiles / (a): {ours_ms / base_ms:.3f}   (target <= 1.15)",
        ],
    )


# --- 2. retrieve under concurrent load ---------------------------------------------------------------------


async def load(url: str, path: str, requests: int, connections: int) -> float:
    """Requests per second from ``connections`` concurrent keep-alive connections.

    A lean HTTP/1.1 client on asyncio streams, so that the generator costs little
    beside the servers it measures (an httpx AsyncClient pool is slower than either).
    """
    host, port = url.removeprefix("http://").split(":")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer bench\r\n\r\n".encode()
    per_worker = requests // connections

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for _ in range(per_worker):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head[:80]
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return per_worker * connections / (time.perf_counter() - started)


def bench_load(sizes: Sizes) -> None:
    with mockfiles_server() as ours, baseline_server() as base:
        file_id = httpx.post(
            ours.url + "/v1/files",
            headers={"Authorization": "Bearer bench"},
            files={"file": ("a.txt", b"x")},
            data={"purpose": "assistants"},
        ).json()["id"]
        path = f"/v1/files/{file_id}"
        run = lambda s: asyncio.run(load(s.url, path, sizes.load_requests, sizes.connections))  # noqa: E731
        run(ours), run(base)  # warm-up
        ours_rps, base_rps = median_of(sizes.rounds, lambda: run(ours), lambda: run(base))
    report(
        f"2. GET /v1/files/{{id}}: {sizes.load_requests} requests over {sizes.connections} connections",
        [
            f"mockfiles      {ours_rps:9,.0f} req/s",
            f"baseline (a)   {base_rps:9,.0f} req/s",
            f"ratio mockfiles / (a): {ours_rps / base_rps:.3f}   (target >= 0.8)",
        ],
    )


# --- 3. a large upload and download --------------------------------------------------------------------------


# A boundary like the ones httpx (so the openai SDK) draws: 32 hex digits. Its length
# matters: the multipart parser searches each chunk for it, and a one-letter boundary
# makes that search about three times slower than any real client's.
BOUNDARY = b"5f0e7c1a9b3d4e2f8a6c0b1d3e5f7a9c"


def multipart_stream(mib: int) -> Iterator[bytes]:
    yield (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n'
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    )
    chunk = os.urandom(MiB)
    for _ in range(mib):
        yield chunk
    yield b"\r\n--" + BOUNDARY + b"--\r\n"


def upload_mb_s(url: str, mib: int, keep: bool = False) -> float:
    started = time.perf_counter()
    r = httpx.post(
        url + "/v1/files",
        content=multipart_stream(mib),
        timeout=300,
        headers={"Authorization": "Bearer bench", "Content-Type": "multipart/form-data; boundary=" + BOUNDARY.decode()},
    )
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    if not keep and "id" in r.json() and not r.json()["id"].startswith("file-4wDz"):  # baseline ids are canned
        httpx.delete(f"{url}/v1/files/{r.json()['id']}", headers={"Authorization": "Bearer bench"})
    return mib / elapsed


def download_mb_s(url: str) -> float:
    got = 0
    started = time.perf_counter()
    with httpx.stream("GET", url, headers={"Authorization": "Bearer bench"}, timeout=300) as r:
        for piece in r.iter_raw():
            got += len(piece)
    return got / MiB / (time.perf_counter() - started)


def bench_big(sizes: Sizes) -> None:
    mib = sizes.big_mib
    with mockfiles_server() as ours, baseline_server() as base:
        before, _ = rss(ours.pid)
        cold = upload_mb_s(ours.url, mib, keep=True)  # a fresh process: memory from the kernel
        after, peak = rss(ours.pid)
        file_id = httpx.get(ours.url + "/v1/files", headers={"Authorization": "Bearer bench"}).json()["data"][0]["id"]
        ours_down, base_down = median_of(
            3,
            lambda: download_mb_s(f"{ours.url}/v1/files/{file_id}/content"),
            lambda: download_mb_s(f"{base.url}/v1/files/x/content?size={mib * MiB}"),
        )
        httpx.delete(f"{ours.url}/v1/files/{file_id}", headers={"Authorization": "Bearer bench"})
        ours_up, base_up = median_of(
            sizes.rounds, lambda: upload_mb_s(ours.url, mib), lambda: upload_mb_s(base.url, mib)
        )
    report(
        f"3. a {mib} MiB file",
        [
            f"upload    mockfiles {ours_up:7.1f} MiB/s (stored, then deleted; the first upload into a fresh process "
            f"{cold:.1f} MiB/s)",
            f"          baseline (a) reads and discards: {base_up:7.1f} MiB/s   "
            f"ratio {ours_up / base_up:.3f} (target >= 0.75)",
            f"memory    server RSS {before / MiB:.0f} MiB at start, {after / MiB:.0f} MiB holding the file, "
            f"peak {peak / MiB:.0f} MiB: growth {(peak - before) / MiB:.0f} MiB (target <= file + 64 = {mib + 64} MiB)",
            f"download  mockfiles {ours_down:7.1f} MiB/s   baseline (a) streams canned bytes: {base_down:7.1f} MiB/s   "
            f"ratio {ours_down / base_down:.3f} (target >= 0.8)",
        ],
    )


# --- 4. many stored files -------------------------------------------------------------------------------------


def bench_many(sizes: Sizes) -> None:
    """In one process: fill a server's store directly, then time HTTP calls against it."""
    from mockfiles import MockFilesServer

    results = {}
    for count in (100, sizes.many_files):
        with MockFilesServer(rate_limits=False) as server:
            files = server.emulator.files
            gc.collect()
            tracemalloc.start()
            ids = fill(files, count)
            held, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            middle = ids[len(ids) // 2]
            with httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer bench"}) as http:
                probe = lambda path, **params: probe_ms(http, path, params, sizes.probes)  # noqa: E731
                results[count] = {
                    "list(limit=100)": probe("/files", limit=100),
                    "list(limit=50, after=middle)": probe("/files", limit=50, after=middle),
                    "list(limit=100, purpose)": probe("/files", limit=100, purpose="user_data"),
                    "retrieve": probe(f"/files/{middle}"),
                    "bytes per file": held / count,
                }
    small, large = results[100], results[sizes.many_files]
    lines = [f"{'':32} {'100 files':>12} {sizes.many_files:>10,} files  ratio"]
    for name in small:
        unit = "" if name == "bytes per file" else " ms"
        lines.append(
            f"{name:32} {small[name]:>9.3f}{unit:3} {large[name]:>9.3f}{unit:3}  {large[name] / small[name]:6.2f}"
        )
    report("4. one account with many files (time per call over HTTP, median; memory per stored file's metadata)", lines)


def fill(files: object, count: int) -> list[str]:
    """Store ``count`` one-byte files straight through the domain API (no HTTP)."""
    create = files.create  # type: ignore[attr-defined]
    return [create("bench", purpose="user_data", filename=f"f{i}.txt", chunks=(b"x",), size=1).id for i in range(count)]


def probe_ms(http: httpx.Client, path: str, params: dict[str, object], probes: int) -> float:
    timings = []
    for _ in range(probes):
        started = time.perf_counter()
        r = http.get(path, params=params)
        timings.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    return statistics.median(timings)


# --- 5. the pytest fixture -----------------------------------------------------------------------------------------


def bench_fixture(sizes: Sizes) -> None:
    from mockfiles import MockFilesServer

    starts = []
    for _ in range(max(3, sizes.rounds)):
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


BENCHES = {"cycle": bench_cycle, "load": bench_load, "big": bench_big, "many": bench_many, "fixture": bench_fixture}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the benchmarks run")
    parser.add_argument("--only", help=f"comma-separated: {','.join(BENCHES)}")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    chosen = args.only.split(",") if args.only else list(BENCHES)
    print(
        f"# mockfiles benchmarks ({'quick' if args.quick else 'full'}): python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, {json.dumps({k: v for k, v in vars(sizes).items()})}"
    )
    for name in chosen:
        BENCHES[name](sizes)
