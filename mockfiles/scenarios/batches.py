"""The ``batches:`` section of a scenario: how long a batch's phases last, and which of its
requests fail or answer with a given body.

```yaml
batches:
  timing: {validating: 1s, in_progress: 10m, finalizing: 1s, cancelling: 0s}
  requests:                                   # first match wins
    - match: {custom_id: "bad-*"}              # globs on custom_id and model; url exact
      status: 500                              # an HTTP failure, with OpenAI's error body
    - match: {custom_id: "slow-*"}
      error: {code: request_timeout}           # a failure with no response
    - match: {custom_id: "fixed"}
      body: {...}                              # exactly this response body (status 200)
```

Every phase lasts 0 s by default: a test that polls, with no clock moves, sees a batch
``completed`` at its first retrieve.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mockfiles.core.error_table import injected_defaults
from mockfiles.core.profiles import PROFILES
from mockfiles.inference.text import Answer
from mockfiles.scenarios.located import Located, duration, integer, number, read_each, string, type_name

SECTION_KEYS = ("timing", "requests")
TIMING_KEYS = ("validating", "in_progress", "finalizing", "cancelling")
RULE_KEYS = ("match", "probability", "status", "error", "body")
MATCH_KEYS = ("custom_id", "url", "model")
ERROR_KEYS = ("message", "type", "code", "param")
KNOWN_URLS = tuple(dict.fromkeys(url for make in PROFILES.values() for url in make().batches.urls))

# Failures with no HTTP response: the top-level ``error`` of an output line, and its default wording.
LINE_ERRORS = {
    "request_timeout": "The request timed out before it could be completed.",
    "batch_expired": "This request could not be executed before the completion window expired.",
    "batch_cancelled": "This request was not executed because the batch was cancelled.",
}


@dataclass(frozen=True)
class Timing:
    """Seconds on the emulator clock that each phase lasts."""

    validating: float = 0.0
    in_progress: float = 0.0  # spread over the requests: request i of n is done at (i + 1) / n of it
    finalizing: float = 0.0
    cancelling: float = 0.0


@dataclass(frozen=True, slots=True)
class LineFailure:
    """A request that failed with no response (``request_timeout``, ``batch_expired``, ...)."""

    code: str
    message: str


@dataclass(frozen=True)
class RequestRule:
    index: int
    identity: str  # the rule as written: seeds its probability, wherever it stands
    custom_id: str | None = None  # a glob
    urls: frozenset[str] | None = None
    model: str | None = None  # a glob
    probability: float | None = None
    status: int | None = None
    error: dict[str, str | None] = field(default_factory=dict)
    body: dict[str, Any] | None = None

    def matches(self, custom_id: str, url: str, model: str) -> bool:
        if self.urls is not None and url not in self.urls:
            return False
        if self.custom_id is not None and not fnmatch.fnmatchcase(custom_id, self.custom_id):
            return False
        return self.model is None or fnmatch.fnmatchcase(model, self.model)

    def fires(self, seed: int, custom_id: str) -> bool:
        """Whether the probability says yes for this request: a draw from the seed, the rule
        and the custom_id, so the same requests fail whatever their order."""
        if self.probability is None:
            return True
        digest = hashlib.blake2b(f"{seed}:{self.identity}:{custom_id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < self.probability

    def effect(self) -> Answer | LineFailure:
        if self.status is None and self.body is None:
            code = self.error.get("code") or "request_timeout"
            return LineFailure(code, self.error.get("message") or LINE_ERRORS[code])
        # an HTTP answer: this body as given, or OpenAI's error envelope for the status
        status = self.status if self.status is not None else 200
        if self.body is not None:
            return Answer(status, self.body)
        kind, default_code, message = injected_defaults(status, f"Error {status}.")
        given = self.error
        error = {
            "message": given.get("message") or message,
            "type": given.get("type") or kind,
            "param": given.get("param"),
            "code": given["code"] if "code" in given else default_code,
        }
        return Answer(status, {"error": error})


@dataclass(frozen=True)
class BatchSettings:
    timing: Timing = Timing()
    requests: tuple[RequestRule, ...] = ()

    def rule_for(self, seed: int, custom_id: str, url: str, model: str) -> RequestRule | None:
        """The first rule that matches this request and fires."""
        for rule in self.requests:
            if rule.matches(custom_id, url, model) and rule.fires(seed, custom_id):
                return rule
        return None


def parse_batches(node: Located) -> BatchSettings:
    entries = node.mapping(SECTION_KEYS)
    timing = Timing()
    if "timing" in entries:
        with entries["timing"].noting():
            phases = entries["timing"].mapping(TIMING_KEYS)
            timing = Timing(**read_each(phases, dict.fromkeys(phases, duration)))
    rules: list[RequestRule] = []
    if "requests" in entries:
        with entries["requests"].noting():
            for item in entries["requests"].items():
                before = len(item.problems)
                with item.noting():
                    rule = _rule(item)
                    if len(item.problems) == before:
                        rules.append(rule)
    return BatchSettings(timing, tuple(rules))


def _rule(item: Located) -> RequestRule:
    entries = item.mapping(RULE_KEYS)
    rule: dict[str, Any] = {"index": item.index, "identity": item.identity}
    read = read_each(entries, RULE_READERS)
    rule.update(read.pop("match", {}))
    rule.update(read)
    if not any(key in entries for key in ("status", "error", "body")):
        item.fail(f"{item.name} does nothing: give it a status, a body or an error")
    if "body" in entries:
        body = entries["body"]
        if not isinstance(body.value, dict):
            body.fail(f"{body.name} must be a mapping (the response body), got {type_name(body.value)}")
        if "error" in entries:
            item.fail(f"{item.name}: body and error cannot go together (the body is the whole response)")
        rule["body"] = body.value
    if "status" in entries:
        with entries["status"].noting():
            status = rule["status"] = integer(entries["status"], minimum=200, maximum=599)
            if status < 400 and "body" not in entries:
                entries["status"].fail(
                    f"{entries['status'].name} {status} is a success: give the rule a body too, or a status from 400"
                )
    if "error" in entries:
        rule["error"] = _error(entries["error"], with_status="status" in entries)
    return RequestRule(**rule)


RULE_READERS: dict[str, Callable[[Located], Any]] = {
    "match": lambda node: _match(node),
    "probability": lambda node: number(node, 0.0, 1.0),
}


def _match(node: Located) -> dict[str, Any]:
    entries = node.mapping(MATCH_KEYS)
    out: dict[str, Any] = {}
    if "custom_id" in entries:
        out["custom_id"] = string(entries["custom_id"])
    if "model" in entries:
        out["model"] = string(entries["model"])
    if "url" in entries:
        urls = entries["url"]
        chosen = set()
        for item in urls.items() if isinstance(urls.value, list) else [urls]:
            if item.value not in KNOWN_URLS:
                item.fail(f"unknown url {item.value!r} in {item.name}; choose one of {', '.join(KNOWN_URLS)}")
            chosen.add(item.value)
        out["urls"] = frozenset(chosen)
    return out


def _error(node: Located, with_status: bool) -> dict[str, str | None]:
    """With a status, the fields of the error body; without one, a failure with no response,
    named by its code."""
    if with_status:
        entries = node.mapping(ERROR_KEYS)
        return {key: None if value.value is None else string(value) for key, value in entries.items()}
    entries = node.mapping(("code", "message"))
    if "code" not in entries:
        node.fail(
            f"{node.name} without a status is a failure with no response: give it a code, "
            f"one of {', '.join(LINE_ERRORS)} (or add a status for an HTTP error)"
        )
    code = entries["code"]
    if code.value not in LINE_ERRORS:
        code.fail(f"unknown code {code.value!r} in {code.name}; choose one of {', '.join(LINE_ERRORS)}")
    out: dict[str, str | None] = {"code": code.value}
    if "message" in entries:
        out["message"] = string(entries["message"])
    return out
