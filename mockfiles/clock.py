"""The one clock that every part of the emulator reads."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import freezegun.api


def real_monotonic_clock() -> Callable[[], float]:
    """The monotonic clock as it is without freezegun.

    Looked up on each call: while time is frozen, freezegun replaces every module-level
    reference to ``time.monotonic`` in every loaded module (ours too), but not its own.
    """
    return freezegun.api.real_monotonic


class Clock:
    """Wall time plus an offset that tests can grow.

    ``now()`` calls ``time.time()`` afresh every time (never a cached reference), so
    freezegun used in the same process moves the emulator's clock too, and
    ``advance()`` moves it for a server in another process.

    ``pacing()`` is the clock of the rate limits: real elapsed time (the monotonic clock
    as it is without freezegun) plus the same offset. Pacing is about how fast a client
    really sends, so frozen time must not freeze the windows (a test under
    ``freeze_time`` could never make a fourth upload in a second), while ``advance()``
    still empties them; freezegun's ``tick()`` and ``move_to()`` do not touch them.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._monotonic = real_monotonic_clock()  # an attribute, so that freezegun leaves it alone

    def now(self) -> float:
        return time.time() + self._offset

    def pacing(self) -> float:
        """Seconds on the rate limits' clock: real monotonic time plus the advances."""
        return self._monotonic() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward; time never runs backwards through this door."""
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            raise TypeError("seconds must be a number")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite number >= 0")
        with self._lock:
            self._offset += float(seconds)
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
