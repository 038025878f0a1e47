"""3. A large file: its upload against a raw ASGI body read, its memory, its download.

The upload's throughput follows each server's page faults: every minor fault is a fresh
4 KiB page the kernel hands over (about 2 µs of kernel time each here), and how many an
upload takes depends on what glibc's allocator kept from earlier ones (its mmap threshold
moves with the sizes freed; the top of its heap is given back to the kernel only when
nothing sits above the freed memory). Under the allocator's defaults, mockfiles takes from
4,000 to 110,000 faults per 200 MiB upload depending on the process, the raw read a steady
70,000; the throughput ratio follows (bench/README.md). So each round starts fresh server
processes, gives every server the same warm-up upload, then interleaves the measured uploads
(the order alternating), and reads from /proc what each upload cost the server: CPU time
(user and kernel; the event loop's thread apart from the others, such as the sha256 thread)
and minor page faults. Two allocator regimes are measured, each the same for both servers:

- glibc's defaults, as users run it: the target's figure, with its spread;
- memory reused: ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` pinned so that
  memory once taken is kept and reused: no page faults on either side after the warm-up,
  so the ratio is the code's own cost, and it is steady from one round to the next.

Three servers take the same uploads: mockfiles (parses the form, hashes and stores the file,
deleted after each upload); the raw read (baseline (a) reads the body and discards it: the
target's reference); and the raw read, kept (baseline (a) keeps the body's pieces as they
came, as any store must keep them, until the next DELETE).
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.tools.procstat import Meter, Usage, rss, usage, wait_for_quiet
from bench.tools.servers import AUTH, Served, baseline_server, mockfiles_server

MiB = 1024 * 1024
# A boundary like the ones httpx (so the openai SDK) draws: 32 hex digits. Its length
# matters: the multipart parser searches each chunk for it, and a one-letter boundary
# makes that search about three times slower than any real client's.
BOUNDARY = b"5f0e7c1a9b3d4e2f8a6c0b1d3e5f7a9c"
HEADERS = {**AUTH, "Content-Type": "multipart/form-data; boundary=" + BOUNDARY.decode()}
REGIMES: dict[str, dict[str, str]] = {
    "glibc's defaults": {},
    "memory reused (MALLOC_MMAP_THRESHOLD_=32 MiB, MALLOC_TRIM_THRESHOLD_=1 TiB)": {
        "MALLOC_MMAP_THRESHOLD_": str(32 * MiB),
        "MALLOC_TRIM_THRESHOLD_": str(1 << 40),
    },
}


def multipart_stream(mib: int) -> Iterator[bytes]:
    yield (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n'
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    )
    chunk = os.urandom(MiB)
    for _ in range(mib):
        yield chunk
    yield b"\r\n--" + BOUNDARY + b"--\r\n"


@dataclass(frozen=True)
class Uploaded:
    mib_s: float
    spent: Usage  # the server's, during the upload (all its threads)
    loop: Usage  # its event loop's thread alone
    client: float  # the client's CPU seconds (this process)
    others: float  # the rest of the machine's CPU seconds meanwhile

    @property
    def faults(self) -> int:
        return self.spent.minor_faults


def upload(server: Served, mib: int, query: str = "", keep: bool = False) -> Uploaded:
    """One upload of ``mib`` MiB; the stored file is deleted afterwards unless ``keep``."""
    stream = multipart_stream(mib)
    loop, meter = usage(server.pid, server.pid), Meter(server.pid, resource.RUSAGE_SELF)
    r = httpx.post(f"{server.url}/v1/files{query}", content=stream, timeout=300, headers=HEADERS)
    elapsed, spent, client, others = meter.read()
    loop = usage(server.pid, server.pid) - loop
    assert r.status_code == 200, r.text
    if not keep:
        httpx.delete(f"{server.url}/v1/files/{r.json()['id']}", headers=AUTH)
    return Uploaded(mib / elapsed, spent, loop, client, others)


def download_mib_s(url: str) -> float:
    got = 0
    started = time.perf_counter()
    with httpx.stream("GET", url, headers=AUTH, timeout=300) as r:
        for piece in r.iter_raw():
            got += len(piece)
    return got / MiB / (time.perf_counter() - started)


# --- the upload's rounds ---------------------------------------------------------------------


Role = Callable[[int], Uploaded]  # one upload of that many MiB
Servers = Callable[[dict[str, str]], contextlib.AbstractContextManager[dict[str, Role]]]


@contextlib.contextmanager
def roles(env: dict[str, str], before: Path | None = None) -> Iterator[dict[str, Role]]:
    """Fresh servers (the same allocator settings for all), each with the uploads it takes; with
    ``before`` (another checkout of mockfiles), its server too."""
    with contextlib.ExitStack() as stack:
        ours = stack.enter_context(mockfiles_server(env=env))
        base = stack.enter_context(baseline_server(env=env))
        taken: dict[str, Role] = {
            "mockfiles": lambda mib: upload(ours, mib),
            "raw read": lambda mib: upload(base, mib),
            "raw read, kept": lambda mib: upload(base, mib, "?keep=1"),
        }
        if before is not None:
            old = stack.enter_context(mockfiles_server(env={**env, "PYTHONPATH": str(before)}))
            taken["before"] = lambda mib: upload(old, mib)
        yield taken


Rounds = list[dict[str, list[Uploaded]]]


def upload_rounds(
    mib: int, rounds: int, uploads: int, warmups: int, env: dict[str, str], servers: Servers = roles, quiet: bool = True
) -> Rounds:
    """Each round on fresh servers: ``warmups`` uploads each, then ``uploads`` measured, interleaved."""
    results = []
    for r in range(rounds):
        if quiet:
            wait_for_quiet()
        with servers(env) as by_role:
            names = list(by_role)
            for _ in range(warmups):
                for name in names:
                    by_role[name](mib)
            measured: dict[str, list[Uploaded]] = {name: [] for name in names}
            for i in range(uploads):
                for name in names if (r + i) % 2 == 0 else names[::-1]:
                    measured[name].append(by_role[name](mib))
            results.append(measured)
    return results


def summarize(results: Rounds, reference: str = "raw read") -> list[str]:
    """Per server: throughput, CPU and page faults per upload (medians over every upload);
    per round, the ratio of the medians to the reference's: their median and spread."""
    m = statistics.median
    lines = []
    for name in results[0]:
        every = [u for round_ in results for u in round_[name]]
        lines.append(
            f"{name:15} {m(u.mib_s for u in every):7.1f} MiB/s   CPU {m(u.spent.cpu for u in every):.3f} s per upload "
            f"(user {m(u.spent.user for u in every):.3f} + kernel {m(u.spent.system for u in every):.3f}; event loop "
            f"{m(u.loop.cpu for u in every):.3f})   minor page faults {m(u.faults for u in every):7,.0f} "
            f"({min(u.faults for u in every):,}–{max(u.faults for u in every):,})   client CPU "
            f"{m(u.client for u in every):.3f} s, rest of the machine {m(u.others for u in every):.3f} s"
        )
    for name in results[0]:
        if name != reference:
            ratios = [m(u.mib_s for u in r[name]) / m(u.mib_s for u in r[reference]) for r in results]
            lines.append(
                f"ratio {name} / {reference}: {m(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) over "
                f"{len(ratios)} rounds" + ("   (target >= 0.8)" if name in ("mockfiles", "before") else "")
            )
    return lines


def fault_cost(results: Rounds) -> str | None:
    """Server CPU per minor page fault: the slope of CPU against faults over every upload."""
    every = [u for round_ in results for uploads in round_.values() for u in uploads]
    faults = [float(u.faults) for u in every]
    if len(set(faults)) < 3 or max(faults) - min(faults) < 10_000:
        return None
    slope, _ = statistics.linear_regression(faults, [u.spent.system for u in every])
    return f"kernel CPU per minor page fault (fit over {len(every)} uploads of every server): {slope * 1e6:.2f} us"


def cold_and_download(mib: int) -> list[str]:
    """The first upload into a fresh process (memory from the kernel), the RSS it takes while the
    file is held, and the download of it against canned bytes."""
    with mockfiles_server() as ours, baseline_server() as base:
        before, _ = rss(ours.pid)
        cold = upload(ours, mib, keep=True)
        after, peak = rss(ours.pid)
        file_id = httpx.get(ours.url + "/v1/files", headers=AUTH).json()["data"][0]["id"]
        downloads: dict[str, list[float]] = {"ours": [], "base": []}
        for _ in range(3):
            downloads["ours"].append(download_mib_s(f"{ours.url}/v1/files/{file_id}/content"))
            downloads["base"].append(download_mib_s(f"{base.url}/v1/files/x/content?size={mib * MiB}"))
    ours_down, base_down = (statistics.median(v) for v in downloads.values())
    return [
        f"first upload into a fresh mockfiles: {cold.mib_s:.1f} MiB/s, CPU {cold.spent.cpu:.3f} s, "
        f"minor page faults {cold.faults:,}",
        f"memory: server RSS {before / MiB:.0f} MiB at start, {after / MiB:.0f} MiB holding the file, "
        f"peak {peak / MiB:.0f} MiB: growth {(peak - before) / MiB:.0f} MiB (target <= file + 64 = {mib + 64} MiB)",
        f"download: mockfiles {ours_down:.1f} MiB/s, baseline (a) streaming canned bytes {base_down:.1f} MiB/s: "
        f"ratio {ours_down / base_down:.3f} (target >= 0.8)",
    ]


def bench_big(mib: int, rounds: int, uploads: int, quiet: bool = True, before: Path | None = None) -> list[str]:
    lines = cold_and_download(mib)
    servers = functools.partial(roles, before=before)
    for regime, env in REGIMES.items():
        results = upload_rounds(mib, rounds, uploads, warmups=1, env=env, servers=servers, quiet=quiet)
        lines += [f"upload, {regime}:", *("  " + line for line in summarize(results))]
        cost = fault_cost(results)
        if cost is not None:
            lines.append("  " + cost)
    return lines
