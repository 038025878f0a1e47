"""Deciding which requests a scenario's fault rules make fail, slow, or vanish.

``Chaos.decide`` picks the first rule that fires for a request and returns a frozen ``Decision``;
it never sleeps, raises or touches a connection (transport.py carries the decision out).

Deciding is deterministic: each rule counts the requests it matched and draws its
probabilities and delays from its own random stream, seeded from the scenario's
seed and the rule's position, so adding a rule never changes another's pattern.
An upload is decided once its form is read, so that rules can match its purpose and filename.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import NamedTuple

from mockfiles.admission.decision import Decision, Direction, ErrorForm, RequestView
from mockfiles.core.error_table import injected_defaults
from mockfiles.core.errors import InjectedError, InjectedRateLimit, MockFilesError
from mockfiles.files.service import Outcome
from mockfiles.scenarios.fault_rules import FaultRule


class Picked(NamedTuple):
    """What the rules that fired for one request add up to: the deciding rule (or the first that
    only slows down, when none decides), the delays drawn, the lowest bandwidth, their labels."""

    rule: FaultRule
    delay: float
    bandwidth: int | None
    labels: tuple[str, ...]


class Chaos:
    reads_forms = True  # rules match an upload's purpose and filename: decided once its form is read

    def __init__(self, rules: tuple[FaultRule, ...], seed: int, since_reset: Callable[[], float] | None = None) -> None:
        self.rules = rules
        self.seen = [0] * len(rules)
        self.fired = [0] * len(rules)
        self.seed = seed
        self.twins = [twin for _, twin in _twins(rules)]
        # Each rule's random stream, made when the rule first draws from it: a Mersenne
        # Twister holds 2.5 KB, which 50,000 rules that never draw need not pay for.
        self.rngs: list[random.Random | None] = [None] * len(rules)
        self._lock = threading.Lock()
        self.since_reset = since_reset or (lambda: 0.0)  # seconds on the emulator clock, for `between`
        self.early = any(r.streams == "request" for r in rules)  # rules that act while an upload streams in
        self._enforced: dict[tuple[int, str | None], float] = {}  # (rule, key) -> until (monotonic seconds)

    def decide(self, view: RequestView) -> Decision | None:
        """The decision of the rules that fire for this request (None when no rule fires). An
        upload meets the rules that act while its body streams in on arrival, the others once its
        form is read."""
        if not self.rules:
            return None
        picked = self.pick(view)
        if picked is None:
            return None
        body: Direction = "request" if view.upload and view.stage == "arrival" else "response"
        return decision_of(picked.rule, picked.delay, picked.bandwidth, picked.labels, body)

    def pick(self, request: RequestView) -> Picked | None:
        """The first rule that decides this request, with the delays and bandwidth of the rules
        before it that only slow requests down (they add up instead of stopping the search)."""
        early = request.upload and request.stage == "arrival"
        delay, bandwidth, labels = 0.0, None, list[str]()
        first: FaultRule | None = None
        with self._lock:
            for i, rule in enumerate(self.rules):
                if (rule.streams == "request") != early or not rule.match.matches(request):
                    continue
                if not request.upload and (rule.processing is not None) != (request.stage == "form"):
                    continue  # uploads.complete: its other rules on arrival, processing once the Upload is known
                if rule.between is not None and not rule.between[0] <= self.since_reset() < rule.between[1]:
                    continue
                if rule.enforce_retry_after and self._still_enforced(i, request.key):
                    return Picked(rule, delay, bandwidth, (*labels, rule.label))
                drawn = self._fires(i, rule)
                if drawn is None:
                    continue
                delay += drawn
                labels.append(rule.label)
                if rule.bandwidth is not None:
                    bandwidth = min(bandwidth or rule.bandwidth, rule.bandwidth)
                if rule.passive:
                    first = first or rule
                    continue
                if rule.enforce_retry_after:
                    self._enforced[(i, request.key)] = time.monotonic() + advised_wait(rule.headers)
                return Picked(rule, delay, bandwidth, tuple(labels))
        return None if first is None else Picked(first, delay, bandwidth, tuple(labels))

    def _fires(self, i: int, rule: FaultRule) -> float | None:
        """Whether rule ``i`` fires for a request it matched, and the delay it draws (None: it does not)."""
        self.seen[i] += 1
        if self.seen[i] <= rule.after:
            return None
        if rule.times is not None and self.fired[i] >= rule.times:
            return None
        rng = self.rngs[i] or self._stream(i)
        if rule.probability is not None and rng.random() >= rule.probability:
            return None
        self.fired[i] += 1
        if rule.delay is None:
            return 0.0
        low, high = rule.delay
        return low if low == high else rng.uniform(low, high)

    def _still_enforced(self, i: int, key: str | None) -> bool:
        until = self._enforced.get((i, key))
        if until is None:
            return False
        if time.monotonic() < until:
            return True
        del self._enforced[(i, key)]
        return False

    def _stream(self, i: int) -> random.Random:
        rng = self.rngs[i] = random.Random(f"mockfiles:{self.seed}:{self.rules[i].identity}:{self.twins[i]}")
        return rng


class EarlyChaos:
    """The scenario's rules that act while an upload's body streams in (``after_bytes``, ``stall``,
    ``bandwidth`` on files.create): asked on the upload's arrival, before its form is read."""

    reads_forms = False

    def __init__(self, chaos: Chaos) -> None:
        self.chaos = chaos

    def decide(self, view: RequestView) -> Decision | None:
        return self.chaos.decide(view) if view.upload and view.stage == "arrival" else None


def decision_of(
    rule: FaultRule,
    delay: float,
    bandwidth: int | None = None,
    labels: tuple[str, ...] = (),
    body: Direction = "response",
) -> Decision:
    """What a fired rule does, with the delay drawn (its own and those of the slowing rules before
    it) and the bandwidth they set."""
    decision = _what(rule, " + ".join(labels) if len(labels) > 1 else rule.label, delay, bool(bandwidth))
    if rule.streams is None and not bandwidth:
        return decision
    return replace(decision, at_bytes=rule.after_bytes, body=rule.streams or body, rate=float(bandwidth or 0))


def _what(rule: FaultRule, label: str, delay: float, slowed: bool) -> Decision:
    index = rule.index
    if rule.status is not None:
        form: ErrorForm = "html" if rule.body == "html" else "json"
        action = f"html {rule.status}" if form == "html" else f"status {rule.status}"
        return Decision(label, action, index, delay, error=injected_error(rule), error_form=form)
    if rule.stall is not None:
        return Decision(label, "stall", index, delay, stall=rule.stall)
    if rule.action == "reset":
        return Decision(label, "reset", index, delay, drop="reset")
    if rule.action == "timeout":
        return Decision(label, "timeout", index, delay, drop="hold", hold=rule.hold)
    if rule.after_events is not None:
        action = f"broken_stream after {rule.after_events} events"
        return Decision(label, action, index, delay, at_events=rule.after_events)
    if rule.processing is not None:
        outcome = Outcome(rule.processing.status, rule.processing.status_details, rule.processing.delay)
        return Decision(label, f"processing {rule.processing.status}", index, delay, outcome=outcome)
    if rule.action == "truncate":
        action = "broken_stream" if rule.after_bytes is not None else "truncate"
        return Decision(label, action, index, delay, after="truncate")
    if rule.action == "reset_after_commit":
        return Decision(label, "reset_after_commit", index, delay, after="reset_after_commit")
    if rule.action == "malformed_json":
        return Decision(label, "malformed_json", index, delay, after="malformed_json")
    return Decision(label, "bandwidth" if slowed else "delay", index, delay)


def _twins(rules: tuple[FaultRule, ...]) -> list[tuple[FaultRule, int]]:
    """Each rule with how many identical rules come before it (their streams must differ)."""
    seen: dict[str, int] = {}
    out = []
    for rule in rules:
        out.append((rule, seen.get(rule.identity, 0)))
        seen[rule.identity] = seen.get(rule.identity, 0) + 1
    return out


def injected_error(rule: FaultRule) -> MockFilesError:
    status = rule.status or 500
    if status == 429:
        return InjectedRateLimit(retry_after=advised_wait(rule.headers), given=rule.error, headers=rule.headers)
    type_, code, message = injected_defaults(status, f"Injected error {status}.")
    given = rule.error
    return InjectedError(
        status,
        message=given.get("message") or message,
        type=given.get("type") or type_,
        code=given["code"] if "code" in given else code,
        param=given.get("param"),
        headers=rule.headers,
    )


DEFAULT_RETRY_AFTER = 1.0  # seconds an injected 429 asks the client to wait, unless its headers say otherwise


def advised_wait(headers: Mapping[str, str]) -> float:
    """The wait a rule's headers advise (``retry-after-ms``, else ``retry-after`` in
    seconds), so that an injected 429's message says the same; 1 s when they say nothing."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            seconds = float(headers[name]) * scale
        except (KeyError, ValueError):
            continue
        if seconds >= 0 and seconds != float("inf"):
            return seconds
    return DEFAULT_RETRY_AFTER
