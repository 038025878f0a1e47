"""Per-key request rate limits over a rolling window on the pacing clock (real elapsed
time plus the emulator clock's advances: see ``Clock.pacing``), and the model routes' budget of
tokens per window.

Both tables of logs are bounded, as nginx's ``limit_req`` zone is (``Logs``): a log is forgotten
once it is empty (nothing of it left in its window: the key is as if it had never called), found
by a look at the least recently used ones at each check; and when a table holds ``MAX_WINDOWS``,
the least recently used log goes, whatever it holds (that key starts afresh, as nginx's evicted
states do). A key longer than ``KEY_CHARS`` is held by its digest, so a log takes about the same
room whatever the key's length (20,000 one-shot keys: a few MB, then nothing).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

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


MAX_WINDOWS = 65_536  # logs one table holds at once (a key has one per bucket it used)
KEY_CHARS = 256  # a longer key is held by its sha256
SWEEP = 64  # least recently used logs looked at per check at most: each is forgotten once (amortised O(1))
Stamp = TypeVar("Stamp", float, tuple[float, int])


def held_key(key: str) -> str:
    if len(key) <= KEY_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class Logs(Generic[Stamp]):
    """Logs of stamps by key, least recently used first, each with the window it is judged over;
    bounded as the module says. Call with the owner's lock held."""

    def __init__(self, time_of: Callable[[Stamp], float]) -> None:
        self._logs: OrderedDict[object, tuple[float, deque[Stamp]]] = OrderedDict()
        self._time_of: Callable[[Stamp], float] = time_of

    def log(self, where: object, window: float, now: float) -> deque[Stamp]:
        """The log of ``where``, made if need be, now the most recently used; first, the least
        recently used logs that are empty by ``now`` are forgotten."""
        logs, time_of = self._logs, self._time_of
        for _ in range(SWEEP):
            if not logs:
                break
            oldest, (span, old) = next(iter(logs.items()))
            if oldest == where or (old and time_of(old[-1]) > now - span):  # (the log asked for is kept)
                break
            del logs[oldest]
        found = logs.get(where)
        stamps: deque[Stamp]
        if found is None:
            if len(logs) >= MAX_WINDOWS:
                logs.popitem(last=False)
            stamps = deque()
        else:
            stamps = found[1]
            logs.move_to_end(where)
        logs[where] = (window, stamps)
        return stamps

    def get(self, where: object) -> deque[Stamp] | None:
        found = self._logs.get(where)
        return None if found is None else found[1]

    def clear(self) -> None:
        self._logs.clear()

    def __len__(self) -> int:
        return len(self._logs)


def _float(stamp: float) -> float:
    return stamp


def _first(stamp: tuple[float, int]) -> float:
    return stamp[0]


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
        self._classes: dict[str, RateClass | None] = {}  # each known endpoint's class, under these limits:
        self._classes_of: RateLimits | None = limits  # (made again when ``limits`` is replaced)
        self._windows: Logs[float] = Logs(_float)
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
        limits, classes = self.limits, self._classes
        if limits is not self._classes_of:  # the limits were replaced
            classes = self._classes = {}
            self._classes_of = limits
        if endpoint in classes:
            return classes[endpoint]
        known = Endpoint.named(endpoint or "")
        if limits is None or known is None:
            return None
        kind, limit, window = limits.of(known.rate)
        bucket = known.id if kind in ("batch", "batch_list") else kind
        found = classes[known.id] = None if limit is None else RateClass(kind, limit, window, bucket)
        return found

    def check(self, key: str, endpoint: str, now: float) -> RateDecision | None:
        """Take a slot for this request, or say when one frees; None when unlimited."""
        limited = self.limit_for(endpoint)
        if limited is None:
            return None
        kind, limit, window, bucket = limited
        with self._lock:
            held = key if len(key) <= KEY_CHARS else held_key(key)
            stamps = self._windows.log((held, bucket), window, now)
            if stamps and stamps[-1] > now:  # the clock was moved back: start afresh
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
            stamps = self._windows.get((held_key(key), decision.bucket or decision.kind))
            if stamps is None or decision.at not in stamps:
                return decision  # already gone (the window rolled, or a reset emptied it)
            stamps.remove(decision.at)
        return decision._replace(remaining=min(decision.limit, decision.remaining + 1))

    def __len__(self) -> int:
        """The request logs held (the token budget's are ``len(budget)``)."""
        return len(self._windows)

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
        self._windows: Logs[tuple[float, int]] = Logs(_first)
        self._lock = threading.Lock()

    def take(self, key: str, tokens: int, limit: int, window: float, now: float) -> TokenDecision:
        with self._lock:
            stamps = self._windows.log(held_key(key), window, now)
            if stamps and stamps[-1][0] > now:  # the clock was moved back: start afresh
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

    def __len__(self) -> int:
        return len(self._windows)

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
