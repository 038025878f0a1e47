"""Verdicts: each problem is found when it happened and only then; messages explain themselves."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mockfiles.retries.attempts import Attempt, advised_wait
from mockfiles.retries.calls import Call
from mockfiles.retries.verdicts import Policy, judge, retryable
from tests.support.retry_sim import Sim, naive, sdk

TRAVEL = 0.004  # the modelled answer and the next request each take 2 ms on the wire


def problems(call: dict[str, Any]) -> list[str]:
    return [p["problem"] for p in call["verdict"]["problems"]]


def only_call(sim: Sim) -> dict[str, Any]:
    calls = sim.calls()
    assert len(calls) == 1, calls
    call: dict[str, Any] = calls[0]
    return call


def retry_after(advice: dict[str, str], waited: float) -> dict[str, Any]:
    sim = Sim()
    sim.attempt("list", retry_count=0, answer=429, advice=advice)
    sim.sleep(waited - TRAVEL)
    sim.attempt("list", retry_count=1)
    return only_call(sim)


# retry_after_ignored


def test_a_retry_sooner_than_retry_after_ms_is_flagged_with_what_was_advised_and_waited() -> None:
    call = retry_after({"retry-after-ms": "300"}, 0.1)
    assert problems(call) == ["retry_after_ignored"]
    problem = call["verdict"]["problems"][0]
    assert problem["attempt"] == 2 and problem["seq"] == call["attempts"][1]["seq"]
    assert problem["advised"] == 0.3 and problem["waited"] == pytest.approx(0.1)
    assert problem["advice"] == {"retry-after-ms": "300"}
    assert problem["message"] == (
        "attempt 2 came 0.100 s after attempt 1 ended with 429 and retry-after-ms: 300: "
        "it waited 0.100 s of the 0.300 s advised (at least 0.284 s passes)"
    )
    assert call["verdict"]["ok"] is False


@pytest.mark.parametrize(
    ("advice", "waited", "flagged"),
    [
        ({"retry-after-ms": "300"}, 0.3, False),
        ({"retry-after-ms": "300"}, 0.285, False),  # 5 % tolerance
        ({"retry-after-ms": "300"}, 0.28, True),
        ({"retry-after": "1"}, 1.0, False),
        ({"retry-after": "1"}, 0.95, False),
        ({"retry-after": "1"}, 0.94, True),
        ({"retry-after": "1", "retry-after-ms": "200"}, 0.25, False),  # retry-after-ms wins
        ({"retry-after": "0"}, 0.0, False),  # 0: no advice (the SDK backs off instead)
        ({"retry-after": "300"}, 1.0, True),  # advice to wait long is still advice
    ],
)
def test_retry_after_is_honoured_within_5_percent(advice: dict[str, str], waited: float, flagged: bool) -> None:
    assert ("retry_after_ignored" in problems(retry_after(advice, waited))) is flagged


def test_the_sdk_honours_retry_after() -> None:
    sim = Sim()
    test = sim.tests.create(
        {"instructions": {"files.list": ["return-429-retry-after-300ms", "return-503-retry-after-1s"]}}
    )
    sdk(sim, "list", rng=random.Random(3), test=test["id"])
    call = only_call(sim)
    assert [a["status"] for a in call["attempts"]] == [429, 503, 200] and call["verdict"]["ok"]


# retried_non_retryable


@pytest.mark.parametrize(
    ("status", "advice", "flagged"),
    [
        (400, {}, True),
        (401, {}, True),
        (403, {}, True),
        (404, {}, True),
        (413, {}, True),
        (422, {}, True),
        (400, {"x-should-retry": "true"}, False),
        (408, {}, False),
        (409, {}, False),
        (429, {}, False),
        (500, {}, False),
        (503, {}, False),
        (503, {"x-should-retry": "false"}, True),
        (429, {"x-should-retry": "false"}, True),
    ],
)
def test_retrying_what_is_final_is_flagged(status: int, advice: dict[str, str], flagged: bool) -> None:
    sim = Sim()
    sim.attempt("retrieve", retry_count=0, answer=status, advice=advice)
    sim.sleep(0.5)
    sim.attempt("retrieve", retry_count=1)
    assert ("retried_non_retryable" in problems(only_call(sim))) is flagged


def test_waiting_out_a_long_retry_after_is_no_problem() -> None:
    """openai-python gives up on advice over 120 s; openai-node waits it out. Both are fine."""
    call = retry_after({"retry-after": "300"}, 300.0)
    assert call["verdict"] == {"ok": True, "problems": []}


def test_retried_non_retryable_says_why() -> None:
    sim = Sim()
    sim.attempt("retrieve", retry_count=0, answer=503, advice={"x-should-retry": "false"})
    sim.sleep(0.5 - TRAVEL)
    sim.attempt("retrieve", retry_count=1)
    (problem,) = only_call(sim)["verdict"]["problems"]
    assert (
        problem["message"]
        == "attempt 2 came 0.500 s after attempt 1 ended with 503, although it said x-should-retry: false"
    )
    sim = Sim()
    sim.attempt("retrieve", retry_count=0, answer=404)
    sim.sleep(0.5 - TRAVEL)
    sim.attempt("retrieve", retry_count=1)
    (problem,) = only_call(sim)["verdict"]["problems"]
    assert problem["status"] == 404 and problem["message"] == (
        "attempt 2 came 0.500 s after attempt 1 ended with 404: a 404 is final (only 408, 409, 429 and 5xx are "
        "retried, or any status with x-should-retry: true)"
    )


def test_the_sdk_never_retries_what_is_final() -> None:
    for instruction in ("return-400", "return-404", "return-503-should-retry-false"):
        sim = Sim()
        test = sim.tests.create({"instructions": {"files.retrieve": [instruction]}})["id"]
        sdk(sim, "retrieve", rng=random.Random(0), test=test)
        call = only_call(sim)
        assert len(call["attempts"]) == 1 and call["verdict"]["ok"], instruction


# no_backoff


@pytest.mark.parametrize("seed", range(200))
def test_the_sdks_jittered_backoff_never_trips_no_backoff(seed: int) -> None:
    """Eight retries: waits 0.375-0.5, 0.75-1, 1.5-2, 3-4, 6-8, 6-8, 6-8, 6-8 s, whatever the jitter draws."""
    sim = Sim()
    test = sim.tests.create({"instructions": {"files.list": ["return-503", "reset", "timeout", "return-500"] * 2}})
    sdk(sim, "list", rng=random.Random(seed), test=test["id"], max_retries=8, client_timeout=0.2)
    call = only_call(sim)
    assert len(call["attempts"]) == 9 and call["verdict"] == {"ok": True, "problems": []}


def test_a_constant_retry_loop_trips_no_backoff() -> None:
    sim = Sim()
    test = sim.tests.create({"instructions": {"files.list": ["return-503"] * 3}})["id"]
    naive(sim, "list", test=test, attempts=4, wait=0.1)
    (problem,) = only_call(sim)["verdict"]["problems"]
    assert problem["problem"] == "no_backoff" and problem["attempt"] == 3
    assert problem["waits"] == [0.104, 0.104, 0.104]
    assert problem["message"] == (
        "unadvised waits 0.104 s, 0.104 s, 0.104 s do not grow: attempt 3 waited 0.104 s after a wait of 0.104 s "
        "(each should be at least 1.2 x the one before until 4 s, as exponential backoff does)"
    )


@pytest.mark.parametrize(
    ("waits", "flagged"),
    [
        ([0.1], False),  # one wait: nothing to compare
        ([0.0], True),  # at once
        ([0.5, 0.0], True),
        ([0.1, 0.1], True),
        ([1.0, 1.05, 1.0], True),
        ([2.0, 2.0], True),
        ([0.5, 1.0, 2.0, 4.0], False),  # doubling
        ([1.0, 2.0, 4.0, 8.0, 10.0, 10.0], False),  # tenacity's wait_exponential(max=10): levels off above 4 s
        ([5.0, 5.0, 5.0], False),  # a constant wait of 5 s is patient enough
        ([0.5, 0.61], False),  # grows by 1.2 x
        ([0.5, 0.55], True),
    ],
)
def test_no_backoff_thresholds(waits: list[float], flagged: bool) -> None:
    sim = Sim()
    sim.attempt("list", retry_count=0, answer=503)
    for n, wait in enumerate(waits, 1):
        sim.sleep(wait - TRAVEL)
        sim.attempt("list", retry_count=n, answer=503 if n < len(waits) else None)
    assert ("no_backoff" in problems(only_call(sim))) is flagged


def test_advised_waits_do_not_count_as_backoff() -> None:
    """A constant advised wait is obeyed, not judged; only the unadvised waits must grow."""
    sim = Sim()
    for n in range(3):
        sim.attempt("list", retry_count=n, answer=429, advice={"retry-after-ms": "100"})
        sim.sleep(0.1)
    sim.attempt("list", retry_count=3)
    assert only_call(sim)["verdict"]["ok"]


def test_waits_the_server_cannot_know_are_skipped() -> None:
    """A stalled download whose client timed out: the server noticed only when the stall ended, after the
    retry had arrived. That wait is unknown, neither immediate nor judged."""
    sim = Sim()
    test = sim.tests.create({"instructions": {"files.content": ["stall-for-3s-after-4K"] * 2}})["id"]
    sdk(sim, "download", rng=random.Random(0), test=test, client_timeout=1.0)
    call = only_call(sim)
    assert [a["outcome"] for a in call["attempts"]] == ["client_gone", "client_gone", "status"]
    assert call["attempts"][1]["waited"] is None and call["verdict"]["ok"]


# retry_storm


def test_more_attempts_than_the_budget_is_a_storm() -> None:
    sim = Sim()
    test = sim.tests.create({"instructions": {"files.list": ["return-503"] * 10}})["id"]
    sdk(sim, "list", rng=random.Random(0), test=test, max_retries=10)
    call = only_call(sim)
    assert len(call["attempts"]) == 11 and problems(call) == ["retry_storm"]
    (problem,) = call["verdict"]["problems"]
    assert problem["attempts"] == 11 and problem["budget"] == 10 and problem["attempt"] == 11
    assert "11 attempts in " in problem["message"] and "more than the budget of 10" in problem["message"]


def test_the_budget_itself_is_no_storm_and_is_configurable() -> None:
    sim = Sim()
    test = sim.tests.create({"instructions": {"files.list": ["return-503"] * 9}})["id"]
    sdk(sim, "list", rng=random.Random(0), test=test, max_retries=9)
    assert sim.calls()[0]["verdict"]["ok"]
    assert problems(sim.calls(policy=Policy(max_attempts=3))[0]) == ["retry_storm"]


# duplicate_side_effect


def test_a_lost_upload_answer_retried_stores_a_duplicate() -> None:
    sim = Sim()
    test = sim.tests.create({"instructions": {"files.create": ["reset-after-commit"]}})["id"]
    sdk(sim, "upload", rng=random.Random(0), test=test)
    call = only_call(sim)
    assert call["created"] == ["file-1", "file-2"] and problems(call) == ["duplicate_side_effect"]
    (problem,) = call["verdict"]["problems"]
    assert problem["attempt"] == 2
    assert [(c["attempt"], c["id"], c["outcome"]) for c in problem["created"]] == [
        (1, "file-1", "committed_dropped"),
        (2, "file-2", "status"),
    ]
    assert problem["message"] == (
        "one call created 2 resources: file-1 by attempt 1 (200, then reset (answer lost)); file-2 by attempt 2 "
        "(200); a response was lost after the server had done the work, and the retry did it again (the SDK sends "
        "no idempotency key, so the server cannot tell a retry from a new request)"
    )


@pytest.mark.parametrize(
    ("operation", "instruction"),
    [
        ("upload", "reset"),
        ("upload", "return-503"),
        ("retrieve", "reset-after-commit"),
        ("delete", "reset-after-commit"),
    ],
)
def test_no_duplicate_when_nothing_was_done_twice(operation: str, instruction: str) -> None:
    sim = Sim()
    endpoint = {"upload": "files.create", "retrieve": "files.retrieve", "delete": "files.delete"}[operation]
    test = sim.tests.create({"instructions": {endpoint: [instruction]}})["id"]
    sdk(sim, operation, rng=random.Random(0), test=test)
    call = only_call(sim)
    assert len(call["attempts"]) == 2 and call["verdict"]["ok"]


# gave_up_retryable


def test_giving_up_on_a_retryable_failure_while_the_test_had_more_is_flagged() -> None:
    sim = Sim()
    test = sim.tests.create({"instructions": {"files.create": ["return-503", "return-503"]}})["id"]
    sdk(sim, "upload", rng=random.Random(0), test=test, max_retries=0)
    (problem,) = only_call(sim)["verdict"]["problems"]
    assert problem["problem"] == "gave_up_retryable" and problem["remaining"] == 1 and problem["status"] == 503
    assert problem["message"] == (
        "the call gave up after 0 retries on 503, which may be retried (no x-should-retry: false, no wait longer "
        f"than 120 s advised), while retry test {test} still had 1 instruction for files.create; a well-behaved "
        "client retries at least 2 times"
    )


@pytest.mark.parametrize(
    ("instructions", "max_retries"),
    [
        (["return-503"] * 4, 2),  # the budget is spent: giving up is right
        (["return-503-should-retry-false", "return-503"], 2),  # told not to retry
        (["return-429-retry-after-300s", "return-503"], 2),  # told to come back in 5 minutes
        (["return-400", "return-503"], 2),  # final
        (["return-503"], 0),  # nothing left in the test
    ],
)
def test_giving_up_is_fine_when_it_is_right(instructions: list[str], max_retries: int) -> None:
    sim = Sim()
    test = sim.tests.create({"instructions": {"files.list": instructions}})["id"]
    sdk(sim, "list", rng=random.Random(0), test=test, max_retries=max_retries)
    assert "gave_up_retryable" not in problems(only_call(sim))


def test_outside_retry_tests_giving_up_is_not_judged() -> None:
    sim = Sim()
    sim.attempt("list", retry_count=0, answer=503)
    assert only_call(sim)["verdict"]["ok"]


@pytest.mark.parametrize(
    ("outcome", "status", "advice", "expected"),
    [
        ("status", 503, (), True),
        ("status", 408, (), True),
        ("status", 409, (), True),
        ("status", 429, (), True),
        ("status", 400, (), False),
        ("status", 200, (), False),
        ("status", 400, (("x-should-retry", "true"),), True),
        ("status", 503, (("x-should-retry", "false"),), False),
        ("status", 429, (("retry-after", "121"),), False),
        ("status", 429, (("retry-after", "120"),), True),
        ("reset", None, (), True),
        ("timeout", None, (), True),
        ("truncated", 200, (), True),
        ("client_gone", None, (), True),
        ("committed_dropped", 200, (), True),
        ("pending", None, (), False),
    ],
)
def test_what_may_be_retried(
    outcome: str, status: int | None, advice: tuple[tuple[str, str], ...], expected: bool
) -> None:
    flag = dict(advice).get("x-should-retry")
    a = Attempt(
        seq=1,
        request_id=None,
        retry_test=None,
        account=None,
        endpoint="files.list",
        method="GET",
        path="/v1/files",
        query="",
        arrived=0.0,
        ended=0.0,
        outcome=outcome,  # type: ignore[arg-type]
        status=status,
        advice=advice,
        wait=advised_wait(dict(advice)),
        should_retry=None if flag is None else flag == "true",
    )
    assert retryable(a) is expected
    assert judge(Call([a], "retry-count")) == {"ok": True, "problems": []}
