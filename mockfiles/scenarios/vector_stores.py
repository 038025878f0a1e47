"""The ``vector_stores:`` section of a scenario: how long a file's ingestion takes, which files
fail it and how, how late a deleted File leaves its stores, and the per-store write limit.

```yaml
vector_stores:
  ingestion: {base: 100ms, per_mib: 1s}    # the default; or one duration for every file: `ingestion: 5s`
  cascade_lag: 30s                         # a deleted File stays in its stores this long (default 0s)
  write_limit: 300                         # writes per store per window (default: none)
  write_window: 1m                         # default 1m
  poll_after: 500ms                        # openai-poll-after-ms while in progress (default: the time left)
  files:                                   # first match wins
    - match: {filename: "scan-*.pdf", store: "legal-*"}
      fail: unsupported_file               # a code, or {code: server_error, message: "..."}
    - match: {filename: "big-*"}
      delay: 10m                           # this file's ingestion time
    - probability: 0.1
      fail: server_error
```

A file's ingestion ends ``base + per_mib x its size in MiB`` after it is attached: a test that polls
with the SDK waits about 0.1 s for a small file; ``ingestion: 0s`` makes files ready at once.
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from typing import Any

from mockfiles.scenarios.located import Located, duration, integer, number, string

SECTION_KEYS = ("ingestion", "cascade_lag", "write_limit", "write_window", "poll_after", "files")
INGESTION_KEYS = ("base", "per_mib")
RULE_KEYS = ("match", "probability", "delay", "fail")
MATCH_KEYS = ("filename", "store", "purpose")
FAIL_KEYS = ("code", "message")
MiB = 1024 * 1024

# How a failed ingestion reads, by code: the words OpenAI was seen answering (openai-openapi #300);
# server_error's are a choice (docs/vector_stores.md).
FAILURES = {
    "server_error": "An internal error occurred while processing the file.",
    "unsupported_file": "The file type is not supported.",
    "invalid_file": "The file could not be parsed because it is too large.",
}


@dataclass(frozen=True)
class Failure:
    code: str
    message: str


@dataclass(frozen=True)
class FileRule:
    index: int
    identity: str  # the rule as written: seeds its probability
    filename: str | None = None  # globs
    store: str | None = None
    purposes: frozenset[str] | None = None
    probability: float | None = None
    delay: float | None = None
    fail: Failure | None = None

    def matches(self, filename: str, store_name: str, purpose: str) -> bool:
        if self.filename is not None and not fnmatch.fnmatchcase(filename, self.filename):
            return False
        if self.store is not None and not fnmatch.fnmatchcase(store_name, self.store):
            return False
        return self.purposes is None or purpose in self.purposes

    def fires(self, seed: int, file_id: str) -> bool:
        """The probability's draw for this file: from the seed, the rule and the file's id."""
        if self.probability is None:
            return True
        digest = hashlib.blake2b(f"{seed}:{self.identity}:{file_id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < self.probability


@dataclass(frozen=True)
class VectorStoreSettings:
    base: float = 0.1  # seconds of every file's ingestion
    per_mib: float = 1.0  # and seconds more per MiB of it
    cascade_lag: float = 0.0
    write_limit: int | None = None
    write_window: float = 60.0
    poll_after: float | None = None
    files: tuple[FileRule, ...] = ()

    def ingestion(self, size: int) -> float:
        """Seconds a file of ``size`` bytes takes to ingest, when no rule says otherwise."""
        return self.base + self.per_mib * size / MiB

    def rule_for(self, seed: int, file_id: str, filename: str, store_name: str, purpose: str) -> FileRule | None:
        for rule in self.files:
            if rule.matches(filename, store_name, purpose) and rule.fires(seed, file_id):
                return rule
        return None


def parse_vector_stores(node: Located) -> VectorStoreSettings:
    entries = node.mapping(SECTION_KEYS)
    out: dict[str, Any] = {}
    if "ingestion" in entries:
        given = entries["ingestion"]
        if isinstance(given.value, dict):
            timing = given.mapping(INGESTION_KEYS)
            if "base" in timing:
                out["base"] = duration(timing["base"])
            if "per_mib" in timing:
                out["per_mib"] = duration(timing["per_mib"])
        else:
            out["base"], out["per_mib"] = duration(given), 0.0
    if "cascade_lag" in entries:
        out["cascade_lag"] = duration(entries["cascade_lag"])
    if "write_limit" in entries:
        out["write_limit"] = integer(entries["write_limit"], minimum=1)
    if "write_window" in entries:
        out["write_window"] = duration(entries["write_window"], positive=True)
    if "poll_after" in entries:
        out["poll_after"] = duration(entries["poll_after"], maximum=600)
    if "files" in entries:
        out["files"] = tuple(_rule(item) for item in entries["files"].items())
    return VectorStoreSettings(**out)


def _rule(item: Located) -> FileRule:
    entries = item.mapping(RULE_KEYS)
    rule: dict[str, Any] = {"index": item.index, "identity": item.identity}
    if "match" in entries:
        match = entries["match"].mapping(MATCH_KEYS)
        for key in ("filename", "store"):
            if key in match:
                rule[key] = string(match[key])
        if "purpose" in match:
            given = match["purpose"]
            items = given.items() if isinstance(given.value, list) else [given]
            rule["purposes"] = frozenset(string(p) for p in items)
    if "probability" in entries:
        rule["probability"] = number(entries["probability"], 0.0, 1.0)
    if "delay" in entries:
        rule["delay"] = duration(entries["delay"])
    if "fail" in entries:
        rule["fail"] = _failure(entries["fail"])
    if "delay" not in entries and "fail" not in entries:
        item.fail(f"{item.name} does nothing: give it a delay, a fail, or both")
    return FileRule(**rule)


def _failure(node: Located) -> Failure:
    """``fail: server_error`` or ``fail: {code: invalid_file, message: "..."}``."""
    if isinstance(node.value, dict):
        entries = node.mapping(FAIL_KEYS)
        if "code" not in entries:
            node.fail(f"{node.name} needs a code, one of {', '.join(FAILURES)}")
        code_node = entries["code"]
        message = string(entries["message"]) if "message" in entries else None
    else:
        code_node, message = node, None
    code = code_node.value
    if code not in FAILURES:
        code_node.fail(f"unknown code {code!r} in {code_node.name}; choose one of {', '.join(FAILURES)}")
    return Failure(code, message or FAILURES[code])
