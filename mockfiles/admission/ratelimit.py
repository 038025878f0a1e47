"""Per-key request rate limits over a rolling window on the pacing clock (real elapsed
time plus the emulator clock's advances: see ``Clock.pacing``)."""

from __future__ import annotations

import threading
from collections import deque
from typing import NamedTuple

from mockfiles.core.profiles import RateLimits
from mockfiles.core.registry import Endpoint


class RateDecision(NamedTuple):
    allowed: bool
    kind: str
    limit: int
    remaining: int
    reset: float  # seconds until the window is empty again (x-ratelimit-reset-requests)
    retry_after: float  # seconds until the next slot frees (0 when one is free now)
    at: float = 0.0  # the slot's time on the pacing clock (an allowed request), for refund()


class RateLimiter:
    """A sliding-window log per (key, kind): O(1) amortised per request, refused requests
    take no slot, and one key never affects another.

    The log is of admitted requests' times, so it stays true when the limits change
    (``limits`` can be replaced at any time): a lower limit or a shorter window judges
    the same history by the new numbers; a request class made unlimited just stops being
    logged."""

    def __init__(self, limits: RateLimits | None) -> None:
        self.limits = limits
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def limit_for(self, endpoint: str | None) -> tuple[str, int] | None:
        """The request class of an endpoint (by its name, endpoints.py) and its limit per window;
        None when unlimited."""
        limits = self.limits
        known = Endpoint.named(endpoint or "")
        if limits is None or known is None:
            return None
        kind = known.rate
        limit = limits.upload if kind == "upload" else limits.query
        return None if limit is None else (kind, limit)

    def check(self, key: str, endpoint: str, now: float) -> RateDecision | None:
        """Take a slot for this request, or say when one frees; None when unlimited."""
        limited = self.limit_for(endpoint)
        if limited is None or self.limits is None:
            return None
        kind, limit = limited
        window = self.limits.window
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
                return RateDecision(True, kind, limit, limit - used - 1, window, retry_after, now)
            # a slot frees when the log is down to limit - 1 (more than `limit` entries are
            # left behind when the limit was lowered)
            frees = stamps[used - limit] + window - now
            return RateDecision(False, kind, limit, 0, stamps[-1] + window - now, frees)

    def refund(self, key: str, decision: RateDecision) -> RateDecision:
        """Give back the slot an allowed request took (it was answered by a fault, and did
        nothing); returns the decision as it stands after the refund."""
        if not decision.allowed:
            return decision
        with self._lock:
            stamps = self._windows.get((key, decision.kind))
            if stamps is None or decision.at not in stamps:
                return decision  # already gone (the window rolled, or a reset emptied it)
            stamps.remove(decision.at)
        return decision._replace(remaining=min(decision.limit, decision.remaining + 1))

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
