"""The Uploads service without HTTP: completing a large Upload, with and without its md5.

python -m bench.domain.uploads_domain [--gib 1] [--part-mib 64] [--chunk-kib 64] [--rounds 3]

The Parts are built as the multipart reader leaves them (lists of chunks of about 64 KiB), so
what is measured is the completion itself: the md5 fed chunk by chunk, and the File made of
the Parts' chunks. Memory is traced with tracemalloc in one more completion (the chunks already
exist), timed apart from it.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
import tracemalloc

from mockfiles.core.clock import Clock
from mockfiles.core.profiles import openai_profile
from mockfiles.files.service import Files
from mockfiles.uploads.requests import CompleteRequest, CreateRequest
from mockfiles.uploads.service import Uploads, md5_of

MiB = 1024**2


def parts_of(total: int, part: int, chunk: int) -> list[list[bytes]]:
    """Distinct chunk objects of random bytes, as many as a real body would leave."""
    rng = random.Random(0)
    parts = []
    for start in range(0, total, part):
        size = min(part, total - start)
        parts.append([rng.randbytes(min(chunk, size - i)) for i in range(0, size, chunk)])
    return parts


def complete_once(parts: list[list[bytes]], total: int, md5: str | None, trace: bool) -> tuple[float, int]:
    files = Files(openai_profile(), Clock(), random.Random(0))
    uploads = Uploads(files)
    upload = uploads.create("bench", CreateRequest(total, "big.bin", "application/octet-stream", "user_data"))
    ids = [uploads.add_part("bench", upload.id, chunks, sum(map(len, chunks))).id for chunks in parts]
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    done = uploads.complete("bench", upload.id, CompleteRequest(tuple(ids), md5))
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    f = uploads.file_of(done)
    assert f is not None and f.size == total
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--part-mib", type=int, default=64)
    parser.add_argument("--chunk-kib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    total = int(args.gib * 1024**3)
    parts = parts_of(total, args.part_mib * MiB, args.chunk_kib * 1024)
    chunks = sum(len(p) for p in parts)
    print(f"{total / MiB:.0f} MiB in {len(parts)} parts, {chunks} chunks of {args.chunk_kib} KiB")

    def timed(fn: object) -> float:
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    flat = [c for p in parts for c in p]
    digest = md5_of(flat)
    by_chunks = timed(lambda: md5_of(flat))
    print(f"md5 over the chunks: {by_chunks:.3f} s ({total / MiB / by_chunks:.0f} MiB/s)")
    joined = timed(lambda: hashlib.md5(b"".join(flat), usedforsecurity=False).hexdigest())
    print(f"md5 of the joined bytes (for comparison; holds a second copy): {joined:.3f} s")
    for md5 in (None, digest):
        elapsed = statistics.median(complete_once(parts, total, md5, trace=False)[0] for _ in range(args.rounds))
        peak = complete_once(parts, total, md5, trace=True)[1]
        label = "with md5" if md5 else "without md5"
        print(f"complete {label}: {elapsed:.3f} s, traced peak {peak / 1024:.0f} KiB ({peak / chunks:.1f} B/chunk)")


if __name__ == "__main__":
    main()
