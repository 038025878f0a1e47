"""Real clients against every shipped retry conformance case, over HTTP: the official openai SDK
(sync and async) passes all of them; the Node SDK passes all but the two its policy does not cover;
a naive tenacity wrapper fails the Retry-After, non-retryable and backoff cases — which no shipped
YAML scenario notices. docs/retries.md holds the same table."""

from __future__ import annotations

import pytest

from mockfiles import MockFilesServer
from mockfiles.retries.cases import load_cases
from mockfiles.retries.run import CaseRun
from tests.support.node_clients import node_missing
from tests.support.retry_clients import CLIENTS

CASES = load_cases()

# Cases a client fails by its own documented policy: case -> (why, what the report must say).
EXPECTED_FAILURES: dict[str, dict[str, tuple[str, str]]] = {
    "openai-python (sync)": {},
    "openai-python (async)": {},
    "openai-node": {
        "download-stall": (
            "its timeout covers the fetch up to the response's head, not the body: it waits out the stall",
            "expected 2 attempts on files.content, saw 1",
        ),
        "download-broken-stream": ("a body cut mid-read raises TypeError: terminated, not retried", "terminated"),
    },
    "naive tenacity wrapper": {
        "upload-500-502": ("a fixed wait is no backoff", "no_backoff"),
        "retrieve-503-504": ("a fixed wait is no backoff", "no_backoff"),
        "upload-429-backoff": ("a fixed wait is no backoff", "no_backoff"),
        "list-reset-then-503": ("a fixed wait is no backoff", "no_backoff"),
        "retrieve-retries-exhausted": ("a fixed wait is no backoff", "no_backoff"),
        "retrieve-429-retry-after-ms": ("it ignores retry-after-ms", "retry_after_ignored"),
        "list-429-retry-after-1s": ("it ignores retry-after", "retry_after_ignored"),
        "upload-400-final": ("it retries a 400", "expected 1 attempt on files.create, saw 2"),
        "list-401-final": ("it retries a 401", "retried_non_retryable"),
        "retrieve-404-final": ("it retries a 404", "retried_non_retryable"),
        "upload-503-should-retry-false": ("it ignores x-should-retry: false", "expected 1 attempt"),
        "retrieve-malformed-json": ("it retries an answer it cannot decode", "expected 1 attempt"),
    },
}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("client", list(CLIENTS))
def test_client_against_case(client: str, case: object, mockfiles: MockFilesServer) -> None:
    if client == "openai-node" and node_missing():
        pytest.skip(node_missing() or "")
    from mockfiles.retries.cases import Case

    assert isinstance(case, Case)
    run = CaseRun(mockfiles, case)
    CLIENTS[client](run)
    report = run.check()
    expected = EXPECTED_FAILURES[client].get(case.id)
    if expected is None:
        assert report.passed, report.message()
    else:
        why, said = expected
        assert not report.passed, f"{client} was expected to fail {case.id} ({why})"
        assert said in report.message(), report.message()


def test_every_expected_failure_names_a_shipped_case() -> None:
    ids = {c.id for c in CASES}
    assert {case for failures in EXPECTED_FAILURES.values() for case in failures} <= ids
