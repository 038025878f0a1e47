"""Every account's batches, as the Batches service (batches.py) keeps them: each batch's record,
indexed by id and, per account, in creation order (a list page is a bisection and a slice, as
fast with 100,000 batches as with 100: bench/README.md). Knows nothing about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mockfiles.batches.results import Plan, Usage
from mockfiles.batches.timeline import Timeline
from mockfiles.core.owned import OwnedRecords


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


class BatchStore(OwnedRecords[StoredBatch]):
    """Every account's batches. Batches are never deleted (the API has no delete)."""

    def __init__(self) -> None:
        super().__init__("batch", "no_such_batch", "batch_id", "unknown_batch_cursor")
