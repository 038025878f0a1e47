"""The one clock that every part of the emulator reads."""

from __future__ import annotations

import math
import threading
import time


class Clock:
    """Wall time plus an offset that tests can grow.

    ``now()`` calls ``time.time()`` afresh every time (never a cached reference), so
    freezegun used in the same process moves the emulator's clock too, and
    ``advance()`` moves it for a server in another process.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

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
