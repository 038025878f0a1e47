"""How the Batches service joins a data directory (persistence/): its records and counters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mockfiles.batches.input import Limits, LineError, Request, Validation
from mockfiles.batches.results import Decided, Plan, Usage
from mockfiles.batches.service import Batches
from mockfiles.batches.store import StoredBatch
from mockfiles.batches.timeline import Counts, Timeline
from mockfiles.chat.reading import line_files
from mockfiles.inference.text import Answer
from mockfiles.persistence.changes import Changes, Kind, Loaded
from mockfiles.scenarios.batches import LineFailure, Timing


def _stored_form(batch: StoredBatch) -> StoredBatch:
    """A batch as a data directory keeps it: without the reader of its lines' files (made again by
    ``restore``)."""
    return replace(batch, plan=replace(batch.plan, files=None))


BATCH_CLASSES = (StoredBatch, Timeline, Counts, Plan, Usage, Validation, Limits, Request, LineError)
FATE_CLASSES = (Decided, Answer, LineFailure)  # the fates validation decided, until the results are written
SETTING_CLASSES = (Timing,)  # each batch keeps its timing


class SavedBatches:
    kinds: tuple[Kind, ...] = (Kind("batch", BATCH_CLASSES + FATE_CLASSES + SETTING_CLASSES, _stored_form),)

    def __init__(self, batches: Batches) -> None:
        self.batches = batches

    def track(self, changes: Changes) -> None:
        self.batches.store.changes = changes

    def counters(self) -> dict[str, Any]:
        return {"seq": self.batches.store.seq}

    def restore(self, loaded: Loaded, counters: dict[str, Any]) -> None:
        """Back to the batches a data directory holds; the writing of the results of those not settled
        is due again (the scheduler's: at once for those that have ended)."""
        batches = self.batches
        for _, _, batch in sorted(loaded["batch"], key=lambda row: row[2].seq):
            batches.store.add(batch)
            if not batch.settled:
                files = line_files(batches.files, batch.endpoint, batch.account, batch.dialect)
                batch.plan = replace(batch.plan, files=files)
                batches.schedule(batch)
        batches.store.restore_seq(counters["seq"])
