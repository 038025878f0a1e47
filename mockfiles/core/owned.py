"""Records each owned by one account and never deleted (batches, fine-tuning jobs): by id, and per
account in creation order, so that a list page is a bisection and a slice (as fast with 100,000
records as with 100: bench/README.md), and a filtered page walks the account's records newest
first until it is full. Each API's store names its words (the persistence mark, the not-found and
unknown-cursor codes). Knows nothing about HTTP.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

from mockfiles.core.errors import InvalidRequest, NotFound
from mockfiles.persistence.changes import NO_CHANGES, Changes


class Owned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def account(self) -> str: ...

    @property
    def key(self) -> tuple[int, int, str]: ...  # (created_at, seq, id): the creation order


T = TypeVar("T", bound=Owned)


class OwnedRecords(Generic[T]):
    """Every account's records of one kind. ``kind`` is the data directory's mark for them;
    ``not_found`` (with the id as ``id_name``) and ``unknown_cursor`` are the error table's codes."""

    def __init__(self, kind: str, not_found: str, id_name: str, unknown_cursor: str) -> None:
        self.kind = kind
        self.not_found, self.id_name, self.unknown_cursor = not_found, id_name, unknown_cursor
        self._by_id: dict[str, T] = {}
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

    def add(self, record: T) -> None:
        self._by_id[record.id] = record
        insort(self._order.setdefault(record.account, []), record.key)
        self.changed(record)

    def changed(self, record: T) -> None:
        """Mark a record added or changed, for the data directory."""
        self.changes.put(self.kind, record.id, record.account, record)

    def get(self, account: str, record_id: str) -> T:
        """The account's record (another account's is as unknown as a missing one)."""
        record = self._by_id.get(record_id)
        if record is None or record.account != account:
            missing = NotFound(self.not_found)
            missing.fields[self.id_name] = record_id  # the error table's words name it
            raise missing
        return record

    def find(self, record_id: str) -> T | None:
        """Any account's record (for the service's own bookkeeping and the control routes)."""
        return self._by_id.get(record_id)

    def contains_id(self, record_id: str) -> bool:
        return record_id in self._by_id

    def page(
        self, account: str, *, limit: int, after: str | None, keep: Callable[[T], bool] | None = None
    ) -> tuple[list[T], bool]:
        """Newest first, from just after ``after``; with ``keep``, only the records it keeps (read
        one by one from the cursor, as many as the page needs)."""
        keys = self._order.get(account, [])
        stop = len(keys)
        if after is not None:
            cursor = self._by_id.get(after)
            if cursor is None or cursor.account != account:
                raise InvalidRequest(self.unknown_cursor, param="after", after=after)
            stop = bisect_left(keys, cursor.key)
        if keep is None:
            start = max(0, stop - limit)
            return [self._by_id[key[2]] for key in reversed(keys[start:stop])], start > 0
        found: list[T] = []
        for index in range(stop - 1, -1, -1):
            record = self._by_id[keys[index][2]]
            if keep(record):
                if len(found) == limit:
                    return found, True
                found.append(record)
        return found, False

    def of(self, account: str) -> Iterator[T]:
        """An account's records, oldest first."""
        return (self._by_id[key[2]] for key in self._order.get(account, []))

    def everyone(self) -> list[T]:
        """Every account's records, in creation order."""
        return list(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
