"""Fault rules: which requests a scenario makes fail, slow, or vanish, and how.

Rules are parsed and checked here; ``chaos.py`` decides with them for live requests.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mockfiles.admission.decision import Direction, RequestView
from mockfiles.core.registry import DOWNLOADS, NAMES, PROMPTS, UPLOADS
from mockfiles.scenarios.document import plain_copy
from mockfiles.scenarios.located import Located, boolean, duration, integer, number, one_of, read_each, size, string

ENDPOINTS = NAMES  # the registry's (endpoints.py)
DIALECTS = ("openai", "dashscope-compatible", "dashscope-native")
ACTIONS = ("reset", "timeout", "truncate", "reset_after_commit", "malformed_json")
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
    "after_bytes",
    "stall",
    "bandwidth",
    "body",
    "between",
    "enforce_retry_after",
    "after_events",
)
PROMPT_KEYS = ("model", "file_id", "prompt")  # what a model request's rule can match once its prompt is read
MATCH_KEYS = ("endpoint", "method", "path", "purpose", "filename", "key", "header", "dialect", *PROMPT_KEYS)
ERROR_KEYS = ("message", "type", "code", "param")
PROCESSING_KEYS = ("status", "status_details", "delay")
PROCESSED_ENDPOINTS = frozenset({"files.create", "uploads.complete"})  # the requests that make a File
# what a file ended in error by a rule with no status_details says: the words of the service's own
# validation failures ("This line is not parseable as valid JSON."), naming no line, since no
# content was checked; status_details is null only on a file that did not end in error
PROCESSING_ERROR_DETAILS = "File validation failed: the file could not be processed."
DEFAULT_HOLD = 600.0  # how long `action: timeout` holds a request at most
BODIES = ("json", "html")  # an error's body: the dialect's JSON envelope, or a proxy's HTML page
BETWEEN_KEYS = ("from", "until")
UPLOAD_ENDPOINTS = frozenset({e for e in NAMES if e in UPLOADS})
DOWNLOAD_ENDPOINTS = frozenset({e for e in NAMES if e in DOWNLOADS})
PROMPT_ENDPOINTS = frozenset({e for e in NAMES if e in PROMPTS})


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
    model: str | None = None  # globs on a model request's model, the ids of its files, its text
    file_id: str | None = None
    prompt: str | None = None

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
        if self.filename is not None and not self._any(self.filename, request.filenames or (request.filename or "",)):
            return False
        if self.model is not None and not fnmatch.fnmatchcase(request.model or "", self.model):
            return False
        if self.file_id is not None and not self._any(self.file_id, request.file_ids):
            return False
        if self.prompt is not None and not fnmatch.fnmatchcase(request.prompt or "", self.prompt):
            return False
        headers = request.headers
        return all(fnmatch.fnmatchcase(headers.get(name, ""), value) for name, value in self.headers)

    @staticmethod
    def _any(pattern: str, values: tuple[str, ...]) -> bool:
        return any(fnmatch.fnmatchcase(value, pattern) for value in values)


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
    after_bytes: int | None = None  # the status, reset, truncate or stall waits for this many bytes of the body
    stall: float | None = None  # seconds nothing moves, once after_bytes of the body went through
    bandwidth: int | None = None  # bytes per second the body is dribbled at (upload read, download sent)
    body: str = "json"  # the error's body: "json" (the dialect's envelope) or "html" (a proxy's page)
    between: tuple[float, float] | None = None  # seconds since the last reset, on the emulator clock
    enforce_retry_after: bool = False  # a 429 answers 429 again to the same key until its wait is over
    after_events: int | None = None  # a streamed answer is cut after this many server-sent events
    identity: str = ""  # the rule as written: seeds its random stream, whatever its position

    @property
    def passive(self) -> bool:
        """A rule that only slows a request down (a delay, a bandwidth): it adds up with the rules
        after it instead of deciding alone."""
        return (
            self.status is None
            and self.action is None
            and self.processing is None
            and self.stall is None
            and self.after_bytes is None
            and self.after_events is None
        )

    @property
    def streams(self) -> Direction | None:
        """Which body the rule counts or dribbles: ``request`` (an upload's, decided before it is
        read), ``response`` (a download's), or None."""
        if self.after_bytes is None and self.stall is None and self.bandwidth is None:
            return None
        endpoints = self.match.endpoints or frozenset()
        return "request" if endpoints and endpoints <= UPLOAD_ENDPOINTS else "response"

    @property
    def label(self) -> str:
        return self.name or f"faults[{self.index}]"


def parse_faults(node: Located) -> Iterator[FaultRule]:
    """The rules of a ``faults:`` list; each rule's values are checked one by one, and how they go
    together once they all could be read (every problem is noted: ``Located.noting``)."""
    for item in node.items():
        before = len(item.problems)
        with item.noting():
            rule: dict[str, Any] = {"index": item.path[-1], **read_each(item.mapping(RULE_KEYS), READERS)}
            if len(item.problems) == before:
                _check_rule(item, rule)
                _check_streaming(item, rule)
            rule["identity"] = _identity(item)
        if len(item.problems) == before:
            yield FaultRule(**rule)


def _identity(item: Located) -> str:
    """The rule as written, as text: it seeds the rule's random stream (see chaos.py)."""
    try:
        return json.dumps(item.value, sort_keys=True, default=str)
    except TypeError:  # keys of mixed types (`headers: {1: a, b: c}`) cannot be sorted
        return json.dumps(plain_copy(item.value, item.source), sort_keys=True)


def _check_rule(item: Located, rule: dict[str, Any]) -> None:
    if not any(k in rule for k in ("status", "delay", "action", "processing", "stall", "bandwidth", "after_events")):
        item.fail(
            f"{item.name} does nothing: give it a status, a delay, an action, processing, a stall, a bandwidth "
            "or after_events"
        )
    if "status" in rule and rule.get("action") in ("reset", "timeout", "reset_after_commit", "malformed_json"):
        item.fail(f"{item.name}: status and action '{rule['action']}' cannot go together (no response is sent)")
    if ("error" in rule or "headers" in rule) and "status" not in rule:
        item.fail(f"{item.name}: error and headers need a status to go with")
    if "processing" in rule:
        endpoints = rule.get("match", Match()).endpoints
        if not endpoints or not endpoints <= PROCESSED_ENDPOINTS:
            item.fail(
                f"{item.name}: processing only applies to uploads; "
                "add match: {endpoint: files.create} (or uploads.complete)"
            )
        if "status" in rule or rule.get("action") not in (None,):
            item.fail(f"{item.name}: processing makes the upload succeed; it cannot go with a status or action")


def _bandwidth(node: Located) -> int:
    value = size(node)
    if value < 1:
        node.fail(f"{node.name} must be at least 1 byte per second")
    return value


def _error(node: Located) -> dict[str, str | None]:
    return {k: None if v.value is None else string(v) for k, v in node.mapping(ERROR_KEYS).items()}


def _headers(node: Located) -> dict[str, str]:
    if not isinstance(node.value, dict):
        node.fail(f"{node.name} must be a mapping of header names to values")
    return {str(k).lower(): _header_value(node.child(k)) for k in node.value}


def _action(node: Located) -> str:
    if node.value not in ACTIONS:
        node.fail(f"unknown action {node.value!r} in {node.name}; choose one of {', '.join(ACTIONS)}")
    return str(node.value)


def _check_streaming(item: Located, rule: dict[str, Any]) -> None:
    name = item.name
    endpoints = rule.get("match", Match()).endpoints or frozenset()
    counted = "after_bytes" in rule or "stall" in rule or "bandwidth" in rule
    uploads, downloads = endpoints and endpoints <= UPLOAD_ENDPOINTS, endpoints and endpoints <= DOWNLOAD_ENDPOINTS
    if counted and not (uploads or downloads):
        item.fail(
            f"{name}: after_bytes, stall and bandwidth act on a body: match endpoint "
            f"{' or '.join(sorted(UPLOAD_ENDPOINTS))} (the upload) or {' or '.join(sorted(DOWNLOAD_ENDPOINTS))} "
            "(the download), not both"
        )
    if counted and uploads and ("purpose" in _match_keys(item) or "filename" in _match_keys(item)):
        item.fail(
            f"{name}: a rule that acts while an upload streams in is decided before its form is read: "
            "it cannot match purpose or filename"
        )
    if "stall" in rule and "after_bytes" not in rule:
        item.fail(f"{name}: stall needs after_bytes (where in the body it stalls; 0 for its start)")
    if "after_bytes" in rule:
        action = rule.get("action")
        if uploads and not ("status" in rule or action == "reset" or "stall" in rule):
            item.fail(f"{name}: after_bytes of an upload goes with a status, action: reset, or a stall")
        if downloads and not (action == "truncate" or "stall" in rule):
            item.fail(f"{name}: after_bytes of a download goes with action: truncate (a broken stream) or a stall")
        if "stall" in rule and ("status" in rule or action is not None):
            item.fail(f"{name}: a stall goes on with the request; it cannot go with a status or an action")
    if rule.get("body") == "html" and "status" not in rule:
        item.fail(f"{name}: body: html is an error page: it needs a status")
    if rule.get("enforce_retry_after") and rule.get("status") != 429:
        item.fail(f"{name}: enforce_retry_after goes with status: 429")
    if rule.get("action") == "malformed_json" and endpoints & DOWNLOAD_ENDPOINTS:
        item.fail(f"{name}: malformed_json mangles a JSON answer; files.content answers with the file's bytes")
    _check_prompts(item, rule, endpoints)


def _check_prompts(item: Located, rule: dict[str, Any], endpoints: frozenset[str]) -> None:
    """``after_events`` and the keys of a model request's prompt go with the model routes only."""
    name = item.name
    prompts = " or ".join(sorted(PROMPT_ENDPOINTS))
    if "after_events" in rule:
        if not endpoints or not endpoints <= PROMPT_ENDPOINTS:
            item.fail(f"{name}: after_events cuts a streamed answer: match endpoint {prompts}")
        if "status" in rule or rule.get("action") is not None:
            item.fail(f"{name}: after_events sends so many events, then resets: it cannot go with a status or action")
    asked = _match_keys(item) & set(PROMPT_KEYS)
    if asked and endpoints and not endpoints <= PROMPT_ENDPOINTS:
        keys = ", ".join(sorted(asked))
        item.fail(f"{name}: {keys} match a model request once its prompt is read: match endpoint {prompts} only")


def _match_keys(item: Located) -> set[str]:
    match = item.value.get("match") if isinstance(item.value, dict) else None
    return set(match) if isinstance(match, dict) else set()


def _between(node: Located) -> tuple[float, float]:
    bounds = node.mapping(BETWEEN_KEYS)
    low = duration(bounds["from"]) if "from" in bounds else 0.0
    high = duration(bounds["until"]) if "until" in bounds else float("inf")
    if not bounds:
        node.fail(f"{node.name} needs from, until, or both (durations since the server's start or last reset)")
    if low >= high:
        node.fail(f"{node.name}: from must come before until")
    return (low, high)


def _match(node: Located) -> Match:
    read = read_each(node.mapping(MATCH_KEYS), MATCH_READERS)
    return Match(**{MATCH_FIELDS.get(key, key): value for key, value in read.items()})


def _header_globs(header: Located) -> tuple[tuple[str, str], ...]:
    if not isinstance(header.value, dict) or not header.value:
        header.fail(f"{header.name} must be a mapping of header names to values (globs)")
    return tuple((str(k).lower(), _header_value(header.child(k))) for k in header.value)


def _strings(node: Located, upper: bool = False) -> frozenset[str]:
    return frozenset(string(n).upper() if upper else string(n) for n in _one_or_many(node))


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
    if details is None and status == "error":
        details = PROCESSING_ERROR_DETAILS
    delay = duration(entries["delay"]) if "delay" in entries else None
    return ProcessingFault(status, details, delay)


READERS: dict[str, Callable[[Located], Any]] = {  # a rule's keys (RULE_KEYS), each read on its own
    "name": string,
    "match": _match,
    "times": lambda node: integer(node, minimum=1),
    "after": lambda node: integer(node, minimum=0),
    "probability": lambda node: number(node, 0.0, 1.0),
    "status": lambda node: integer(node, minimum=400, maximum=599),
    "error": _error,
    "headers": _headers,
    "delay": _delay,
    "action": _action,
    "hold": lambda node: duration(node, positive=True),
    "processing": _processing,
    "after_bytes": size,
    "stall": lambda node: duration(node, positive=True),
    "bandwidth": _bandwidth,
    "body": lambda node: one_of(node, BODIES),
    "between": _between,
    "enforce_retry_after": boolean,
    "after_events": lambda node: integer(node, minimum=0),
}
MATCH_READERS: dict[str, Callable[[Located], Any]] = {
    "endpoint": lambda node: _choices(node, ENDPOINTS),
    "dialect": lambda node: _choices(node, DIALECTS),
    "method": lambda node: _strings(node, upper=True),
    "purpose": _strings,
    "key": _strings,
    "path": string,
    "filename": string,
    "header": _header_globs,
    **dict.fromkeys(PROMPT_KEYS, string),
}
MATCH_FIELDS = {"endpoint": "endpoints", "dialect": "dialects", "method": "methods", "purpose": "purposes"}
MATCH_FIELDS |= {"key": "keys", "header": "headers"}
