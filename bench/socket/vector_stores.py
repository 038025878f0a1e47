"""One vector store of many files over HTTP with the openai SDK: the time to ingest them (a file
batch's create reads and chunks every file), to search them (the first search indexes them all),
against a plain ``files.list`` of the same files; and the memory the store holds per MB stored. The
files are indexed in a worker thread from the moment they are attached: ``index_ready_s`` is the
time from the batch's create until every file is indexed (wall and CPU time: the machine may be
shared), ``first_search_s`` a search once they are.

python -m bench.socket.vector_stores [--files 1000] [--kib 100] [--queries 20]

The files are pseudo-English text (a seeded vocabulary of 20,000 words drawn with Zipf's law), so
chunks and word statistics are as a real corpus's. Memory is the process's resident set (the server
runs in it, on a thread; SQLite's allocations are outside Python's and only the resident set sees
them), read after the uploads, after the ingestion and after the first search; its growth past the
uploads is what the vector store holds for the files' bytes the Files service keeps anyway.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.tools.procstat import rss, usage
from mockfiles import MockFilesServer

MiB = 1024 * 1024


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    weights = [1 / (i + 1) for i in range(len(letters))]
    return ["".join(rng.choices(letters, weights, k=rng.randint(2, 10))) for _ in range(size)]


def document(rng: random.Random, words: list[str], cumulative: list[float], size: int) -> bytes:
    out: list[str] = []
    length = 0
    while length < size:
        sentence = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(6, 20))).capitalize() + ". "
        out.append(sentence)
        length += len(sentence)
    return "".join(out).encode()[:size]


def rss_bytes() -> int:
    return rss(os.getpid())[0]


def median_of(call: Callable[[], Any], times: int) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def run(files: int, kib: int, queries: int) -> dict[str, float]:
    rng = random.Random(7)
    words = vocabulary(rng)
    cumulative = list(itertools.accumulate(1 / (i + 1) for i in range(len(words))))
    texts = [document(rng, words, cumulative, kib * 1024) for _ in range(files)]
    stored_mb = sum(map(len, texts)) / MiB
    figures: dict[str, float] = {"files": files, "stored_MiB": stored_mb}
    with MockFilesServer(rate_limits=False, scenario={"vector_stores": {"ingestion": "1s"}}) as server:
        client = server.client(max_retries=0, timeout=600)
        gc.collect()
        base = rss_bytes()
        started = time.perf_counter()
        ids = [client.files.create(file=(f"doc{i}.txt", text), purpose="assistants").id for i, text in enumerate(texts)]
        figures["upload_s"] = time.perf_counter() - started
        del texts
        gc.collect()
        uploaded = rss_bytes()
        figures["files_list_s"] = median_of(lambda: client.files.list().data, 10)
        store = client.vector_stores.create(name="bench")
        cpu = usage(os.getpid())
        figures["ingest_s"], batch = timed(lambda: client.vector_stores.file_batches.create(store.id, file_ids=ids))
        figures["ingest_cpu_s"] = (usage(os.getpid()) - cpu).cpu
        service = server.emulator.vector_stores
        seqs = [f.seq for f in service.find(store.id).files.values()]  # type: ignore[union-attr]
        started, cpu = time.perf_counter(), usage(os.getpid())
        while not all(service.index.indexed(seq) for seq in seqs):  # a worker thread indexes them meanwhile
            time.sleep(0.05)
        figures["index_ready_s"] = time.perf_counter() - started + figures["ingest_s"]
        figures["index_cpu_s"] = (usage(os.getpid()) - cpu).cpu
        server.advance(3600)
        figures["batch_retrieve_s"] = median_of(
            lambda: client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id), 10
        )
        done = client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id)
        assert done.file_counts.completed == files, done
        figures["store_retrieve_s"] = median_of(lambda: client.vector_stores.retrieve(store.id), 10)
        figures["store_files_list_s"] = median_of(lambda: client.vector_stores.files.list(store.id, limit=100), 10)
        gc.collect()
        ingested = rss_bytes()
        figures["first_search_s"], first = timed(lambda: client.vector_stores.search(store.id, query=words[100]))
        assert first.data, "the first search found nothing"
        asked = [" ".join(rng.sample(words[50:5000], rng.randint(2, 4))) for _ in range(queries)]
        spent = [timed(lambda q=q: client.vector_stores.search(store.id, query=q))[0] for q in asked]
        figures["search_s"] = statistics.median(spent)
        figures["search_max_s"] = max(spent)
        gc.collect()
        indexed = rss_bytes()
        figures["delete_file_s"], _ = timed(lambda: client.files.delete(ids[0]))
        figures["search_after_delete_s"], _ = timed(lambda: client.vector_stores.search(store.id, query=words[100]))
        assert client.vector_stores.retrieve(store.id).file_counts.total == files - 1
    figures["rss_files_MiB"] = (uploaded - base) / MiB
    figures["rss_ingestion_MiB"] = (ingested - uploaded) / MiB
    figures["rss_index_MiB"] = (indexed - ingested) / MiB
    figures["held_per_stored_MB"] = (indexed - uploaded) / MiB / stored_mb
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--kib", type=int, default=100)
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()
    figures = run(args.files, args.kib, args.queries)
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:,.4f}" if isinstance(value, float) else f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
