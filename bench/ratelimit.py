"""Rate limiter overhead: the limiter alone, and over HTTP with limits on (never reached) vs off.

    python -m bench.ratelimit [--requests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from mockfiles import MockFilesServer
from mockfiles.profiles import RateLimits
from mockfiles.ratelimit import RateLimiter


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


def http_round(server: MockFilesServer, requests: int) -> float:
    """Requests per second for GET /v1/files/{id} from one keep-alive client."""
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer bench"}) as http:
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

    huge = {"rate_limits": {"upload": 10**9, "query": 10**9}}
    with MockFilesServer(rate_limits=False) as off, MockFilesServer(scenario=huge) as on:
        rates_off, rates_on = [], []
        for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
            rates_off.append(http_round(off, args.requests))
            rates_on.append(http_round(on, args.requests))
    med_off, med_on = statistics.median(rates_off), statistics.median(rates_on)
    print(f"HTTP retrieve, limits off: {med_off:,.0f} req/s; limits on: {med_on:,.0f} req/s; "
          f"ratio on/off {med_on / med_off:.3f} (median of {args.rounds} x {args.requests})")  # fmt: skip


if __name__ == "__main__":
    main()
