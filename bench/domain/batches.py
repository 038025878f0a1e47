"""A large batch in the domain (no HTTP): time and peak memory to validate it (create) and to
complete it (the first read after it ended writes its output file).

python -m bench.domain.batches [--lines 50000] [--rounds 3] [--endpoint chat|embeddings]

Time is measured without tracemalloc (median of the rounds); peak memory in one more round
with tracemalloc, beside the sizes of the input and the output.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from typing import Any

from mockfiles.emulator import Emulator

ENDPOINTS = {"chat": "/v1/chat/completions", "embeddings": "/v1/embeddings"}


def line(i: int, endpoint: str) -> dict[str, Any]:
    if endpoint == "/v1/embeddings":
        body: dict[str, Any] = {"model": "text-embedding-3-small", "input": f"item number {i}", "dimensions": 256}
    else:
        messages = [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": f"Summarise item number {i} in one sentence."},
        ]
        body = {"model": "gpt-4o-mini", "messages": messages, "max_tokens": 100}
    return {"custom_id": f"request-{i}", "method": "POST", "url": endpoint, "body": body}


def input_chunks(lines: int, endpoint: str) -> list[bytes]:
    chunks, buffer = [], bytearray()
    for i in range(lines):
        buffer += json.dumps(line(i, endpoint)).encode() + b"\n"
        if len(buffer) >= 1 << 20:
            chunks.append(bytes(buffer))
            buffer.clear()
    return [*chunks, bytes(buffer)]


def one_round(chunks: list[bytes], endpoint: str, traced: bool) -> dict[str, float]:
    emulator = Emulator()
    stored = emulator.files.create("k", purpose="batch", filename="in.jsonl", chunks=chunks, size=sum(map(len, chunks)))
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    batch = emulator.batches.create("k", input_file_id=stored.id, endpoint=endpoint, completion_window="24h")
    validated = time.perf_counter()
    validate_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.reset_peak()
    emulator.scheduler.settle()  # the scheduler's thread writes the results (its memory is traced too)
    done = emulator.batches.get("k", batch.id)
    completed = time.perf_counter()
    complete_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    assert done.status == "completed" and done.request_counts.failed == 0
    return {
        "validate_s": validated - started,
        "complete_s": completed - validated,
        "validate_peak": validate_peak,
        "complete_peak": complete_peak,
        "output_bytes": emulator.files.get("k", done.output_file_id or "").size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--endpoint", choices=sorted(ENDPOINTS), default="chat")
    args = parser.parse_args()
    endpoint = ENDPOINTS[args.endpoint]
    chunks = input_chunks(args.lines, endpoint)
    rounds = [one_round(chunks, endpoint, traced=False) for _ in range(args.rounds)]
    traced = one_round(chunks, endpoint, traced=True)
    mib = 2**20
    print(f"batch of {args.lines:,} lines to {endpoint}: input {sum(map(len, chunks)) / mib:.1f} MiB")
    print(f"  validate (create): {statistics.median(r['validate_s'] for r in rounds):.2f} s")
    print(f"  complete (write the output): {statistics.median(r['complete_s'] for r in rounds):.2f} s")
    print(f"  peak traced memory while validating: {traced['validate_peak'] / mib:.1f} MiB")
    print(
        f"  peak traced memory while completing: {traced['complete_peak'] / mib:.1f} MiB "
        f"(output file {traced['output_bytes'] / mib:.1f} MiB)"
    )


if __name__ == "__main__":
    main()
