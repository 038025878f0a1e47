"""How the Fine-tuning service joins a data directory (persistence/): its jobs and counter.

A job is kept whole (its timeline with its pauses and cancel, the settings it was made with, its
results file until it is stored): after a restart it goes on where the clock has it, its results
file is stored by the emulator's scheduler once it has succeeded, and its models are known again at once (the model
registry asks the service: nothing to register).
"""

from __future__ import annotations

from typing import Any

from mockfiles.fine_tuning.content import Examples
from mockfiles.fine_tuning.job import StoredJob
from mockfiles.fine_tuning.method import Method
from mockfiles.fine_tuning.service import FineTuning
from mockfiles.fine_tuning.timeline import Timeline
from mockfiles.persistence.changes import Changes, Kind, Loaded
from mockfiles.scenarios.fine_tuning import Timing

JOB_CLASSES = (StoredJob, Method, Timeline, Timing, Examples)


class SavedFineTuning:
    kinds: tuple[Kind, ...] = (Kind("fine_tuning_job", JOB_CLASSES),)

    def __init__(self, service: FineTuning) -> None:
        self.service = service

    def track(self, changes: Changes) -> None:
        self.service.store.changes = changes

    def counters(self) -> dict[str, Any]:
        return {"seq": self.service.store.seq}

    def restore(self, loaded: Loaded, counters: dict[str, Any]) -> None:
        """Back to the jobs a data directory holds; those whose results file is not stored are due again."""
        service = self.service
        for _, _, job in sorted(loaded["fine_tuning_job"], key=lambda row: row[2].seq):
            service.store.add(job)
            service.schedule(job)
        service.store.restore_seq(counters["seq"])
