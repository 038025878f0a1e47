"""Attempts: one request as a retry judge sees it — when it arrived and ended (real seconds on a
monotonic clock, which freezegun does not move), how it ended, what the client said (its retry
count, its keys) and what the server advised (Retry-After, x-should-retry).

Attempts are made from journal entries; ``_journal_fields`` is the one place that knows the
journal's field names.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

Outcome = Literal[
    "status",  # an answer with a status line (see ``status``)
    "reset",  # the connection was reset before any answer
    "timeout",  # no answer: the request was held until the client gave up
    "truncated",  # the head was sent, then the body was cut (a broken stream)
    "client_gone",  # the client went away before the answer was complete
    "committed_dropped",  # the operation was done, then the connection reset: the answer was lost
    "pending",  # not answered yet
]
TRANSPORT_FAILURES: frozenset[str] = frozenset({"reset", "timeout", "truncated", "client_gone", "committed_dropped"})

# How the journal's ``action`` (a scenario action or a retry-test instruction's kind) ended a request.
_ACTION_OUTCOMES: dict[str, Outcome] = {
    "reset": "reset",
    "dropped_by_reset": "reset",
    "timeout": "timeout",
    "truncate": "truncated",
    "broken_stream": "truncated",
    "reset_after_commit": "committed_dropped",
    "client_disconnected": "client_gone",
    "client_gone": "client_gone",
}
ADVICE_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry")
_FLAGS = {"true": True, "false": False}
# The journal field naming what each creating endpoint created (other endpoints' ids name their target).
_CREATED = {
    "files.create": "file_id",
    "uploads.complete": "file_id",
    "batches.create": "batch_id",
    "uploads.create": "upload_id",
    "uploads.parts.create": "part_id",
}


class Attempt(NamedTuple):
    """Immutable, and a named tuple rather than a frozen dataclass because it is made 10,000 at a
    time from a full journal, where it is about twice as fast to build."""

    seq: int  # the journal's sequence number
    request_id: str | None
    retry_test: str | None  # the x-retry-test-id it carried
    account: str | None
    endpoint: str | None
    method: str
    path: str
    query: str
    arrived: float  # seconds on a monotonic clock
    ended: float  # the same clock: the answer was sent, the connection dropped, or the client left
    outcome: Outcome
    status: int | None = None  # the status sent (for committed_dropped: the one that was not delivered)
    retry_count: int | None = None  # x-stainless-retry-count
    advice: tuple[tuple[str, str], ...] = ()  # the retry headers sent, lower-case names
    wait: float | None = None  # the wait advised, in seconds, read as the openai SDK reads it
    should_retry: bool | None = None  # x-should-retry
    idempotency_key: str | None = None
    call_key: str | None = None  # x-mockfiles-call
    filename: str | None = None
    purpose: str | None = None
    size: int | None = None
    sha256: str | None = None  # of the uploaded bytes (a body's own hash for JSON bodies)
    created: str | None = None  # the id of what it created (a file id), also when the answer was lost
    instruction: str | None = None  # the retry-test instruction it took
    remaining: int | None = None  # instructions left in its endpoint's queue after it took one

    @property
    def succeeded(self) -> bool:
        """A complete 2xx/3xx answer (a malformed 200 counts: the server did its part)."""
        return self.outcome == "status" and self.status is not None and self.status < 400

    @property
    def label(self) -> str:
        """How it ended, in a few words: ``503``, ``reset``, ``200, then reset (answer lost)``."""
        if self.outcome == "status":
            return str(self.status)
        if self.outcome == "committed_dropped":
            return f"{self.status or 'done'}, then reset (answer lost)"
        return {"truncated": "broken stream", "client_gone": "client went away"}.get(self.outcome, self.outcome)

    @property
    def advice_text(self) -> str:
        return ", ".join(f"{name}: {value}" for name, value in self.advice)


def attempt_from_entry(entry: Mapping[str, Any]) -> Attempt:
    """The attempt a journal entry records."""
    return Attempt(**_journal_fields(entry))


def _journal_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Journal field names -> Attempt fields. Arrival is ``monotonic_arrived`` (seconds on
    ``time.perf_counter()``, which freezegun and ``server.advance()`` do not move), the end
    ``monotonic_ended`` (null while the request is answered: then arrival + ``duration_ms``); entries
    without ``monotonic_arrived`` fall back to ``wall_time`` (stamped when the answer began) minus
    ``duration_ms``."""
    get = entry.get
    duration = (get("duration_ms") or 0.0) / 1000
    arrived = get("monotonic_arrived")
    if arrived is None:
        arrived = (get("wall_time") or 0.0) - duration
    ended = get("monotonic_ended")
    if ended is None:
        ended = arrived + duration
    advice = _advice(get("advice"))
    advised = dict(advice)
    status = get("status")
    endpoint = get("endpoint")
    outcome = _outcome(get("action"), status)
    if outcome == "committed_dropped":
        status = get("committed_status", status)
    return {
        "seq": get("seq") or 0,
        "request_id": get("request_id"),
        "retry_test": get("retry_test"),
        "account": get("account"),
        "endpoint": endpoint,
        "method": get("method") or "",
        "path": get("path") or "",
        "query": get("query") or "",
        "arrived": float(arrived),
        "ended": float(ended),
        "outcome": outcome,
        "status": status,
        "retry_count": get("retry_count"),
        "advice": advice,
        "wait": advised_wait(advised, get("wall_time")) if advised else None,
        "should_retry": _FLAGS.get(advised.get("x-should-retry", "").lower()) if advised else None,
        "idempotency_key": get("idempotency_key"),
        "call_key": get("call_key"),
        "filename": get("filename"),
        "purpose": get("purpose"),
        "size": get("size"),
        "sha256": get("sha256"),
        "created": get(_CREATED[endpoint]) if endpoint in _CREATED else None,
        "instruction": get("instruction"),
        "remaining": get("retry_remaining"),
    }


def _outcome(action: object, status: object) -> Outcome:
    if isinstance(action, str) and action in _ACTION_OUTCOMES:
        return _ACTION_OUTCOMES[action]
    return "pending" if status is None else "status"


def _advice(advice: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(advice, Mapping) or not advice:
        return ()
    lowered = {str(k).lower(): str(v) for k, v in advice.items()}
    return tuple((name, lowered[name]) for name in ADVICE_HEADERS if name in lowered)


def advised_wait(advice: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait the headers advise, in seconds, read as openai-python reads them: ``retry-after-ms``
    (a float) wins, else ``retry-after`` as seconds (a float) or as an HTTP date (minus ``now``,
    epoch seconds). None when nothing parses; 0 and negative values are returned as they are
    (the SDK then backs off as if nothing were advised)."""
    ms = advice.get("retry-after-ms")
    if ms is not None:
        value = _float(ms)
        if value is not None:
            return value / 1000
    after = advice.get("retry-after")
    if after is None:
        return None
    value = _float(after)
    if value is not None:
        return value
    if now is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(after)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - now


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
