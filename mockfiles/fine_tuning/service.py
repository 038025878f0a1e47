"""The Fine-tuning service: create, list, retrieve, cancel, pause and resume jobs, their events
and checkpoints, and the models they make, per account. Knows nothing about HTTP.

A job's parameters are checked at create (400s); its files must be the caller's, have purpose
``fine-tune`` and be processed (``files/use.py``). Their content is read at create too, in the
caller's thread (the edge runs create in a worker thread: bench/README.md has the time a
100,000-example file takes), but its verdict shows only when ``validating_files`` has passed on the emulator clock, as
OpenAI reports it: ``failed`` with the error's code and message. The job then lives on the clock
(timeline.py); its results file (the metrics CSV, built at create) is stored through the Files
service the first time anything reads after the job has succeeded, so it is listed, downloadable
and counted like any file.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mockfiles.core.errors import Conflict, InvalidRequest, NotFound
from mockfiles.core.profiles import IdShape
from mockfiles.core.scheduler import Job, Scheduler
from mockfiles.files.service import Files
from mockfiles.files.use import check_use
from mockfiles.fine_tuning.content import Examples, FileProblem, read_files
from mockfiles.fine_tuning.events import EventLog
from mockfiles.fine_tuning.job import StoredJob, checkpoint_id, token
from mockfiles.fine_tuning.metrics import results_file
from mockfiles.fine_tuning.models import BaseModel, FineTunedModel, base_model
from mockfiles.fine_tuning.params import (
    CHECKPOINTS_LIMIT,
    EVENTS_LIMIT,
    JOBS_LIMIT,
    MAX_STEPS,
    TOO_MANY_STEPS,
    CreateJob,
    file_use,
    page_limit,
)
from mockfiles.fine_tuning.store import JobStore, MetadataFilter, selected
from mockfiles.fine_tuning.timeline import Timeline
from mockfiles.scenarios.fine_tuning import FineTuningSettings, JobFacts

DEFAULT_SEED = 0  # rule probabilities when the scenario sets no seed
RESULTS_PURPOSE = "fine-tune-results"
RESULTS_FILENAME = "step_metrics.csv"


def _nothing() -> None:
    pass


class FineTuning:
    """One emulator's Fine-tuning service, over its Files service (same lock, clock and rng)."""

    def __init__(
        self,
        files: Files,
        settings: FineTuningSettings | None = None,
        seed: int | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.files = files
        self.scheduler = scheduler if scheduler is not None else Scheduler(files.clock.now)
        self.stored: Callable[[], None] = _nothing  # told when a results file is stored (a data directory's flush)
        self.settings = FineTuningSettings()
        self.seed = DEFAULT_SEED
        self.configure(settings or FineTuningSettings(), seed)
        self.store = JobStore()
        self._working = 0  # file readings and results files being built (``busy``)
        self._count_lock = threading.Lock()

    def configure(self, settings: FineTuningSettings, seed: int | None) -> None:
        """The scenario's settings for jobs created from now on (each job keeps those it was created with)."""
        self.settings = settings
        self.seed = DEFAULT_SEED if seed is None else seed

    # --- create -----------------------------------------------------------------------

    def create(self, account: str, request: CreateJob) -> dict[str, Any]:
        """A new job, ``validating_files``; its files are read now, the verdict shown when the
        validating phase has passed. Call it off the event loop: it reads the files."""
        name, training, validation = request.model, request.training_file, request.validation_file
        suffix, seed, metadata = request.suffix, request.seed, request.metadata
        method, integrations = request.method, request.integrations
        settings = self.settings
        with self.files.lock:
            now = self.files.now()
            base = self._base(account, name, now)
            if method.type not in base.methods:
                raise InvalidRequest(
                    "method_not_supported", param="method.type", model=name, method=method.type, methods=base.methods
                )
            train = check_use(self.files, account, training, file_use("training_file"))
            valid = check_use(self.files, account, validation, file_use("validation_file")) if validation else None
            job_id = self._new_id()
            seed = seed if seed is not None else self.files.rng.randrange(0, 2**31 - 1)
        facts = JobFacts(
            train.filename, valid.filename if valid else None, name, base.snapshot, suffix, method.type, job_id
        )
        rule = settings.rule_for(self.seed, facts)
        with self._work():  # outside the Files lock: other requests go on meanwhile
            read = read_files(train, valid, method=method.type, completions=base.completions)
        error: tuple[str, str, str | None] | None = None
        fails: str | None = None
        failure = rule.failure() if rule is not None else None
        if isinstance(read, FileProblem):
            error, fails = (read.code, read.message, read.param), "validating_files"
        elif failure is not None and rule is not None:
            error, fails = failure, rule.stage
        examples = read if isinstance(read, Examples) else None
        settled = method.resolved(examples.count, base.learning_rate) if examples else None
        steps = math.ceil(examples.count / settled["batch_size"]) * settled["n_epochs"] if examples and settled else 0
        if steps > MAX_STEPS:  # the emulator's own limit: the results file holds a row per step
            error, fails = (
                ("too_many_steps", TOO_MANY_STEPS.format(steps=steps, limit=MAX_STEPS), None),
                "validating_files",
            )
            examples, settled, steps = None, None, 0
        results = None
        if examples and settled and fails is None:
            with self._work():
                results = (results_file(seed, steps, steps // settled["n_epochs"], valid is not None),)
        with self.files.lock:
            job = StoredJob(
                id=job_id,
                account=account,
                seq=self.store.next_seq(),
                model=name if name.startswith("ft:") else base.snapshot,
                snapshot=base.snapshot,
                training_file=training,
                validation_file=validation,
                suffix=suffix,
                seed=seed,
                metadata=metadata,
                integrations=integrations,
                method=method,
                organization=settings.organization,
                organization_id=organization_id(account),
                timeline=Timeline(now, settings.timing_for(rule), steps, fails),
                error=error,
                examples=examples,
                settled=settled,
                results=results,
            )
            self.store.add(job)
            self.schedule(job)
            return job.snapshot_at(now, "validating_files")

    def _base(self, account: str, name: str, now: float) -> BaseModel:
        """The base model a job starts from: a base model, or a fine-tuned model of the account's."""
        base = base_model(name) if not name.startswith("ft:") else None
        found = self.store.find_model(account, name, now)
        if found is not None:
            base = base_model(found.base)
        if base is None:
            raise InvalidRequest("model_not_available", param="model", model=name)
        return base

    # --- reading ----------------------------------------------------------------------

    def get(self, account: str, job_id: str) -> dict[str, Any]:
        with self.files.lock:
            now = self.files.now()
            return self.store.get(account, job_id).snapshot_at(now)

    def page(
        self,
        account: str,
        *,
        limit: int | str | None = None,
        after: str | None = None,
        metadata: MetadataFilter = None,
    ) -> dict[str, Any]:
        """Newest first; ``limit`` 1-100 (default 20), ``after`` a job id, ``metadata`` a filter."""
        count = page_limit(limit, JOBS_LIMIT)
        with self.files.lock:
            now = self.files.now()
            keep = None if metadata is None else functools.partial(selected, metadata=metadata)
            found, has_more = self.store.page(account, limit=count, after=after, keep=keep)
            return {"object": "list", "data": [job.snapshot_at(now) for job in found], "has_more": has_more}

    def events(
        self, account: str, job_id: str, *, limit: int | str | None = None, after: str | None = None
    ) -> dict[str, Any]:
        """The job's events that have happened, newest first; ``after`` an event id."""
        count = page_limit(limit, EVENTS_LIMIT)
        with self.files.lock:
            now = self.files.now()
            log = EventLog(self.store.get(account, job_id), now)
            positions = log.newest_first(after)
            data = [log.as_object(i) for _, i in zip(range(count + 1), positions, strict=False)]
        return {"object": "list", "data": data[:count], "has_more": len(data) > count}

    def checkpoints(
        self, account: str, job_id: str, *, limit: int | str | None = None, after: str | None = None
    ) -> dict[str, Any]:
        """The job's checkpoints (one per epoch), newest first; ``after`` a checkpoint id."""
        count = page_limit(limit, CHECKPOINTS_LIMIT)
        with self.files.lock:
            now = self.files.now()
            job = self.store.get(account, job_id)
            steps = job.checkpoint_steps(now)[::-1]
        if after is not None:
            ids = [checkpoint_id(job.id, step) for step in steps]
            if after not in ids:
                raise InvalidRequest("unknown_checkpoint_cursor", param="after", after=after)
            steps = steps[ids.index(after) + 1 :]
        data = [job.checkpoint(step) for step in steps[:count]]
        return {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(steps) > count,
        }

    def everyone(self) -> list[tuple[str, dict[str, Any]]]:
        """Every account's jobs (the account, the job object with its steps done and total), oldest
        first: for the control routes."""
        with self.files.lock:
            now = self.files.now()
            return [
                (
                    job.account,
                    job.snapshot_at(now)
                    | {"steps": {"done": job.timeline.steps_done(now), "total": job.timeline.steps}},
                )
                for job in self.store.everyone()
            ]

    def event_log(self, job_id: str, limit: int = 200) -> tuple[str, dict[str, Any]]:
        """Any account's job's newest events (the account, the list): for the control routes."""
        with self.files.lock:
            job = self.store.find(job_id)
            if job is None:
                raise NotFound("fine_tune_not_found", job_id=job_id)
        return job.account, self.events(job.account, job_id, limit=limit)

    # --- changing a job -----------------------------------------------------------------

    def cancel(self, account: str, job_id: str) -> dict[str, Any]:
        """``cancelled`` at once; cancelling a cancelled job answers it again (a retried cancel
        must not fail); a job that has succeeded or failed is a 409."""
        return self._change(account, job_id, "cancel")

    def pause(self, account: str, job_id: str) -> dict[str, Any]:
        """``paused``: a running job stops training; pausing a paused job answers it again."""
        return self._change(account, job_id, "pause")

    def resume(self, account: str, job_id: str) -> dict[str, Any]:
        """``queued`` again, then ``running`` from the step it stopped at."""
        return self._change(account, job_id, "resume")

    def _change(self, account: str, job_id: str, action: str) -> dict[str, Any]:
        with self.files.lock:
            now = self.files.now()
            job = self.store.get(account, job_id)
            timeline = job.timeline
            status = timeline.status(now)
            shown = None
            if action == "cancel" and status != "cancelled":
                if status in ("succeeded", "failed"):
                    raise Conflict("fine_tune_not_cancellable", status=status, job_id=job_id)
                job.timeline = timeline.cancelled(now)
            elif action == "pause" and status != "paused":
                if status != "running":
                    raise Conflict("fine_tune_not_pausable", status=status, job_id=job_id)
                job.timeline = timeline.paused(now)
            elif action == "resume":
                if status != "paused":
                    raise Conflict("fine_tune_not_resumable", status=status, job_id=job_id)
                job.timeline = timeline.resumed(now)
                shown = "queued"  # as the reference shows it, even with no queue to wait in
            self.schedule(job)
            self.store.changed(job)
            return job.snapshot_at(now, shown)

    # --- results files ----------------------------------------------------------------

    def schedule(self, job: StoredJob) -> None:
        """The storing of a job's results file, due when it succeeds: the emulator's scheduler does
        it then (a data directory's restore calls this for the jobs it brings back)."""
        status, at = job.timeline.final()
        if status == "succeeded" and not job.written and math.isfinite(at):
            self.scheduler.at(at, job.account, functools.partial(self._storing, job.id, at))

    def _storing(self, job_id: str, at: float) -> Job[None]:
        """Store the results file (built at create) of a job that has succeeded at ``at``: a job of
        the scheduler. An entry that a pause, resume or cancel replaced does nothing."""
        yield  # its turn: the file is built already, storing it is quick
        with self.files.lock:
            job = self.store.find(job_id)
            if job is None or job.written or job.timeline.final() != ("succeeded", at) or job.results is None:
                return
            made = self.files.add_generated(
                job.account,
                purpose=RESULTS_PURPOSE,
                filename=RESULTS_FILENAME,
                chunks=job.results,
                size=sum(map(len, job.results)),
                created_at=int(at),
                expires_after=None,
                id_shape=IdShape(),
            )
            job.result_file_id, job.written, job.results = made.id, True, None
            self.store.changed(job)
        self.stored()

    # --- models -------------------------------------------------------------------------

    def models(self, account: str) -> list[FineTunedModel]:
        """The fine-tuned models of ``account`` that exist now (its jobs' models and checkpoints,
        not deleted), oldest first: what ``/v1/models`` lists and the model routes accept."""
        with self.files.lock:
            now = self.files.now()
            return self.store.models(account, now)

    def all_models(self) -> list[tuple[str, FineTunedModel]]:
        """Every account's fine-tuned models (the account, the model): for the control routes."""
        with self.files.lock:
            now = self.files.now()
            return [(job.account, model) for job in self.store.everyone() for model in job.models(now)]

    def model(self, account: str, name: str) -> FineTunedModel | None:
        """The fine-tuned model ``name`` if ``account`` has it now (None otherwise)."""
        with self.files.lock:
            return self.store.find_model(account, name, self.files.now())

    def has_model(self, account: str) -> Callable[[str], bool]:
        """Whether ``account`` has a fine-tuned model, by name, when asked (the batch lines ask)."""
        return lambda name: self.model(account, name) is not None

    def delete_model(self, account: str, name: str) -> FineTunedModel:
        """Delete one of the account's fine-tuned models (or checkpoints): the model routes and
        batch lines refuse it from now on. Any other name is a 404, a base model's too."""
        with self.files.lock:
            found = self.store.find_model(account, name, self.files.now())
            if found is None:
                raise NotFound("model_not_found", param="model", model=name)
            job = self.store.get(account, found.job_id)
            job.deleted.add(name)
            self.store.changed(job)
            return found

    # --- helpers ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether files are being read or a results file built (outside the Files lock)."""
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

    def _new_id(self) -> str:
        while True:
            candidate = "ftjob-" + "".join(self.files.rng.choices(BASE62_CHARS, k=24))
            if not self.store.contains_id(candidate):
                return candidate

    def __len__(self) -> int:
        return len(self.store)


BASE62_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def organization_id(account: str) -> str:
    """``org-`` and 24 characters: the same for an account (an API key) in every run."""
    return "org-" + token(f"organization:{account}", 24)
