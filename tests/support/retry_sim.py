"""A model, for fast tests without HTTP, of what the emulator records for each attempt under a retry
test's instructions, and of two clients: the openai SDK's documented retry policy, and a naive
wrapper (fixed wait, retries every failure, sends x-stainless-retry-count: 0 every time).

Time is virtual: ``Sim.now`` is the client's clock, on the same scale as the journal's monotonic
``monotonic_arrived``. Entries use the journal's field names, so they go through ``attempt_from_entry``.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any, Literal

from mockfiles.retries.cases import SUCCESS, Case, ClientResult
from mockfiles.retries.queues import RetryTests, RetryTestView
from mockfiles.retries.verdicts import DEFAULT_POLICY, Policy, judge_entries
from mockfiles.scenarios.fault_rules import ENDPOINTS

ROUTES = {
    "upload": ("files.create", "POST", "/v1/files"),
    "list": ("files.list", "GET", "/v1/files"),
    "retrieve": ("files.retrieve", "GET", "/v1/files/file-0"),
    "download": ("files.content", "GET", "/v1/files/file-0/content"),
    "delete": ("files.delete", "DELETE", "/v1/files/file-0"),
}
LATENCY = 0.002  # each way
SERVICE = 0.005  # the server's own time for an answer


@dataclass
class Seen:
    """What the client sees of one attempt."""

    kind: Literal["ok", "status", "connection", "timeout", "decode"]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Sim:
    tests: RetryTests = field(default_factory=lambda: RetryTests(ENDPOINTS))
    now: float = 1_000.0
    entries: list[dict[str, Any]] = field(default_factory=list)
    files: int = 0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def attempt(
        self,
        operation: str,
        *,
        test: str | None = None,
        account: str = "sk-a",
        retry_count: int | None = None,
        content: bytes = b'{"a": 1}\n',
        filename: str = "data.jsonl",
        client_timeout: float | None = None,
        call_key: str | None = None,
        idempotency_key: str | None = None,
        answer: int | None = None,
        advice: dict[str, str] | None = None,
    ) -> Seen:
        endpoint, method, path = ROUTES[operation]
        self.now += LATENCY
        arrived = self.now
        taken = self.tests.take(test, endpoint) if test is not None else None
        instruction = taken.instruction if taken is not None else None
        status: int | None = 200
        action: str | None = None
        headers = dict(advice or {})
        server_time = client_time = SERVICE
        seen = Seen("ok", 200)
        kind = instruction.kind if instruction is not None else None
        if instruction is not None and kind in ("error", "html_error"):
            status = instruction.status
            headers.update(instruction.headers)
            seen = Seen("status", status, headers)
        elif kind == "malformed_json":
            seen = Seen("decode", 200)
        elif kind in ("reset", "reset_after_commit"):
            status, action, seen = None, kind, Seen("connection")
        elif kind == "broken_stream":
            action, seen = "broken_stream", Seen("connection")
        elif instruction is not None and kind == "timeout":
            status, action, seen = None, "timeout", Seen("timeout")
            server_time = client_time = client_timeout or (instruction.seconds or 600.0)
        elif instruction is not None and kind in ("stall", "delay"):
            seconds = instruction.seconds or 0.0
            if client_timeout is not None and seconds > client_timeout:
                # the client gives up; the stalled server notices only when it moves again
                status, action, seen = None, "client_disconnected", Seen("timeout")
                client_time, server_time = client_timeout, seconds
            else:
                server_time = client_time = SERVICE + seconds
        if instruction is None and answer is not None:  # a fault outside retry tests (a scenario's)
            status = answer
            seen = Seen("status", answer, headers) if answer >= 400 else Seen("ok", answer)
        created = None
        if (
            endpoint == "files.create"
            and seen.kind != "status"
            and (instruction is None or instruction.performs_operation)
        ):
            self.files += 1
            created = f"file-{self.files}"
        upload = endpoint == "files.create"
        self.entries.append(
            {
                "seq": len(self.entries) + 1,
                "request_id": f"req_{len(self.entries) + 1}",
                "retry_test": test,
                "account": account,
                "endpoint": endpoint,
                "method": method,
                "path": path,
                "query": "",
                "monotonic_arrived": arrived,
                "duration_ms": server_time * 1000,
                "wall_time": 1_700_000_000.0 + arrived + server_time,
                "status": status,
                "committed_status": 200 if kind == "reset_after_commit" else None,
                "action": action,
                "retry_count": retry_count,
                "advice": {
                    k: v for k, v in headers.items() if k in ("retry-after", "retry-after-ms", "x-should-retry")
                },
                "call_key": call_key,
                "idempotency_key": idempotency_key,
                "filename": filename if upload else None,
                "purpose": "batch" if upload else None,
                "size": len(content) if upload else None,
                "sha256": hashlib.sha256(content).hexdigest() if upload else None,
                "file_id": created,
                "instruction": instruction.text if instruction is not None else None,
                "retry_remaining": taken.remaining if taken is not None else (0 if test is not None else None),
            }
        )
        self.now += client_time + LATENCY
        return seen

    def calls(self, retry_test: str | None = None, policy: Policy = DEFAULT_POLICY) -> list[Any]:
        return list(judge_entries(self.entries, policy, retry_test=retry_test))

    def view(self, test_id: str, policy: Policy = DEFAULT_POLICY) -> RetryTestView:
        view = self.tests.get(test_id)
        view["calls"] = self.calls(test_id, policy)
        return view


def result_of(seen: Seen) -> ClientResult:
    if seen.kind == "ok":
        return SUCCESS
    if seen.kind == "status":
        return ClientResult(False, seen.status, "status", f"APIStatusError {seen.status}")
    return ClientResult(False, None, seen.kind, seen.kind)


def sdk_should_retry(seen: Seen) -> bool:
    """openai-python's ``_should_retry``, for what a status answer said; transport failures retry."""
    if seen.kind in ("connection", "timeout"):
        return True
    if seen.kind != "status" or seen.status is None:
        return False
    wait = sdk_advised(seen.headers)
    if wait is not None and wait > 120:
        return False
    flag = seen.headers.get("x-should-retry")
    if flag in ("true", "false"):
        return flag == "true"
    return seen.status in (408, 409, 429) or seen.status >= 500


def sdk_advised(headers: dict[str, str]) -> float | None:
    if "retry-after-ms" in headers:
        return float(headers["retry-after-ms"]) / 1000
    if "retry-after" in headers:
        return float(headers["retry-after"])
    return None


def sdk_wait(seen: Seen, retries_taken: int, rng: random.Random) -> float:
    """openai-python's ``_calculate_retry_timeout``."""
    advised = sdk_advised(seen.headers)
    if advised is not None and 0 < advised <= 120:
        return advised
    return min(0.5 * 2.0**retries_taken, 8.0) * (1 - 0.25 * rng.random())


def sdk(
    sim: Sim,
    operation: str,
    *,
    rng: random.Random,
    max_retries: int = 2,
    send_count: bool = True,
    **attempt: Any,
) -> ClientResult:
    """One call made the way openai-python makes it."""
    for n in range(max_retries + 1):
        seen = sim.attempt(operation, retry_count=n if send_count else None, **attempt)
        if seen.kind == "decode":
            return ClientResult(False, None, "decode", "JSONDecodeError")
        if seen.kind == "ok":
            return SUCCESS
        if n == max_retries or not sdk_should_retry(seen):
            return result_of(seen)
        sim.sleep(sdk_wait(seen, n, rng))
    raise AssertionError("unreachable")


def naive(
    sim: Sim, operation: str, *, attempts: int = 3, wait: float = 0.1, count: int | None = 0, **attempt: Any
) -> ClientResult:
    """A tenacity-style wrapper around an SDK with max_retries=0: every failure (any exception)
    retried after a fixed wait, the SDK's count 0 on every attempt."""
    result = SUCCESS
    for n in range(attempts):
        seen = sim.attempt(operation, retry_count=count, **attempt)
        result = ClientResult(False, None, "decode", "JSONDecodeError") if seen.kind == "decode" else result_of(seen)
        if result.succeeded:
            return result
        if n < attempts - 1:
            sim.sleep(wait)
    return result


def run_case(case: Case, client: str, seed: int = 0, **options: Any) -> tuple[ClientResult, RetryTestView]:
    """Run one conformance case with a modelled client: ``sdk``, ``naive``, or ``never`` (no retries)."""
    sim = Sim()
    test = sim.tests.create(case.document)["id"]
    content = bytes(range(256)) * (case.file_size // 256 + 1)
    attempt: dict[str, Any] = {
        "test": test,
        "content": content[: case.file_size],
        "client_timeout": case.client_timeout,
    }
    if client == "sdk":
        result = sdk(sim, case.operation, rng=random.Random(seed), **attempt, **options)
    elif client == "naive":
        result = naive(sim, case.operation, **attempt, **options)
    else:
        result = sdk(sim, case.operation, rng=random.Random(seed), max_retries=0, **attempt)
    return result, sim.view(test)
