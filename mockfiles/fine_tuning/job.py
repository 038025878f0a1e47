"""One fine-tuning job as the service keeps it, and the objects it shows: the job
(``fine_tuning.job``), its checkpoints (``fine_tuning.job.checkpoint``) and the models it made.

Everything about a job at an instant follows from what it was created with and its timeline
(timeline.py): status, step, hyperparameters (as given until the files are validated, settled
after), fine-tuned model, checkpoints. Objects are shaped exactly as the openai SDK's types
(``FineTuningJob``, ``FineTuningJobCheckpoint``) take them in strict mode, with one exception the
real service makes too: a paused job's status is ``paused``, which the SDK's ``Literal`` lacks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from mockfiles.fine_tuning.content import Examples
from mockfiles.fine_tuning.method import Method
from mockfiles.fine_tuning.metrics import checkpoint_metrics
from mockfiles.fine_tuning.models import BASE62, FineTunedModel, checkpoint_name, fine_tuned_name
from mockfiles.fine_tuning.timeline import Timeline


@dataclass(slots=True, eq=False)
class StoredJob:
    id: str
    account: str
    seq: int
    model: str  # the base model's snapshot (or the fine-tuned model it starts from)
    snapshot: str  # the base model's snapshot: what the new models are named for
    training_file: str
    validation_file: str | None
    suffix: str | None
    seed: int
    metadata: dict[str, str] | None
    integrations: list[dict[str, Any]] | None
    method: Method
    organization: str  # the name in its models' names
    organization_id: str
    timeline: Timeline
    error: tuple[str, str, str | None] | None  # (code, message, param) when it fails
    examples: Examples | None  # None when the files were found invalid
    settled: dict[str, Any] | None  # the hyperparameters with every auto settled (None: invalid files)
    results: tuple[bytes, ...] | None = None  # the results file's bytes, built ahead (None: invalid files)
    result_file_id: str | None = None
    written: bool = False  # the results file is stored (or the job ended without one)
    deleted: set[str] = field(default_factory=set)  # its models deleted through /v1/models

    @property
    def key(self) -> tuple[int, int, str]:
        return (int(self.timeline.created), self.seq, self.id)

    @property
    def epochs(self) -> int:
        return int(self.settled["n_epochs"]) if self.settled else 0

    @property
    def steps_per_epoch(self) -> int:
        return self.timeline.steps // self.epochs if self.epochs else 0

    @property
    def fine_tuned_model(self) -> str:
        return fine_tuned_name(self.snapshot, self.organization, self.suffix, self.id)

    # --- the job object ---------------------------------------------------------------

    def snapshot_at(self, now: float, status: str | None = None) -> dict[str, Any]:
        """The ``fine_tuning.job`` object at ``now`` (shown with ``status`` when given: create's
        answer shows ``validating_files`` and resume's ``queued`` whatever the phases last)."""
        timeline = self.timeline
        status = status or timeline.status(now)
        shown = self.method.given if status == "validating_files" or self.settled is None else self.settled
        succeeded = status == "succeeded"
        final, end = timeline.final()
        return {
            "id": self.id,
            "object": "fine_tuning.job",
            "created_at": int(timeline.created),
            "error": self._error() if status == "failed" else None,
            "fine_tuned_model": self.fine_tuned_model if succeeded else None,
            "finished_at": int(end) if succeeded else None,
            "hyperparameters": {key: shown[key] for key in ("batch_size", "learning_rate_multiplier", "n_epochs")},
            "model": self.model,
            "organization_id": self.organization_id,
            "result_files": [self.result_file_id] if succeeded and self.result_file_id else [],
            "seed": self.seed,
            "status": status,
            "trained_tokens": self.trained_tokens if succeeded else None,
            "training_file": self.training_file,
            "validation_file": self.validation_file,
            "estimated_finish": int(end) if status in ("queued", "running") and final == "succeeded" else None,
            "integrations": self.integrations,
            "metadata": self.metadata,
            "method": self.method.as_dict(shown),
        }

    def _error(self) -> dict[str, Any] | None:
        if self.error is None:
            return None
        code, message, param = self.error
        return {"code": code, "message": message, "param": param}

    @property
    def trained_tokens(self) -> int:
        return self.examples.tokens * self.epochs if self.examples else 0

    # --- checkpoints and models ---------------------------------------------------------

    def checkpoint_steps(self, now: float) -> list[int]:
        """The steps of the checkpoints made by ``now``: one at the end of each epoch, oldest first."""
        if not self.epochs or now < self.timeline.started:
            return []
        done = self.timeline.steps_done(now)
        per = self.steps_per_epoch
        return [epoch * per for epoch in range(1, self.epochs + 1) if epoch * per <= done]

    def checkpoint_model(self, step: int) -> str:
        """The model a checkpoint names: the job's own model for the last epoch's."""
        if step == self.timeline.steps:
            return self.fine_tuned_model
        return checkpoint_name(self.snapshot, self.organization, self.suffix, self.id, step)

    def checkpoint(self, step: int) -> dict[str, Any]:
        """The ``fine_tuning.job.checkpoint`` object of the checkpoint at ``step``."""
        validation = self.validation_file is not None
        return {
            "id": checkpoint_id(self.id, step),
            "object": "fine_tuning.job.checkpoint",
            "created_at": int(self.timeline.step_time(step)),
            "fine_tuned_model_checkpoint": self.checkpoint_model(step),
            "fine_tuning_job_id": self.id,
            "metrics": checkpoint_metrics(self.seed, step, self.timeline.steps, self.steps_per_epoch, validation),
            "step_number": step,
        }

    def models(self, now: float) -> list[FineTunedModel]:
        """The models this job has made by ``now`` and that are not deleted: its checkpoints', and
        its own once it has succeeded."""
        out: list[FineTunedModel] = []
        status = self.timeline.status(now)
        for step in self.checkpoint_steps(now):
            name = self.checkpoint_model(step)
            is_own = name == self.fine_tuned_model
            if name in self.deleted or (is_own and status != "succeeded"):
                continue
            created = int(self.timeline.final()[1] if is_own else self.timeline.step_time(step))
            checkpoint = None if is_own else step
            out.append(FineTunedModel(name, created, self.organization_id, self.id, self.snapshot, checkpoint))
        return out


def token(seed: str, length: int) -> str:
    digest = hashlib.blake2b(seed.encode(), digest_size=length).digest()
    return "".join(BASE62[b % 62] for b in digest)


def checkpoint_id(job_id: str, step: int) -> str:
    return "ftckpt_" + token(f"checkpoint:{job_id}:{step}", 24)
