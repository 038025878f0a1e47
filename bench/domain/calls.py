"""Calls and verdicts from a full journal: journal entries -> attempts -> logical calls -> verdicts ->
JSON-ready dicts, for 10,000 entries (the journal's default cap) of mixed traffic.

python -m bench.domain.calls [--entries 10000] [--rounds 7] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from typing import Any

from mockfiles.retries.attempts import attempt_from_entry
from mockfiles.retries.calls import group_calls
from mockfiles.retries.verdicts import call_dict, judge_entries


def mixed_entries(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """SDK-like calls (a fifth of them retried once or twice, with backoff or advice), a naive wrapper's
    calls (count 0 every time), explicit keys, uploads of distinct files; eight accounts; some in retry tests."""
    rng = random.Random(seed)
    entries: list[dict[str, Any]] = []
    now = 1_000.0
    endpoints = [
        ("files.list", "GET", "/v1/files"),
        ("files.retrieve", "GET", "/v1/files/file-{n}"),
        ("files.content", "GET", "/v1/files/file-{n}/content"),
        ("files.delete", "DELETE", "/v1/files/file-{n}"),
        ("files.create", "POST", "/v1/files"),
    ]
    n = 0
    while len(entries) < count:
        n += 1
        endpoint, method, path = endpoints[rng.randrange(len(endpoints))]
        account = f"sk-{rng.randrange(8)}"
        test = f"{rng.randrange(50):032x}" if rng.random() < 0.3 else None
        naive = rng.random() < 0.1
        key = f"k{n}" if rng.random() < 0.05 else None
        failures = rng.choice((0, 0, 0, 0, 1, 2))
        digest = hashlib.sha256(str(n).encode()).hexdigest() if endpoint == "files.create" else None
        for attempt in range(failures + 1):
            status = 200 if attempt == failures else rng.choice((429, 500, 503))
            advice = {"retry-after-ms": "200"} if status == 429 else {}
            entries.append(
                {
                    "seq": len(entries) + 1,
                    "request_id": f"req_{len(entries) + 1:032x}",
                    "retry_test": test,
                    "account": account,
                    "endpoint": endpoint,
                    "method": method,
                    "path": path.format(n=n),
                    "query": "",
                    "received_at": now,
                    "duration_ms": 3.0,
                    "wall_time": now,
                    "status": status,
                    "action": None,
                    "retry_count": 0 if naive else attempt,
                    "advice": advice,
                    "call_key": key,
                    "filename": "data.jsonl" if digest else None,
                    "purpose": "batch" if digest else None,
                    "sha256": digest,
                    "file_id": f"file-{n}" if digest and status == 200 else None,
                    "retry_remaining": 0 if test else None,
                }
            )
            now += 0.004 + (0.4 * 2**attempt if status != 429 else 0.2)
    return entries[:count]


def timed(function: Any, rounds: int) -> tuple[float, float]:
    """Best and median seconds (the best is the cost; the median shows how noisy the machine was)."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return min(samples), statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    args = parser.parse_args()
    count, rounds = (300, 1) if args.quick else (args.entries, args.rounds)
    entries = mixed_entries(count)
    attempts = [attempt_from_entry(e) for e in entries]
    calls = group_calls(attempts)
    steps = [
        ("journal entries -> attempts", lambda: [attempt_from_entry(e) for e in entries]),
        ("attempts -> logical calls", lambda: group_calls(attempts)),
        ("calls -> verdicts and dicts", lambda: [call_dict(c) for c in calls]),
        ("all of it (judge_entries)", lambda: judge_entries(entries)),
    ]
    same = [
        dict(e, path="/v1/files", endpoint="files.list", method="GET", retry_test=None, call_key=None) for e in entries
    ]
    steps.append(("worst case: one lane, one path", lambda: judge_entries(same)))
    print(f"calls and verdicts: {count} entries, {len(calls)} calls; best and median of {rounds}")
    for name, function in steps:
        best, median = timed(function, rounds)
        print(f"  {name:<30} {best * 1000:8.1f} ms  (median {median * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
