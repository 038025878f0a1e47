"""What changed since the last flush: the marks a store makes as its records change.

A store holds a ``Changes`` and marks each record it adds, changes or removes, by kind and id,
under its own lock; the emulator flushes them all in one transaction before an answer goes out.
Without a data directory the store holds ``NO_CHANGES``, whose marks do nothing: the in-memory
emulator pays one empty method call per change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

RecordKey = tuple[str, str]  # (kind, id)
Pending = dict[RecordKey, "tuple[str, Any] | None"]  # (account, object), or None: removed
Loaded = dict[str, list[tuple[str, str, Any]]]  # a data directory's records: kind -> [(id, account, object)]


def as_is(obj: Any) -> Any:
    return obj


@dataclass(frozen=True)
class Kind:
    """One kind of record a store keeps: its name, the classes its pickles may hold (the format's
    fingerprint is made of their fields: a change to them makes older directories refused), and
    ``dump``, which gives the object as stored (without its caches and transient flags)."""

    name: str
    classes: tuple[type, ...]
    dump: Callable[[Any], Any] = field(default=as_is)


class Changes:
    """Records changed since the last ``take``; ``marked`` counts every mark ever made."""

    enabled = True

    def __init__(self) -> None:
        self._pending: Pending = {}
        self.marked = 0

    def put(self, kind: str, record_id: str, account: str, obj: Any) -> None:
        """``obj`` is stored as it is at the flush (its kind's ``dump`` of it)."""
        self._pending[(kind, record_id)] = (account, obj)
        self.marked += 1

    def drop(self, kind: str, record_id: str) -> None:
        self._pending[(kind, record_id)] = None
        self.marked += 1

    def touch(self) -> None:
        """Something outside the records changed (the clock, a counter): the next flush writes them."""
        self.marked += 1

    def take(self) -> tuple[Pending, int]:
        """The pending changes, now the flush's, and the mark count they cover (call under the lock)."""
        pending, self._pending = self._pending, {}
        return pending, self.marked

    def give_back(self, pending: Pending) -> None:
        """Changes a flush took and could not write: pending again, under any newer change of the
        same record (call under the lock)."""
        self._pending = {**pending, **self._pending}
        self.marked += 1


class NoChanges(Changes):
    """The in-memory emulator's: nothing is kept."""

    enabled = False

    def put(self, kind: str, record_id: str, account: str, obj: Any) -> None:
        pass

    def drop(self, kind: str, record_id: str) -> None:
        pass

    def touch(self) -> None:
        pass


NO_CHANGES = NoChanges()


class Joined(Protocol):
    """A store that keeps its state in a data directory (docs/architecture.md, "A store joins")."""

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """The kinds of record it keeps."""

    def track(self, changes: Changes) -> None:
        """Mark every change from now on in ``changes``."""

    def counters(self) -> dict[str, Any]:
        """What the store counts outside its records (its sequence numbers), written at every flush."""

    def restore(self, loaded: Loaded, counters: dict[str, Any]) -> None:
        """Take back the records and counters of a data directory (into a fresh, empty store)."""
