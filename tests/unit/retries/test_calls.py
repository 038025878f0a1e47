"""Attempts from journal entries, and attempts grouped into logical calls: by retry count (the SDK),
by content and adjacency (wrappers that always send 0 or nothing: inferred), by explicit keys;
calls of different accounts, tests and contents never mix."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from mockfiles.retries.attempts import Attempt, advised_wait, attempt_from_entry
from mockfiles.retries.calls import group_calls
from mockfiles.retries.verdicts import judge_entries
from tests.support.retry_sim import Sim, naive, sdk


def entry(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "seq": 1,
        "request_id": "req_1",
        "dialect": "openai",
        "method": "GET",
        "path": "/v1/files",
        "query": "",
        "endpoint": "files.list",
        "account": "sk-a",
        "status": 200,
        "action": None,
        "retry_count": 0,
        "monotonic_arrived": 10.0,
        "duration_ms": 5.0,
        "wall_time": 1_700_000_000.0,
    }
    base.update(fields)
    return base


def test_an_attempt_from_a_journal_entry() -> None:
    a = attempt_from_entry(
        entry(
            seq=7,
            method="POST",
            endpoint="files.create",
            retry_test="abc",
            status=429,
            advice={"Retry-After": "2", "retry-after-ms": "1500", "x-should-retry": "TRUE", "x-other": "1"},
            idempotency_key="idem",
            call_key="mine",
            filename="a.jsonl",
            purpose="batch",
            size=3,
            sha256="f" * 64,
            file_id="file-1",
            instruction="return-429-retry-after-1500ms",
            retry_remaining=2,
        )
    )
    assert a == Attempt(
        seq=7,
        request_id="req_1",
        retry_test="abc",
        account="sk-a",
        endpoint="files.create",
        method="POST",
        path="/v1/files",
        query="",
        arrived=10.0,
        ended=10.005,
        outcome="status",
        status=429,
        retry_count=0,
        advice=(("retry-after", "2"), ("retry-after-ms", "1500"), ("x-should-retry", "TRUE")),
        wait=1.5,  # retry-after-ms wins
        should_retry=True,
        idempotency_key="idem",
        call_key="mine",
        filename="a.jsonl",
        purpose="batch",
        size=3,
        sha256="f" * 64,
        created="file-1",
        instruction="return-429-retry-after-1500ms",
        remaining=2,
    )
    assert a.label == "429" and a.advice_text == "retry-after: 2, retry-after-ms: 1500, x-should-retry: TRUE"


@pytest.mark.parametrize(
    ("action", "status", "outcome"),
    [
        (None, 200, "status"),
        ("status 503", 503, "status"),
        ("delay", 200, "status"),
        ("rate_limited", 429, "status"),
        ("reset", None, "reset"),
        ("dropped_by_reset", None, "reset"),
        ("timeout", None, "timeout"),
        ("truncate", 200, "truncated"),
        ("broken_stream", 200, "truncated"),
        ("reset_after_commit", None, "committed_dropped"),
        ("client_disconnected", None, "client_gone"),
        (None, None, "pending"),
    ],
)
def test_how_a_request_ended(action: str | None, status: int | None, outcome: str) -> None:
    assert attempt_from_entry(entry(action=action, status=status)).outcome == outcome


def test_a_lost_answer_keeps_the_status_and_the_file_it_did_not_deliver() -> None:
    a = attempt_from_entry(
        entry(endpoint="files.create", action="reset_after_commit", status=None, committed_status=200, file_id="f-1")
    )
    assert (a.outcome, a.status, a.created, a.label) == (
        "committed_dropped",
        200,
        "f-1",
        "200, then reset (answer lost)",
    )


def test_only_creating_endpoints_create() -> None:
    assert attempt_from_entry(entry(endpoint="files.retrieve", file_id="file-1")).created is None
    assert attempt_from_entry(entry(endpoint="batches.create", batch_id="batch_1")).created == "batch_1"


def test_times_fall_back_to_wall_time_minus_duration() -> None:
    a = attempt_from_entry(entry(monotonic_arrived=None, wall_time=100.0, duration_ms=250.0))
    assert (a.arrived, a.ended) == (99.75, 100.0)
    b = attempt_from_entry(entry(monotonic_arrived=5.0, monotonic_ended=6.5))
    assert (b.arrived, b.ended) == (5.0, 6.5)


@pytest.mark.parametrize(
    ("advice", "now", "wait"),
    [
        ({"retry-after-ms": "300"}, None, 0.3),
        ({"retry-after-ms": "12.5"}, None, 0.0125),
        ({"retry-after": "2"}, None, 2.0),
        ({"retry-after": "0.5"}, None, 0.5),
        ({"retry-after": "0"}, None, 0.0),
        ({"retry-after-ms": "soon", "retry-after": "3"}, None, 3.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, 1445412480.0, 10.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, None, None),
        ({"retry-after": "later"}, 0.0, None),
        ({"retry-after": "inf"}, None, None),
        ({}, None, None),
    ],
)
def test_advised_waits_are_read_as_the_sdk_reads_them(
    advice: dict[str, str], now: float | None, wait: float | None
) -> None:
    assert advised_wait(advice, now) == (pytest.approx(wait) if wait is not None else None)


def test_sdk_calls_chain_by_retry_count() -> None:
    sim = Sim()
    rng = random.Random(1)
    test = sim.tests.create({"instructions": {"files.create": ["return-503", "return-500"]}})["id"]
    sdk(sim, "list", rng=rng)
    sdk(sim, "upload", rng=rng, test=test)
    sdk(sim, "upload", rng=rng, test=test, content=b"other")
    sdk(sim, "list", rng=rng)
    calls = sim.calls()
    assert [(c["endpoint"], len(c["attempts"]), c["grouping"]) for c in calls] == [
        ("files.list", 1, "retry-count"),
        ("files.create", 3, "retry-count"),
        ("files.create", 1, "retry-count"),
        ("files.list", 1, "retry-count"),
    ]
    upload = calls[1]
    assert [a["retry_count"] for a in upload["attempts"]] == [0, 1, 2]
    assert [a["status"] for a in upload["attempts"]] == [503, 500, 200]
    assert upload["succeeded"] and upload["result"] == "200" and upload["created"] == ["file-1"]
    assert upload["verdict"] == {"ok": True, "problems": []}
    assert upload["id"] == f"call-{upload['attempts'][0]['seq']}"
    json.dumps(calls)  # JSON-ready as it is


def test_a_wrapper_that_always_sends_0_is_grouped_by_content_and_marked_inferred() -> None:
    sim = Sim()
    test = sim.tests.create({"instructions": {"files.create": ["return-503", "return-503"]}})["id"]
    naive(sim, "upload", test=test, content=b"A" * 100)
    naive(sim, "upload", test=test, content=b"B" * 100)  # a different file: its own call
    calls = sim.calls()
    assert [(len(c["attempts"]), c["grouping"]) for c in calls] == [(3, "inferred"), (1, "retry-count")]
    assert [a["retry_count"] for a in calls[0]["attempts"]] == [0, 0, 0]


def test_a_client_that_sends_no_count_at_all_is_grouped_by_content() -> None:
    sim = Sim()
    test = sim.tests.create({"instructions": {"files.list": ["return-503"]}})["id"]
    naive(sim, "list", test=test, count=None)
    naive(sim, "list", test=test, count=None)
    assert [(len(c["attempts"]), c["grouping"]) for c in sim.calls()] == [(2, "inferred"), (1, "inferred")]


def test_inferred_chains_end_at_a_success_and_after_a_long_silence() -> None:
    sim = Sim()
    sim.attempt("list", retry_count=0, answer=503)
    sim.sleep(0.5)
    sim.attempt("list", retry_count=0)  # a retry: chained
    sim.attempt("list", retry_count=0)  # after a success: a new call
    sim.attempt("list", retry_count=0, answer=503)  # ...which failed
    sim.sleep(31)
    sim.attempt("list", retry_count=0)  # 31 s later: not a retry of it
    sim.attempt("list", retry_count=0, answer=429, advice={"retry-after": "40"})
    sim.sleep(45)
    sim.attempt("list", retry_count=0)  # 45 s after advice to wait 40 s: a retry
    assert [len(c["attempts"]) for c in sim.calls()] == [2, 1, 1, 1, 2]


def test_explicit_keys_group_whatever_comes_between() -> None:
    sim = Sim()
    sim.attempt("upload", call_key="upload-report", content=b"v1", retry_count=0, answer=503)
    sim.attempt("upload", content=b"unrelated", retry_count=0)
    sim.attempt("upload", call_key="upload-report", content=b"v2", retry_count=0)  # body regenerated, same call
    sim.attempt("upload", idempotency_key="k1", retry_count=0, answer=500)
    sim.attempt("upload", idempotency_key="k1", retry_count=0)
    sim.attempt("upload", idempotency_key="k1", call_key="other", retry_count=0)  # x-mockfiles-call wins
    calls = sim.calls()
    assert [(c["grouping"], c["key"], len(c["attempts"])) for c in calls] == [
        ("explicit", "upload-report", 2),
        ("retry-count", None, 1),
        ("explicit", "k1", 2),
        ("explicit", "other", 1),
    ]


def test_interleaved_calls_of_two_accounts_stay_apart() -> None:
    """Two accounts upload the same bytes at the same moment, both retrying: four attempts interleaved."""
    sim = Sim()
    for count in (0, 1):
        sim.attempt("upload", account="sk-a", retry_count=count, answer=503 if count == 0 else None)
        sim.attempt("upload", account="sk-b", retry_count=count, answer=503 if count == 0 else None)
        sim.sleep(0.5)
    calls = sim.calls()
    assert [(c["account"], [a["status"] for a in c["attempts"]]) for c in calls] == [
        ("sk-a", [503, 200]),
        ("sk-b", [503, 200]),
    ]
    assert all(c["verdict"]["ok"] for c in calls)


def test_retry_tests_and_contents_never_mix() -> None:
    sim = Sim()
    one = sim.tests.create({"instructions": {}})["id"]
    two = sim.tests.create({"instructions": {}})["id"]
    sim.attempt("list", test=one, retry_count=0, answer=503)
    sim.attempt("list", test=two, retry_count=1)  # another test's retry count 1: not a retry of test one's call
    sim.attempt("upload", test=one, retry_count=0, answer=503, content=b"x")
    sim.attempt("upload", test=one, retry_count=1, content=b"y")  # other bytes: not the same call
    calls = sim.calls()
    assert [len(c["attempts"]) for c in calls] == [1, 1, 1, 1]
    assert calls[1]["notes"] == ["starts at retry 1: its earlier attempts are not in the journal"]
    assert [c["retry_test"] for c in sim.calls(one)] == [one, one, one]


def test_a_retry_joins_the_most_recent_failed_call_never_a_succeeded_one() -> None:
    sim = Sim()
    sim.attempt("retrieve", retry_count=0)  # succeeded: closed
    sim.attempt("retrieve", retry_count=0, answer=500)  # gave up (another caller)
    sim.attempt("retrieve", retry_count=0, answer=503)
    sim.sleep(0.4)
    sim.attempt("retrieve", retry_count=1)  # the retry of the latest failed call
    assert [[a["status"] for a in c["attempts"]] for c in sim.calls()] == [[200], [500], [503, 200]]


def test_a_new_count_0_after_a_failure_starts_a_new_call() -> None:
    sim = Sim()
    sim.attempt("list", retry_count=0, answer=400)
    sim.attempt("list", retry_count=0, answer=503)
    sim.attempt("list", retry_count=1)
    assert [len(c["attempts"]) for c in sim.calls()] == [1, 2]


def test_judge_entries_leaves_out_requests_for_no_endpoint() -> None:
    entries = [entry(seq=1), entry(seq=2, endpoint=None, path="/v1/nothing", status=404)]
    assert [c["path"] for c in judge_entries(entries)] == ["/v1/files"]


def test_grouping_takes_attempts_in_arrival_order_whatever_order_they_come_in() -> None:
    sim = Sim()
    sim.attempt("list", retry_count=0, answer=503)
    sim.sleep(0.5)
    sim.attempt("list", retry_count=1)
    attempts = [attempt_from_entry(e) for e in reversed(sim.entries)]
    calls = group_calls(attempts)
    assert len(calls) == 1 and [a.retry_count for a in calls[0].attempts] == [0, 1]


def test_a_full_journal_of_mixed_traffic_makes_json_ready_calls() -> None:
    """The benchmark's traffic (its timing lives in bench/domain/calls.py): every entry lands in exactly one call."""
    from bench.domain.calls import mixed_entries

    entries = mixed_entries(2000)
    calls = judge_entries(entries)
    assert sum(len(c["attempts"]) for c in calls) == 2000
    assert sorted(a["seq"] for c in calls for a in c["attempts"]) == list(range(1, 2001))
    assert {c["grouping"] for c in calls} == {"retry-count", "inferred", "explicit"}
    json.dumps(calls)


def test_the_calls_benchmark_runs() -> None:
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "-m", "bench.domain.calls", "--quick"],
        cwd=Path(__file__).parents[3],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "all of it (judge_entries)" in result.stdout
