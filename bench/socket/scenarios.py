"""Big scenarios: how long `mockfiles check` takes, and whether a server keeps answering
while `PUT /_mockfiles/scenario` parses one.

python -m bench.socket.scenarios [--quick]

1. `mockfiles check` on scenarios of 5,000 and 50,000 fault rules (each rule one line,
   `- {status: 500, after: N}`: 50,000 rules are 1.4 MB): median wall time of a few runs,
   and of the parse alone in this process, per rule (flat when parsing is linear).
2. a `mockfiles serve` in its own process gets the 50,000-rule scenario by PUT while one
   client asks `GET /_mockfiles/health` back to back: the health checks' latency during
   the PUT, beside the same client's latency with nothing else going on.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.socket.ratelimit import served
from mockfiles import load_scenario


def scenario_text(rules: int) -> str:
    return "faults:\n" + "".join(f"- {{status: 500, after: {i}}}\n" for i in range(rules))


def check_seconds(path: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mockfiles", "check", str(path)], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def health_latencies(http: httpx.Client, until: threading.Event | None, count: int = 0) -> list[float]:
    """Milliseconds per health check, back to back: ``count`` of them, or until ``until`` is set."""
    latencies = []
    while (until is not None and not until.is_set()) or len(latencies) < count:
        started = time.perf_counter()
        http.get("/_mockfiles/health")
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def put_while_polling(url: str, text: str) -> tuple[float, list[float], list[float]]:
    with httpx.Client(base_url=url, timeout=120) as http, httpx.Client(base_url=url, timeout=120) as admin:
        idle = health_latencies(http, None, count=200)
        done = threading.Event()
        result: dict[str, float] = {}

        def put() -> None:
            started = time.perf_counter()
            response = admin.put("/_mockfiles/scenario", content=text.encode())
            result["seconds"] = time.perf_counter() - started
            assert response.status_code == 200, response.text[:300]
            done.set()

        thread = threading.Thread(target=put)
        thread.start()
        during = health_latencies(http, done)
        thread.join()
    return result["seconds"], idle, during


def describe(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median = statistics.median(ordered)
    return f"{len(ordered)} checks, median {median:.2f} ms, p99 {p99:.2f} ms, max {ordered[-1]:.1f} ms"


def parse_seconds(path: Path, runs: int) -> float:
    """The same file read in this process: the parse alone, without the interpreter's start."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        load_scenario(path)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks that the benchmark runs")
    args = parser.parse_args()
    sizes, runs = ((500, 5_000), 1) if args.quick else ((5_000, 50_000), 3)

    print("1. mockfiles check")
    with tempfile.TemporaryDirectory() as tmp:
        for rules in sizes:
            path = Path(tmp) / f"rules-{rules}.yaml"
            path.write_text(scenario_text(rules))
            seconds, parse = check_seconds(path, runs), parse_seconds(path, runs)
            size = path.stat().st_size / 1e6
            print(
                f"   {rules:>6,} rules ({size:.2f} MB): check {seconds:.2f} s; "
                f"parse alone {parse:.2f} s ({parse / rules * 1e6:.1f} µs per rule)"
            )

    print("2. health checks while PUT /_mockfiles/scenario parses")
    with served("--no-rate-limits") as url:
        seconds, idle, during = put_while_polling(url, scenario_text(sizes[-1]))
    print(f"   PUT of {sizes[-1]:,} rules answered in {seconds:.2f} s")
    print(f"   idle:       {describe(idle)}")
    print(f"   during PUT: {describe(during)}")


if __name__ == "__main__":
    main()
