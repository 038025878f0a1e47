"""Logical calls: the attempts a client made for one operation, grouped from the journal.

Attempts are taken in arrival order. Two attempts can only belong to the same call when they share
a **lane** — retry test id, account and endpoint — and, unless an explicit key groups them, the same
**content**: method, path, query, and for bodies the filename, purpose and sha256 of the bytes (so
the multipart boundary, which httpx draws anew for every attempt, does not matter). Then:

1. **explicit** — an attempt that sends ``x-mockfiles-call`` (or, failing that, ``Idempotency-Key``)
   belongs to the call of that key in its lane, whatever came between.
2. **retry-count** — in a lane where some attempt sent ``x-stainless-retry-count`` above 0 (the
   client counts its retries, as the official SDKs do), an attempt with count 0 (or none) starts a
   call; an attempt with count n > 0 continues the most recent call of the same content whose last
   attempt had count n - 1 and did not succeed (an SDK never retries a success). When there is none
   (its earlier attempts fell out of the journal), it starts a call.
3. **inferred** — in a lane where the count never rises (a wrapper that sends 0 every time, or no
   header), an attempt continues the latest call of the same content when that call's last attempt
   did not succeed and ended at most ``max_gap`` seconds before (30 s, or 1.5 x the wait it advised
   when that is longer); otherwise it starts a call. A call of several attempts grouped this way is
   marked ``inferred``: a client that really makes the same failing request twice on purpose looks
   the same as one that retries, so send ``x-mockfiles-call`` to tell them apart.

Limits: two calls with the same content in flight at once, from a client that counts retries, are
told apart by recency (a retry joins the most recent eligible call); from a client that does not,
they merge. Either way an explicit key keeps them apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Literal, TypedDict

from mockfiles.core.registry import UPLOADS
from mockfiles.retries.attempts import Attempt

Grouping = Literal["explicit", "retry-count", "inferred"]
_ARRIVAL = attrgetter("arrived", "seq")
INFERRED_GAP = 30.0  # seconds of silence after which the same request again is a new call
Lane = tuple[str | None, str | None, str | None]
Content = tuple[str, str, str, str | None, str | None, str | None]


@dataclass(slots=True)
class Call:
    attempts: list[Attempt]
    grouping: Grouping
    key: str | None = None  # the explicit key that grouped it
    notes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """``call-<seq>``: named after its first attempt's journal sequence number."""
        return f"call-{self.attempts[0].seq}"

    @property
    def first(self) -> Attempt:
        return self.attempts[0]

    @property
    def last(self) -> Attempt:
        return self.attempts[-1]


def lane(a: Attempt) -> Lane:
    return (a.retry_test, a.account, a.endpoint)


def content(a: Attempt) -> Content:
    return (a.method, a.path, a.query, a.filename, a.purpose, a.sha256)


def cut_short(a: Attempt) -> bool:
    """An upload whose body was not read to its end (answered on arrival, reset or refused part-way):
    its bytes have no hash, so a retry of it can only be matched by method, path and query."""
    return a.sha256 is None and a.endpoint in UPLOADS


def partial(c: Content) -> Content:
    return (c[0], c[1], c[2], None, None, None)


def group_calls(attempts: Iterable[Attempt], *, max_gap: float = INFERRED_GAP) -> list[Call]:
    """The calls these attempts make up, in the order their first attempts arrived."""
    ordered = sorted(attempts, key=_ARRIVAL)
    counted = {lane(a) for a in ordered if a.retry_count}
    calls: list[Call] = []
    explicit: dict[tuple[Lane, str], Call] = {}
    awaiting: dict[tuple[Lane, Content, int], list[Call]] = {}  # calls waiting for their retry number n
    latest: dict[tuple[Lane, Content], Call] = {}
    for a in ordered:
        where = lane(a)
        key = a.call_key if a.call_key is not None else a.idempotency_key
        if key is not None:
            call = explicit.get((where, key))
            if call is None:
                call = explicit[(where, key)] = _start(calls, a, "explicit", key)
            else:
                call.attempts.append(a)
        elif where in counted:
            _chain_by_count(calls, awaiting, a, (where, content(a)))
        else:
            _chain_by_content(calls, latest, a, (where, content(a)), max_gap)
    return calls


def _chain_by_count(
    calls: list[Call], awaiting: dict[tuple[Lane, Content, int], list[Call]], a: Attempt, stream: tuple[Lane, Content]
) -> None:
    count = a.retry_count or 0
    waiting = awaiting.get((*stream, count)) if count else None
    if not waiting and count:
        waiting = awaiting.get((stream[0], partial(stream[1]), count))
    if waiting:
        call = waiting.pop()
        call.attempts.append(a)
    else:
        call = _start(calls, a, "retry-count")
        if count:
            call.notes.append(f"starts at retry {count}: its earlier attempts are not in the journal")
    if not a.succeeded:
        key = (stream[0], partial(stream[1])) if cut_short(a) else stream
        awaiting.setdefault((*key, count + 1), []).append(call)


def _chain_by_content(
    calls: list[Call],
    latest: dict[tuple[Lane, Content], Call],
    a: Attempt,
    stream: tuple[Lane, Content],
    max_gap: float,
) -> None:
    call = latest.get(stream)
    cut = latest.get((stream[0], partial(stream[1])))
    if cut is not None and cut_short(cut.last) and (call is None or cut.last.arrived > call.last.arrived):
        call = cut
    if call is not None and _continues(call.last, a, max_gap):
        call.attempts.append(a)
        call.grouping = "inferred"
    else:
        call = _start(calls, a, "retry-count" if a.retry_count == 0 else "inferred")
    latest[stream] = call
    if cut_short(a):
        latest[(stream[0], partial(stream[1]))] = call


def _continues(previous: Attempt, a: Attempt, max_gap: float) -> bool:
    if previous.succeeded:
        return False
    limit = max(max_gap, 1.5 * previous.wait) if previous.wait else max_gap
    return a.arrived - previous.ended <= limit


def _start(calls: list[Call], a: Attempt, grouping: Grouping, key: str | None = None) -> Call:
    call = Call([a], grouping, key)
    calls.append(call)
    return call


class AttemptDict(TypedDict):
    seq: int
    request_id: str | None
    at: float  # seconds after the call's first attempt arrived
    duration: float  # seconds from arrival to end
    waited: float | None  # seconds between the previous attempt's end and this arrival
    outcome: str
    status: int | None
    retry_count: int | None
    advice: dict[str, str]
    instruction: str | None
    created: str | None


def gap(previous: Attempt, a: Attempt) -> float | None:
    """How long the client waited between ``previous``'s end and ``a``'s arrival. An answer's end
    is exact, so a negative gap is 0; when the previous attempt ended without an answer, the
    server may notice the client left only later, so a negative gap is unknown (None)."""
    seconds = a.arrived - previous.ended
    if seconds >= 0:
        return seconds
    return 0.0 if previous.outcome == "status" else None


def attempt_dicts(call: Call) -> list[AttemptDict]:
    start = call.first.arrived
    out: list[AttemptDict] = []
    previous: Attempt | None = None
    for a in call.attempts:
        waited = gap(previous, a) if previous is not None else None
        out.append(
            {
                "seq": a.seq,
                "request_id": a.request_id,
                "at": round(a.arrived - start, 4),
                "duration": round(a.ended - a.arrived, 4),
                "waited": None if waited is None else round(waited, 4),
                "outcome": a.outcome,
                "status": a.status,
                "retry_count": a.retry_count,
                "advice": dict(a.advice),
                "instruction": a.instruction,
                "created": a.created,
            }
        )
        previous = a
    return out
