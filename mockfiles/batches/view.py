"""A batch as the Batches service shows it at one instant: ``BatchView``, typed and immutable.

The service hands views out (create, retrieve, list, cancel, the control routes); each wire
dialect words a view as its API does (web/dialects/). A view holds what any dialect may show:
the status and its timestamps, the request counts, the token usage, the files, the validation
errors, the metadata, and the account and dialect it was made for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mockfiles.batches.input import LineError
from mockfiles.batches.results import Usage
from mockfiles.batches.store import StoredBatch
from mockfiles.batches.timeline import FINAL, WINDOW, Counts


@dataclass(frozen=True, slots=True)
class BatchView:
    id: str
    account: str
    dialect: str  # the dialect it was created in
    endpoint: str
    model: str | None  # the model its lines name (None: no valid line named one)
    input_file_id: str
    completion_window: str  # as given
    status: str
    created_at: int
    expires_at: int  # created_at + the completion window
    in_progress_at: int | None
    finalizing_at: int | None
    completed_at: int | None
    failed_at: int | None
    expired_at: int | None
    cancelling_at: int | None
    cancelled_at: int | None
    output_file_id: str | None  # the result files: once written
    error_file_id: str | None
    request_counts: Counts
    usage: Usage
    errors: tuple[LineError, ...] | None  # a failed validation's problems; None unless ``failed``
    metadata: Mapping[str, str] | None


def view_of(batch: StoredBatch, now: float, until: str | None = None) -> BatchView:
    """The batch at ``now`` (``until``: no later than that status). An ended batch whose results are
    still being written shows the status before its end."""
    timeline = batch.timeline
    passed = timeline.passed(now, until)
    if until is None and len(passed) > 1 and passed[-1][0] in FINAL and not batch.settled and batch.has_results:
        until = passed[-2][0]
        passed = passed[:-1]
    status = passed[-1][0]
    stamps = {name: int(at) for name, at in passed}
    done = status in FINAL and batch.settled
    created = int(timeline.created)
    metadata = batch.metadata
    return BatchView(
        id=batch.id,
        account=batch.account,
        dialect=batch.dialect,
        endpoint=batch.endpoint,
        model=batch.plan.validation.model,
        input_file_id=batch.input_file_id,
        completion_window=batch.completion_window,
        status=status,
        created_at=created,
        expires_at=created + int(WINDOW if math.isinf(timeline.window) else timeline.window),
        in_progress_at=stamps.get("in_progress"),
        finalizing_at=stamps.get("finalizing"),
        completed_at=stamps.get("completed"),
        failed_at=stamps.get("failed"),
        expired_at=stamps.get("expired"),
        cancelling_at=stamps.get("cancelling"),
        cancelled_at=stamps.get("cancelled"),
        output_file_id=batch.output_file_id if done else None,
        error_file_id=batch.error_file_id if done else None,
        request_counts=timeline.counts(now, batch.plan.failing, until),
        usage=batch.usage,
        errors=tuple(batch.plan.validation.errors) if status == "failed" else None,
        metadata=None if metadata is None else MappingProxyType(dict(metadata)),
    )


@dataclass(frozen=True, slots=True)
class BatchPage:
    """One page of an account's batches, newest first."""

    data: tuple[BatchView, ...]
    has_more: bool
