"""The request journal: what each request was, how it was answered, and why."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

Entry = dict[str, Any]


class Journal:
    """A bounded log of requests, oldest dropped first."""

    def __init__(self, cap: int = 10_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=cap)
        self._lock = threading.Lock()
        self._seq = 0

    @property
    def cap(self) -> int:
        return self._entries.maxlen or 0

    def record(self, entry: Entry) -> None:
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)

    def entries(self, endpoint: str | Iterable[str] | None = None) -> list[Entry]:
        with self._lock:
            items = list(self._entries)
        if endpoint is None:
            return items
        wanted = {endpoint} if isinstance(endpoint, str) else set(endpoint)
        return [e for e in items if e.get("endpoint") in wanted]

    def clear(self, cap: int | None = None) -> None:
        with self._lock:
            self._entries = deque(maxlen=cap if cap is not None else self.cap)
            self._seq = 0
