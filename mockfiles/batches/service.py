"""The Batches service: create, retrieve, list and cancel batches, per account.

Knows nothing about HTTP. A batch is validated when it is created (its input file read
line by line from the store) and then lives on the emulator clock: its status and counts
are computed whenever it is read (``batch_timeline``), and its output and error files are
written, through the Files service, the first time anything is read after it has ended
(``settle``) — so they are listed, downloadable and counted like any other file.

Writing a 50,000-request batch's results takes 1.2-2 s. The edge ``claim``s the batches that
have ended and has a worker thread build their results outside the Files lock
(``write_claimed``); ``settle``, under the lock, then only stores them. Readers leave claimed
batches to their writer, and a request of an account whose results are being written waits for
them (``wait_for``, in a worker thread): other accounts are answered meanwhile. A reader that
finds results nobody claimed (one that never went through the edge) builds them itself: the files
are there whatever the client reads first.

Every refusal of the service is worded in the one error table (``error_table.py``).
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from mockfiles.batches.input import Limits
from mockfiles.batches.params import (
    check_metadata,
    check_output_expires_after,
    invalid_value,
    page_limit,
    parse_window,
    required_string,
)
from mockfiles.batches.results import Results, plan, write_results
from mockfiles.batches.store import BatchFilter as BatchFilter
from mockfiles.batches.store import BatchPage as BatchPage
from mockfiles.batches.store import BatchStore, StoredBatch
from mockfiles.batches.timeline import CANCELLABLE, FINAL, WINDOW, Timeline
from mockfiles.chat.reading import line_files
from mockfiles.core import ids
from mockfiles.core.errors import Conflict, InvalidRequest
from mockfiles.files.service import Files
from mockfiles.files.store import StoredFile
from mockfiles.files.use import Use, check_use
from mockfiles.scenarios.batches import BatchSettings

DEFAULT_SEED = 0  # probabilities of request rules when the scenario sets no seed

# A batch's input file: purpose ``batch``, processed; its lines are read when the batch is validated.
BATCH_INPUT = Use(
    "input_file_id",
    purposes=frozenset({"batch"}),
    reasons={
        "missing": "no_such_file",
        "purpose": "batch_input_purpose",
        "processing": "batch_input_processing",
        "failed": "batch_input_failed",
    },
)


class Batches:
    """One emulator's Batches service, over its Files service (same lock, clock and rng)."""

    def __init__(self, files: Files, settings: BatchSettings | None = None, seed: int | None = None) -> None:
        self.files = files
        self.settings = BatchSettings()
        self.seed = DEFAULT_SEED
        self.deployments: tuple[str, ...] | None = None
        self.configure(settings or BatchSettings(), seed)
        self.store = BatchStore()
        self._due: list[tuple[float, int, str]] = []  # (when a batch ends, seq, id): a heap
        self._writing = threading.Lock()  # one write_claimed at a time
        self._working = 0  # validations and result writings under way (``busy``)
        self._count_lock = threading.Lock()
        self._claims: dict[str, int] = {}  # per account: its claimed batches not yet written
        self._written = threading.Condition()  # guards _claims; notified as claims are written
        self.fine_tuned: Callable[[str], Callable[[str], bool]] = lambda account: lambda model: False  # its ft: models
        files.on_read(self.settle)

    def configure(self, settings: BatchSettings, seed: int | None, deployments: tuple[str, ...] | None = None) -> None:
        """The scenario's settings for batches created from now on (each batch keeps those it
        was created with); ``deployments``: the models an Azure batch may name (None: any)."""
        self.settings = settings
        self.deployments = deployments
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
        """A new batch, ``validating``; its input is validated now, the outcome shown once that phase has passed."""
        rules = self.files.profile.batches
        file_id = required_string(input_file_id, "input_file_id")
        url = required_string(endpoint, "endpoint")
        if url not in rules.urls:
            invalid_value(url, "endpoint", rules.urls)
        window, seconds = parse_window(completion_window, rules.window_hours)
        pairs = check_metadata(metadata, rules.metadata_limits)
        lifetime = check_output_expires_after(output_expires_after)
        with self.files.lock:
            now = self.files.now()
            source = self._input_file(account, file_id)
        limit = rules.test_max_requests if url == rules.test_url else rules.max_requests
        settings = self.settings
        files = line_files(self.files, url, account, dialect)
        with self._work():
            limits = Limits(limit, rules.max_embedding_inputs)
            the_plan = plan(source.chunks, url, limits, settings, self.seed, files, self.fine_tuned(account))
        model = the_plan.validation.model
        if rules.deployments and self.deployments is not None and model is not None and model not in self.deployments:
            operation = "embeddings" if url.endswith("/embeddings") else "chatCompletion"
            raise InvalidRequest("azure_deployment", param="input_file_id", operation=operation, model=model)
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
                timeline=Timeline(
                    now, settings.timing, the_plan.total, the_plan.valid, window=seconds if rules.expires else math.inf
                ),
                plan=the_plan,
                completion_window=window,
            )
            self.store.add(batch)
            heapq.heappush(self._due, (batch.timeline.final[1], batch.seq, batch.id))
            return self.snapshot(batch, now, until="validating")

    def get(self, account: str, batch_id: str) -> dict[str, Any]:
        with self.files.lock:
            now = self.files.now()
            return self.snapshot(self.store.get(account, batch_id), now)

    def page(
        self,
        account: str,
        *,
        limit: int | str | None = None,
        after: str | None = None,
        where: BatchFilter | None = None,
    ) -> BatchPage:
        """Newest first; ``limit`` 1-100 (default 20), ``after`` a batch id; ``where``: only
        the batches that match it."""
        count = page_limit(limit)
        with self.files.lock:
            now = self.files.now()
            keep = None if where is None else (lambda batch: where.matches(batch, batch.timeline.status(now)))
            found, has_more = self.store.page(account, limit=count, after=after, keep=keep)
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
            if not batch.claimed:  # else its writer stores it (write_claimed)
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

    def claim(self) -> list[StoredBatch]:
        """The batches that have ended with their results unwritten and unclaimed, now claimed
        for one writer (``write_claimed``). Quick: the edge calls it on its event loop."""
        with self.files.lock:
            now = self.files.clock.now()
            todo = []
            for _, _, batch_id in self._ended(now):
                batch = self.store.find(batch_id)
                if batch is None or batch.settled or batch.claimed or batch.timeline.final[1] > now:
                    continue
                batch.claimed = True
                todo.append(batch)
            with self._written:
                for batch in todo:
                    self._claims[batch.account] = self._claims.get(batch.account, 0) + 1
            return todo

    def write_claimed(self, todo: list[StoredBatch]) -> None:
        """Build the claimed batches' results outside the Files lock (the heavy part), then store
        them under it; one writer at a time. Their claims are released even if building fails
        (a reader then builds them itself)."""
        try:
            with self._writing:
                with self._work():
                    for batch in todo:
                        timeline = batch.timeline
                        if batch.built is None or batch.built[0] is not timeline:
                            batch.built = (timeline, self._results(batch, timeline))
                with self.files.lock:
                    for batch in todo:
                        batch.claimed = False
                        if not batch.settled and batch.timeline.final[1] <= self.files.clock.now():
                            self._finish(batch)
                        batch.built = None  # a cancel moved its end (time ran back): built again then
                    self._drop_written(self.files.clock.now())
        finally:
            for batch in todo:
                batch.claimed = False
            with self._written:
                for batch in todo:
                    self._claims[batch.account] -= 1
                    if not self._claims[batch.account]:
                        del self._claims[batch.account]
                self._written.notify_all()

    def _ended(self, now: float) -> Iterator[tuple[float, int, str]]:
        """The entries of the due heap that are at or before ``now``, found in O(their number): a
        heap's children are never earlier than their parent."""
        heap = self._due
        stack = [0] if heap else []
        while stack:
            i = stack.pop()
            if heap[i][0] <= now:
                yield heap[i]
                stack += [c for c in (2 * i + 1, 2 * i + 2) if c < len(heap)]

    def _drop_written(self, now: float) -> None:
        """Pop the entries of batches already written off the top of the due heap, so that
        ``pending`` is False again (call with the lock held)."""
        while self._due and self._due[0][0] <= now:
            at, _, batch_id = self._due[0]
            batch = self.store.find(batch_id)
            if batch is not None and not batch.settled and batch.timeline.final[1] == at:
                return
            heapq.heappop(self._due)

    def owes(self, account: str | None) -> bool:
        """Whether results of ``account``'s batches (None: of any) are claimed and not yet written.
        Read without the lock (every request asks): ``wait_for`` looks again under it."""
        claims = self._claims
        return bool(claims) if account is None else account in claims

    def wait_for(self, account: str | None) -> None:
        """Until the claimed results of ``account``'s batches (None: of every account) are written."""
        with self._written:
            self._written.wait_for(lambda: not (self._claims if account is None else account in self._claims))

    def write_due(self) -> None:
        """Write the results of every batch that has ended, built outside the Files lock (the
        domain's whole path, in one thread)."""
        self.write_claimed(self.claim())
        self.wait_for(None)

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
            "completion_window": batch.completion_window,
            "status": status,
            "output_file_id": batch.output_file_id if done else None,
            "error_file_id": batch.error_file_id if done else None,
            "created_at": created,
            "in_progress_at": stamps.get("in_progress_at"),
            "expires_at": created + int(WINDOW if math.isinf(timeline.window) else timeline.window),
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
        return check_use(self.files, account, file_id, BATCH_INPUT)

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
            shapes = {"output": rules.output_id_shape, "error": rules.error_id_shape or rules.output_id_shape}
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
                    id_shape=shapes[suffix],
                    dialect=batch.dialect,
                )
                if suffix == "output":
                    batch.output_file_id = made.id
                else:
                    batch.error_file_id = made.id
            batch.usage = results.usage
        batch.plan = replace(batch.plan, chunks=(), files=None)  # the input's bytes are no longer needed
        batch.settled = True
        self.store.changed(batch)

    def _new_id(self) -> str:
        shape = self.files.profile.batches.id_shape
        while True:
            candidate = shape.make(ids.random_token(self.files.rng, shape.alphabet, shape.length))
            if not self.store.contains_id(candidate):
                return candidate
