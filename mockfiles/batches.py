"""The Batches service: create, retrieve, list and cancel batches, per account.

Knows nothing about HTTP. A batch is validated when it is created (its input file read
line by line from the store) and then lives on the emulator clock: its status and counts
are computed whenever it is read (``batch_timeline``), and its output and error files are
written, through the Files service, the first time anything is read after it has ended
(``settle``) — so they are listed, downloadable and counted like any other file.

Writing a 50,000-request batch's results takes 1.2-2 s. ``write_due`` builds them outside the
Files lock, so that the service keeps answering meanwhile (the edge calls it from a worker
thread, before a request that would read them); ``settle``, under the lock, then only stores
them. A reader that finds results not yet built (one that never went through ``write_due``)
builds them itself: the files are there whatever the client reads first.

Every refusal of the service is worded in the one error table (``error_table.py``).
"""

from __future__ import annotations

import heapq
import threading
from bisect import bisect_left, insort
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from . import ids
from .batch_input import Limits
from .batch_params import (
    COMPLETION_WINDOWS,
    check_metadata,
    check_output_expires_after,
    invalid_value,
    page_limit,
    required_string,
)
from .batch_run import Plan, Results, Usage, plan, write_results
from .batch_scenario import BatchSettings
from .batch_timeline import CANCELLABLE, FINAL, Timeline
from .errors import Conflict, InvalidRequest, NotFound
from .lifecycle import Files
from .store import StoredFile

DEFAULT_SEED = 0  # probabilities of request rules when the scenario sets no seed


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
    built: tuple[Timeline, Results | None] | None = None  # results built ahead (write_due), for that timeline

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


class Batches:
    """One emulator's Batches service, over its Files service (same lock, clock and rng)."""

    def __init__(self, files: Files, settings: BatchSettings | None = None, seed: int | None = None) -> None:
        self.files = files
        self.settings = BatchSettings()
        self.seed = DEFAULT_SEED
        self.configure(settings or BatchSettings(), seed)
        self.store = BatchStore()
        self._due: list[tuple[float, int, str]] = []  # (when a batch ends, seq, id): a heap
        self._writing = threading.Lock()  # one write_due at a time
        self._working = 0  # validations and result writings under way (``busy``)
        self._count_lock = threading.Lock()
        files.on_read(self.settle)

    def configure(self, settings: BatchSettings, seed: int | None) -> None:
        """The scenario's settings for batches created from now on (each batch keeps those it
        was created with)."""
        self.settings = settings
        self.seed = DEFAULT_SEED if seed is None else seed

    # --- operations ------------------------------------------------------------------

    def create(
        self,
        account: str,
        *,
        input_file_id: object,
        endpoint: object,
        completion_window: object,
        metadata: object = None,
        output_expires_after: object = None,
        dialect: str = "openai",
    ) -> dict[str, Any]:
        """A new batch, ``validating``; its input is validated now, the outcome shown when the
        validating phase has passed."""
        rules = self.files.profile.batches
        file_id = required_string(input_file_id, "input_file_id")
        url = required_string(endpoint, "endpoint")
        if url not in rules.urls:
            invalid_value(url, "endpoint", rules.urls)
        window = required_string(completion_window, "completion_window")
        if window not in COMPLETION_WINDOWS:
            invalid_value(window, "completion_window", COMPLETION_WINDOWS)
        pairs = check_metadata(metadata)
        lifetime = check_output_expires_after(output_expires_after)
        with self.files.lock:
            now = self.files.now()
            source = self._input_file(account, file_id)
        limit = rules.test_max_requests if url == rules.test_url else rules.max_requests
        settings = self.settings
        with self._work():
            the_plan = plan(source.chunks, url, Limits(limit, rules.max_embedding_inputs), settings, self.seed)
        with self.files.lock:
            batch = StoredBatch(
                id=self._new_id(),
                account=account,
                endpoint=url,
                input_file_id=file_id,
                metadata=pairs,
                output_expires_after=lifetime,
                dialect=dialect,
                seq=self.store.next_seq(),
                timeline=Timeline(now, settings.timing, the_plan.total, the_plan.valid),
                plan=the_plan,
            )
            self.store.add(batch)
            heapq.heappush(self._due, (batch.timeline.final[1], batch.seq, batch.id))
            return self.snapshot(batch, now, until="validating")

    def get(self, account: str, batch_id: str) -> dict[str, Any]:
        with self.files.lock:
            now = self.files.now()
            return self.snapshot(self.store.get(account, batch_id), now)

    def page(self, account: str, *, limit: int | str | None = None, after: str | None = None) -> BatchPage:
        """Newest first; ``limit`` 1-100 (default 20), ``after`` a batch id."""
        count = page_limit(limit)
        with self.files.lock:
            now = self.files.now()
            found, has_more = self.store.page(account, limit=count, after=after)
            return BatchPage([self.snapshot(batch, now) for batch in found], has_more)

    def cancel(self, account: str, batch_id: str) -> dict[str, Any]:
        """``cancelling`` now, ``cancelled`` after the cancelling phase; requests not done by
        now get ``batch_cancelled``. Cancelling a cancelling batch answers it again (a retried
        cancel must not fail); any other status but validating and in_progress is a 409."""
        with self.files.lock:
            now = self.files.now()
            batch = self.store.get(account, batch_id)
            status = batch.timeline.status(now)
            if status == "cancelling":
                return self.snapshot(batch, now)
            if status not in CANCELLABLE:
                raise Conflict("batch_not_cancellable", status=status)
            batch.timeline = replace(batch.timeline, cancel_at=now)
            heapq.heappush(self._due, (batch.timeline.final[1], batch.seq, batch.id))
            return self.snapshot(batch, now, until="cancelling")  # its results: at the next read

    def settle(self, now: float) -> None:
        """Write the results of every batch that has ended by ``now`` (call with the lock held)."""
        while self._due and self._due[0][0] <= now:
            at, _, batch_id = heapq.heappop(self._due)
            batch = self.store.find(batch_id)
            if batch is None or batch.settled or batch.timeline.final[1] != at:
                continue  # a cancel moved its end: a newer entry stands for it
            self._finish(batch)

    def everyone(self) -> list[tuple[str, dict[str, Any]]]:
        """Every account's batches (the account, the Batch object), oldest first: for the control routes."""
        with self.files.lock:
            now = self.files.now()
            return [(batch.account, self.snapshot(batch, now)) for batch in self.store.all_batches()]

    def pending(self, now: float) -> bool:
        """Whether a batch has ended by ``now`` with its results still to write. Read without the
        lock: a stale answer only leaves the writing to the next reader."""
        due = self._due
        return bool(due) and due[0][0] <= now

    def write_due(self) -> None:
        """Build the results of every batch that has ended outside the Files lock (the heavy
        part), then store them under it; one writer at a time, others wait their turn."""
        with self._writing:
            with self.files.lock:
                now = self.files.clock.now()
                ended = [self.store.find(batch_id) for at, _, batch_id in self._due if at <= now]
                todo = [b for b in ended if b is not None and not b.settled and b.timeline.final[1] <= now]
            with self._work():
                for batch in todo:
                    timeline = batch.timeline
                    if batch.built is None or batch.built[0] is not timeline:
                        batch.built = (timeline, self._results(batch, timeline))
            with self.files.lock:
                self.settle(self.files.now())
                for batch in todo:
                    batch.built = None  # a reader that settled it meanwhile built its own

    @property
    def busy(self) -> bool:
        """Whether a validation or a writing of results is under way (outside the Files lock)."""
        return self._working > 0

    @contextmanager
    def _work(self) -> Iterator[None]:
        with self._count_lock:
            self._working += 1
        try:
            yield
        finally:
            with self._count_lock:
                self._working -= 1

    def __len__(self) -> int:
        return len(self.store)

    # --- the Batch object ------------------------------------------------------------

    def snapshot(self, batch: StoredBatch, now: float, until: str | None = None) -> dict[str, Any]:
        """The Batch object at ``now``, as the SDK's ``Batch`` types it."""
        timeline = batch.timeline
        passed = timeline.passed(now, until)
        status = passed[-1][0]
        stamps = {f"{name}_at": int(at) for name, at in passed if name != "validating"}
        done = status in FINAL and batch.settled
        errors = None
        if status == "failed":
            errors = {"object": "list", "data": [e.as_dict() for e in batch.plan.validation.errors]}
        created = int(timeline.created)
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": batch.endpoint,
            "model": batch.plan.validation.model,
            "errors": errors,
            "input_file_id": batch.input_file_id,
            "completion_window": COMPLETION_WINDOWS[0],
            "status": status,
            "output_file_id": batch.output_file_id if done else None,
            "error_file_id": batch.error_file_id if done else None,
            "created_at": created,
            "in_progress_at": stamps.get("in_progress_at"),
            "expires_at": created + int(timeline.window),
            "finalizing_at": stamps.get("finalizing_at"),
            "completed_at": stamps.get("completed_at"),
            "failed_at": stamps.get("failed_at"),
            "expired_at": stamps.get("expired_at"),
            "cancelling_at": stamps.get("cancelling_at"),
            "cancelled_at": stamps.get("cancelled_at"),
            "request_counts": timeline.counts(now, batch.plan.failing, until).as_dict(),
            "usage": batch.usage.as_dict(),
            "metadata": batch.metadata,
        }

    # --- helpers ---------------------------------------------------------------------

    def _input_file(self, account: str, file_id: str) -> StoredFile:
        try:
            source = self.files.get(account, file_id)
        except NotFound:
            raise NotFound("no_such_file", param="input_file_id", id=file_id) from None
        if source.purpose != "batch":
            raise InvalidRequest("batch_input_purpose", param="input_file_id", file_id=file_id, purpose=source.purpose)
        status = source.status(self.files.clock.now())
        if status != "processed":
            reason = "batch_input_processing" if status == "uploaded" else "batch_input_failed"
            raise InvalidRequest(reason, param="input_file_id", file_id=file_id)
        return source

    def _results(self, batch: StoredBatch, timeline: Timeline) -> Results | None:
        """An ended batch's results (None when no request ever ran)."""
        if any(name == "in_progress" for name, _ in timeline.events()):
            return write_results(batch.plan, timeline, batch.id)
        return None

    def _finish(self, batch: StoredBatch) -> None:
        """Store an ended batch's output and error files (none when no request ever ran), built
        now unless ``write_due`` built them for this timeline."""
        final, at = batch.timeline.final
        built, batch.built = batch.built, None
        ready = built is not None and built[0] is batch.timeline
        results = built[1] if built is not None and ready else self._results(batch, batch.timeline)
        if results is not None:
            rules = self.files.profile.batches
            lifetime = batch.output_expires_after
            if lifetime is None:
                lifetime = rules.output_expires_after
            for writer, suffix in ((results.output, "output"), (results.errors, "error")):
                if not writer.lines:
                    continue
                chunks = writer.close()
                made = self.files.add_generated(
                    batch.account,
                    purpose="batch_output",
                    filename=f"{batch.id}_{suffix}.jsonl",
                    chunks=chunks,
                    size=writer.size,
                    created_at=int(at),
                    expires_after=lifetime,
                    id_shape=rules.output_id_shape,
                    dialect=batch.dialect,
                )
                if suffix == "output":
                    batch.output_file_id = made.id
                else:
                    batch.error_file_id = made.id
            batch.usage = results.usage
        batch.plan = replace(batch.plan, chunks=())  # the input's bytes are no longer needed
        batch.settled = True

    def _new_id(self) -> str:
        shape = self.files.profile.batches.id_shape
        while True:
            candidate = shape.make(ids.random_token(self.files.rng, shape.alphabet, shape.length))
            if not self.store.contains_id(candidate):
                return candidate
