"""Every account's fine-tuning jobs (core/owned.py: by id, and per account in creation order; a
metadata filter walks the account's jobs newest first until the page is full). Jobs are never
deleted: the API has no delete. Knows nothing about HTTP.
"""

from __future__ import annotations

from mockfiles.core.owned import OwnedRecords
from mockfiles.fine_tuning.job import StoredJob
from mockfiles.fine_tuning.models import FineTunedModel

MetadataFilter = dict[str, str] | None  # None: no filter; {}: jobs without metadata ("metadata=null")


class JobStore(OwnedRecords[StoredJob]):
    """Every account's fine-tuning jobs, and the models they made."""

    def __init__(self) -> None:
        super().__init__("fine_tuning_job", "fine_tune_not_found", "job_id", "unknown_job_cursor")

    def models(self, account: str, now: float) -> list[FineTunedModel]:
        """The fine-tuned models an account's jobs have made by ``now`` and that are not deleted."""
        return [model for job in self.of(account) for model in job.models(now)]

    def find_model(self, account: str, name: str, now: float) -> FineTunedModel | None:
        """One of them by name (None for any other name)."""
        if not name.startswith("ft:"):
            return None
        return next((model for model in self.models(account, now) if model.id == name), None)


def selected(job: StoredJob, metadata: dict[str, str]) -> bool:
    """Whether ``metadata`` selects the job: every pair matches, or, empty, the job has none."""
    if not metadata:
        return not job.metadata
    have = job.metadata or {}
    return all(have.get(key) == value for key, value in metadata.items())
