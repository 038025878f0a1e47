"""Calls as text: a call's timeline, an assertion message listing problems, a session table."""

from __future__ import annotations

import random

from mockfiles.retries.report import describe, problems_message, table, timeline
from tests.support.retry_sim import Sim, naive, sdk


def traffic() -> Sim:
    sim = Sim()
    test = sim.tests.create(
        {"instructions": {"files.list": ["return-429-retry-after-300ms"], "files.create": ["return-400"]}}
    )["id"]
    sdk(sim, "list", rng=random.Random(0), test=test)
    naive(sim, "upload", test=test)
    sdk(sim, "retrieve", rng=random.Random(0))
    return sim


def test_a_call_as_a_timeline_and_a_line() -> None:
    listed, uploaded, _ = traffic().calls()
    assert timeline(listed) == "429 [retry-after-ms: 300] -> (+0.30 s) 200"
    assert describe(uploaded) == (
        "files.create POST /v1/files (data.jsonl), 2 attempts, grouped by inferred: 400 -> (+0.10 s) 200"
    )


def test_problems_message_lists_each_problematic_call_or_nothing() -> None:
    calls = traffic().calls()
    assert problems_message([calls[0], calls[2]]) is None
    message = problems_message(calls)
    assert message is not None
    lines = message.splitlines()
    assert lines[0] == "1 call with 1 retry problem:"
    assert lines[1] == f"- {calls[1]['id']}: " + describe(calls[1])
    assert lines[2].startswith("    retried_non_retryable: attempt 2 came 0.104 s after attempt 1 ended with 400")


def test_problems_message_is_bounded() -> None:
    sim = Sim()
    for _ in range(25):
        sim.attempt("list", retry_count=0, answer=404)
        sim.sleep(0.5)
        sim.attempt("list", retry_count=1)
        sim.sleep(60)
    message = problems_message(sim.calls())
    assert message is not None and message.startswith("25 calls with 25 retry problems:")
    assert message.endswith("... and 5 more")


def test_the_session_table() -> None:
    assert table(traffic().calls()).splitlines() == [
        "retries: 3 calls, 5 attempts, 1 call(s) with problems",
        "endpoint                calls  attempts  retried  problems",
        "files.create                1         2        1  retried_non_retryable x1",
        "files.list                  1         2        1  -",
        "files.retrieve              1         1        0  -",
    ]
