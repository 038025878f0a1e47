"""Rate limiter overhead: the limiter alone, and over HTTP with limits on (never reached) vs off.

python -m bench.socket.ratelimit [--requests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx

from mockfiles.admission.ratelimit import RateLimiter
from mockfiles.core.profiles import RateLimits


def limiter_alone(checks: int, keys: int) -> float:
    """Nanoseconds per check, sliding window kept full (the worst case: evicting each time)."""
    limiter = RateLimiter(RateLimits(upload=3, query=10))
    names = [f"key-{i}" for i in range(keys)]
    now = 1_000.0
    started = time.perf_counter()
    for i in range(checks):
        now += 0.0005
        limiter.check(names[i % keys], "files.retrieve", now)
    return (time.perf_counter() - started) / checks * 1e9


@contextlib.contextmanager
def served(*args: str) -> Iterator[str]:
    """A `mockfiles serve` in its own process (so the client does not share its GIL)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockfiles", "serve", "--port", "0", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = re.search(r"http://[\d.]+:\d+", process.stdout.readline())
        assert match, "the server did not start"
        yield match.group(0)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def http_round(url: str, requests: int) -> float:
    """Requests per second for GET /v1/files/{id} from one keep-alive client."""
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer bench"}) as http:
        file_id = http.post("/v1/files", files={"file": ("a", b"x")}, data={"purpose": "assistants"}).json()["id"]
        started = time.perf_counter()
        for _ in range(requests):
            http.get(f"/v1/files/{file_id}")
        return requests / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--checks", type=int, default=500_000)
    args = parser.parse_args()

    per_check = statistics.median(limiter_alone(args.checks, 100) for _ in range(args.rounds))
    print(f"limiter alone: {per_check:.0f} ns/check ({1e9 / per_check:,.0f} checks/s), median of {args.rounds}")

    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as scenario:
        json.dump({"rate_limits": {"upload": 10**9, "query": 10**9}}, scenario)
        scenario.flush()
        with served("--no-rate-limits") as off, served("--scenario", scenario.name) as on:
            rates_off, rates_on = compare(off, on, args.rounds, args.requests)
    med_off, med_on = statistics.median(rates_off), statistics.median(rates_on)
    print(
        f"HTTP retrieve, limits off: {med_off:,.0f} req/s; limits on: {med_on:,.0f} req/s; "
        f"ratio on/off {med_on / med_off:.3f} (median of {args.rounds} x {args.requests})"
    )


def compare(off: str, on: str, rounds: int, requests: int) -> tuple[list[float], list[float]]:
    rates_off, rates_on = [], []
    http_round(off, 200), http_round(on, 200)  # warm-up
    for _ in range(rounds):  # interleaved, so machine noise hits both alike
        rates_off.append(http_round(off, requests))
        rates_on.append(http_round(on, requests))
    return rates_off, rates_on


if __name__ == "__main__":
    main()
