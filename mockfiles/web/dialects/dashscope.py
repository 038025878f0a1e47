"""What DashScope's two dialects share: UUID request ids, its response headers, and its clock
(China Standard Time)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mockfiles.core import ids
from mockfiles.core.record import Record

BEIJING = timezone(timedelta(hours=8))  # DashScope's dates are China Standard Time


def uuid_request_id() -> str:
    return ids.uuid4()


def dashscope_headers(record: Record) -> list[tuple[bytes, bytes]]:
    """DashScope sends its request id and timing, and no rate-limit headers (a 429 still
    carries ``retry-after``/``retry-after-ms``, added with the error)."""
    request_id = record.arrival.request_id.encode()
    return [(b"x-request-id", request_id), (b"req-cost-time", str(int(record.elapsed_ms())).encode())]


def beijing_time(timestamp: int) -> str:
    """``2025-11-30 19:37:33`` in China Standard Time; a time beyond the calendar's years
    1-9999 (freezegun can set the clock anywhere) shows as that calendar's end."""
    try:
        return datetime.fromtimestamp(timestamp, BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError, OSError):
        return "9999-12-31 23:59:59" if timestamp > 0 else "0001-01-01 00:00:00"
