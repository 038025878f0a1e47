"""The request journal: what each request was, how it was answered, and why."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

from mockfiles.core.record import Record

Entry = dict[str, Any]


class Journal:
    """A bounded log of requests, oldest dropped first. It keeps each request's record
    and makes the entries when they are read, so that recording costs next to nothing."""

    def __init__(self, cap: int = 10_000) -> None:
        self._records: deque[Record] = deque(maxlen=cap)
        self._lock = threading.Lock()
        self._seq = 0

    @property
    def last_seq(self) -> int:
        """The ``seq`` of the newest entry (0 when none since the last reset)."""
        return self._seq

    @property
    def cap(self) -> int:
        return self._records.maxlen or 0

    def record(self, record: Record) -> None:
        with self._lock:
            self._seq += 1
            record.seq = self._seq
            self._records.append(record)

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

    def resize(self, cap: int) -> None:
        """Keep the newest ``cap`` entries, and that many from now on."""
        with self._lock:
            if cap != self._records.maxlen:
                self._records = deque(self._records, maxlen=cap)

    def clear(self, cap: int | None = None) -> None:
        with self._lock:
            self._records = deque(maxlen=cap if cap is not None else self.cap)
            self._seq = 0
