"""The retry conformance suite, as data (``retry_cases.json``, like googleapis' ``retry_tests.json``):
each case scripts faults for one operation and says what a well-behaved client does. ``check_case``
compares what a client did — its result and the calls its retry test recorded — with that.

A harness does four things per case: create a retry test from ``case.document``; prepare what
the operation needs (a file for retrieve, download and delete, uploaded without the retry-test
header); run the client's operation with ``x-retry-test-id`` (and ``case.client_timeout`` as its
read timeout when given), catching what it raises into a ``ClientResult``; then call
``check_case`` with the retry test's view, its ``calls`` filled in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from mockfiles.core.registry import NAMES as ENDPOINTS
from mockfiles.retries.queues import RetryTestError, RetryTests
from mockfiles.retries.report import timeline
from mockfiles.retries.verdicts import PROBLEMS, CallDict

ErrorKind = Literal["status", "connection", "timeout", "decode", "other"]
ERROR_KINDS: tuple[ErrorKind, ...] = ("status", "connection", "timeout", "decode", "other")
CASE_KEYS = ("id", "description", "operation", "instructions", "expect", "file_size", "client_timeout", "tags")
EXPECT_KEYS = ("result", "error", "attempts", "completed", "tolerated")
DEFAULT_FILE_SIZE = 1024


@dataclass(frozen=True)
class CaseOperation:
    endpoint: str
    needs_file: bool  # a file must exist first (uploaded without the retry-test header)
    does: str


OPERATIONS = {
    "upload": CaseOperation("files.create", False, "upload a file"),
    "list": CaseOperation("files.list", False, "list files"),
    "retrieve": CaseOperation("files.retrieve", True, "retrieve a file"),
    "download": CaseOperation("files.content", True, "download a file's content"),
    "delete": CaseOperation("files.delete", True, "delete a file"),
}


class CaseError(ValueError):
    """A cases file that cannot be used; the message names the case and the field."""


@dataclass(frozen=True)
class Expectation:
    result: Literal["success", "error"]
    attempts: tuple[int, int]  # least and most attempts on the operation's endpoint
    status: int | None = None  # the error's HTTP status, for result "error"
    kind: ErrorKind | None = None  # or the kind of error
    completed: bool = True  # every instruction was used
    tolerated: frozenset[str] = frozenset()  # problems a well-behaved client cannot avoid

    def describe(self) -> str:
        low, high = self.attempts
        count = f"{low} attempt{'s' if high > 1 else ''}" if low == high else f"{low} to {high} attempts"
        if self.result == "success":
            return f"success after {count}"
        what = f"status {self.status}" if self.status is not None else f"a {self.kind} error"
        return f"failure with {what} after {count}"


@dataclass(frozen=True)
class Case:
    id: str
    description: str
    operation: str
    instructions: dict[str, tuple[str, ...]]
    expect: Expectation
    file_size: int = DEFAULT_FILE_SIZE
    client_timeout: float | None = None
    tags: tuple[str, ...] = ()

    @property
    def endpoint(self) -> str:
        return OPERATIONS[self.operation].endpoint

    @property
    def needs_file(self) -> bool:
        return OPERATIONS[self.operation].needs_file

    @property
    def document(self) -> dict[str, Any]:
        """The body that creates its retry test."""
        return {"instructions": {e: list(items) for e, items in self.instructions.items()}}


@dataclass(frozen=True)
class ClientResult:
    """What the client's operation came to, as the harness saw it."""

    succeeded: bool
    status: int | None = None
    kind: ErrorKind | None = None
    error: str | None = None  # the exception, as text, for the report

    @classmethod
    def from_exception(cls, exc: BaseException) -> ClientResult:
        """Classify any client's exception by duck typing: an HTTP status (``status_code``, or
        ``response.status_code``) of 400 or more; else timeouts, connection failures and
        undecodable answers by the exception's class names (openai, httpx, requests, aiohttp…)."""
        status = _status_of(exc)
        names = " ".join(t.__name__ for t in type(exc).__mro__).lower()
        kind: ErrorKind
        if status is not None and status >= 400:
            kind = "status"
        elif "timeout" in names:
            kind = "timeout"
        elif any(word in names for word in ("connection", "protocol", "network", "readerror", "writeerror")):
            kind = "connection"
        elif any(word in names for word in ("decode", "json", "validation")):
            kind = "decode"
        else:
            kind = "other"
        text = f"{type(exc).__name__}: {exc}"
        return cls(False, status if kind == "status" else None, kind, text[:300])

    def describe(self) -> str:
        if self.succeeded:
            return "succeeded"
        what = f"status {self.status}" if self.kind == "status" else f"a {self.kind} error"
        return f"failed with {what}" + (f" ({self.error})" if self.error else "")


SUCCESS = ClientResult(True)


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


@dataclass(frozen=True)
class CaseReport:
    case: str
    passed: bool
    failures: tuple[str, ...]
    known: tuple[str, ...]  # tolerated problems that happened
    timeline: str

    def message(self) -> str:
        head = f"retry case {self.case}: {'passed' if self.passed else 'FAILED'}"
        lines = [head, *(f"  - {f}" for f in self.failures), *(f"  known: {k}" for k in self.known)]
        lines.append(f"  attempts: {self.timeline}")
        return "\n".join(lines)


def check_case(case: Case, result: ClientResult, test: Mapping[str, Any]) -> CaseReport:
    """Compare a client's run of ``case`` with its expectation. ``test`` is the retry test's view
    (``completed``, ``remaining``) with its ``calls``."""
    calls: list[CallDict] = [c for c in test.get("calls", []) if c["endpoint"] == case.endpoint]
    attempts = sum(len(c["attempts"]) for c in calls)
    timeline = _timeline(calls)
    expect = case.expect
    failures: list[str] = []
    if not calls:
        failures.append(
            f"no request to {case.endpoint} carried x-retry-test-id: {test.get('id')} — pass the case's headers "
            "to the client (e.g. default_headers)"
        )
    failures.extend(_result_failures(case, result, attempts))
    low, high = expect.attempts
    if calls and not low <= attempts <= high:
        want = str(low) if low == high else f"{low} to {high}"
        failures.append(f"expected {want} attempt{'s' if high > 1 else ''} on {case.endpoint}, saw {attempts}")
    known: list[str] = []
    for call in calls:
        for problem in call["verdict"]["problems"]:
            text = f"{problem['problem']}: {problem['message']}"
            (known if problem["problem"] in expect.tolerated else failures).append(text)
    if calls and bool(test.get("completed")) != expect.completed:
        failures.append(_completed_failure(case, test))
    return CaseReport(case.id, not failures, tuple(failures), tuple(known), timeline)


def _result_failures(case: Case, result: ClientResult, attempts: int) -> list[str]:
    expect = case.expect
    want = f"expected {expect.describe()} ({case.description})"
    if expect.result == "success":
        return [] if result.succeeded else [f"{want}; it {result.describe()} after {attempts} attempt(s)"]
    if result.succeeded:
        return [f"{want}; it succeeded after {attempts} attempt(s)"]
    if expect.status is not None and result.status != expect.status:
        return [f"{want}; it {result.describe()}"]
    if expect.kind is not None and result.kind != expect.kind:
        return [f"{want}; it {result.describe()}"]
    return []


def _completed_failure(case: Case, test: Mapping[str, Any]) -> str:
    left = test.get("remaining", {}).get(case.endpoint, [])
    if case.expect.completed:
        return f"the client stopped with {len(left)} instruction(s) unused for {case.endpoint}: {', '.join(left)}"
    return "every instruction was used, but a well-behaved client gives up before the last one"


def _timeline(calls: Sequence[CallDict]) -> str:
    if not calls:
        return "none"
    if len(calls) == 1:
        return timeline(calls[0])
    return "; ".join(f"call {i} ({c['grouping']}): {timeline(c)}" for i, c in enumerate(calls, 1))


def format_reports(reports: Iterable[CaseReport]) -> str:
    """One line per case (passed / FAILED / passed with known problems), then the failures."""
    reports = list(reports)
    lines = []
    for r in reports:
        state = "FAILED" if not r.passed else ("passed (known: " + _names(r.known) + ")" if r.known else "passed")
        lines.append(f"{r.case:<36} {state}")
    passed = sum(r.passed for r in reports)
    lines.append(f"{passed} of {len(reports)} retry cases passed")
    lines.extend(r.message() for r in reports if not r.passed)
    return "\n".join(lines)


def _names(texts: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(t.split(":", 1)[0] for t in texts))


def load_cases(source: str | Path | None = None, endpoints: Iterable[str] = ENDPOINTS) -> tuple[Case, ...]:
    """The cases of a JSON file (the shipped ``retry_cases.json`` by default), checked."""
    if source is None:
        text, name = resources.files("mockfiles.retries").joinpath("cases.json").read_text(), "cases.json"
    else:
        text, name = Path(source).read_text(), str(source)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CaseError(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
        raise CaseError(f'{name}: expected an object with "cases": [...]')
    registry = RetryTests(endpoints)
    tags = document.get("tags", {})
    cases: list[Case] = []
    for i, raw in enumerate(document["cases"]):
        case = _case(raw, registry, f"{name}: cases[{i}]")
        if any(c.id == case.id for c in cases):
            raise CaseError(f"{name}: cases[{i}]: the id {case.id!r} is used twice")
        unknown = [t for t in case.tags if t not in tags]
        if unknown:
            raise CaseError(f'{name}: cases[{i}] ({case.id}): the tag {unknown[0]!r} is not described in "tags"')
        cases.append(case)
    return tuple(cases)


def _case(raw: object, registry: RetryTests, where: str) -> Case:
    if not isinstance(raw, dict):
        raise CaseError(f"{where}: a case is an object")
    if isinstance(raw.get("id"), str):
        where = f"{where} ({raw['id']})"
    _keys(raw, CASE_KEYS, where, required=("id", "description", "operation", "instructions", "expect"))
    if raw["operation"] not in OPERATIONS:
        raise CaseError(f"{where}: unknown operation {raw['operation']!r}; choose one of {', '.join(OPERATIONS)}")
    try:
        scripted = registry.parse({"instructions": raw["instructions"]})
    except RetryTestError as exc:
        raise CaseError(f"{where}: {exc.message}") from None
    size = raw.get("file_size", DEFAULT_FILE_SIZE)
    timeout = raw.get("client_timeout")
    tags = raw.get("tags", [])
    if not isinstance(size, int) or size < 1:
        raise CaseError(f"{where}: file_size must be a number of bytes above 0")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise CaseError(f"{where}: client_timeout must be a number of seconds above 0")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise CaseError(f"{where}: tags must be a list of strings")
    return Case(
        id=str(raw["id"]),
        description=str(raw["description"]),
        operation=raw["operation"],
        instructions={e: tuple(i.text for i in items) for e, items in scripted.items()},
        expect=_expectation(raw["expect"], f"{where}.expect"),
        file_size=size,
        client_timeout=None if timeout is None else float(timeout),
        tags=tuple(tags),
    )


def _expectation(raw: object, where: str) -> Expectation:
    if not isinstance(raw, dict):
        raise CaseError(f"{where}: must be an object")
    _keys(raw, EXPECT_KEYS, where, required=("result", "attempts"))
    result = raw["result"]
    if result not in ("success", "error"):
        raise CaseError(f"{where}.result must be 'success' or 'error'")
    error = raw.get("error", {})
    if result == "error" and (not isinstance(error, dict) or not error):
        raise CaseError(f'{where}.error: say which error: {{"status": 400}} or {{"kind": "timeout"}}')
    if result == "success" and error:
        raise CaseError(f"{where}.error goes with result 'error'")
    status, kind = error.get("status"), error.get("kind")
    if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
        raise CaseError(f"{where}.error.status must be 400 to 599")
    if kind is not None and kind not in ERROR_KINDS:
        raise CaseError(f"{where}.error.kind must be one of {', '.join(ERROR_KINDS)}")
    tolerated = raw.get("tolerated", [])
    unknown = [p for p in tolerated if p not in PROBLEMS]
    if unknown:
        raise CaseError(f"{where}.tolerated: unknown problem {unknown[0]!r}; problems: {', '.join(PROBLEMS)}")
    return Expectation(
        result=result,
        attempts=_attempts(raw["attempts"], where),
        status=status,
        kind="status" if status is not None and kind is None else kind,
        completed=bool(raw.get("completed", True)),
        tolerated=frozenset(tolerated),
    )


def _attempts(raw: object, where: str) -> tuple[int, int]:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
        return (raw, raw)
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(n, int) and n >= 1 for n in raw) and raw[0] <= raw[1]:
        return (raw[0], raw[1])
    raise CaseError(f"{where}.attempts must be a number of attempts, or [least, most]")


def _keys(raw: dict[str, Any], allowed: tuple[str, ...], where: str, required: tuple[str, ...]) -> None:
    for key in raw:
        if key not in allowed:
            raise CaseError(f"{where}: unknown key {key!r}; expected {', '.join(allowed)}")
    for key in required:
        if key not in raw:
            raise CaseError(f"{where}: {key!r} is required")
