"""What ``fine_tuning.jobs.create`` and the list routes accept, besides the method (method.py).

Create (OpenAPI ``CreateFineTuningJobRequest``): ``model`` and ``training_file`` required strings,
``validation_file`` a string or null, ``suffix`` 1-64 characters or null, ``seed`` an integer in
0..2147483647 or null, ``metadata`` at most 16 pairs of strings (as batches'), ``integrations`` at
most 5 of ``{type: wandb, wandb: {project, name?, entity?, tags?}}``. Lists: ``limit`` 1-100
(jobs: default 20; checkpoints: default 10), events 1-1000 (default 20), ``after`` an id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockfiles.batches.params import check_metadata as check_metadata
from mockfiles.core.errors import InvalidRequest, InvalidType, InvalidValue, MissingParameter, UnknownParameter
from mockfiles.core.validation import check_range, json_type, parse_int
from mockfiles.files.use import Problem, Use
from mockfiles.fine_tuning.method import Method, parse_method

CREATE_KEYS = frozenset(
    (
        "model",
        "training_file",
        "validation_file",
        "suffix",
        "seed",
        "method",
        "hyperparameters",
        "integrations",
        "metadata",
    )
)
MAX_STEPS = 250_000
TOO_MANY_STEPS = (
    "This job would train for {steps:,} steps; mockfiles trains at most {limit:,} steps per job (its results "
    "file holds a row per step). Lower n_epochs or raise batch_size."
)
SUFFIX_CHARS = 64
SEED_MAX = 2_147_483_647
INTEGRATIONS_MAX = 5
WANDB_KEYS = ("project", "name", "entity", "tags")
JOBS_LIMIT = (20, 1, 100)
EVENTS_LIMIT = (20, 1, 1000)
CHECKPOINTS_LIMIT = (10, 1, 100)


FILE_REASONS: dict[Problem, str] = {
    "missing": "ft_file_missing",
    "purpose": "ft_file_purpose",
    "processing": "ft_file_not_ready",
    "failed": "ft_file_failed",
}


def file_use(param: str) -> Use:
    return Use(param, purposes=frozenset({"fine-tune"}), reasons=FILE_REASONS, missing_status=400)


def required_string(value: object, name: str) -> str:
    if value is None:
        raise MissingParameter(name)
    if not isinstance(value, str):
        raise InvalidType(name, expected="a string", got=json_type(value))
    if not value:
        raise InvalidRequest("empty_string", param=name)
    return value


def optional_string(value: object, name: str) -> str | None:
    return None if value is None else required_string(value, name)


def check_suffix(value: object) -> str | None:
    suffix = optional_string(value, "suffix")
    if suffix is not None and len(suffix) > SUFFIX_CHARS:
        raise InvalidRequest("string_above_max_length", param="suffix", limit=SUFFIX_CHARS, length=len(suffix))
    return suffix


def check_seed(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType("seed", expected="an integer", got=json_type(value))
    check_range(value, "seed", 0, SEED_MAX)
    return value


def check_integrations(value: object) -> list[dict[str, Any]] | None:
    """The integrations as the job shows them (``FineTuningJobWandbIntegrationObject``)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidType("integrations", expected="an array", got=json_type(value))
    if len(value) > INTEGRATIONS_MAX:
        raise InvalidRequest("array_above_max_length", param="integrations", limit=INTEGRATIONS_MAX, length=len(value))
    out = []
    for i, item in enumerate(value):
        name = f"integrations[{i}]"
        if not isinstance(item, dict):
            raise InvalidType(name, expected="an object", got=json_type(item))
        for key in item:
            if key not in ("type", "wandb"):
                raise UnknownParameter(f"{name}.{key}")
        kind = required_string(item.get("type"), f"{name}.type")
        if kind != "wandb":
            raise InvalidValue(f"{name}.type", kind, ("wandb",))
        wandb = item.get("wandb")
        if wandb is None:
            raise MissingParameter(f"{name}.wandb")
        if not isinstance(wandb, dict):
            raise InvalidType(f"{name}.wandb", expected="an object", got=json_type(wandb))
        for key in wandb:
            if key not in WANDB_KEYS:
                raise UnknownParameter(f"{name}.wandb.{key}")
        shown: dict[str, Any] = {"project": required_string(wandb.get("project"), f"{name}.wandb.project")}
        for key in ("name", "entity"):
            shown[key] = optional_string(wandb.get(key), f"{name}.wandb.{key}")
        tags = wandb.get("tags")
        if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
            raise InvalidType(f"{name}.wandb.tags", expected="an array of strings", got=json_type(tags))
        shown["tags"] = tags
        out.append({"type": "wandb", "wandb": shown})
    return out


def page_limit(raw: int | str | None, bounds: tuple[int, int, int]) -> int:
    default, low, high = bounds
    count = default if raw is None else parse_int(raw, "limit")
    check_range(count, "limit", low, high)
    return count


def metadata_filter(query: Mapping[str, str]) -> dict[str, str] | None:
    """The list's metadata filter from ``metadata[k]=v`` parameters (None: no filter), or ``{}``
    for ``metadata=null`` (jobs without metadata). Both forms at once are refused."""
    pairs = {key[9:-1]: value for key, value in query.items() if key.startswith("metadata[") and key.endswith("]")}
    given = query.get("metadata")
    if given is not None:
        if given != "null" or pairs:
            raise InvalidRequest("metadata_filter", param="metadata")
        return {}
    return pairs or None


@dataclass(frozen=True)
class CreateJob:
    """A create's body, checked field by field (the first field wrong is the 400); what depends on
    the account (the model, the files) is checked by the service."""

    model: str
    training_file: str
    validation_file: str | None
    suffix: str | None
    seed: int | None
    metadata: dict[str, str] | None
    method: Method
    integrations: list[dict[str, Any]] | None

    @classmethod
    def parse(cls, body: Mapping[str, object]) -> CreateJob:
        for key in body:
            if key not in CREATE_KEYS:
                raise InvalidRequest("unrecognized_argument", param=key)
        return cls(
            model=required_string(body.get("model"), "model"),
            training_file=required_string(body.get("training_file"), "training_file"),
            validation_file=optional_string(body.get("validation_file"), "validation_file"),
            suffix=check_suffix(body.get("suffix")),
            seed=check_seed(body.get("seed")),
            metadata=check_metadata(body.get("metadata")),
            method=parse_method(body.get("method"), body.get("hyperparameters")),
            integrations=check_integrations(body.get("integrations")),
        )
