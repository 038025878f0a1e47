"""Soak: an hour of emulator time of mixed traffic with faults; server memory must stay flat.

    python -m bench.socket.soak [--minutes 60] [--per-minute 300]

Each simulated minute sends a mix of uploads (some expiring after an hour), lists,
retrieves, downloads and deletes from several keys through a scenario that resets
connections, answers 503s and truncates responses; then the emulator clock moves one
minute on. The server's RSS is sampled every minute. Bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter

import httpx

from bench.tools.procstat import rss
from bench.tools.servers import served

SCENARIO = {
    "seed": 3,
    "rate_limits": False,
    "journal": {"cap": 5000},
    "faults": [
        {"name": "resets", "probability": 0.03, "action": "reset"},
        {"name": "overloaded", "probability": 0.05, "status": 503, "headers": {"retry-after-ms": 1}},
        {"name": "cut downloads", "match": {"endpoint": "files.content"}, "probability": 0.05, "action": "truncate"},
        {
            "name": "lost uploads",
            "match": {"endpoint": "files.create"},
            "probability": 0.02,
            "action": "reset_after_commit",
        },
    ],
}


def one_minute(
    clients: dict[str, httpx.Client],
    rng: random.Random,
    known: dict[str, list[str]],
    per_minute: int,
    outcomes: Counter[int | str],
) -> None:
    for _ in range(per_minute):
        key = rng.choice(list(known))
        http = clients[key]
        ids = known[key]
        weights = [2, 1, 2, 2, 2] if len(ids) < 200 else [1, 1, 2, 2, 3]  # a steady state of ~200 files per key
        op = rng.choices(["create", "list", "retrieve", "content", "delete"], weights)[0] if ids else "create"
        try:
            if op == "create":
                data = {"purpose": "user_data"}
                if rng.random() < 0.5:
                    data |= {"expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"}
                r = http.post("/v1/files", data=data, files={"file": ("f.bin", os.urandom(rng.randint(1, 20_000)))})
                if r.status_code == 200:
                    ids.append(r.json()["id"])
            elif op == "list":
                r = http.get("/v1/files", params={"limit": 100})
            else:
                file_id = rng.choice(ids)
                suffix = "/content" if op == "content" else ""
                r = http.request("DELETE" if op == "delete" else "GET", f"/v1/files/{file_id}{suffix}")
                if op == "delete" or r.status_code == 404:
                    ids.remove(file_id)
            outcomes[r.status_code] += 1
            assert r.status_code < 500 or r.status_code == 503, r.text
        except httpx.TransportError:
            outcomes["connection error"] += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--per-minute", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(1)
    known: dict[str, list[str]] = {f"soak-{i}": [] for i in range(4)}
    outcomes: Counter[int | str] = Counter()
    samples: list[float] = []
    net: list[float] = []  # RSS less the bytes of the files stored at that moment
    started = time.perf_counter()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as scenario:
        json.dump(SCENARIO, scenario)
        scenario.flush()
        with served("mockfiles", "mockfiles", "serve", "--port", "0", "--quiet", "--scenario", scenario.name) as server:
            clients = {
                key: httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
                for key in known
            }
            for _minute in range(args.minutes):
                one_minute(clients, rng, known, args.per_minute, outcomes)
                httpx.post(server.url + "/_mockfiles/clock", json={"advance": 60})
                files = httpx.get(server.url + "/_mockfiles/files").json()["data"]
                samples.append(rss(server.pid)[0] / 2**20)
                net.append(samples[-1] - sum(f["bytes"] for f in files) / 2**20)
            stored = len(files)
    elapsed = time.perf_counter() - started
    # compare the middle of the run (the 5,000-entry journal is full by then) with its end
    tenth = max(1, args.minutes // 10)
    middle = slice(args.minutes // 2 - tenth, args.minutes // 2)
    early, late = statistics.median(samples[middle]), statistics.median(samples[-tenth:])
    net_early, net_late = statistics.median(net[middle]), statistics.median(net[-tenth:])
    print(
        f"soak: {args.minutes} emulator minutes, {sum(outcomes.values())} requests in {elapsed:.0f}s; "
        f"outcomes {dict(outcomes)}; {stored} files stored at the end"
    )
    span = f"minutes {middle.start}-{middle.stop}"
    print(
        f"server RSS (MiB): min {min(samples):.1f}, max {max(samples):.1f}; median of {span}: {early:.1f}, "
        f"of the last {tenth}: {late:.1f} (growth {late - early:+.1f} MiB)"
    )
    print(
        f"server RSS less stored file bytes (MiB): median of {span}: {net_early:.1f}, of the last {tenth}: "
        f"{net_late:.1f} (growth {net_late - net_early:+.1f} MiB)"
    )


if __name__ == "__main__":
    main()
