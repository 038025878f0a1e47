"""What the emulator knows about one request while it answers it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False, slots=True)
class RequestContext:
    request_id: str
    dialect: str
    method: str
    path: str
    started: float = field(default_factory=time.perf_counter)
    endpoint: str | None = None
    key: str | None = None
    status: int | None = None
    fault: int | None = None  # index of the scenario fault rule that fired
    action: str | None = None  # what that rule did
    journaled: bool = True
    rate: Any = None  # the rate limiter's Decision, for dialects that send x-ratelimit-* headers
    details: dict[str, Any] = field(default_factory=dict)  # what the journal adds: rule, delay…
    connection: Any = None  # chaos.Connection, for faults that drop the connection
    generation: int = 0  # the emulator's generation when the request began

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000
