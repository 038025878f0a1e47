"""Every account's batches, as the Batches service (batches.py) keeps them: each batch's record,
indexed by id and, per account, in creation order (a list page is a bisection and a slice, as
fast with 100,000 batches as with 100: bench/README.md). Knows nothing about HTTP.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass, field
from typing import Any

from mockfiles.batches.results import Plan, Results, Usage
from mockfiles.batches.timeline import Timeline
from mockfiles.core.errors import InvalidRequest, NotFound


@dataclass(slots=True, eq=False)
class StoredBatch:
    id: str
    account: str
    endpoint: str
    input_file_id: str
    metadata: dict[str, str] | None
    output_expires_after: int | None  # the output and error files' lifetime; None: the profile's
    dialect: str
    seq: int
    timeline: Timeline
    plan: Plan
    output_file_id: str | None = None
    error_file_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    settled: bool = False  # its results are written (or it has none)
    built: tuple[Timeline, Results | None] | None = None  # results built ahead (write_claimed), for that timeline
    claimed: bool = False  # a writer builds its results (write_claimed): readers leave it to it

    @property
    def key(self) -> tuple[int, int, str]:
        return (int(self.timeline.created), self.seq, self.id)


@dataclass(frozen=True)
class BatchPage:
    data: list[dict[str, Any]]
    has_more: bool

    def as_dict(self) -> dict[str, Any]:
        """OpenAI's list object."""
        return {
            "object": "list",
            "data": self.data,
            "first_id": self.data[0]["id"] if self.data else None,
            "last_id": self.data[-1]["id"] if self.data else None,
            "has_more": self.has_more,
        }


class BatchStore:
    """Every account's batches: by id, and per account in creation order. Batches are never
    deleted (the API has no delete)."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredBatch] = {}
        self._order: dict[str, list[tuple[int, int, str]]] = {}
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add(self, batch: StoredBatch) -> None:
        self._by_id[batch.id] = batch
        insort(self._order.setdefault(batch.account, []), batch.key)

    def get(self, account: str, batch_id: str) -> StoredBatch:
        batch = self._by_id.get(batch_id)
        if batch is None or batch.account != account:
            raise NotFound("no_such_batch", batch_id=batch_id)
        return batch

    def find(self, batch_id: str) -> StoredBatch | None:
        return self._by_id.get(batch_id)

    def contains_id(self, batch_id: str) -> bool:
        return batch_id in self._by_id

    def page(self, account: str, *, limit: int, after: str | None) -> tuple[list[StoredBatch], bool]:
        """Newest first, from just after ``after``."""
        keys = self._order.get(account, [])
        stop = len(keys)
        if after is not None:
            cursor = self._by_id.get(after)
            if cursor is None or cursor.account != account:
                raise InvalidRequest("unknown_batch_cursor", param="after", after=after)
            stop = bisect_left(keys, cursor.key)
        start = max(0, stop - limit)
        return [self._by_id[key[2]] for key in reversed(keys[start:stop])], start > 0

    def all_batches(self) -> list[StoredBatch]:
        """Every account's batches, in creation order."""
        return list(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
