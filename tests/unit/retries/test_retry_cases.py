"""The conformance suite as data: the shipped cases load and cover what they must; a model of the
openai SDK's documented policy passes every one; a naive wrapper and a client that never retries
fail the cases they should, with messages a user understands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockfiles.retries.cases import (
    SUCCESS,
    CaseError,
    ClientResult,
    check_case,
    format_reports,
    load_cases,
)
from tests.support.retry_sim import run_case

try:  # the transport the openai SDK ships with: httpx2 in recent releases, httpx before
    import httpx2
except ImportError:  # pragma: no cover
    import httpx as httpx2  # type: ignore[no-redef]

CASES = load_cases()
BY_ID = {c.id: c for c in CASES}


def test_the_shipped_cases_cover_the_failure_modes() -> None:
    instructions = {i for c in CASES for items in c.instructions.values() for i in items}
    for needed in (
        "return-500",
        "return-502",
        "return-503",
        "return-504",
        "return-429-retry-after-300ms",
        "return-429-retry-after-1s",
        "return-408",
        "return-409",
        "return-400",
        "return-401",
        "return-404",
        "return-503-should-retry-false",
        "return-400-should-retry-true",
        "reset",
        "reset-after-64K",
        "return-503-after-256K",
        "timeout",
        "broken-stream-after-4K",
        "stall-for-3s-after-4K",
        "return-html-503",
        "return-malformed-json",
        "reset-after-commit",
        "delay-200ms",
    ):
        assert needed in instructions, needed
    assert {c.operation for c in CASES} == {"upload", "list", "retrieve", "download", "delete"}
    assert any(c.expect.result == "error" and c.expect.attempts == (3, 3) for c in CASES)  # more failures than retries
    assert all(c.description and c.endpoint in c.instructions for c in CASES)
    assert BY_ID["upload-reset-after-commit"].expect.tolerated == {"duplicate_side_effect"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_sdks_documented_policy_passes_every_case(case: Any, seed: int) -> None:
    report = check_case(case, *run_case(case, "sdk", seed))
    assert report.passed, report.message()


def test_the_lost_upload_answer_passes_with_the_duplicate_reported_as_known() -> None:
    report = check_case(BY_ID["upload-reset-after-commit"], *run_case(BY_ID["upload-reset-after-commit"], "sdk"))
    assert report.passed and len(report.known) == 1 and report.known[0].startswith("duplicate_side_effect: ")
    assert "known: duplicate_side_effect: one call created 2 resources" in report.message()


NAIVE_FAILS = {
    "retrieve-429-retry-after-ms": "retry_after_ignored",
    "list-429-retry-after-1s": "retry_after_ignored",
    "upload-400-final": "retried_non_retryable",
    "list-401-final": "retried_non_retryable",
    "retrieve-404-final": "retried_non_retryable",
    "upload-503-should-retry-false": "retried_non_retryable",
    "upload-500-502": "no_backoff",
    "upload-429-backoff": "no_backoff",
    "retrieve-malformed-json": "expected failure with a decode error",
}


@pytest.mark.parametrize(("case_id", "why"), NAIVE_FAILS.items())
def test_a_naive_wrapper_fails_the_retry_after_and_final_status_cases(case_id: str, why: str) -> None:
    report = check_case(BY_ID[case_id], *run_case(BY_ID[case_id], "naive"))
    assert not report.passed and any(f.startswith(why) for f in report.failures), report.message()


def test_a_naive_wrapper_fails_with_a_message_that_explains_itself() -> None:
    case = BY_ID["upload-400-final"]
    report = check_case(case, *run_case(case, "naive"))
    assert report.message() == (
        "retry case upload-400-final: FAILED\n"
        "  - expected failure with status 400 after 1 attempt (A 400 is final: not retried. (The instruction is used "
        "once; a retry would succeed, so retrying shows.)); it succeeded after 2 attempt(s)\n"
        "  - expected 1 attempt on files.create, saw 2\n"
        "  - retried_non_retryable: attempt 2 came 0.104 s after attempt 1 ended with 400: a 400 is final (only 408, "
        "409, 429 and 5xx are retried, or any status with x-should-retry: true)\n"
        "  attempts: 400 -> (+0.10 s) 200"
    )


def test_a_client_that_never_retries_gives_up_early() -> None:
    case = BY_ID["retrieve-503-504"]
    result, view = run_case(case, "never")
    report = check_case(case, result, view)
    assert [f.split(":")[0].split(" (")[0] for f in report.failures] == [
        "expected success after 3 attempts",
        "expected 3 attempts on files.retrieve, saw 1",
        "gave_up_retryable",
        "the client stopped with 1 instruction(s) unused for files.retrieve",
    ]
    assert report.failures[3] == "the client stopped with 1 instruction(s) unused for files.retrieve: return-504"
    passing = {c.id for c in CASES if check_case(c, *run_case(c, "never")).passed}
    assert passing == {
        "upload-400-final",
        "list-401-final",
        "retrieve-404-final",
        "upload-503-should-retry-false",
        "retrieve-malformed-json",
        "list-delay",
    }


def test_more_retries_than_the_default_budget_fails_the_exhausted_case_only_by_succeeding() -> None:
    case = BY_ID["retrieve-retries-exhausted"]
    report = check_case(case, *run_case(case, "sdk", max_retries=5))
    assert not report.passed and report.failures[0].startswith("expected failure with status 503 after 3 attempts")
    assert "default-budget" in case.tags


def test_a_client_that_does_not_send_the_header_is_told_so() -> None:
    case = BY_ID["list-503"]
    view = {"id": "abc", "completed": False, "remaining": {"files.list": ["return-503"]}, "calls": []}
    report = check_case(case, SUCCESS, view)
    assert report.failures == (
        "no request to files.list carried x-retry-test-id: abc — pass the case's headers to the client "
        "(e.g. default_headers)",
    )
    assert report.timeline == "none"


def test_the_case_document_creates_its_retry_test() -> None:
    case = BY_ID["list-reset-then-503"]
    assert case.document == {"instructions": {"files.list": ["reset", "return-503"]}}
    assert (case.endpoint, case.needs_file) == ("files.list", False)
    assert BY_ID["download-stall"].needs_file and BY_ID["download-stall"].client_timeout == 1.0
    assert BY_ID["upload-reset-after-64K"].file_size == 256 * 1024


def test_format_reports_one_line_per_case_then_the_failures() -> None:
    reports = [check_case(BY_ID[i], *run_case(BY_ID[i], "naive")) for i in ("list-503", "upload-400-final")]
    reports.append(check_case(BY_ID["upload-reset-after-commit"], *run_case(BY_ID["upload-reset-after-commit"], "sdk")))
    text = format_reports(reports)
    lines = text.splitlines()
    assert lines[:4] == [
        "list-503                             passed",
        "upload-400-final                     FAILED",
        "upload-reset-after-commit            passed (known: duplicate_side_effect)",
        "2 of 3 retry cases passed",
    ]
    assert lines[4] == "retry case upload-400-final: FAILED"


# ClientResult from what real clients raise


def _response(status: int) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "http://x/v1/files"), json={"error": {}})


def _sdk_response(status: int) -> httpx2.Response:
    """The openai SDK's errors carry httpx2 objects (the transport it ships with)."""
    return httpx2.Response(status, request=httpx2.Request("GET", "http://x/v1/files"), json={"error": {}})


@pytest.mark.parametrize(
    ("exc", "status", "kind"),
    [
        (lambda: openai.BadRequestError("bad", response=_sdk_response(400), body=None), 400, "status"),
        (lambda: openai.InternalServerError("x", response=_sdk_response(503), body=None), 503, "status"),
        (lambda: openai.APITimeoutError(request=httpx2.Request("GET", "http://x")), None, "timeout"),
        (lambda: openai.APIConnectionError(request=httpx2.Request("GET", "http://x")), None, "connection"),
        (lambda: httpx2.ReadTimeout("slow"), None, "timeout"),
        (lambda: httpx2.RemoteProtocolError("peer closed"), None, "connection"),
        (lambda: httpx.HTTPStatusError("x", request=_response(502).request, response=_response(502)), 502, "status"),
        (lambda: httpx.ReadTimeout("slow"), None, "timeout"),
        (lambda: httpx.RemoteProtocolError("peer closed"), None, "connection"),
        (lambda: httpx.ConnectError("refused"), None, "connection"),
        (lambda: ConnectionResetError(104, "reset"), None, "connection"),
        (lambda: TimeoutError(), None, "timeout"),
        (lambda: json.JSONDecodeError("Expecting value", "<", 0), None, "decode"),
        (lambda: RuntimeError("boom"), None, "other"),
    ],
)
def test_client_results_from_what_clients_raise(exc: Any, status: int | None, kind: str) -> None:
    result = ClientResult.from_exception(exc())
    assert (result.succeeded, result.status, result.kind) == (False, status, kind)
    assert result.error is not None and len(result.error) <= 300


# bad case files


BAD_FILES = [
    ("not json", "cases.json: not valid JSON: "),
    ("[]", 'cases.json: expected an object with "cases": [...]'),
    ('{"cases": [1]}', "cases.json: cases[0]: a case is an object"),
    ('{"cases": [{"id": "x"}]}', "cases.json: cases[0] (x): 'description' is required"),
    (
        '{"cases": [{"id": "x", "description": "d", "operation": "upload", "instructions": {}, "expect": {}, "colour": 1}]}',
        "cases.json: cases[0] (x): unknown key 'colour'; expected id, description, operation, instructions, expect",
    ),
    (
        '{"cases": [{"id": "x", "description": "d", "operation": "fly", "instructions": {}, "expect": {}}]}',
        "cases.json: cases[0] (x): unknown operation 'fly'; choose one of upload, list, retrieve, download, delete",
    ),
    (
        '{"cases": [{"id": "x", "description": "d", "operation": "list", "instructions": {"files.list": ["nope"]}, "expect": {}}]}',
        "cases.json: cases[0] (x): instructions.files.list[0]: unknown instruction 'nope'",
    ),
    (
        '{"cases": [{"id": "x", "description": "d", "operation": "list", "instructions": {}, "expect": {"result": "ok", "attempts": 1}}]}',
        "cases.json: cases[0] (x).expect.result must be 'success' or 'error'",
    ),
    (
        '{"cases": [{"id": "x", "description": "d", "operation": "list", "instructions": {}, "expect": {"result": "error", "attempts": 1}}]}',
        'cases.json: cases[0] (x).expect.error: say which error: {"status": 400} or {"kind": "timeout"}',
    ),
    (
        '{"cases": [{"id": "x", "description": "d", "operation": "list", "instructions": {}, "expect": {"result": "success", "attempts": 0}}]}',
        "cases.json: cases[0] (x).expect.attempts must be a number of attempts, or [least, most]",
    ),
    (
        '{"cases": [{"id": "x", "description": "d", "operation": "list", "instructions": {}, "expect": {"result": "success", "attempts": 1, "tolerated": ["slow"]}}]}',
        "cases.json: cases[0] (x).expect.tolerated: unknown problem 'slow'; problems: retry_after_ignored,",
    ),
    (
        '{"cases": [{"id": "x", "description": "d", "operation": "list", "instructions": {}, "expect": {"result": "success", "attempts": 1}}, '
        '{"id": "x", "description": "d", "operation": "list", "instructions": {}, "expect": {"result": "success", "attempts": 1}}]}',
        "cases.json: cases[1]: the id 'x' is used twice",
    ),
    (
        '{"tags": {"a": "b"}, "cases": [{"id": "x", "description": "d", "operation": "list", "instructions": {}, "expect": {"result": "success", "attempts": 1}, "tags": ["slow"]}]}',
        "cases.json: cases[0] (x): the tag 'slow' is not described in \"tags\"",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_cases_file_is_refused_naming_the_case_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cases.json"
    path.write_text(text)
    with pytest.raises(CaseError) as info:
        load_cases(path)
    assert str(info.value).replace(str(tmp_path) + "/", "").startswith(message)
