"""The one clock that every part of the emulator reads."""

from __future__ import annotations

import calendar
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


_frozen = freezegun.api.freeze_factories  # the list freezegun pushes onto and pops in place: read without two lookups


def wall_time() -> float:
    """``time.time()``, or the frozen time while a test freezes it with freezegun, in every thread.

    freezegun itself answers real time to a call made a few frames from a thread's start (its
    ignore list has ``threading``): work the emulator hands to a worker thread (a batch's
    validation, the writing of its results) would see time unfrozen.
    """
    if _frozen:
        frozen = freezegun.api.get_current_time()
        return calendar.timegm(frozen.timetuple()) + frozen.microsecond / 1_000_000
    return time.time()


def _nothing() -> None:
    pass


YEAR = 365.25 * 86400
MAX_ADVANCE = 100 * YEAR  # one advance: 3,155,760,000 s
MAX_OFFSET = 1000 * YEAR  # all advances since the last reset


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
        self.moved: Callable[[], None] = _nothing  # told after every advance (a data directory keeps the offset)
        self._listeners: list[Callable[[], None]] = []

    def on_advance(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every ``advance()`` (the scheduler looks at the clock again)."""
        self._listeners.append(listener)

    def now(self) -> float:
        return (wall_time() if _frozen else time.time()) + self._offset

    def now_and_wall(self) -> tuple[float, float]:
        """``now()`` and ``time.time()`` together, from one read of the clock when time is not frozen."""
        if _frozen:
            return self.now(), time.time()
        wall = time.time()
        return wall + self._offset, wall

    def pacing(self) -> float:
        """Seconds on the rate limits' clock: real monotonic time plus the advances."""
        return self._monotonic() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward; time never runs backwards through this door.

        One advance is at most 100 years and the offset at most 1000 years: far beyond any
        expiry (30 days) or window, and it keeps every time the emulator shows a 64-bit
        integer and a calendar date (year < 10000) that clients can parse.
        """
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
        if not 0 <= seconds <= MAX_ADVANCE:  # also refuses NaN and infinities
            raise ValueError(
                f"the clock advances by 0 to {MAX_ADVANCE:.0f} seconds (100 years) at a time, not {seconds}"
            )
        with self._lock:
            if self._offset + seconds > MAX_OFFSET:
                raise ValueError(
                    f"the clock can run at most {MAX_OFFSET:.0f} seconds (1000 years) ahead of real time; "
                    f"it is {self._offset:.0f} s ahead; reset the server to start again"
                )
            self._offset += float(seconds)
        self.moved()
        for listener in self._listeners:
            listener()
        return self.now()

    def restore(self, offset: float) -> None:
        """Back to an offset a data directory kept."""
        with self._lock:
            self._offset = float(offset)

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
