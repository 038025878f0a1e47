"""The request journal: what each request was, how it was answered, and why."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

from mockfiles.core.record import Record

Entry = dict[str, Any]


ENTRY_SHARE = 3 * 1024  # bytes per entry of the cap that the journal may take by default


class Journal:
    """A bounded log of requests, oldest dropped first: at most ``cap`` entries and ``max_bytes``
    bytes (by default ``cap`` x 3 KiB: 30 MB for 10,000 entries), what it keeps of each request
    made safe and bounded as it is recorded (``Record.keep``). It keeps each request's record and
    makes the entries when they are read, so that recording costs next to nothing."""

    def __init__(self, cap: int = 10_000, max_bytes: int | None = None) -> None:
        self._records: deque[Record] = deque(maxlen=cap)
        self._lock = threading.Lock()
        self._seq = 0
        self._bytes = 0
        self.max_bytes = max_bytes or cap * ENTRY_SHARE

    @property
    def bytes(self) -> int:
        """What the entries kept take, roughly (the sum of ``Record.size``)."""
        return self._bytes

    @property
    def last_seq(self) -> int:
        """The ``seq`` of the newest entry (0 when none since the last reset)."""
        return self._seq

    @property
    def cap(self) -> int:
        return self._records.maxlen or 0

    def record(self, record: Record) -> None:
        size = record.keep()
        with self._lock:
            self._seq += 1
            record.seq = self._seq
            records = self._records
            if len(records) == records.maxlen:
                self._bytes -= records[0].size  # the append drops it
            records.append(record)
            self._bytes += size
            while self._bytes > self.max_bytes and len(records) > 1:
                self._bytes -= records.popleft().size

    def entries(self, endpoint: str | Iterable[str] | None = None, *, after: int = 0) -> list[Entry]:
        """The entries, oldest first: of these endpoints only, if given; only those after the
        ``seq`` given (what a watcher has not seen yet), if any."""
        with self._lock:
            # seqs are consecutive (one per record, oldest dropped first): the first wanted is found by counting
            skip = max(0, after - self._records[0].seq + 1) if after and self._records else 0
            records = list(itertools.islice(self._records, skip, None))
        if endpoint is not None:
            wanted = {endpoint} if isinstance(endpoint, str) else set(endpoint)
            records = [r for r in records if r.endpoint in wanted]
        return [r.entry() for r in records]

    def resize(self, cap: int, max_bytes: int | None = None) -> None:
        """Keep the newest ``cap`` entries within ``max_bytes`` (default: ``cap`` x 3 KiB), and that
        many from now on."""
        with self._lock:
            self.max_bytes = max_bytes or cap * ENTRY_SHARE
            if cap != self._records.maxlen:
                self._records = deque(self._records, maxlen=cap)
            self._bytes = sum(r.size for r in self._records)
            while self._bytes > self.max_bytes and len(self._records) > 1:
                self._bytes -= self._records.popleft().size

    def clear(self, cap: int | None = None, max_bytes: int | None = None) -> None:
        with self._lock:
            cap = cap if cap is not None else self.cap
            self._records = deque(maxlen=cap)
            self.max_bytes = max_bytes or cap * ENTRY_SHARE
            self._seq = 0
            self._bytes = 0
