"""The one error table on its own: every error the code raises has its row, every row is raised
somewhere, and each dialect says an error from it (status, type, code, message, headers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mockfiles.core import errors
from mockfiles.core.error_table import CATEGORIES, ROWS
from mockfiles.core.errors import (
    AuthenticationFailed,
    InjectedError,
    InjectedRateLimit,
    InvalidValue,
    MissingParameter,
    MockFilesError,
    NotFound,
    QuotaExceeded,
    RateLimited,
    ServerError,
    say,
)

PACKAGE = Path(__file__).parents[3] / "mockfiles"
TYPED = {  # error classes that name their own reason
    "MissingParameter": "missing_parameter",
    "UnknownParameter": "unknown_parameter",
    "InvalidType": "invalid_type",
    "NotAnInteger": "not_an_integer",
    "ServerError": "server_error",
    "ConnectionRefusal": "connection_refused",
    "HeadersTooLarge": "headers_too_large",
    "UnknownRetryTest": "no_such_retry_test",
}


def raised_reasons() -> set[str]:
    """Every reason a module of the package names when it makes an error (a string literal as the
    first argument of an error class, or of a helper that takes one)."""
    found = set(TYPED.values())
    for path in PACKAGE.rglob("*.py"):
        if path.name == "error_table.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ROWS:
                found.add(node.value)
    return found


def test_every_row_is_used_and_every_category_is_known() -> None:
    unused = set(ROWS) - raised_reasons() - {"below_minimum", "above_maximum", "rate_limited", "rate_limited_unclassed"}
    unused -= {f"upload_{state}" for state in ("completed", "cancelled", "expired")}  # f"upload_{state}"
    unused -= {f"{part}_not_utf8" for part in ("name", "filename", "value")}  # f"{part}_not_utf8"
    unused -= {"scenario_too_large", "body_too_large"}  # f"{what}_too_large"
    assert unused == set()
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, MockFilesError)]
    assert {c.category for c in classes} <= set(CATEGORIES)


def test_errors_raised_by_reason_name_a_row() -> None:
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            cls = getattr(errors, node.func.id, None)
            if not (isinstance(cls, type) and issubclass(cls, MockFilesError)) or node.func.id in TYPED:
                continue
            first = node.args[0] if node.args else None
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and cls.__init__ is MockFilesError.__init__
            ):
                assert first.value in ROWS, (path.name, node.lineno, first.value)


def said(err: MockFilesError, dialect: str) -> tuple[object, ...]:
    s = say(err, dialect, "req_1")
    return (s.status, s.type, s.code, s.message, s.param)


def test_one_error_in_three_dialects() -> None:
    quota = QuotaExceeded("file_count_limit", which="file_count", limit=3, used=3)
    message = "File count limit reached: this account already stores 3 of 3 files. Delete files to make room."
    assert said(quota, "openai") == (400, "invalid_request_error", "file_count_limit_exceeded", message, "file")
    assert said(quota, "dashscope-compatible") == said(quota, "openai")
    native = say(quota, "dashscope-native", "req_1")
    assert (native.code, native.message) == ("BadRequest.TooMany", "Out of number, <3> of <3> files has been uploaded.")


def test_dialects_differ_where_the_row_says() -> None:
    wrong = AuthenticationFailed(missing=False, key="sk-wrong-0123456789")
    assert said(wrong, "openai")[2:4] == (
        "invalid_api_key",
        "Incorrect API key provided: sk-wrong*******6789. "
        "You can find your API key at https://platform.openai.com/account/api-keys.",
    )
    assert said(wrong, "dashscope-compatible")[3].startswith("Incorrect API key provided. For details, see: ")
    assert said(wrong, "dashscope-native")[2:4] == ("InvalidApiKey", "Invalid API-key provided.")
    purpose = InvalidValue("purpose", "nope", ["a", "b", "c"], reason="invalid_purpose")
    assert said(purpose, "openai")[3] == "Invalid value: 'nope'. Supported values are: 'a', 'b', and 'c'."
    assert said(purpose, "dashscope-compatible")[3] == "'purpose' must be one of 'a', 'b', 'c'"
    server = ServerError("boom")
    assert "(Please include the request ID req_1 in your email.)" in said(server, "openai")[3]
    assert said(server, "dashscope-native")[2:4] == ("InternalError", "boom")


def test_rate_limit_refusals_advise_a_wait_and_a_rules_own_headers_and_fields_win() -> None:
    real = RateLimited(retry_after=0.25, limit=3, kind="upload", endpoint="files.create")
    s = say(real, "openai", "r")
    assert s.headers == {"retry-after": "1", "retry-after-ms": "250"} and s.code == "rate_limit_exceeded"
    assert s.message.startswith("Rate limit reached for upload requests (files.create) on requests per second: Limit 3")
    injected = InjectedRateLimit(
        retry_after=2.0, given={"message": "slow down", "code": None}, headers={"retry-after": "9"}
    )
    s = say(injected, "openai", "r")
    assert (s.message, s.code, s.headers["retry-after"], s.headers["retry-after-ms"]) == (
        "slow down",
        None,
        "9",
        "2000",
    )
    n = say(injected, "dashscope-native", "r")
    assert (n.code, n.message) == ("Throttling.RateQuota", "slow down")
    c = say(injected.limited("query", 10, "files.list"), "dashscope-compatible", "r")
    assert (c.type, c.code, c.message) == ("limit_requests", None, "slow down")


@pytest.mark.parametrize(
    ("status", "native"), [(503, "ServiceUnavailable"), (418, "InvalidParameter"), (599, "InternalError")]
)
def test_injected_errors_keep_the_rules_status_and_words(status: int, native: str) -> None:
    err = InjectedError(status, message="m", type="t", code=None, param=None)
    assert said(err, "openai") == (status, "t", None, "m", None)
    assert say(err, "dashscope-native", "r").code == native


def test_domain_errors_carry_data_and_read_their_words_from_the_table() -> None:
    missing = MissingParameter("purpose")
    assert (missing.reason, missing.param, missing.fields) == ("missing_parameter", "purpose", {})
    assert (missing.status, missing.code, str(missing)) == (
        400,
        "missing_required_parameter",
        "Missing required parameter: 'purpose'.",
    )
    gone = NotFound("no_such_file", param="id", id="file-1")
    assert (gone.status, gone.type, gone.message) == (404, "invalid_request_error", "No such File object: file-1")
