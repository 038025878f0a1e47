"""Fault rules: which requests a scenario makes fail, slow, or vanish, and how.

Rules are parsed and checked here; ``chaos.py`` decides with them for live requests.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .decisions import RequestView
from .document import plain_copy
from .endpoints import NAMES
from .located import Located, duration, integer, number, string

ENDPOINTS = NAMES  # the registry's (endpoints.py)
DIALECTS = ("openai", "dashscope-compatible", "dashscope-native")
ACTIONS = ("reset", "timeout", "truncate", "reset_after_commit")
RULE_KEYS = (
    "name",
    "match",
    "times",
    "after",
    "probability",
    "status",
    "error",
    "headers",
    "delay",
    "action",
    "processing",
    "hold",
)
MATCH_KEYS = ("endpoint", "method", "path", "purpose", "filename", "key", "header", "dialect")
ERROR_KEYS = ("message", "type", "code", "param")
PROCESSING_KEYS = ("status", "status_details", "delay")
DEFAULT_HOLD = 600.0  # how long `action: timeout` holds a request at most


@dataclass(frozen=True)
class Match:
    endpoints: frozenset[str] | None = None
    methods: frozenset[str] | None = None
    path: str | None = None
    purposes: frozenset[str] | None = None
    filename: str | None = None
    keys: frozenset[str] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    dialects: frozenset[str] | None = None

    def matches(self, request: RequestView) -> bool:
        if self.endpoints is not None and request.endpoint not in self.endpoints:
            return False
        if self.methods is not None and request.method not in self.methods:
            return False
        if self.dialects is not None and request.dialect not in self.dialects:
            return False
        if self.path is not None and not fnmatch.fnmatchcase(request.path, self.path):
            return False
        if self.keys is not None and request.key not in self.keys:
            return False
        if self.purposes is not None and request.purpose not in self.purposes:
            return False
        if self.filename is not None and not fnmatch.fnmatchcase(request.filename or "", self.filename):
            return False
        headers = request.headers
        return all(fnmatch.fnmatchcase(headers.get(name, ""), value) for name, value in self.headers)


@dataclass(frozen=True)
class ProcessingFault:
    status: str = "error"
    status_details: str | None = None
    delay: float | None = None


@dataclass(frozen=True)
class FaultRule:
    index: int
    name: str | None = None
    match: Match = field(default_factory=Match)
    times: int | None = None
    after: int = 0
    probability: float | None = None
    status: int | None = None
    error: dict[str, str | None] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: tuple[float, float] | None = None  # (min, max) seconds; equal for a fixed delay
    action: str | None = None
    processing: ProcessingFault | None = None
    hold: float = DEFAULT_HOLD
    identity: str = ""  # the rule as written: seeds its random stream, whatever its position

    @property
    def label(self) -> str:
        return self.name or f"faults[{self.index}]"


def parse_faults(node: Located) -> Iterator[FaultRule]:
    for item in node.items():
        entries = item.mapping(RULE_KEYS)
        rule: dict[str, Any] = {"index": item.path[-1]}
        if "name" in entries:
            rule["name"] = string(entries["name"])
        if "match" in entries:
            rule["match"] = _match(entries["match"])
        if "times" in entries:
            rule["times"] = integer(entries["times"], minimum=1)
        if "after" in entries:
            rule["after"] = integer(entries["after"], minimum=0)
        if "probability" in entries:
            rule["probability"] = number(entries["probability"], 0.0, 1.0)
        if "status" in entries:
            rule["status"] = integer(entries["status"], minimum=400, maximum=599)
        if "error" in entries:
            error = entries["error"].mapping(ERROR_KEYS)
            rule["error"] = {k: None if v.value is None else string(v) for k, v in error.items()}
        if "headers" in entries:
            headers = entries["headers"]
            if not isinstance(headers.value, dict):
                headers.fail(f"{headers.name} must be a mapping of header names to values")
            rule["headers"] = {str(k).lower(): _header_value(headers.child(k)) for k in headers.value}
        if "delay" in entries:
            rule["delay"] = _delay(entries["delay"])
        if "action" in entries:
            action = entries["action"]
            if action.value not in ACTIONS:
                action.fail(f"unknown action {action.value!r} in {action.name}; choose one of {', '.join(ACTIONS)}")
            rule["action"] = action.value
        if "hold" in entries:
            rule["hold"] = duration(entries["hold"], positive=True)
        if "processing" in entries:
            rule["processing"] = _processing(entries["processing"])
        _check_rule(item, rule)
        rule["identity"] = _identity(item)
        yield FaultRule(**rule)


def _identity(item: Located) -> str:
    """The rule as written, as text: it seeds the rule's random stream (see chaos.py)."""
    try:
        return json.dumps(item.value, sort_keys=True, default=str)
    except TypeError:  # keys of mixed types (`headers: {1: a, b: c}`) cannot be sorted
        return json.dumps(plain_copy(item.value, item.source), sort_keys=True)


def _check_rule(item: Located, rule: dict[str, Any]) -> None:
    if not any(k in rule for k in ("status", "delay", "action", "processing")):
        item.fail(f"{item.name} does nothing: give it a status, a delay, an action or processing")
    if "status" in rule and rule.get("action") in ("reset", "timeout", "reset_after_commit"):
        item.fail(f"{item.name}: status and action '{rule['action']}' cannot go together (no response is sent)")
    if ("error" in rule or "headers" in rule) and "status" not in rule:
        item.fail(f"{item.name}: error and headers need a status to go with")
    if "processing" in rule:
        endpoints = rule.get("match", Match()).endpoints
        if endpoints != frozenset({"files.create"}):
            item.fail(f"{item.name}: processing only applies to uploads; add match: {{endpoint: files.create}}")
        if "status" in rule or rule.get("action") not in (None,):
            item.fail(f"{item.name}: processing makes the upload succeed; it cannot go with a status or action")


def _match(node: Located) -> Match:
    entries = node.mapping(MATCH_KEYS)
    out: dict[str, Any] = {}
    if "endpoint" in entries:
        out["endpoints"] = _choices(entries["endpoint"], ENDPOINTS)
    if "dialect" in entries:
        out["dialects"] = _choices(entries["dialect"], DIALECTS)
    if "method" in entries:
        out["methods"] = frozenset(string(n).upper() for n in _one_or_many(entries["method"]))
    if "purpose" in entries:
        out["purposes"] = frozenset(string(n) for n in _one_or_many(entries["purpose"]))
    if "key" in entries:
        out["keys"] = frozenset(string(n) for n in _one_or_many(entries["key"]))
    if "path" in entries:
        out["path"] = string(entries["path"])
    if "filename" in entries:
        out["filename"] = string(entries["filename"])
    if "header" in entries:
        header = entries["header"]
        if not isinstance(header.value, dict) or not header.value:
            header.fail(f"{header.name} must be a mapping of header names to values (globs)")
        out["headers"] = tuple((str(k).lower(), _header_value(header.child(k))) for k in header.value)
    return Match(**out)


def _one_or_many(node: Located) -> list[Located]:
    return list(node.items()) if isinstance(node.value, list) else [node]


def _choices(node: Located, allowed: tuple[str, ...]) -> frozenset[str]:
    chosen = set()
    for item in _one_or_many(node):
        if item.value not in allowed:
            item.fail(
                f"unknown {item.path[-1] if isinstance(item.path[-1], str) else node.path[-1]} "
                f"{item.value!r} in {item.name}; choose one of {', '.join(allowed)}"
            )
        chosen.add(item.value)
    return frozenset(chosen)


def _header_value(node: Located) -> str:
    if isinstance(node.value, bool):
        return "true" if node.value else "false"
    if not isinstance(node.value, (str, int, float)):
        node.fail(f"{node.name} must be a string or a number")
    return str(node.value)


def _delay(node: Located) -> tuple[float, float]:
    if isinstance(node.value, dict):
        bounds = node.mapping(("min", "max"))
        if set(bounds) != {"min", "max"}:
            node.fail(f"{node.name} needs both min and max")
        low, high = duration(bounds["min"]), duration(bounds["max"])
        if low > high:
            node.fail(f"{node.name}: min is larger than max")
        return (low, high)
    seconds = duration(node)
    return (seconds, seconds)


def _processing(node: Located) -> ProcessingFault:
    entries = node.mapping(PROCESSING_KEYS)
    status = "error"
    if "status" in entries:
        status = entries["status"].value
        if status not in ("processed", "error"):
            entries["status"].fail(f"{entries['status'].name} must be 'processed' or 'error', got {status!r}")
    details = string(entries["status_details"]) if "status_details" in entries else None
    delay = duration(entries["delay"]) if "delay" in entries else None
    return ProcessingFault(status, details, delay)
