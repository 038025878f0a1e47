"""Per-key request rate limits over a rolling window on the emulator clock."""

from __future__ import annotations

import threading
from collections import deque
from typing import NamedTuple

from .profiles import RateLimits

ENDPOINT_KIND = {
    "files.create": "upload",
    "files.list": "query",
    "files.retrieve": "query",
    "files.content": "query",
    "files.delete": "query",
}


class Decision(NamedTuple):
    allowed: bool
    kind: str
    limit: int
    remaining: int
    reset: float  # seconds until the window is empty again (x-ratelimit-reset-requests)
    retry_after: float  # seconds until the next slot frees (0 when one is free now)


class RateLimiter:
    """A sliding-window log per (key, kind): O(1) amortised per request, refused requests
    take no slot, and one key never affects another."""

    def __init__(self, limits: RateLimits | None) -> None:
        self.limits = limits
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, endpoint: str, now: float) -> Decision | None:
        """Take a slot for this request, or say when one frees; None when unlimited."""
        limits = self.limits
        kind = ENDPOINT_KIND.get(endpoint)
        if limits is None or kind is None:
            return None
        limit = limits.upload if kind == "upload" else limits.query
        if limit is None:
            return None
        window = limits.window
        with self._lock:
            stamps = self._windows.get((key, kind))
            if stamps is None:
                stamps = self._windows[(key, kind)] = deque()
            elif stamps and stamps[-1] > now:  # the clock was moved back: start afresh
                stamps.clear()
            horizon = now - window
            while stamps and stamps[0] <= horizon:
                stamps.popleft()
            used = len(stamps)
            if used < limit:
                stamps.append(now)
                retry_after = stamps[0] + window - now if used + 1 == limit else 0.0
                return Decision(True, kind, limit, limit - used - 1, window, retry_after)
            return Decision(False, kind, limit, 0, stamps[-1] + window - now, stamps[0] + window - now)

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
