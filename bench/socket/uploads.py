"""1 GiB through the Uploads API in 64 MiB Parts, against one POST /v1/files of the same size.

python -m bench.socket.uploads [--mib 1024] [--part-mib 64] [--rounds 3] [--quick]

Each server runs in a process of its own (`mockfiles serve`), started fresh for each round, with a
scenario raising the 512 MiB per-file limit of the openai profile (a single POST /files of 1 GiB
is refused otherwise; the Uploads API is not bound by it). Both take the same bytes, from the
same generator, with the same multipart boundary as httpx draws: the Upload as the SDK's
``upload_file_chunked`` sends it (create, the Parts one after another, complete without md5),
the single upload as one multipart request. Measured:

- throughput, create to complete against the single request, interleaved (the order alternating);
- the Uploads server's RSS: at start, and its peak once the 1 GiB File is made (target: growth
  at most the file + 64 MiB: no Part held twice, the File made of the Parts' chunks);
- completing with an md5 (1 GiB hashed off the event loop): its time, and the longest a
  ``GET /_mockfiles/health`` waited meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from bench.socket.bigupload import BOUNDARY
from bench.tools.procstat import Meter, rss, wait_for_quiet
from bench.tools.servers import AUTH, Served, mockfiles_server

MiB = 1024 * 1024
PIECE = os.urandom(MiB)
HEADERS = {**AUTH, "Content-Type": "multipart/form-data; boundary=" + BOUNDARY.decode()}
SCENARIO = "limits:\n  max_file_bytes: 8GiB  # one POST /files of 1 GiB (the profile's limit: 512 MiB)\n"


def body(field: str, mib: int, purpose: str | None = None) -> Iterator[bytes]:
    """A multipart body with one file part of ``mib`` MiB (and a purpose before it)."""
    head = b""
    if purpose is not None:
        head = (
            b"--"
            + BOUNDARY
            + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n'
            + purpose.encode()
            + b"\r\n"
        )
    yield (
        head + b"--" + BOUNDARY + f'\r\nContent-Disposition: form-data; name="{field}"; filename="upload"\r\n'.encode()
    )
    yield b"Content-Type: application/octet-stream\r\n\r\n"
    for _ in range(mib):
        yield PIECE
    yield b"\r\n--" + BOUNDARY + b"--\r\n"


@dataclass(frozen=True)
class Sent:
    mib_s: float
    server_cpu: float  # the server's CPU seconds (all its threads) during the upload
    others: float  # the rest of the machine's CPU seconds meanwhile (neither the server nor this client)
    completing: float = 0.0  # seconds the completion took (Uploads only)


def single(server: Served, mib: int) -> Sent:
    """One POST /v1/files of ``mib`` MiB (the file is deleted afterwards)."""
    meter = Meter(server.pid, resource.RUSAGE_SELF)
    r = httpx.post(f"{server.url}/v1/files", content=body("file", mib, "user_data"), headers=HEADERS, timeout=600)
    elapsed, spent, _, others = meter.read()
    assert r.status_code == 200, r.text
    httpx.delete(f"{server.url}/v1/files/{r.json()['id']}", headers=AUTH)
    return Sent(mib / elapsed, spent.cpu, others)


def in_parts(server: Served, mib: int, part_mib: int, md5: str | None = None) -> tuple[Sent, str]:
    """An Upload of ``mib`` MiB in Parts of ``part_mib``, create to complete; and the File's id."""
    meter = Meter(server.pid, resource.RUSAGE_SELF)
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=600) as client:
        upload = client.post(
            "/v1/uploads",
            json={
                "bytes": mib * MiB,
                "filename": "big.bin",
                "mime_type": "application/octet-stream",
                "purpose": "user_data",
            },
        ).json()
        ids = []
        for start in range(0, mib, part_mib):
            size = min(part_mib, mib - start)
            r = client.post(f"/v1/uploads/{upload['id']}/parts", content=body("data", size), headers=HEADERS)
            assert r.status_code == 200, r.text
            ids.append(r.json()["id"])
        completing = time.perf_counter()
        done = client.post(
            f"/v1/uploads/{upload['id']}/complete", json={"part_ids": ids, **({"md5": md5} if md5 else {})}
        )
        ended = time.perf_counter()
        elapsed, spent, _, others = meter.read()
    assert done.status_code == 200, done.text
    return Sent(mib / elapsed, spent.cpu, others, ended - completing), done.json()["file"]["id"]


def md5_of(mib: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for _ in range(mib):
        digest.update(PIECE)
    return digest.hexdigest()


@contextlib.contextmanager
def health_probe(server: Served) -> Iterator[list[float]]:
    """``GET /_mockfiles/health`` in a loop while the block runs: how long each waited (ms)."""
    waits: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=server.url) as client:
            while not stop.is_set():
                started = time.perf_counter()
                client.get("/_mockfiles/health")
                waits.append((time.perf_counter() - started) * 1000)
                time.sleep(0.01)

    thread = threading.Thread(target=probe)
    thread.start()
    try:
        yield waits
    finally:
        stop.set()
        thread.join()


def run(mib: int, part_mib: int, rounds: int, uploads: int = 2, quiet: bool = True) -> list[str]:
    """Each round on two fresh servers: ``uploads`` of each kind, interleaved (the order alternating)."""
    m = statistics.median
    sent: dict[str, list[Sent]] = {"parts": [], "single": []}
    ratios, growths = [], []
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as scenario:
        scenario.write(SCENARIO)
        scenario.flush()
        for r in range(rounds):
            if quiet:
                wait_for_quiet()
            with (
                mockfiles_server("--scenario", scenario.name) as ours,
                mockfiles_server("--scenario", scenario.name) as one,
            ):
                before, _ = rss(ours.pid)
                measured: dict[str, list[Sent]] = {"parts": [], "single": []}
                for i in range(uploads):
                    for name in ("parts", "single") if (r + i) % 2 == 0 else ("single", "parts"):
                        if name == "single":
                            measured[name].append(single(one, mib))
                            continue
                        upload, file_id = in_parts(ours, mib, part_mib)
                        if i == 0:  # the first into a fresh process: every byte it holds is new memory
                            growths.append((rss(ours.pid)[1] - before) / MiB)
                        httpx.delete(f"{ours.url}/v1/files/{file_id}", headers=AUTH)
                        measured[name].append(upload)
            for name in sent:
                sent[name] += measured[name]
            ratios.append(m(u.mib_s for u in measured["parts"]) / m(u.mib_s for u in measured["single"]))
        with mockfiles_server("--scenario", scenario.name) as ours:
            digest = md5_of(mib)
            with health_probe(ours) as waits:
                md5_upload, _ = in_parts(ours, mib, part_mib, md5=digest)
    lines = []
    for name, label in (("parts", f"in Parts of {part_mib} MiB"), ("single", "in one POST /v1/files")):
        every = sent[name]
        rates = [u.mib_s for u in every]
        lines.append(
            f"{mib} MiB {label:22} {m(rates):7.1f} MiB/s ({min(rates):.1f}-{max(rates):.1f})   server CPU "
            f"{m(u.server_cpu for u in every):.2f} s, rest of the machine {m(u.others for u in every):.2f} s"
        )
    parts_cpu = m(u.server_cpu for u in sent["parts"])  # /proc counts in ticks: a tiny run can read 0
    cpu_ratio = f"{m(u.server_cpu for u in sent['single']) / parts_cpu:.2f}" if parts_cpu else "n/a (under a tick)"
    completes = [u.completing for u in sent["parts"]]
    return [
        *lines,
        f"ratio Parts / one POST /files: {m(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) over {rounds} rounds"
        f" of {uploads} each   (target >= 0.8); server CPU, one POST / Parts: {cpu_ratio}",
        f"server RSS growth through the File's completion: {m(growths):.0f} MiB (max {max(growths):.0f}; "
        f"target <= {mib} + {part_mib} = {mib + part_mib} MiB)",
        f"complete without md5: {m(completes) * 1000:.1f} ms (the File made of the Parts' chunks, no copy)",
        f"complete with md5: {md5_upload.completing:.2f} s; GET /_mockfiles/health meanwhile: {len(waits)} answered, "
        f"longest wait {max(waits, default=0):.1f} ms (median {m(waits) if waits else 0:.1f} ms)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.socket.uploads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--part-mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--uploads", type=int, default=2, help="of each kind per round")
    parser.add_argument("--quick", action="store_true", help="4 MiB in 1 MiB Parts, one round: to check it runs")
    args = parser.parse_args()
    if args.quick:
        args.mib, args.part_mib, args.rounds, args.uploads = 4, 1, 1, 1
    print(f"# bench.socket.uploads ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores)")
    for line in run(args.mib, args.part_mib, args.rounds, args.uploads, quiet=not args.quick):
        print(line)


if __name__ == "__main__":
    main()
