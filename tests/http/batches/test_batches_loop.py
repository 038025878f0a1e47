"""A 50,000-request batch never holds up other clients: its validation (at create) and the writing
of its results (once it has ended) are jobs of its account on the emulator's scheduler, run in
slices, in turn with other accounts' jobs, the results built outside the Files lock, while the
event loop answers everyone else — health checks, and other accounts' Files and Batches requests;
the batch's own account waits for its results. No timing is asserted: only who is answered while
the work is under way, and in what order work ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from mockfiles import MockFilesServer
from mockfiles.emulator import Emulator, Settings
from tests.support.batching import CHAT, World, chat_file
from tests.support.helpers import jsonl

LINES = 50_000
TIMEOUT = httpx.Timeout(120.0)  # generous: the machine may be busy with other tests


def big_input(lines: int = LINES) -> bytes:
    return jsonl(
        *(
            {
                "custom_id": f"r{i}",
                "method": "POST",
                "url": CHAT,
                "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"say {i}"}]},
            }
            for i in range(lines)
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
    scheduler = mockfiles.emulator.scheduler
    during_create = health_while(mockfiles.url, creating, lambda: scheduler.busy)
    creating.join()
    batch = answers["create"].json()
    assert batch["status"] == "validating", batch

    mockfiles.advance(3600)  # ended: the scheduler writes its 50,000 result lines
    reading = threading.Thread(target=call, args=("retrieve", "GET", f"/v1/batches/{batch['id']}"))
    reading.start()
    during_write = health_while(mockfiles.url, reading, lambda: scheduler.busy)
    reading.join()
    done = answers["retrieve"].json()
    assert done["status"] == "completed" and done["request_counts"]["completed"] == LINES
    assert done["output_file_id"] is not None  # the owner's retrieve waited for its results
    assert during_create >= 1 and during_write >= 1
    assert mockfiles.requests("batches.retrieve")[0]["status"] == 200


PROBES = (
    ("/_mockfiles/health", {}),
    ("/v1/files", {"Authorization": "Bearer sk-another-account"}),
    ("/v1/batches", {"Authorization": "Bearer sk-another-account"}),
)


def health_while(url: str, request: threading.Thread, busy: Callable[[], bool]) -> int:
    """How many rounds of probes (a health check, another account's file and batch lists) were
    answered, each request begun and ended while ``busy()`` held (the scheduler's work, started
    by ``request``)."""
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
    """The domain alone: while the scheduler builds a 50,000-request batch's results, the Files lock
    is free (another reader takes it), and only the storing of the built files holds it."""
    emulator = Emulator(Settings(scenario={"batches": {"timing": {"in_progress": "1h"}}}))
    content = big_input()
    source = emulator.files.create("k", purpose="batch", filename="in.jsonl", chunks=[content], size=len(content))
    batch = emulator.batches.create("k", input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    scheduler = emulator.scheduler
    emulator.clock.advance(3600)  # the scheduler is told: its thread writes the results
    taken_while_busy = False
    while not scheduler.busy and not emulator.batches.store.find(batch.id).settled:  # type: ignore[union-attr]
        time.sleep(0.001)
    while scheduler.busy:
        if emulator.files.lock.acquire(timeout=60):
            taken_while_busy = scheduler.busy or taken_while_busy
            emulator.files.lock.release()
    assert scheduler.settle(timeout=120)
    assert taken_while_busy
    assert emulator.batches.get("k", batch.id).request_counts.completed == LINES
    emulator.shutdown()


def test_due_work_comes_due_at_its_instant_and_not_before() -> None:
    world = World(scenario={"batches": {"timing": {"in_progress": "1000s"}}})
    made = []
    for i in range(60):  # none ends while they are made
        made.append(world.create(chat_file(f"r{i}"))["id"])
        world.advance(7 if i % 3 else 1)
    store = world.emulator.batches.store
    ends = {b: store.find(b).timeline.final[1] for b in made}  # type: ignore[union-attr]
    world.advance(ends[made[30]] - world.emulator.clock.now())
    world.settle()
    now = world.emulator.clock.now()
    settled = {b for b in made if store.find(b).settled}  # type: ignore[union-attr]
    assert settled == {b for b, end in ends.items() if end <= now} and len(settled) == 31
    world.advance(1000)
    world.settle()
    assert all(store.find(b).settled for b in made)  # type: ignore[union-attr]


def test_a_small_batch_of_another_account_is_written_while_a_big_one_is_built() -> None:
    """Both end at once; the big one's job began first, yet the small one of the other account is
    written in its turn, long before the big one's 50,000 lines are."""
    emulator = Emulator(Settings(scenario={"batches": {"timing": {"in_progress": "1h"}}}))
    big = big_input()
    for account, content in (("sk-big", big), ("sk-small", chat_file("a", "b"))):
        source = emulator.files.create(
            account, purpose="batch", filename="in.jsonl", chunks=[content], size=len(content)
        )
        emulator.batches.create(account, input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    big_batch, small_batch = emulator.batches.store.everyone()
    emulator.clock.advance(3600)
    while not small_batch.settled:
        time.sleep(0.0005)
    assert not big_batch.settled  # still being built: the small one did not wait for it
    assert emulator.scheduler.settle(timeout=120) and big_batch.settled
    emulator.shutdown()


@pytest.mark.mockfiles(rate_limits=False)
def test_another_accounts_create_is_answered_while_a_big_input_is_validated(mockfiles: MockFilesServer) -> None:
    """Validation is a job in its account's turns: a second account's create of a 100 KB input is
    validated between the slices of the first account's 50,000 lines, and answered first."""
    ended: list[str] = []

    def create(key: str, content: bytes) -> None:
        with httpx.Client(base_url=mockfiles.url, headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT) as c:
            source = c.post("/v1/files", files={"file": ("in.jsonl", content)}, data={"purpose": "batch"}).json()
            body = {"input_file_id": source["id"], "endpoint": CHAT, "completion_window": "24h"}
            if key == "sk-big":
                ready.set()
            else:
                ready.wait()
                while not mockfiles.emulator.scheduler.busy:
                    time.sleep(0.0005)
            assert c.post("/v1/batches", json=body).status_code == 200
            ended.append(key)

    ready = threading.Event()
    threads = [
        threading.Thread(target=create, args=("sk-big", big_input())),
        threading.Thread(target=create, args=("sk-small", big_input(1_000))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    mockfiles.reset()  # the two batches' results are due now: not written behind the next tests' backs
    assert ended == ["sk-small", "sk-big"]
