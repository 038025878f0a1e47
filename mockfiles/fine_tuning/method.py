"""A job's ``method`` (``supervised``, ``dpo``, ``reinforcement``) and its hyperparameters, as
``fine_tuning.jobs.create`` accepts them (OpenAPI ``FineTuneMethod``), the deprecated top-level
``hyperparameters`` included, and how ``auto`` values are settled once the training file is read.

Ranges (OpenAPI): ``batch_size`` auto or 1-256, ``n_epochs`` auto or 1-50,
``learning_rate_multiplier`` auto or > 0, DPO's ``beta`` auto or in (0, 2], reinforcement's
``compute_multiplier`` auto or in (0, 10], ``eval_interval`` and ``eval_samples`` auto or >= 1,
``reasoning_effort`` one of default/low/medium/high. Every refusal names the nested parameter
(``method.supervised.hyperparameters.n_epochs``) in OpenAI's validation words.

``auto`` settles as OpenAI's published data-preparation guide computes epochs (3, raised so that
the job sees at least 100 examples, lowered so that it sees at most 25,000, within 1-25), as the
legacy guide describes batches (about 0.2% of the examples, 1-256), and as real jobs show the
learning-rate multiplier (1.8 on gpt-4o/4.1 models, 2 on the others); ``beta`` 0.1,
``compute_multiplier`` 1, ``eval_interval`` and ``eval_samples`` 1 are choices (docs/fine_tuning.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockfiles.core.errors import InvalidRequest, InvalidType, InvalidValue, MissingParameter, UnknownParameter
from mockfiles.core.validation import json_type

METHODS = ("supervised", "dpo", "reinforcement")
COMMON = ("batch_size", "learning_rate_multiplier", "n_epochs")
EXTRA = {
    "supervised": (),
    "dpo": ("beta",),
    "reinforcement": ("compute_multiplier", "eval_interval", "eval_samples", "reasoning_effort"),
}
REASONING_EFFORTS = ("default", "low", "medium", "high")
GRADERS = {  # a grader's type and the fields the SDK's model of it requires
    "string_check": ("name", "input", "reference", "operation"),
    "text_similarity": ("name", "input", "reference", "evaluation_metric"),
    "python": ("name", "source"),
    "score_model": ("name", "model", "input"),
    "multi": ("name", "graders", "calculate_output"),
}
TARGET_EPOCHS, MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES = 3, 100, 25_000
MIN_DEFAULT_EPOCHS, MAX_DEFAULT_EPOCHS = 1, 25


@dataclass(frozen=True)
class Method:
    type: str = "supervised"
    given: dict[str, Any] = field(default_factory=dict)  # every hyperparameter: its value or "auto"
    grader: dict[str, Any] | None = None  # reinforcement's
    response_format: Any = None  # reinforcement's, echoed

    def resolved(self, examples: int, learning_rate: float) -> dict[str, Any]:
        """The hyperparameters with every ``auto`` settled for a training file of ``examples``."""
        out = dict(self.given)
        if out["n_epochs"] == "auto":
            out["n_epochs"] = default_epochs(examples)
        if out["batch_size"] == "auto":
            out["batch_size"] = max(1, min(256, round(examples * 0.002)))
        if out["learning_rate_multiplier"] == "auto":
            out["learning_rate_multiplier"] = learning_rate
        settled = {"beta": 0.1, "compute_multiplier": 1.0, "eval_interval": 1, "eval_samples": 1}
        return {key: settled.get(key, value) if value == "auto" else value for key, value in out.items()}

    def as_dict(self, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        """The job's ``method`` with these hyperparameters (as given, or settled)."""
        inner: dict[str, Any] = {"hyperparameters": dict(hyperparameters)}
        if self.type == "reinforcement":
            inner["grader"] = self.grader
            if self.response_format is not None:
                inner["response_format"] = self.response_format
        return {"type": self.type, self.type: inner}


def default_epochs(examples: int) -> int:
    if examples and examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // examples)
    if examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // examples)
    return TARGET_EPOCHS


def parse_method(method: object, hyperparameters: object) -> Method:
    """The job's method from ``method`` and the deprecated ``hyperparameters`` (one or the other)."""
    if method is not None and hyperparameters is not None:
        raise InvalidRequest("hyperparameters_twice", param="hyperparameters")
    if hyperparameters is not None:
        given = _hyperparameters(hyperparameters, "hyperparameters", "supervised")
        return Method("supervised", given)
    if method is None:
        return Method("supervised", _hyperparameters({}, "", "supervised"))
    entries = _object(method, "method")
    for key in entries:
        if key not in ("type", *METHODS):
            raise UnknownParameter(f"method.{key}")
    kind = entries.get("type")
    if kind is None:
        raise MissingParameter("method.type")
    if not isinstance(kind, str):
        raise InvalidType("method.type", expected="a string", got=json_type(kind))
    if kind not in METHODS:
        raise InvalidValue("method.type", kind, METHODS)
    for other in METHODS:
        if other != kind and entries.get(other) is not None:
            raise InvalidRequest("method_other_settings", param=f"method.{other}", given=other, kind=kind)
    settings = _object(entries.get(kind) or {}, f"method.{kind}")
    allowed = ("hyperparameters", "grader", "response_format") if kind == "reinforcement" else ("hyperparameters",)
    for key in settings:
        if key not in allowed:
            raise UnknownParameter(f"method.{kind}.{key}")
    given = _hyperparameters(settings.get("hyperparameters") or {}, f"method.{kind}.hyperparameters", kind)
    if kind != "reinforcement":
        return Method(kind, given)
    return Method(
        kind, given, _grader(settings.get("grader"), "method.reinforcement.grader"), settings.get("response_format")
    )


def _object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidType(name, expected="an object", got=json_type(value))
    return value


def _hyperparameters(value: object, name: str, kind: str) -> dict[str, Any]:
    entries = _object(value, name)
    keys = (*COMMON, *EXTRA[kind])
    for key in entries:
        if key not in keys:
            raise UnknownParameter(f"{name}.{key}")
    out: dict[str, Any] = {}
    for key in keys:
        param = f"{name}.{key}" if name else key
        given = entries.get(key, "default" if key == "reasoning_effort" else "auto")
        out[key] = _checked(key, given, param)
    return out


def _checked(key: str, value: Any, param: str) -> Any:
    if key == "reasoning_effort":
        if not isinstance(value, str):
            raise InvalidType(param, expected="a string", got=json_type(value))
        if value not in REASONING_EFFORTS:
            raise InvalidValue(param, value, REASONING_EFFORTS)
        return value
    if value == "auto":
        return value
    if isinstance(value, str):
        raise InvalidValue(param, value, ("auto",))
    if key in ("batch_size", "n_epochs", "eval_interval", "eval_samples"):
        return _integer(value, param, 1, {"batch_size": 256, "n_epochs": 50}.get(key))
    high = {"beta": 2.0, "compute_multiplier": 10.0}.get(key)
    return _positive(value, param, high)


def _integer(value: Any, param: str, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(param, expected="'auto' or an integer", got=json_type(value))
    if value < low:
        raise InvalidRequest("below_minimum", param=param, low=low, value=value)
    if high is not None and value > high:
        raise InvalidRequest("above_maximum", param=param, high=high, value=value)
    return value


def _positive(value: Any, param: str, high: float | None) -> float:
    """A number above 0 (and at most ``high``), as a JSON number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidType(param, expected="'auto' or a number", got=json_type(value))
    if not math.isfinite(value) or value <= 0:
        raise InvalidRequest("decimal_not_above", param=param, low=0, value=value)
    if high is not None and value > high:
        raise InvalidRequest("decimal_above_max", param=param, high=high, value=value)
    return float(value)


def _grader(value: object, name: str) -> dict[str, Any]:
    if value is None:
        raise MissingParameter(name)
    grader = _object(value, name)
    kind = grader.get("type")
    if kind is None:
        raise MissingParameter(f"{name}.type")
    if not isinstance(kind, str):
        raise InvalidType(f"{name}.type", expected="a string", got=json_type(kind))
    if kind not in GRADERS:
        raise InvalidValue(f"{name}.type", kind, tuple(GRADERS))
    for key in GRADERS[kind]:
        if grader.get(key) is None:
            raise MissingParameter(f"{name}.{key}")
    return grader
