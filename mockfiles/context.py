"""What the emulator knows about one request while it answers it; the journal keeps
it afterwards and shows it as an entry."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .accounts import account_id, key_hint


@dataclass(eq=False, slots=True)
class RequestContext:
    request_id: str
    dialect: str
    method: str
    path: str
    query: bytes = b""
    retry_count: int | None = None  # the SDK's x-stainless-retry-count
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    endpoint: str | None = None
    key: str | None = None
    status: int | None = None
    fault: int | None = None  # index of the scenario fault rule that fired
    action: str | None = None  # what that rule did
    journaled: bool = True
    rate: Any = None  # the rate limiter's Decision, for dialects that send x-ratelimit-* headers
    details: dict[str, Any] = field(default_factory=dict)  # what the journal adds: rule, delay, error…
    connection: Any = None  # chaos.Connection, for faults that drop the connection
    generation: int = 0  # the emulator's generation when the request began
    recorded_at: float | None = None  # emulator time when it was journaled
    recorded_wall: float | None = None  # the same, on the wall clock
    seq: int = 0  # its place in the journal

    def elapsed_ms(self) -> float:
        return ((self.ended or time.perf_counter()) - self.started) * 1000

    def entry(self) -> dict[str, Any]:
        """The journal entry: what the request was, how it was answered, and why."""
        entry = {
            "seq": self.seq,
            "time": self.recorded_at,
            "wall_time": self.recorded_wall,
            "request_id": self.request_id,
            "dialect": self.dialect,
            "method": self.method,
            "path": self.path,
            "query": self.query.decode("latin-1"),
            "endpoint": self.endpoint,
            "account": account_id(self.key) if self.key is not None else None,
            "key": key_hint(self.key) if self.key is not None else None,
            "status": self.status,
            "fault": self.fault,
            "action": self.action,
            "retry_count": self.retry_count,
            "duration_ms": self.elapsed_ms(),
        }
        if self.details:
            entry.update(self.details)
        return entry
