"""A large fine-tuning training file in the domain (no HTTP): time and peak memory to validate it
(create reads every example and builds the results file), and to list its newest events and
checkpoints once the job has succeeded.

python -m bench.domain.fine_tuning [--examples 100000] [--rounds 3] [--batch-size auto] [--http]

Time is measured without tracemalloc (median of the rounds); peak memory in one more round with
tracemalloc, beside the size of the file. ``--http`` also times the upload and the create through
the openai SDK against a server in this process (its own thread, over loopback).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from typing import Any

from mockfiles.emulator import Emulator
from mockfiles.fine_tuning.params import CreateJob


def example(i: int) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "You are a helpful assistant that answers in one sentence."},
            {"role": "user", "content": f"What is the capital of country number {i}?"},
            {"role": "assistant", "content": f"The capital of country number {i} is City {i}."},
        ]
    }


def training_chunks(examples: int) -> list[bytes]:
    chunks, buffer = [], bytearray()
    for i in range(examples):
        buffer += json.dumps(example(i)).encode() + b"\n"
        if len(buffer) >= 1 << 20:
            chunks.append(bytes(buffer))
            buffer.clear()
    return [*chunks, bytes(buffer)]


def one_round(chunks: list[bytes], batch_size: int | str, traced: bool) -> dict[str, Any]:
    emulator = Emulator()
    size = sum(map(len, chunks))
    stored = emulator.files.create("k", purpose="fine-tune", filename="train.jsonl", chunks=chunks, size=size)
    method = {"type": "supervised", "supervised": {"hyperparameters": {"batch_size": batch_size}}}
    body = {"model": "gpt-4o-mini", "training_file": stored.id, "method": method}
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    job = emulator.fine_tuning.create("k", CreateJob.parse(body))
    validated = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    done = emulator.fine_tuning.get("k", job["id"])
    events = emulator.fine_tuning.events("k", job["id"], limit=100)
    checkpoints = emulator.fine_tuning.checkpoints("k", job["id"])
    listed = time.perf_counter()
    assert done["status"] == "succeeded", done
    return {
        "validate_s": validated - started,
        "read_s": listed - validated,
        "peak_mb": peak / 2**20,
        "steps": events["data"][-1]["data"]["total_steps"] if events["data"][-1]["data"] else None,
        "checkpoints": len(checkpoints["data"]),
        "hyperparameters": done["hyperparameters"],
        "trained_tokens": done["trained_tokens"],
    }


def over_http(chunks: list[bytes], rounds: int) -> tuple[float, float]:
    """Median seconds of the upload and of the create, through the openai SDK over loopback."""
    from mockfiles import MockFilesServer

    content = b"".join(chunks)
    uploads, creates = [], []
    with MockFilesServer(rate_limits=False) as server:
        client = server.client(max_retries=0, timeout=600)
        for _ in range(rounds):
            started = time.perf_counter()
            training = client.files.create(file=("train.jsonl", content), purpose="fine-tune")
            uploaded = time.perf_counter()
            job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training.id)
            created = time.perf_counter()
            assert job.status == "validating_files"
            assert client.fine_tuning.jobs.retrieve(job.id).status == "succeeded"
            uploads.append(uploaded - started)
            creates.append(created - uploaded)
    return statistics.median(uploads), statistics.median(creates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", default="auto")
    parser.add_argument("--http", action="store_true", help="also time the upload and create over HTTP")
    args = parser.parse_args()
    batch_size: int | str = int(args.batch_size) if args.batch_size.isdigit() else args.batch_size
    chunks = training_chunks(args.examples)
    size = sum(map(len, chunks))
    print(f"training file: {args.examples:,} examples, {size / 2**20:.1f} MiB, batch_size {batch_size}")
    rounds = [one_round(chunks, batch_size, traced=False) for _ in range(args.rounds)]
    traced = one_round(chunks, batch_size, traced=True)
    validate = statistics.median(r["validate_s"] for r in rounds)
    read = statistics.median(r["read_s"] for r in rounds)
    print(f"create (validate {args.examples:,} examples, build the results file): {validate:.2f} s median")
    print(f"peak memory while creating: {traced['peak_mb']:.1f} MiB")
    print(f"retrieve + 100 newest events + checkpoints after success: {read * 1000:.1f} ms")
    print(f"settled hyperparameters: {traced['hyperparameters']}; trained_tokens {traced['trained_tokens']:,}")
    if args.http:
        upload, create = over_http(chunks, args.rounds)
        print(f"over HTTP (openai SDK): upload {upload:.2f} s, create {create:.2f} s (medians)")


if __name__ == "__main__":
    main()
