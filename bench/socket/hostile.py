"""What one hostile account costs everyone else: the server's memory after each probe that used to
grow it, and how long a health check and another account's small request take while the server
does the heavy work one account asked for. Each case runs against a fresh `mockfiles serve` in a
process of its own; ``--tree`` runs it from another checkout (the figures before a change).

    python -m bench.socket.hostile                       # every case
    python -m bench.socket.hostile --only results,calls  # cases: images chat quota rates uploads journal,
                                                  # idle results calls creates
    python -m bench.socket.hostile --tree /path/to/other/checkout

Latencies are measured by a prober thread sending, every 10 ms, a health check and a retrieve of a
file of another account, for as long as the work lasts: p50, p99 and max of each, in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from bench.tools.procstat import rss
from bench.tools.servers import Served, served

CHAT = "/v1/chat/completions"
HOSTILE = {"Authorization": "Bearer sk-hostile"}
OTHER = {"Authorization": "Bearer sk-other"}
TIMEOUT = httpx.Timeout(600.0)
SCENARIO = "rate_limits: false\nbatches:\n  timing: {in_progress: 1h}\n"
SCALE = [1]  # --quick divides every count by 100 (the test suite checks that each case runs)


def n(count: int) -> int:
    return max(1, count // SCALE[0])


@contextmanager
def server(tree: str | None, scenario: str = SCENARIO) -> Iterator[Served]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(scenario)
    env = {"PYTHONPATH": tree} if tree else None
    try:
        with served("mockfiles", "mockfiles", "serve", "--port", "0", "--quiet", "--scenario", f.name, env=env) as s:
            yield s
    finally:
        os.unlink(f.name)


def mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


def jsonl(lines: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(x).encode() + b"\n" for x in lines)


def batch(http: httpx.Client, content: bytes, endpoint: str = CHAT) -> str:
    source = http.post("/v1/files", files={"file": ("in.jsonl", content)}, data={"purpose": "batch"}).json()["id"]
    made = http.post("/v1/batches", json={"input_file_id": source, "endpoint": endpoint, "completion_window": "24h"})
    return str(made.json().get("id"))


def advance(url: str, seconds: float) -> None:
    httpx.post(url + "/_mockfiles/clock", json={"advance": seconds}, timeout=TIMEOUT)


# --- memory -----------------------------------------------------------------------------------------


def memory_case(
    name: str, tree: str | None, work: Callable[[Served, httpx.Client], str], scenario: str = SCENARIO
) -> None:
    with server(tree, scenario) as s, httpx.Client(base_url=s.url, headers=HOSTILE, timeout=TIMEOUT) as http:
        http.get("/v1/files")
        before = rss(s.pid)[0]
        what = work(s, http)
        time.sleep(1.0)
        after, peak = rss(s.pid)
        print(f"  {name:<8} {what:<58} RSS {mb(before)} -> {mb(after)} (peak {mb(peak)})", flush=True)


def images(s: Served, http: httpx.Client) -> str:
    lines = [
        {
            "custom_id": f"i{i}",
            "method": "POST",
            "url": "/v1/images/generations",
            "body": {"model": "gpt-image-1", "prompt": f"fox {i}", "n": 10, "size": size},
        }
        for i, size in enumerate(["2048x2048", "1536x1024"] * n(750))
    ]
    content = jsonl(lines)
    batch(http, content, "/v1/images/generations")
    advance(s.url, 3600)
    http.get("/_mockfiles/files")
    stored = sum(f["bytes"] for f in http.get("/v1/files").json()["data"])
    return f"{len(content) // 1000} KB of n=10 2048x2048 and 1536x1024 lines -> {mb(stored)} stored"


def chat(s: Served, http: httpx.Client) -> str:
    lines = [
        {
            "custom_id": f"c{i}",
            "method": "POST",
            "url": CHAT,
            "body": {"model": "gpt-4o-mini", "n": 128, "messages": [{"role": "user", "content": "x" * 8_000}]},
        }
        for i in range(n(128))
    ]
    content = jsonl(lines)
    batch(http, content)
    advance(s.url, 3600)
    http.get("/_mockfiles/files")
    stored = sum(f["bytes"] for f in http.get("/v1/files").json()["data"])
    return f"{len(content) // 1000} KB of n=128 chat lines -> {mb(stored)} stored"


def rates(s: Served, http: httpx.Client) -> str:
    with httpx.Client(base_url=s.url, timeout=TIMEOUT) as any_key:
        for i in range(n(20_000)):
            any_key.get("/v1/files", headers={"Authorization": f"Bearer sk-{i}-" + "k" * 16_000})
    advance(s.url, 2)
    for _ in range(n(400)):
        http.get("/v1/files")
    return "20,000 keys of 16 KB, one request each, then 2 s"


def uploads(s: Served, http: httpx.Client) -> str:
    for _ in range(n(300)):
        made = http.post(
            "/v1/uploads",
            json={"bytes": 10, "filename": "a.jsonl", "purpose": "fine-tune", "mime_type": "m" * 1_000_000},
        )
        if made.status_code == 200:
            http.post(f"/v1/uploads/{made.json()['id']}/cancel")
    advance(s.url, 7200)
    http.get("/_mockfiles/uploads")
    return "300 Uploads with a 1 MB mime_type, cancelled, then 2 h"


def journal(s: Served, http: httpx.Client) -> str:
    for _ in range(n(12_000)):
        http.get("/v1/files?pad=" + "q" * 60_000)
    return "12,000 requests with a 60 KB query"


# --- stalls -------------------------------------------------------------------------------------------


class Prober:
    """A health check and another account's retrieve, every 10 ms, while ``busy``."""

    def __init__(self, url: str, file_id: str) -> None:
        self.url, self.file_id = url, file_id
        self.health: list[float] = []
        self.other: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=TIMEOUT) as http:
            while True:  # one round at least, however quick the work
                for path, headers, into in (
                    ("/_mockfiles/health", {}, self.health),
                    (f"/v1/files/{self.file_id}", OTHER, self.other),
                ):
                    start = time.perf_counter()
                    status = http.get(path, headers=headers).status_code
                    into.append(time.perf_counter() - start)
                    self.errors += status >= 500
                if self._stop.is_set():
                    return
                time.sleep(0.01)

    def report(self, name: str, what: str, seconds: float) -> None:
        def line(values: list[float]) -> str:
            ordered = sorted(values)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            return f"p50 {statistics.median(ordered) * 1000:6.1f}  p99 {p99 * 1000:7.1f}  max {ordered[-1] * 1000:7.1f}"

        print(f"  {name:<8} {what} ({seconds:.1f} s, {len(self.health)} probes, {self.errors} 5xx)", flush=True)
        print(f"           health check        {line(self.health)} ms", flush=True)
        print(f"           other account's GET {line(self.other)} ms", flush=True)


def stall_case(
    name: str, tree: str | None, prepare: Callable[[Served, httpx.Client], Any], work: Callable[..., str]
) -> None:
    with server(tree) as s, httpx.Client(base_url=s.url, headers=HOSTILE, timeout=TIMEOUT) as http:
        with httpx.Client(base_url=s.url, headers=OTHER, timeout=TIMEOUT) as other:
            file_id = other.post(
                "/v1/files", files={"file": ("o.txt", b"mine")}, data={"purpose": "assistants"}
            ).json()["id"]
        state = prepare(s, http)
        start = time.perf_counter()
        with Prober(s.url, file_id) as probe:
            what = work(s, http, state)
        probe.report(name, what, time.perf_counter() - start)


def results_prepare(s: Served, http: httpx.Client) -> str:
    text = "y" * 3_500
    lines = (
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": CHAT,
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]},
        }
        for i in range(n(50_000))
    )
    return batch(http, jsonl(list(lines)))


def results_work(s: Served, http: httpx.Client, batch_id: str) -> str:
    advance(s.url, 3600)
    http.get("/_mockfiles/uploads")  # it used to build the batch's results on the event loop
    done = http.get(f"/v1/batches/{batch_id}").json()  # the owner waits for them
    size = http.get(f"/v1/files/{done['output_file_id']}").json()["bytes"]
    return f"a 50,000-line batch's results ({mb(size)}) written after it ends"


def calls_prepare(s: Served, http: httpx.Client) -> None:
    for i in range(4):
        http.post(
            "/v1/files", files={"file": (f"b{i}.bin", os.urandom(n(100 * 2**20)))}, data={"purpose": "assistants"}
        )


def calls_work(s: Served, http: httpx.Client, _: None) -> str:
    assert http.get("/_mockfiles/calls").status_code == 200
    return "GET /_mockfiles/calls hashing 400 MiB of unread uploads"


def creates_prepare(s: Served, http: httpx.Client) -> str:
    lines = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": CHAT,
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"say {i}"}]},
        }
        for i in range(n(20_000))
    ]
    source: str = http.post("/v1/files", files={"file": ("in.jsonl", jsonl(lines))}, data={"purpose": "batch"}).json()[
        "id"
    ]
    return source


def creates_work(s: Served, http: httpx.Client, source: str) -> str:
    body = {"input_file_id": source, "endpoint": CHAT, "completion_window": "24h"}
    statuses: list[int] = []

    def create() -> None:
        with httpx.Client(base_url=s.url, headers=HOSTILE, timeout=TIMEOUT) as own:
            statuses.append(own.post("/v1/batches", json=body).status_code)

    threads = [threading.Thread(target=create) for _ in range(n(60))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = statuses.count(200)
    return f"60 concurrent creates of one account, 20,000 lines each ({made} answered 200)"


QUOTA = SCENARIO + "limits: {max_total_bytes: 64MB}\n"
MEMORY = {"images": images, "chat": chat, "quota": chat, "rates": rates, "uploads": uploads, "journal": journal}


def idle_prepare(s: Served, http: httpx.Client) -> None:
    return None


def idle_work(s: Served, http: httpx.Client, _: None) -> str:
    time.sleep(10 / SCALE[0])
    return "nothing else for 10 s: the machine's own floor"


STALLS: dict[str, tuple[Callable[[Served, httpx.Client], Any], Callable[..., str]]] = {
    "idle": (idle_prepare, idle_work),
    "results": (results_prepare, results_work),
    "calls": (calls_prepare, calls_work),
    "creates": (creates_prepare, creates_work),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated cases: " + ", ".join([*MEMORY, *STALLS]))
    parser.add_argument("--tree", help="the checkout to serve from (its directory on PYTHONPATH)")
    parser.add_argument("--quick", action="store_true", help="every count divided by 100: checks that the cases run")
    args = parser.parse_args()
    SCALE[0] = 100 if args.quick else 1
    wanted = set(args.only.split(",")) if args.only else {*MEMORY, *STALLS}
    print(f"mockfiles from {args.tree or 'this checkout'}")
    print("memory (server RSS after the hostile account's requests):")
    for name, work in MEMORY.items():
        if name in wanted:  # quota: the chat case in an account of 64 MB
            memory_case(name, args.tree, work, QUOTA if name == "quota" else SCENARIO)
    print("stalls (while the heavy work of one account runs):")
    for name, (prepare, stall) in STALLS.items():
        if name in wanted:
            stall_case(name, args.tree, prepare, stall)


if __name__ == "__main__":
    main()
