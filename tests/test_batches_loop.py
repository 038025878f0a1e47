"""A 50,000-request batch never holds up other clients: its validation (at create) and the writing
of its results (when it has ended) run in worker threads, the writing outside the Files lock, while
the event loop answers everyone else — health checks, and other accounts' Files and Batches
requests; the batch's own account waits for its results. No timing is asserted: only that other
requests are answered while the work is under way."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from mockfiles import MockFilesServer
from tests.batching import CHAT
from tests.helpers import jsonl

LINES = 50_000
TIMEOUT = httpx.Timeout(120.0)  # generous: the machine may be busy with other tests


def big_input() -> bytes:
    return jsonl(
        *(
            {
                "custom_id": f"r{i}",
                "method": "POST",
                "url": CHAT,
                "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"say {i}"}]},
            }
            for i in range(LINES)
        )
    )


@pytest.mark.mockfiles(rate_limits=False, scenario={"batches": {"timing": {"in_progress": "1h"}}})
def test_other_clients_are_answered_while_a_50000_line_batch_is_validated_and_completed(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    source = http.post(
        "/v1/files", files={"file": ("big.jsonl", big_input())}, data={"purpose": "batch"}, timeout=TIMEOUT
    ).json()["id"]
    answers: dict[str, httpx.Response] = {}

    def call(name: str, method: str, path: str, **kwargs: object) -> None:
        with httpx.Client(base_url=mockfiles.url, headers=http.headers, timeout=TIMEOUT) as own:
            answers[name] = own.request(method, path, **kwargs)  # type: ignore[arg-type]

    body = {"input_file_id": source, "endpoint": CHAT, "completion_window": "24h"}
    creating = threading.Thread(target=call, args=("create", "POST", "/v1/batches"), kwargs={"json": body})
    creating.start()
    batches = mockfiles.emulator.batches
    during_create = health_while(mockfiles.url, creating, lambda: batches.busy)
    creating.join()
    batch = answers["create"].json()
    assert batch["status"] == "validating", batch

    mockfiles.advance(3600)  # ended: the next read writes its 50,000 result lines
    reading = threading.Thread(target=call, args=("retrieve", "GET", f"/v1/batches/{batch['id']}"))
    reading.start()
    during_write = health_while(mockfiles.url, reading, lambda: batches.busy)
    reading.join()
    done = answers["retrieve"].json()
    assert done["status"] == "completed" and done["request_counts"]["completed"] == LINES
    assert done["output_file_id"] is not None  # the owner's retrieve waited for its results
    assert during_create >= 1 and during_write >= 1
    assert mockfiles.requests_for("batches.retrieve")[0]["status"] == 200


PROBES = (
    ("/_mockfiles/health", {}),
    ("/v1/files", {"Authorization": "Bearer sk-another-account"}),
    ("/v1/batches", {"Authorization": "Bearer sk-another-account"}),
)


def health_while(url: str, request: threading.Thread, busy: Callable[[], bool]) -> int:
    """How many rounds of probes (a health check, another account's file and batch lists) were
    answered, each request begun and ended while ``busy()`` held (the service's validation or
    writing, started by ``request``)."""
    while request.is_alive() and not busy():
        time.sleep(0.001)  # until the work has begun
    answered = 0
    with httpx.Client(base_url=url, timeout=TIMEOUT) as probe:
        while busy():
            statuses = [probe.get(path, headers=headers).status_code for path, headers in PROBES]
            if statuses == [200, 200, 200] and busy():
                answered += 1
    return answered


def test_results_are_built_outside_the_files_lock() -> None:
    """The domain alone: while write_due builds a 50,000-request batch's results, the Files lock is
    free (another reader takes it), and only the storing of the built files holds it."""
    from mockfiles.emulator import Emulator, Settings

    emulator = Emulator(Settings(scenario={"batches": {"timing": {"in_progress": "1h"}}}))
    content = big_input()
    source = emulator.files.create("k", purpose="batch", filename="in.jsonl", chunks=[content], size=len(content))
    batch = emulator.batches.create("k", input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    emulator.clock.advance(3600)
    batches = emulator.batches
    writer = threading.Thread(target=batches.write_due)
    writer.start()
    while writer.is_alive() and not batches.busy:
        time.sleep(0.001)
    taken_while_busy = False
    while batches.busy:
        if emulator.files.lock.acquire(timeout=60):
            taken_while_busy = batches.busy or taken_while_busy
            emulator.files.lock.release()
    writer.join()
    assert taken_while_busy
    assert emulator.batches.get("k", batch["id"])["request_counts"]["completed"] == LINES


def test_claim_finds_exactly_the_batches_that_have_ended() -> None:
    """The edge claims ended batches on every request while some are due: it walks only the due
    part of the heap, and finds every ended batch, whatever order they were made in."""
    from tests.batching import World, chat_file

    world = World(scenario={"batches": {"timing": {"in_progress": "1000s"}}})
    made = []
    for i in range(60):  # none ends while they are made
        made.append(world.create(chat_file(f"r{i}"))["id"])
        world.advance(7 if i % 3 else 1)
    ends = {b: world.batches.store.find(b).timeline.final[1] for b in made}  # type: ignore[union-attr]
    world.advance(ends[made[30]] - world.emulator.clock.now())
    now = world.emulator.clock.now()
    batches = world.batches
    claimed = batches.claim()
    assert {b.id for b in claimed} == {b for b, end in ends.items() if end <= now} != set(made)
    assert len(claimed) == 31 and batches.claim() == []  # claimed once
    batches.write_claimed(claimed)
    assert not batches.owes(None) and all(b.settled for b in claimed)
    world.advance(1000)
    rest = batches.claim()
    assert {b.id for b in rest} == set(made) - {b.id for b in claimed}
    batches.write_claimed(rest)
    assert not batches.pending(world.emulator.clock.now())  # the written entries are off the heap
