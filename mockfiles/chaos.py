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
from collections.abc import Mapping

from .decisions import Decision, RequestView
from .error_table import injected_defaults
from .errors import InjectedError, InjectedRateLimit, MockFilesError
from .faults import FaultRule
from .lifecycle import Outcome


class Chaos:
    reads_forms = True  # rules match an upload's purpose and filename: decided once its form is read

    def __init__(self, rules: tuple[FaultRule, ...], seed: int) -> None:
        self.rules = rules
        self.seen = [0] * len(rules)
        self.fired = [0] * len(rules)
        self.seed = seed
        self.twins = [twin for _, twin in _twins(rules)]
        # Each rule's random stream, made when the rule first draws from it: a Mersenne
        # Twister holds 2.5 KB, which 50,000 rules that never draw need not pay for.
        self.rngs: list[random.Random | None] = [None] * len(rules)
        self._lock = threading.Lock()

    def decide(self, view: RequestView) -> Decision | None:
        """The first firing rule's decision for this request (None when no rule fires)."""
        if not self.rules or (view.upload and view.stage != "form"):
            return None
        picked = self.pick(view)
        return None if picked is None else decision_of(*picked)

    def pick(self, request: RequestView) -> tuple[FaultRule, float] | None:
        """The first rule that fires for this request, with the delay it adds."""
        with self._lock:
            for i, rule in enumerate(self.rules):
                if not rule.match.matches(request):
                    continue
                self.seen[i] += 1
                if self.seen[i] <= rule.after:
                    continue
                if rule.times is not None and self.fired[i] >= rule.times:
                    continue
                rng = self.rngs[i] or self._stream(i)
                if rule.probability is not None and rng.random() >= rule.probability:
                    continue
                self.fired[i] += 1
                delay = 0.0
                if rule.delay is not None:
                    low, high = rule.delay
                    delay = low if low == high else rng.uniform(low, high)
                return rule, delay
        return None

    def _stream(self, i: int) -> random.Random:
        rng = self.rngs[i] = random.Random(f"mockfiles:{self.seed}:{self.rules[i].identity}:{self.twins[i]}")
        return rng


def decision_of(rule: FaultRule, delay: float) -> Decision:
    """What a fired rule does, with the delay it drew."""
    label, index = rule.label, rule.index
    if rule.status is not None:
        return Decision(label, f"status {rule.status}", index, delay, error=injected_error(rule))
    if rule.action == "reset":
        return Decision(label, "reset", index, delay, drop="reset")
    if rule.action == "timeout":
        return Decision(label, "timeout", index, delay, drop="hold", hold=rule.hold)
    if rule.processing is not None:
        outcome = Outcome(rule.processing.status, rule.processing.status_details, rule.processing.delay)
        return Decision(label, f"processing {rule.processing.status}", index, delay, outcome=outcome)
    if rule.action == "truncate":
        return Decision(label, "truncate", index, delay, after="truncate")
    if rule.action == "reset_after_commit":
        return Decision(label, "reset_after_commit", index, delay, after="reset_after_commit")
    return Decision(label, "delay", index, delay)


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
