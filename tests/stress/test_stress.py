"""Many threads and asyncio tasks doing random create/list/retrieve/content/delete across
several accounts for a bounded time; then every invariant is checked."""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from mockfiles import MockFilesServer

pytestmark = pytest.mark.mockfiles(rate_limits=False)

ACCOUNTS = ["stress-a", "stress-b", "stress-c"]
SECONDS = 4.0


@dataclass
class Worker:
    """One client's own files: it alone deletes them, so it always knows what must exist."""

    account: str
    rng: random.Random
    files: dict[str, bytes] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def next_op(self) -> str:
        if not self.files:
            return "create"
        return self.rng.choices(["create", "retrieve", "content", "list", "delete"], [4, 2, 2, 1, 2])[0]

    def payload(self) -> bytes:
        return os.urandom(self.rng.randint(1, 40_000))

    def check(self, op: str, file_id: str | None, content: bytes | None, r: httpx.Response) -> None:
        self.statuses[r.status_code] += 1
        if r.status_code >= 500:
            self.problems.append(f"{op}: {r.status_code} {r.text[:200]}")
        elif op == "create" and r.status_code == 200:
            self.files[r.json()["id"]] = content or b""
        elif op in ("retrieve", "delete") and r.status_code != 200:
            self.problems.append(f"{op} {file_id}: {r.status_code}")
        elif op == "retrieve" and r.json()["bytes"] != len(self.files[file_id or ""]):
            self.problems.append(f"retrieve {file_id}: wrong size")
        elif op == "content" and r.content != self.files[file_id or ""]:
            self.problems.append(f"content {file_id}: bytes differ")
        elif op == "delete":
            del self.files[file_id or ""]
        elif op == "list":
            listed = {f["id"] for f in r.json()["data"]}
            missing = set(self.files) - listed
            if missing:
                self.problems.append(f"list misses {len(missing)} of this worker's files")

    def request(self, op: str) -> tuple[str | None, bytes | None, dict]:
        file_id = self.rng.choice(sorted(self.files)) if self.files and op != "create" and op != "list" else None
        if op == "create":
            content = self.payload()
            return (
                None,
                content,
                {
                    "method": "POST",
                    "url": "/v1/files",
                    "data": {"purpose": "assistants"},
                    "files": {"file": (f"f{self.rng.random()}.bin", content)},
                },
            )
        if op == "list":
            return None, None, {"method": "GET", "url": "/v1/files"}
        suffix = "/content" if op == "content" else ""
        method = "DELETE" if op == "delete" else "GET"
        return file_id, None, {"method": method, "url": f"/v1/files/{file_id}{suffix}"}


def run_thread(server: MockFilesServer, worker: Worker, deadline: float) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {worker.account}"}, timeout=30) as http:
        while time.monotonic() < deadline:
            op = worker.next_op()
            file_id, content, request = worker.request(op)
            worker.check(op, file_id, content, http.request(**request))


async def run_task(server: MockFilesServer, worker: Worker, deadline: float) -> None:
    headers = {"Authorization": f"Bearer {worker.account}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
        while time.monotonic() < deadline:
            op = worker.next_op()
            file_id, content, request = worker.request(op)
            worker.check(op, file_id, content, await http.request(**request))


def test_concurrent_mixed_traffic_keeps_every_invariant(mockfiles: MockFilesServer) -> None:
    workers = [Worker(ACCOUNTS[i % len(ACCOUNTS)], random.Random(i)) for i in range(12)]
    threaded, tasked = workers[:6], workers[6:]
    deadline = time.monotonic() + SECONDS

    async def all_tasks() -> None:
        await asyncio.gather(*(run_task(mockfiles, w, deadline) for w in tasked))

    threads = [threading.Thread(target=run_thread, args=(mockfiles, w, deadline)) for w in threaded]
    threads.append(threading.Thread(target=asyncio.run, args=(all_tasks(),)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 30)

    problems = [p for w in workers for p in w.problems]
    assert problems == []
    requests = sum(sum(w.statuses.values()) for w in workers)
    assert requests > 200, requests  # the run did real work

    # every upload that got a 200 and was not deleted is there, byte-exact; nothing else is
    stored = httpx.get(mockfiles.url + "/_mockfiles/files").json()["data"]
    for account in ACCOUNTS:
        expected = {fid: data for w in workers if w.account == account for fid, data in w.files.items()}
        mine = [f for f in stored if f["account"] == mockfiles.account_id(account)]
        assert {f["id"] for f in mine} == set(expected)
        assert sum(f["bytes"] for f in mine) == sum(map(len, expected.values()))
        count, total = mockfiles.emulator.files.store.usage(account, mockfiles.emulator.clock.now())
        assert (count, total) == (len(expected), sum(map(len, expected.values())))
        with httpx.Client(base_url=mockfiles.base_url, headers={"Authorization": f"Bearer {account}"}) as http:
            listed = http.get("/files").json()["data"]
            assert {f["id"] for f in listed} == set(expected)
            for fid, data in expected.items():
                assert http.get(f"/files/{fid}/content").content == data
            others = [f["id"] for f in stored if f["account"] != mockfiles.account_id(account)][:20]
            assert all(http.get(f"/files/{fid}").status_code == 404 for fid in others)
    journal_statuses = Counter(e["status"] for e in mockfiles.requests())
    assert not any(s is None or s >= 500 for s in journal_statuses)
    verified = sum(len(w.files) for w in workers)
    print(
        f"stress: {requests} requests by 12 clients over {len(ACCOUNTS)} accounts in {SECONDS:.0f}s, "
        f"statuses {dict(journal_statuses)}, {verified} files verified byte-exact"
    )
