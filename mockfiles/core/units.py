"""Sizes and durations as people write them in scenario files (``150MB``, ``30s``)."""

from __future__ import annotations

import math
import re

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "pb": 1000**5,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
    "pib": 1024**5,
}
_DURATION_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NUMBER_UNIT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*([A-Za-z]*)\s*$")


def parse_size(value: object) -> int:
    """Bytes from ``512``, ``"150MB"`` (10^6), ``"512KiB"`` (2^10), ``"1.5GB"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size like 150MB or 512KiB, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a size cannot be negative, got {value}")
        return value
    if isinstance(value, str):
        m = _NUMBER_UNIT.match(value)
        if m and m.group(2).lower() in _SIZE_UNITS:
            size = float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()]
            if not math.isfinite(size):
                raise ValueError(f"a size must be a finite number, got {value!r}")
            return int(size)
    raise ValueError(f"expected a size like 150MB, 1.5GB, 512KiB or a number of bytes, got {value!r}")


def parse_duration(value: object) -> float:
    """Seconds from ``30``, ``"700ms"``, ``"30s"``, ``"2m"``, ``"1h"``, ``"30d"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 30s or 700ms, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"a duration must be a finite number >= 0, got {value}")
        return float(value)
    if isinstance(value, str):
        m = _NUMBER_UNIT.match(value)
        if m and m.group(2).lower() in _DURATION_UNITS:
            seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
            if not math.isfinite(seconds):
                raise ValueError(f"a duration must be a finite number, got {value!r}")
            return seconds
    raise ValueError(f"expected a duration like 700ms, 30s, 2m, 1h, 30d or a number of seconds, got {value!r}")


def format_duration(seconds: float) -> str:
    """Go-style durations as in OpenAI's ``x-ratelimit-reset-*`` headers: ``340ms``, ``1s``, ``1.5s``, ``6m0s``.

    Rounded up to the millisecond first (a client told to wait must not wait too little),
    then formatted, so that 0.9996 s is ``1s``, never ``1000ms``."""
    ms = max(0, math.ceil(seconds * 1000))
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        text = f"{ms / 1000:.3f}".rstrip("0").rstrip(".")
        return f"{text}s"
    minutes, rest = divmod(math.ceil(ms / 1000), 60)
    if minutes < 60:
        return f"{minutes}m{rest}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{rest}s"
