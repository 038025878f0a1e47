"""Every account's fine-tuning jobs: by id, and per account in creation order (a list page is a
bisection and a slice; a metadata filter walks the account's jobs newest first until the page is
full). Jobs are never deleted: the API has no delete. Knows nothing about HTTP.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

from mockfiles.core.errors import InvalidRequest, NotFound
from mockfiles.fine_tuning.job import StoredJob
from mockfiles.fine_tuning.models import FineTunedModel
from mockfiles.persistence.changes import NO_CHANGES, Changes

MetadataFilter = dict[str, str] | None  # None: no filter; {}: jobs without metadata ("metadata=null")


class JobStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredJob] = {}
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

    def add(self, job: StoredJob) -> None:
        self._by_id[job.id] = job
        insort(self._order.setdefault(job.account, []), job.key)
        self.changed(job)

    def changed(self, job: StoredJob) -> None:
        """Mark a job added or changed (its timeline, its results file, its deleted models)."""
        self.changes.put("fine_tuning_job", job.id, job.account, job)

    def get(self, account: str, job_id: str) -> StoredJob:
        job = self._by_id.get(job_id)
        if job is None or job.account != account:
            raise NotFound("fine_tune_not_found", job_id=job_id)
        return job

    def get_any(self, job_id: str) -> StoredJob | None:
        """Any account's job (for the service's own bookkeeping and the control routes)."""
        return self._by_id.get(job_id)

    def contains_id(self, job_id: str) -> bool:
        return job_id in self._by_id

    def page(
        self, account: str, *, limit: int, after: str | None, metadata: MetadataFilter = None
    ) -> tuple[list[StoredJob], bool]:
        """Newest first, from just after ``after``, only the jobs ``metadata`` selects."""
        keys = self._order.get(account, [])
        stop = len(keys)
        if after is not None:
            cursor = self._by_id.get(after)
            if cursor is None or cursor.account != account:
                raise InvalidRequest("unknown_job_cursor", param="after", after=after)
            stop = bisect_left(keys, cursor.key)
        if metadata is None:
            start = max(0, stop - limit)
            return [self._by_id[key[2]] for key in reversed(keys[start:stop])], start > 0
        found: list[StoredJob] = []
        for index in range(stop - 1, -1, -1):
            job = self._by_id[keys[index][2]]
            if selected(job, metadata):
                if len(found) == limit:
                    return found, True
                found.append(job)
        return found, False

    def of(self, account: str) -> Iterator[StoredJob]:
        """An account's jobs, oldest first."""
        return (self._by_id[key[2]] for key in self._order.get(account, []))

    def models(self, account: str, now: float) -> list[FineTunedModel]:
        """The fine-tuned models an account's jobs have made by ``now`` and that are not deleted."""
        return [model for job in self.of(account) for model in job.models(now)]

    def find_model(self, account: str, name: str, now: float) -> FineTunedModel | None:
        """One of them by name (None for any other name)."""
        if not name.startswith("ft:"):
            return None
        return next((model for model in self.models(account, now) if model.id == name), None)

    def all_jobs(self) -> list[StoredJob]:
        """Every account's jobs, in creation order."""
        return list(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def selected(job: StoredJob, metadata: dict[str, str]) -> bool:
    """Whether ``metadata`` selects the job: every pair matches, or, empty, the job has none."""
    if not metadata:
        return not job.metadata
    have = job.metadata or {}
    return all(have.get(key) == value for key, value in metadata.items())
