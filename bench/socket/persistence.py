"""The cost of ``--data-dir``: per upload and per retrieve against the in-memory server, and the
time a server takes to start on a directory of many files.

python -m bench.socket.persistence [--rounds 5] [--ops 200] [--size 16384] [--files 10000] [--mib 1024] [--skip-ops]

(``--files 0`` skips part 2.)

Part 1 runs a fresh ``mockfiles serve`` per round and mode, the modes interleaved (the order
alternating each round): ``--ops`` uploads of ``--size`` bytes one after another on one keep-alive
httpx client, then as many ``GET /v1/files/{id}``; each operation's latency is timed on the
client, and the medians of the rounds' medians are shown.

Part 2 fills a data directory with ``--files`` files of ``--mib`` MiB in all (random bytes, so
no two blobs are alike), stops the server, and times ``mockfiles serve`` from its start until it
prints its URL: on that directory, and on an empty one (the difference is what reading the state
back costs). The machine's load average is printed before and after: the figures are only
comparable between runs on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.tools.servers import AUTH, mockfiles_server


def timed_ops(url: str, ops: int, size: int) -> tuple[float, float]:
    """Median seconds per upload and per retrieve."""
    uploads, retrieves, ids = [], [], []
    payload = os.urandom(size)
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as http:
        for i in range(ops):
            start = time.perf_counter()
            made = http.post("/v1/files", files={"file": (f"{i}.bin", payload)}, data={"purpose": "assistants"})
            uploads.append(time.perf_counter() - start)
            made.raise_for_status()
            ids.append(made.json()["id"])
        for file_id in ids:
            start = time.perf_counter()
            http.get(f"/v1/files/{file_id}").raise_for_status()
            retrieves.append(time.perf_counter() - start)
    return statistics.median(uploads), statistics.median(retrieves)


def part_one(rounds: int, ops: int, size: int) -> None:
    results: dict[str, list[tuple[float, float]]] = {"memory": [], "data-dir": []}
    for r in range(rounds):
        modes = ["memory", "data-dir"] if r % 2 == 0 else ["data-dir", "memory"]
        for mode in modes:
            with tempfile.TemporaryDirectory() as tmp:
                options = ("--data-dir", tmp) if mode == "data-dir" else ()
                with mockfiles_server(*options) as server:
                    results[mode].append(timed_ops(server.url, ops, size))
    print(f"{ops} uploads of {size} B then {ops} retrieves, {rounds} rounds interleaved (median of medians):")
    for mode, rows in results.items():
        up = statistics.median(u for u, _ in rows) * 1000
        get = statistics.median(g for _, g in rows) * 1000
        print(f"  {mode:9} upload {up:7.3f} ms   retrieve {get:7.3f} ms")
    memory, disk = results["memory"], results["data-dir"]
    extra_up = statistics.median(d[0] - m[0] for m, d in zip(memory, disk, strict=True)) * 1000
    extra_get = statistics.median(d[1] - m[1] for m, d in zip(memory, disk, strict=True)) * 1000
    print(f"  cost of the data directory: upload {extra_up:+.3f} ms, retrieve {extra_get:+.3f} ms (paired rounds)")


def start_time(data_dir: str) -> float:
    """Seconds from ``mockfiles serve`` starting to its URL being printed."""
    command = [sys.executable, "-m", "mockfiles", "serve", "--port", "0", "--quiet", "--data-dir", data_dir]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.terminate()
    process.wait(timeout=60)
    return elapsed


def part_two(files: int, mib: int, rounds: int) -> None:
    size = mib * 1024 * 1024 // files
    with tempfile.TemporaryDirectory() as full, tempfile.TemporaryDirectory() as empty:
        fill = time.perf_counter()
        with mockfiles_server("--data-dir", full) as server, httpx.Client(base_url=server.url, headers=AUTH) as http:
            for i in range(files):
                body = {"file": (f"{i}.bin", os.urandom(size))}
                http.post("/v1/files", files=body, data={"purpose": "assistants"}).raise_for_status()
        fill = time.perf_counter() - fill
        on_disk = sum(p.stat().st_size for p in Path(full).rglob("*") if p.is_file())
        print(f"{files} files of {size} B ({on_disk / 2**20:.0f} MiB on disk) written in {fill:.1f} s")
        times = {"empty": [], "full": []}  # type: dict[str, list[float]]
        for _ in range(rounds):
            times["empty"].append(start_time(empty))
            times["full"].append(start_time(full))
        e, f = statistics.median(times["empty"]), statistics.median(times["full"])
        print(f"  start on an empty directory {e:.2f} s, on this one {f:.2f} s: reading the state back {f - e:.2f} s")


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--rounds", type=int, default=5)
    args.add_argument("--ops", type=int, default=200)
    args.add_argument("--size", type=int, default=16384)
    args.add_argument("--files", type=int, default=10_000)
    args.add_argument("--mib", type=int, default=1024)
    args.add_argument("--skip-ops", action="store_true")
    options = args.parse_args()
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores")
    if not options.skip_ops:
        part_one(options.rounds, options.ops, options.size)
    if options.files:
        part_two(options.files, options.mib, 3)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
