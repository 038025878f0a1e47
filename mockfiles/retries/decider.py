"""Retry tests as a decision source: a request carrying ``x-retry-test-id`` takes the next
instruction of its endpoint's queue (retry_tests.py), and the instruction becomes a frozen
``Decision`` that the transport carries out like any fault (decisions.py).

It decides every request on arrival, an upload before its body is read, so that an instruction
counted in bytes of the upload (``reset-after-64K``) is known while the body streams. The front
layer asks it only for requests that carry the header (front.py), so traffic without it pays
nothing. A header naming no test is refused with 400 (a misconfigured test fails at once and says
why; no client retries a 400).
"""

from __future__ import annotations

from mockfiles.admission.decision import Decision, RequestView
from mockfiles.core.error_table import injected_defaults
from mockfiles.core.errors import InjectedError, InvalidRequest
from mockfiles.retries.instructions import Instruction
from mockfiles.retries.queues import RetryTests, Taken, UnknownRetryTest

HEADER = "x-retry-test-id"


class NoSuchRetryTest(InvalidRequest):
    """A request's ``x-retry-test-id`` names no retry test: 400, naming the id."""

    def __init__(self, test_id: str) -> None:
        super().__init__("no_such_retry_test", param=HEADER, test_id=test_id)


class RetryDecider:
    reads_forms = False  # decides on arrival: instructions may act part-way through an upload's body

    def __init__(self, tests: RetryTests) -> None:
        self.tests = tests

    def decide(self, view: RequestView) -> Decision | None:
        test_id = view.headers.get(HEADER)
        if not test_id or view.stage != "arrival":
            return None
        try:
            taken = self.tests.take(test_id, view.endpoint)
        except UnknownRetryTest:
            raise NoSuchRetryTest(test_id) from None
        return None if taken is None else decision_of(taken)


def decision_of(taken: Taken) -> Decision:
    """What one taken instruction does to its request; its notes are the journal's ``instruction``
    and ``retry_remaining`` (what is left of the endpoint's queue)."""
    i = taken.instruction
    notes: tuple[tuple[str, object], ...] = (("instruction", i.text), ("retry_remaining", taken.remaining))
    label, kind = i.text, i.kind
    if kind == "error":
        return Decision(label, f"status {i.status}", error=_error(i), at_bytes=i.after_bytes, body=i.body, notes=notes)
    if kind == "html_error":
        return Decision(label, f"html {i.status}", error=_error(i), error_form="html", notes=notes)
    if kind == "malformed_json":
        return Decision(label, "malformed_json", after="malformed_json", notes=notes)
    if kind == "reset":
        return Decision(label, "reset", drop="reset", at_bytes=i.after_bytes, body=i.body, notes=notes)
    if kind == "reset_after_commit":
        return Decision(label, "reset_after_commit", after="reset_after_commit", notes=notes)
    if kind == "broken_stream":
        return Decision(label, "broken_stream", after="truncate", at_bytes=i.after_bytes, body=i.body, notes=notes)
    if kind == "stall":
        return Decision(label, "stall", at_bytes=i.after_bytes, body=i.body, stall=i.seconds or 0.0, notes=notes)
    if kind == "timeout":
        return Decision(label, "timeout", drop="hold", hold=i.seconds or 0.0, notes=notes)
    return Decision(label, "delay", delay=i.seconds or 0.0, notes=notes)


def _error(i: Instruction) -> InjectedError:
    """The instruction's error with exactly the advice it names (an injected 429 sends no
    ``retry-after`` unless the instruction says so: ``return-429`` tests unadvised backoff)."""
    status = i.status or 500
    type_, code, message = injected_defaults(status, f"Injected error {status}.")
    return InjectedError(status, message=message, type=type_, code=code, param=None, headers=dict(i.headers))
