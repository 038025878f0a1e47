"""The models a fine-tuning job can start from, and the names of the models it makes.

A job names its base model by alias (``gpt-4o-mini``) or snapshot (``gpt-4o-mini-2024-07-18``);
the job shows the snapshot, as OpenAI's jobs do. Each base model takes some methods
(``supervised``, ``dpo``, ``reinforcement``) and one training-file format: chat examples, or
prompt/completion pairs for the two legacy completion models. A fine-tuned model of the same
account can be fine-tuned again: the new job starts from it and its name keeps the snapshot.

A job that succeeds makes a model named ``ft:{snapshot}:{organization}:{suffix}:{id}`` (``id``:
8 characters, the suffix empty when none was given), and one checkpoint model per epoch
before the last, ``...:{id}:ckpt-step-{step}``; the last epoch's checkpoint is the model itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CHAT_METHODS = ("supervised", "dpo")


@dataclass(frozen=True)
class BaseModel:
    snapshot: str
    methods: tuple[str, ...]
    completions: bool = False  # trains on prompt/completion pairs instead of chat examples
    learning_rate: float = 1.8  # learning_rate_multiplier when "auto" (seen on gpt-4o-mini jobs)


_SNAPSHOTS = (
    BaseModel("gpt-4.1-2025-04-14", CHAT_METHODS),
    BaseModel("gpt-4.1-mini-2025-04-14", CHAT_METHODS),
    BaseModel("gpt-4.1-nano-2025-04-14", CHAT_METHODS),
    BaseModel("gpt-4o-2024-08-06", CHAT_METHODS),
    BaseModel("gpt-4o-mini-2024-07-18", CHAT_METHODS),
    BaseModel("gpt-3.5-turbo-0125", ("supervised",), learning_rate=2.0),  # 2 on gpt-3.5-turbo jobs
    BaseModel("gpt-3.5-turbo-1106", ("supervised",), learning_rate=2.0),
    BaseModel("gpt-3.5-turbo-0613", ("supervised",), learning_rate=2.0),
    BaseModel("o4-mini-2025-04-16", ("reinforcement",)),
    BaseModel("babbage-002", ("supervised",), completions=True, learning_rate=2.0),
    BaseModel("davinci-002", ("supervised",), completions=True, learning_rate=2.0),
)
ALIASES = {
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "o4-mini": "o4-mini-2025-04-16",
}
BASE_MODELS = {m.snapshot: m for m in _SNAPSHOTS}


def base_model(name: str) -> BaseModel | None:
    """The base model an alias or a snapshot names (None for any other name)."""
    return BASE_MODELS.get(ALIASES.get(name, name))


def model_token(*parts: str) -> str:
    """8 characters naming one fine-tuned model, from the job's id (and the checkpoint's step)."""
    digest = hashlib.blake2b(":".join(("model", *parts)).encode(), digest_size=8).digest()
    return "".join(BASE62[b % 62] for b in digest)


def fine_tuned_name(snapshot: str, organization: str, suffix: str | None, job_id: str) -> str:
    return f"ft:{snapshot}:{organization}:{suffix or ''}:{model_token(job_id)}"


def checkpoint_name(snapshot: str, organization: str, suffix: str | None, job_id: str, step: int) -> str:
    return f"ft:{snapshot}:{organization}:{suffix or ''}:{model_token(job_id, str(step))}:ckpt-step-{step}"


@dataclass(frozen=True)
class FineTunedModel:
    """A model a job made: what ``/v1/models`` lists and the model routes accept for its account."""

    id: str
    created: int
    owned_by: str  # the organization id of the account
    job_id: str
    base: str  # the base model's snapshot
    checkpoint_step: int | None = None  # None: the job's model; else the checkpoint's step
