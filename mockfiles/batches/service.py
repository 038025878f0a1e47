"""The Batches service: create, retrieve, list and cancel batches, per account.

Knows nothing about HTTP. A batch is validated when it is created (its input file read
line by line from the store) and then lives on the emulator clock: its status and counts
are computed whenever it is read (``batch_timeline``), and its output and error files are
written, through the Files service, by due work of the emulator's scheduler (scheduler.py) once
the clock has passed its end — so they are listed, downloadable and counted like any other file.

Both are jobs of the batch's account on the scheduler's thread, run in slices: validation
(``creating``: the edge hands it over and waits for it; ``create`` runs it in the calling
thread) and the writing of results (``at`` the batch's end), built outside the Files lock and
stored under it. Until its results are stored, an ended batch shows the status before its end
(``finalizing``, ``cancelling``, ``in_progress``): never ended without its files. The edge has a
request of the account wait for its account's due work before it runs, so the account's own
reads find them written; nobody else waits, and no request writes them.

The results are held to the room the account has left in its storage, and a create is refused
when it has none (the refusal of an upload to a full account).

Every refusal of the service is worded in the one error table (``error_table.py``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from mockfiles.batches.input import Limits
from mockfiles.batches.params import CreateRequest, page_limit
from mockfiles.batches.results import NOTHING_DECIDED, Results, building, planning
from mockfiles.batches.store import BatchFilter as BatchFilter
from mockfiles.batches.store import BatchStore, StoredBatch
from mockfiles.batches.timeline import CANCELLABLE, Timeline
from mockfiles.batches.view import BatchPage as BatchPage
from mockfiles.batches.view import BatchView, view_of
from mockfiles.chat.reading import line_files
from mockfiles.core import ids
from mockfiles.core.errors import Conflict, InvalidRequest
from mockfiles.core.scheduler import Job, Scheduler
from mockfiles.files.service import Files
from mockfiles.files.store import StoredFile
from mockfiles.files.use import Use, check_use
from mockfiles.scenarios.batches import BatchSettings

DEFAULT_SEED = 0  # probabilities of request rules when the scenario sets no seed


def _nothing() -> None:
    pass


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

    def __init__(
        self,
        files: Files,
        settings: BatchSettings | None = None,
        seed: int | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.files = files
        self.scheduler = scheduler if scheduler is not None else Scheduler(files.clock.now)
        self.settings = BatchSettings()
        self.seed = DEFAULT_SEED
        self.deployments: tuple[str, ...] | None = None
        self.configure(settings or BatchSettings(), seed)
        self.store = BatchStore()
        self.stored: Callable[[], None] = _nothing  # told when results are stored (a data directory's flush)
        self.fine_tuned: Callable[[str], Callable[[str], bool]] = lambda account: lambda model: False  # its ft: models

    def configure(self, settings: BatchSettings, seed: int | None, deployments: tuple[str, ...] | None = None) -> None:
        """The scenario's settings for batches created from now on (each batch keeps those it
        was created with); ``deployments``: the models an Azure batch may name (None: any)."""
        self.settings = settings
        self.deployments = deployments
        self.seed = DEFAULT_SEED if seed is None else seed

    # --- operations ------------------------------------------------------------------

    def create(self, account: str, dialect: str = "openai", **fields: object) -> BatchView:
        """``creating`` from a create's fields, its validation run in the calling thread."""
        job, _ = self.creating(account, CreateRequest.parse(fields, self.files.profile.batches), dialect)
        return Scheduler.run(job)

    def creating(
        self,
        account: str,
        request: CreateRequest,
        dialect: str = "openai",
    ) -> tuple[Job[BatchView], int]:
        """Check a create's parameters and its input file now (refusals are raised here); the job
        that validates the input and makes the batch (its answer: the Batch, ``validating``), and
        the input's size (the edge runs a small one at once)."""
        rules = self.files.profile.batches
        file_id, url, seconds = request.input_file_id, request.endpoint, request.window_seconds
        with self.files.lock:
            now = self.files.now()
            source = self._input_file(account, file_id)
            self.files.check_not_full(account, "input_file_id")  # it could take none of the batch's results
        limit = rules.test_max_requests if url == rules.test_url else rules.max_requests
        fields = {
            "account": account,
            "endpoint": url,
            "input_file_id": file_id,
            "metadata": request.metadata,
            "output_expires_after": request.output_expires_after,
            "dialect": dialect,
            "completion_window": request.completion_window,
        }
        limits = Limits(limit, rules.max_embedding_inputs)
        seconds = seconds if rules.expires else math.inf
        return self._validating(fields, now, seconds, source.chunks, limits), source.size

    def _validating(
        self, fields: dict[str, Any], now: float, window: float, chunks: tuple[bytes, ...], limits: Limits
    ) -> Job[BatchView]:
        """A create's job: the input validated (the files its lines name checked too), then the
        batch made and its results scheduled."""
        settings, url, account = self.settings, fields["endpoint"], fields["account"]
        files = line_files(self.files, url, account, fields["dialect"])
        the_plan = yield from planning(chunks, url, limits, settings, self.seed, files, self.fine_tuned(account))
        model, deployments, rules = the_plan.validation.model, self.deployments, self.files.profile.batches
        if rules.deployments and deployments is not None and model is not None and model not in deployments:
            operation = "embeddings" if url.endswith("/embeddings") else "chatCompletion"
            raise InvalidRequest("azure_deployment", param="input_file_id", operation=operation, model=model)
        with self.files.lock:
            batch = StoredBatch(
                id=self._new_id(),
                seq=self.store.next_seq(),
                timeline=Timeline(now, settings.timing, the_plan.total, the_plan.valid, window=window),
                plan=the_plan,
                **fields,
            )
            self.store.add(batch)
            self.schedule(batch)
            return view_of(batch, now, until="validating")

    def get(self, account: str, batch_id: str) -> BatchView:
        with self.files.lock:
            now = self.files.now()
            return view_of(self.store.get(account, batch_id), now)

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
            return BatchPage(tuple(view_of(batch, now) for batch in found), has_more)

    def cancel(self, account: str, batch_id: str) -> BatchView:
        """``cancelling`` now, ``cancelled`` after the cancelling phase; requests not done by
        now get ``batch_cancelled``. Cancelling a cancelling batch answers it again (a retried
        cancel must not fail); any other status but validating and in_progress is a 409."""
        with self.files.lock:
            now = self.files.now()
            batch = self.store.get(account, batch_id)
            status = batch.timeline.status(now)
            if status == "cancelling":
                return view_of(batch, now)
            if status not in CANCELLABLE:
                raise Conflict("batch_not_cancellable", status=status)
            batch.timeline = replace(batch.timeline, cancel_at=now)
            self.schedule(batch)  # its results: at its new end
            return view_of(batch, now, until="cancelling")

    def everyone(self) -> list[BatchView]:
        """Every account's batches, oldest first: for the control routes."""
        with self.files.lock:
            now = self.files.now()
            return [view_of(batch, now) for batch in self.store.everyone()]

    def schedule(self, batch: StoredBatch) -> None:
        """The writing of the batch's results, due at its end (call with the lock held; a data
        directory's restore calls it for the batches it brings back unsettled)."""
        at = batch.timeline.final[1]
        self.scheduler.at(at, batch.account, functools.partial(self._writing, batch, at))

    def _writing(self, batch: StoredBatch, at: float) -> Job[None]:
        """An ended batch's results, built outside the Files lock, then stored under it: a job. An
        entry that a cancel replaced (the batch's end moved) does nothing."""
        timeline = batch.timeline
        if batch.settled or timeline.final[1] != at:
            return
        results = None
        if batch.has_results:
            room = self.files.room_for(batch.account)
            results = yield from building(batch.plan, timeline, batch.id, room)
        with self.files.lock:
            if batch.timeline is not timeline or batch.settled:
                return
            self._finish(batch, results)
        self.stored()  # a data directory's flush, off the event loop

    def __len__(self) -> int:
        return len(self.store)

    # --- helpers ---------------------------------------------------------------------

    def _input_file(self, account: str, file_id: str) -> StoredFile:
        return check_use(self.files, account, file_id, BATCH_INPUT)

    def _finish(self, batch: StoredBatch, results: Results | None) -> None:
        """Store an ended batch's output and error files (none when no request ever ran); call
        with the lock held. Requests that failed only now (no room left) count as failed."""
        final, at = batch.timeline.final
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
            batch.plan = replace(batch.plan, failing=results.failing(batch.plan.failing))
        batch.plan = replace(batch.plan, chunks=(), files=None, decided=NOTHING_DECIDED)  # all written: let go
        batch.settled = True
        self.store.changed(batch)

    def _new_id(self) -> str:
        shape = self.files.profile.batches.id_shape
        while True:
            candidate = shape.make(ids.random_token(self.files.rng, shape.alphabet, shape.length))
            if not self.store.contains_id(candidate):
                return candidate
