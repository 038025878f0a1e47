"""Every account's batches, as the Batches service (batches.py) keeps them: each batch's record,
indexed by id and, per account, in creation order (a list page is a bisection and a slice, as
fast with 100,000 batches as with 100: bench/README.md). Knows nothing about HTTP.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass, field

from mockfiles.batches.results import Plan, Usage
from mockfiles.batches.timeline import Timeline
from mockfiles.core.errors import InvalidRequest, NotFound
from mockfiles.persistence.changes import NO_CHANGES, Changes


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
    completion_window: str = "24h"  # as given (its length is the timeline's window)
    output_file_id: str | None = None
    error_file_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    settled: bool = False  # its results are written (or it has none)

    @property
    def has_results(self) -> bool:
        """Whether some of its requests ran (or would have): then it ends with files to write."""
        return any(name == "in_progress" for name, _ in self.timeline.events())

    @property
    def key(self) -> tuple[int, int, str]:
        return (int(self.timeline.created), self.seq, self.id)


@dataclass(frozen=True)
class BatchFilter:
    """Which batches a list shows (DashScope's list filters; every one given must hold): a
    ``ds_name`` containing ``name`` (letter case aside), one of ``input_file_ids``, one of
    ``statuses`` now, created from ``created_from`` to ``created_to`` (unix seconds, inclusive)."""

    name: str | None = None
    input_file_ids: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    created_from: int | None = None
    created_to: int | None = None

    def matches(self, batch: StoredBatch, status: str) -> bool:
        if self.name is not None:
            given = (batch.metadata or {}).get("ds_name")
            if given is None or self.name.casefold() not in given.casefold():
                return False
        if self.input_file_ids is not None and batch.input_file_id not in self.input_file_ids:
            return False
        if self.statuses is not None and status not in self.statuses:
            return False
        created = int(batch.timeline.created)
        if self.created_from is not None and created < self.created_from:
            return False
        return self.created_to is None or created <= self.created_to


class BatchStore:
    """Every account's batches: by id, and per account in creation order. Batches are never
    deleted (the API has no delete)."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredBatch] = {}
        self._order: dict[str, list[tuple[int, int, str]]] = {}
        self._seq = 0
        self.changes: Changes = NO_CHANGES  # a data directory's marks (persistence/changes.py)

    @property
    def seq(self) -> int:
        return self._seq

    def restore_seq(self, seq: int) -> None:
        self._seq = seq

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add(self, batch: StoredBatch) -> None:
        self._by_id[batch.id] = batch
        insort(self._order.setdefault(batch.account, []), batch.key)
        self.changed(batch)

    def changed(self, batch: StoredBatch) -> None:
        self.changes.put("batch", batch.id, batch.account, batch)

    def get(self, account: str, batch_id: str) -> StoredBatch:
        batch = self._by_id.get(batch_id)
        if batch is None or batch.account != account:
            raise NotFound("no_such_batch", batch_id=batch_id)
        return batch

    def find(self, batch_id: str) -> StoredBatch | None:
        return self._by_id.get(batch_id)

    def contains_id(self, batch_id: str) -> bool:
        return batch_id in self._by_id

    def page(
        self, account: str, *, limit: int, after: str | None, keep: Callable[[StoredBatch], bool] | None = None
    ) -> tuple[list[StoredBatch], bool]:
        """Newest first, from just after ``after``; with ``keep``, only the batches it keeps (read
        one by one from the cursor, as many as the page needs)."""
        keys = self._order.get(account, [])
        stop = len(keys)
        if after is not None:
            cursor = self._by_id.get(after)
            if cursor is None or cursor.account != account:
                raise InvalidRequest("unknown_batch_cursor", param="after", after=after)
            stop = bisect_left(keys, cursor.key)
        if keep is None:
            start = max(0, stop - limit)
            return [self._by_id[key[2]] for key in reversed(keys[start:stop])], start > 0
        found: list[StoredBatch] = []
        for i in range(stop - 1, -1, -1):
            batch = self._by_id[keys[i][2]]
            if keep(batch):
                if len(found) == limit:
                    return found, True
                found.append(batch)
        return found, False

    def all_batches(self) -> list[StoredBatch]:
        """Every account's batches, in creation order."""
        return list(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
