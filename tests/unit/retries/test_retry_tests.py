"""Retry tests: queues per endpoint, taken one instruction per request, `completed` once every queue
is empty; clear errors for bad documents; bounded; safe under concurrent takes."""

from __future__ import annotations

import itertools
import threading

import pytest

from mockfiles.retries.queues import RetryTestError, RetryTests, UnknownRetryTest
from mockfiles.scenarios.fault_rules import ENDPOINTS

FUTURE = (
    *ENDPOINTS,
    "batches.create",
    "batches.list",
    "batches.retrieve",
    "batches.cancel",
    "uploads.create",
    "uploads.parts.create",
    "uploads.complete",
    "uploads.cancel",
)


@pytest.fixture
def tests() -> RetryTests:
    return RetryTests(ENDPOINTS)


def test_create_returns_the_test_with_its_queues(tests: RetryTests) -> None:
    view = tests.create(
        {"instructions": {"files.create": ["return-503", "return-503"], "files.content": ["broken-stream-after-4K"]}}
    )
    assert set(view) == {"id", "instructions", "remaining", "completed", "calls"}
    assert len(view["id"]) == 32 and int(view["id"], 16) >= 0
    assert view["instructions"] == {
        "files.create": ["return-503", "return-503"],
        "files.content": ["broken-stream-after-4K"],
    }
    assert view["remaining"] == view["instructions"]
    assert view["completed"] is False and view["calls"] == []
    assert tests.get(view["id"]) == view


def test_take_dequeues_per_endpoint_and_completes_when_every_queue_is_empty(tests: RetryTests) -> None:
    test_id = tests.create({"instructions": {"files.create": ["return-503", "reset"], "files.list": ["timeout"]}})["id"]
    first = tests.take(test_id, "files.create")
    assert first is not None and first.instruction.text == "return-503" and (first.index, first.remaining) == (0, 1)
    assert tests.take(test_id, "files.retrieve") is None  # not scripted: handled normally
    assert tests.take(test_id, None) is None  # a request for no known endpoint
    second = tests.take(test_id, "files.create")
    assert second is not None and second.instruction.kind == "reset" and (second.index, second.remaining) == (1, 0)
    assert tests.take(test_id, "files.create") is None  # empty queue: handled normally
    view = tests.get(test_id)
    assert view["remaining"] == {"files.create": [], "files.list": ["timeout"]} and not view["completed"]
    assert tests.remaining(test_id, "files.list") == 1 and tests.remaining(test_id, "files.create") == 0
    assert tests.remaining(test_id, "files.delete") == 0
    last = tests.take(test_id, "files.list")
    assert last is not None and last.instruction.text == "timeout"
    assert tests.get(test_id)["completed"] is True
    assert tests.get(test_id)["instructions"] == {"files.create": ["return-503", "reset"], "files.list": ["timeout"]}


def test_a_test_with_no_instructions_is_completed_and_only_tags_traffic(tests: RetryTests) -> None:
    assert tests.create({"instructions": {}})["completed"] is True
    view = tests.create({"instructions": {"files.list": []}})
    assert view["completed"] is True and tests.take(view["id"], "files.list") is None


def test_list_and_delete(tests: RetryTests) -> None:
    a = tests.create({"instructions": {"files.list": ["return-503"]}})["id"]
    b = tests.create({"instructions": {"files.list": ["return-500"]}})["id"]
    assert [v["id"] for v in tests.list()] == [a, b]
    deleted = tests.delete(a)
    assert deleted["id"] == a and deleted["remaining"] == {"files.list": ["return-503"]}
    assert [v["id"] for v in tests.list()] == [b]
    for action in (tests.get, tests.delete, lambda i: tests.take(i, "files.list")):
        with pytest.raises(UnknownRetryTest) as info:
            action(a)
        assert str(info.value) == (
            f"no retry test '{a}': it was never created, was deleted, or was dropped (oldest first)"
        )
    tests.clear()
    assert tests.list() == [] and len(tests) == 0


BAD_DOCUMENTS: list[tuple[object, str | None, str]] = [
    (
        ["return-503"],
        None,
        'a retry test is a JSON object like {"instructions": {"files.create": ["return-503"]}}, got a list',
    ),
    (None, None, "a retry test is a JSON object like"),
    ({}, "instructions", 'a retry test needs "instructions": {endpoint: [instruction, ...]}'),
    ({"instruction": {}}, "instruction", "unknown key 'instruction' in the retry test; expected 'instructions'"),
    (
        {"instructions": ["return-503"]},
        "instructions",
        '"instructions" must be an object mapping endpoints to lists of instructions, got a list',
    ),
    (
        {"instructions": {"files.retreive": ["return-503"]}},
        "instructions.files.retreive",
        f"unknown endpoint 'files.retreive' in instructions; did you mean 'files.retrieve'? endpoints: {', '.join(ENDPOINTS)}",
    ),
    (
        {"instructions": {"nothing.create": ["return-503"]}},
        "instructions.nothing.create",
        "unknown endpoint 'nothing.create' in instructions; endpoints: files.create",
    ),
    (
        {"instructions": {"files.create": "return-503"}},
        "instructions.files.create",
        'instructions.files.create must be a list of instructions like ["return-503"], got a string',
    ),
    (
        {"instructions": {"files.create": ["return-503", "retrun-503"]}},
        "instructions.files.create[1]",
        "instructions.files.create[1]: unknown instruction 'retrun-503'; did you mean 'return-503'?",
    ),
    (
        {"instructions": {"files.create": [503]}},
        "instructions.files.create[0]",
        "instructions.files.create[0]: an instruction must be a string like 'return-503', got 503",
    ),
    (
        {"instructions": {"files.list": ["broken-stream-after-4K"]}},
        "instructions.files.list[0]",
        "instructions.files.list[0]: 'broken-stream-after-4K' breaks a downloaded body; it applies to files.content, "
        "not files.list",
    ),
    (
        {"instructions": {"files.list": ["return-503"] * 1001}},
        "instructions",
        "a retry test holds at most 1000 instructions, got 1001",
    ),
]


@pytest.mark.parametrize(("document", "param", "message"), BAD_DOCUMENTS)
def test_bad_documents_are_refused_naming_what_is_wrong(
    tests: RetryTests, document: object, param: str | None, message: str
) -> None:
    with pytest.raises(RetryTestError) as info:
        tests.create(document)
    assert str(info.value).startswith(message)
    assert info.value.param == param
    assert tests.list() == []  # nothing half-created


def test_the_valid_endpoints_are_a_parameter() -> None:
    tests = RetryTests(FUTURE)
    view = tests.create(
        {"instructions": {"batches.create": ["return-429-retry-after-1s"], "uploads.parts.create": ["reset-after-64K"]}}
    )
    taken = tests.take(view["id"], "uploads.parts.create")
    assert taken is not None and taken.instruction.body == "request" and taken.instruction.after_bytes == 65536


def test_ids_can_come_from_a_seeded_source() -> None:
    counter = itertools.count()
    tests = RetryTests(ENDPOINTS, new_id=lambda: f"rt-{next(counter)}")
    assert [tests.create({"instructions": {}})["id"] for _ in range(3)] == ["rt-0", "rt-1", "rt-2"]


def test_an_id_already_in_use_is_never_handed_out_again() -> None:
    ids = iter(["same", "same", "other"])
    tests = RetryTests(ENDPOINTS, new_id=lambda: next(ids))
    assert [tests.create({"instructions": {}})["id"] for _ in range(2)] == ["same", "other"]


def test_bounded_the_oldest_completed_test_goes_first_then_the_oldest() -> None:
    counter = itertools.count()
    tests = RetryTests(ENDPOINTS, cap=3, new_id=lambda: f"t{next(counter)}")
    for _ in range(3):
        tests.create({"instructions": {"files.list": ["return-503"]}})
    tests.take("t1", "files.list")  # t1 completes
    tests.create({"instructions": {"files.list": ["return-503"]}})  # t3 pushes out t1, the completed one
    assert [v["id"] for v in tests.list()] == ["t0", "t2", "t3"]
    tests.create({"instructions": {}})  # none completed: the oldest, t0, goes
    assert [v["id"] for v in tests.list()] == ["t2", "t3", "t4"]
    assert len(tests) == 3
    with pytest.raises(ValueError):
        RetryTests(ENDPOINTS, cap=0)


def test_concurrent_takes_hand_out_each_instruction_exactly_once(tests: RetryTests) -> None:
    texts = [f"return-{500 + i % 100}" for i in range(600)]
    test_id = tests.create({"instructions": {"files.list": texts, "files.retrieve": texts[:400]}})["id"]
    taken: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(endpoint: str) -> None:
        start.wait()
        mine = []
        while (item := tests.take(test_id, endpoint)) is not None:
            mine.append((endpoint, item.index))
        with lock:
            taken.extend(mine)

    threads = [threading.Thread(target=worker, args=(("files.list", "files.retrieve")[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(i for e, i in taken if e == "files.list") == list(range(600))
    assert sorted(i for e, i in taken if e == "files.retrieve") == list(range(400))
    assert tests.get(test_id)["completed"] is True
