"""Per-key request rate limits over a rolling window on the pacing clock (real elapsed
time plus the emulator clock's advances: see ``Clock.pacing``), and the model routes' budget of
tokens per window."""

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
    window: float = 1.0  # the class's window, in seconds
    bucket: str = ""  # the log the slot is in (RateClass.bucket), for refund()


class RateClass(NamedTuple):
    kind: str  # the class the endpoint counts in
    limit: int  # requests per window
    window: float  # seconds
    bucket: str  # the log its requests are counted in: the class's, or (batch classes) the endpoint's own


class RateLimiter:
    """A sliding-window log per (key, bucket): O(1) amortised per request, refused requests
    take no slot, and one key never affects another. A bucket is a request class (``upload``,
    ``query``), except that a batch class metered apart (DashScope's) keeps one log per endpoint:
    create, retrieve and cancel 1,000 a minute each, list 100.

    The log is of admitted requests' times, so it stays true when the limits change
    (``limits`` can be replaced at any time): a lower limit or a shorter window judges
    the same history by the new numbers; a request class made unlimited just stops being
    logged."""

    def __init__(self, limits: RateLimits | None) -> None:
        self.limits = limits
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self.budget = TokenBudget()

    def take_tokens(self, key: str, tokens: int, now: float) -> TokenDecision | None:
        """Charge a model request's tokens to its key (None: tokens are not metered)."""
        limits = self.limits
        if limits is None or limits.tokens is None:
            return None
        return self.budget.take(key, tokens, limits.tokens, limits.inference_window, now)

    def limit_for(self, endpoint: str | None) -> RateClass | None:
        """The request class an endpoint (by its name, endpoints.py) counts in, its limit and
        window; None when unlimited."""
        limits = self.limits
        known = Endpoint.named(endpoint or "")
        if limits is None or known is None:
            return None
        kind, limit, window = limits.of(known.rate)
        bucket = known.id if kind in ("batch", "batch_list") else kind
        return None if limit is None else RateClass(kind, limit, window, bucket)

    def check(self, key: str, endpoint: str, now: float) -> RateDecision | None:
        """Take a slot for this request, or say when one frees; None when unlimited."""
        limited = self.limit_for(endpoint)
        if limited is None:
            return None
        kind, limit, window, bucket = limited
        with self._lock:
            stamps = self._windows.get((key, bucket))
            if stamps is None:
                stamps = self._windows[(key, bucket)] = deque()
            elif stamps and stamps[-1] > now:  # the clock was moved back: start afresh
                stamps.clear()
            horizon = now - window
            while stamps and stamps[0] <= horizon:
                stamps.popleft()
            used = len(stamps)
            if used < limit:
                stamps.append(now)
                retry_after = stamps[0] + window - now if used + 1 == limit else 0.0
                return RateDecision(True, kind, limit, limit - used - 1, window, retry_after, now, window, bucket)
            # a slot frees when the log is down to limit - 1 (more than `limit` entries are
            # left behind when the limit was lowered)
            frees = stamps[used - limit] + window - now
            return RateDecision(False, kind, limit, 0, stamps[-1] + window - now, frees, window=window, bucket=bucket)

    def refund(self, key: str, decision: RateDecision) -> RateDecision:
        """Give back the slot an allowed request took (it was answered by a fault, and did
        nothing); returns the decision as it stands after the refund."""
        if not decision.allowed:
            return decision
        with self._lock:
            stamps = self._windows.get((key, decision.bucket or decision.kind))
            if stamps is None or decision.at not in stamps:
                return decision  # already gone (the window rolled, or a reset emptied it)
            stamps.remove(decision.at)
        return decision._replace(remaining=min(decision.limit, decision.remaining + 1))

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
        self.budget.clear()


class TokenDecision(NamedTuple):
    """Whether a request's tokens fit its key's budget (x-ratelimit-*-tokens)."""

    allowed: bool
    limit: int
    remaining: int
    reset: float  # seconds until the whole budget is back
    retry_after: float  # seconds until this request's tokens would fit (0 when allowed)
    used: int  # tokens the window held before this request
    requested: int


class TokenBudget:
    """Tokens per key over a rolling window on the pacing clock, as OpenAI meters tokens per
    minute: a request is charged its prompt and answer tokens when it is answered, and refused
    (taking nothing) when they do not fit what the window has left. A request larger than the whole
    budget can never fit: ``retry_after`` is then infinite (``too_large``)."""

    def __init__(self) -> None:
        self._windows: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, tokens: int, limit: int, window: float, now: float) -> TokenDecision:
        with self._lock:
            stamps = self._windows.get(key)
            if stamps is None:
                stamps = self._windows[key] = deque()
            elif stamps and stamps[-1][0] > now:  # the clock was moved back: start afresh
                stamps.clear()
            while stamps and stamps[0][0] <= now - window:
                stamps.popleft()
            used = sum(n for _, n in stamps)
            if used + tokens <= limit:
                if tokens:
                    stamps.append((now, tokens))
                reset = stamps[0][0] + window - now if stamps else 0.0
                return TokenDecision(True, limit, limit - used - tokens, reset, 0.0, used, tokens)
            reset = stamps[-1][0] + window - now if stamps else 0.0
            wait, freed = float("inf"), limit - used
            if tokens <= limit:
                for at, n in stamps:  # the oldest charges leave the window first
                    freed += n
                    if freed >= tokens:
                        wait = at + window - now
                        break
            return TokenDecision(False, limit, max(0, limit - used), reset, wait, used, tokens)

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
