"""Verdicts: whether a logical call's retries were those of a well-behaved client.

Each call gets ``{"ok": bool, "problems": [...]}``; a problem is one of ``PROBLEMS`` with the
attempt it concerns and a message that explains itself. The measure is the official openai SDK's
documented policy (retry 408, 409, 429, 5xx and transport failures; obey ``x-should-retry``; wait
``retry-after-ms``/``retry-after`` up to 120 s; otherwise back off exponentially; 2 retries by
default); the thresholds are a ``Policy`` so that a stricter or looser client can be judged too.

Waits are measured on the server: from the end of one attempt (its answer sent, its connection
dropped, or its client gone) to the arrival of the next. A client that sleeps ``s`` seconds shows a
gap of at least ``s``, so honouring advice is never mistaken for ignoring it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict, cast

from mockfiles.retries.attempts import TRANSPORT_FAILURES, Attempt, attempt_from_entry
from mockfiles.retries.calls import INFERRED_GAP, AttemptDict, Call, attempt_dicts, gap, group_calls

PROBLEMS = (
    "retry_after_ignored",
    "retried_non_retryable",
    "no_backoff",
    "retry_storm",
    "duplicate_side_effect",
    "gave_up_retryable",
)
RETRYABLE_STATUSES = frozenset({408, 409, 429})  # and every status >= 500


@dataclass(frozen=True)
class Policy:
    """What a well-behaved client does; the defaults are openai-python's documented behaviour."""

    tolerance: float = 0.05  # retry_after_ignored: a retry may come 5 % before the advised wait...
    slack: float = 0.001  # ...and 1 ms more (the journal's clock readings are rounded)
    max_retry_after: float = 120.0  # longer advice means "do not retry" (openai-python >= 2.52)
    max_attempts: int = 10  # retry_storm: attempts one call may make (the SDK makes at most 3)
    min_retries: int = 2  # gave_up_retryable: after this many retries, giving up is fair
    min_gap: float = 0.05  # no_backoff: an unadvised retry sooner than this did not wait at all
    growth: float = 1.2  # no_backoff: each unadvised wait at least 1.2 x the one before...
    plateau: float = 4.0  # ...until a wait reaches 4 s (the SDK's waits level off at 6-8 s)


DEFAULT_POLICY = Policy()


class Problem(TypedDict, total=False):
    problem: str  # one of PROBLEMS
    message: str
    attempt: int  # its place in the call, 1 for the first attempt
    seq: int  # its journal sequence number
    advised: float  # seconds advised
    waited: float | None  # seconds the client waited
    advice: dict[str, str]
    status: int | None
    waits: list[float | None]  # no_backoff: the unadvised waits, in order
    attempts: int
    budget: int
    created: list[dict[str, Any]]  # duplicate_side_effect: which attempt created what
    remaining: int


class Verdict(TypedDict):
    ok: bool
    problems: list[Problem]


class CallDict(TypedDict):
    id: str
    retry_test: str | None
    account: str | None
    endpoint: str | None
    method: str
    path: str
    query: str
    filename: str | None
    purpose: str | None
    sha256: str | None
    grouping: str
    key: str | None
    notes: list[str]
    attempts: list[AttemptDict]
    result: str  # how the last attempt ended: "200", "503", "reset", ...
    succeeded: bool
    created: list[str]
    duration: float  # seconds from the first arrival to the last end
    verdict: Verdict


def retryable(a: Attempt, policy: Policy = DEFAULT_POLICY) -> bool:
    """Whether a well-behaved client may retry after ``a``: x-should-retry decides when sent;
    advice to wait longer than the policy's limit says no; then transport failures, 408, 409,
    429 and 5xx may be retried."""
    if a.should_retry is not None:
        return a.should_retry
    if a.wait is not None and a.wait > policy.max_retry_after:
        return False
    if a.outcome in TRANSPORT_FAILURES:
        return True
    return a.outcome == "status" and a.status is not None and (a.status in RETRYABLE_STATUSES or a.status >= 500)


def judge(call: Call, policy: Policy = DEFAULT_POLICY) -> Verdict:
    problems: list[Problem] = []
    if len(call.attempts) == 1:  # most calls: only giving up can be wrong
        gave_up = _gave_up(call, policy)
        return {"ok": gave_up is None, "problems": [] if gave_up is None else [gave_up]}
    for i in range(1, len(call.attempts)):
        problems.extend(_retry_problems(call.attempts[i - 1], call.attempts[i], i + 1, policy))
    for check in (_no_backoff, _retry_storm, _duplicate, _gave_up):
        found = check(call, policy)
        if found is not None:
            problems.append(found)
    return {"ok": not problems, "problems": problems}


def _retry_problems(previous: Attempt, a: Attempt, number: int, policy: Policy) -> list[Problem]:
    found: list[Problem] = []
    waited = gap(previous, a)

    def before() -> str:
        return f"attempt {number} came {_s(waited)} after attempt {number - 1} ended with {previous.label}"

    if previous.should_retry is False:
        found.append(
            _problem("retried_non_retryable", a, number, f"{before()}, although it said x-should-retry: false")
        )
    elif _final_status(previous):
        found.append(
            _problem(
                "retried_non_retryable",
                a,
                number,
                f"{before()}: a {previous.status} is final (only 408, 409, 429 and 5xx are retried, "
                "or any status with x-should-retry: true)",
                status=previous.status,
            )
        )
    if previous.outcome == "status" and previous.wait is not None and previous.wait > 0 and waited is not None:
        least = previous.wait * (1 - policy.tolerance) - policy.slack
        if waited < least:
            found.append(
                _problem(
                    "retry_after_ignored",
                    a,
                    number,
                    f"{before()} and {previous.advice_text}: it waited {_s(waited)} of the {_s(previous.wait)} advised "
                    f"(at least {_s(max(least, 0.0))} passes)",
                    advised=round(previous.wait, 4),
                    waited=round(waited, 4),
                    advice=dict(previous.advice),
                )
            )
    return found


def _final_status(a: Attempt) -> bool:
    """A 4xx no client retries unless told to (a long Retry-After on a 429 is not this: waiting it out is fine)."""
    return (
        a.outcome == "status"
        and a.status is not None
        and 400 <= a.status < 500
        and a.status not in RETRYABLE_STATUSES
        and a.should_retry is not True
    )


def _no_backoff(call: Call, policy: Policy) -> Problem | None:
    """Unadvised retries (the previous attempt advised no positive wait) must back off: none may
    come sooner than ``min_gap`` after the previous attempt ended, and while a wait is below
    ``plateau`` the next unadvised one must be at least ``growth`` times as long. openai-python's
    waits, min(0.5 * 2^n, 8) * (1 - 0.25 * random()), grow at least 1.5 x until they level off at
    6-8 s, so they always pass; so does any doubling backoff whose jitter takes at most 40 % off.
    Waits the server cannot know (a client that left unnoticed) are skipped."""
    unadvised: list[tuple[int, float | None]] = []
    for i in range(1, len(call.attempts)):
        previous = call.attempts[i - 1]
        if previous.wait is None or previous.wait <= 0:
            unadvised.append((i + 1, gap(previous, call.attempts[i])))
    waits = [w for _, w in unadvised]
    shown = ", ".join(_s(w) for w in waits)
    for number, waited in unadvised:
        if waited is not None and waited < policy.min_gap:
            return _problem(
                "no_backoff",
                call.attempts[number - 1],
                number,
                f"attempt {number} came {_s(waited)} after the previous one ended, with no wait advised: a retry "
                f"should back off (openai-python waits 0.375-0.5 s, then 0.75-1 s, ...); unadvised waits: {shown}",
                waits=_rounded(waits),
            )
    known = [(n, w) for n, w in unadvised if w is not None]
    for (_, earlier), (number, later) in zip(known, known[1:], strict=False):
        if earlier < policy.plateau and later < policy.growth * earlier:
            return _problem(
                "no_backoff",
                call.attempts[number - 1],
                number,
                f"unadvised waits {shown} do not grow: attempt {number} waited {_s(later)} after a wait of "
                f"{_s(earlier)} (each should be at least {policy.growth:g} x the one before until "
                f"{policy.plateau:g} s, as exponential backoff does)",
                waits=_rounded(waits),
            )
    return None


def _retry_storm(call: Call, policy: Policy) -> Problem | None:
    count = len(call.attempts)
    if count <= policy.max_attempts:
        return None
    span = call.last.arrived - call.first.arrived
    return _problem(
        "retry_storm",
        call.attempts[policy.max_attempts],
        policy.max_attempts + 1,
        f"{count} attempts in {_s(span)} for one call, more than the budget of {policy.max_attempts} "
        f"(openai-python makes at most 3 by default)",
        attempts=count,
        budget=policy.max_attempts,
    )


def _duplicate(call: Call, policy: Policy) -> Problem | None:
    made = [(i + 1, a) for i, a in enumerate(call.attempts) if a.created is not None]
    if len({a.created for _, a in made}) < 2:
        return None
    listed = "; ".join(f"{a.created} by attempt {n} ({a.label})" for n, a in made)
    lost = any(a.outcome == "committed_dropped" for _, a in made)
    why = (
        "a response was lost after the server had done the work, and the retry did it again (the SDK sends no "
        "idempotency key, so the server cannot tell a retry from a new request)"
        if lost
        else "the call's attempts each did the work"
    )
    second = made[1]
    return _problem(
        "duplicate_side_effect",
        second[1],
        second[0],
        f"one call created {len(made)} resources: {listed}; {why}",
        created=[{"attempt": n, "seq": a.seq, "id": a.created, "outcome": a.outcome} for n, a in made],
    )


def _gave_up(call: Call, policy: Policy) -> Problem | None:
    last = call.last
    if last.outcome == "pending" or not retryable(last, policy):
        return None
    if last.retry_test is None or not last.remaining or len(call.attempts) - 1 >= policy.min_retries:
        return None
    retries = len(call.attempts) - 1
    return _problem(
        "gave_up_retryable",
        last,
        len(call.attempts),
        f"the call gave up after {retries} {'retry' if retries == 1 else 'retries'} on {last.label}, which may be "
        f"retried (no x-should-retry: false, no wait longer than {policy.max_retry_after:g} s advised), while "
        f"retry test {last.retry_test} still had {last.remaining} instruction{'s' if last.remaining > 1 else ''} for "
        f"{last.endpoint}; a well-behaved client retries at least {policy.min_retries} times",
        remaining=last.remaining,
        status=last.status,
    )


def _problem(name: str, a: Attempt, number: int, message: str, **details: Any) -> Problem:
    return cast(Problem, {"problem": name, "attempt": number, "seq": a.seq, "message": message, **details})


def _s(seconds: float | None) -> str:
    return "an unknown time" if seconds is None else f"{seconds:.3f} s"


def _rounded(waits: list[float | None]) -> list[float | None]:
    return [None if w is None else round(w, 4) for w in waits]


def call_dict(call: Call, policy: Policy = DEFAULT_POLICY) -> CallDict:
    first, last = call.first, call.last
    created = [a.created for a in call.attempts if a.created is not None]
    return {
        "id": call.id,
        "retry_test": first.retry_test,
        "account": first.account,
        "endpoint": first.endpoint,
        "method": first.method,
        "path": first.path,
        "query": first.query,
        "filename": first.filename,
        "purpose": first.purpose,
        "sha256": first.sha256,
        "grouping": call.grouping,
        "key": call.key,
        "notes": list(call.notes),
        "attempts": attempt_dicts(call),
        "result": last.label,
        "succeeded": last.succeeded,
        "created": list(dict.fromkeys(created)),
        "duration": round(last.ended - first.arrived, 4),
        "verdict": judge(call, policy),
    }


def judge_entries(
    entries: Iterable[Mapping[str, Any]],
    policy: Policy = DEFAULT_POLICY,
    *,
    retry_test: str | None = None,
    max_gap: float = INFERRED_GAP,
) -> list[CallDict]:
    """Journal entries -> their calls, each with its verdict, as JSON-ready dicts. With
    ``retry_test``, only the calls of that retry test. Entries for no endpoint (unknown routes)
    and for the emulator's own control routes are not calls of the API and are left out."""
    attempts = [attempt_from_entry(e) for e in entries if e.get("endpoint") is not None]
    if retry_test is not None:
        attempts = [a for a in attempts if a.retry_test == retry_test]
    return [call_dict(call, policy) for call in group_calls(attempts, max_gap=max_gap)]
