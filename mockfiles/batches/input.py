"""A Batch input file, read and checked when the batch is validated (not at upload).

OpenAI accepts a ``.jsonl`` batch file whose lines are bad (``processed``) and fails the
batch built from it instead: ``validating -> failed`` with ``errors.data`` entries
``{code, line, message, param}``. This module is that check, with OpenAI's codes.

The file is read as the store holds it, a tuple of chunks, one line at a time: nothing
joins it into one copy, and nothing keeps the parsed requests. A 50,000-line file keeps
only its custom_ids (for duplicates) while it is checked; the requests are parsed again,
one by one, when the results are written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MAX_ERRORS = 10  # problems reported per file; the scan stops at the tenth (a choice: OpenAI reports several)
BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class LineError:
    """One entry of a failed batch's ``errors.data``."""

    code: str
    message: str
    line: int | None = None
    param: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "line": self.line, "message": self.message, "param": self.param}


@dataclass(frozen=True, slots=True)
class Request:
    """One valid line: what the batch runs."""

    index: int  # 0-based, among the requests
    line: int  # 1-based, in the file
    custom_id: str
    url: str
    body: dict[str, Any]

    @property
    def model(self) -> str:
        return str(self.body["model"])


@dataclass(frozen=True, slots=True)
class Limits:
    max_requests: int = 50_000
    max_embedding_inputs: int = 50_000


def iter_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a file held as chunks, without joining the chunks into one copy."""
    pending = b""
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                pending += chunk[start:]
                break
            yield pending + chunk[start:end]
            pending = b""
            start = end + 1
    if pending:
        yield pending


def _parsed_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON or _UNPARSEABLE) for every line that is not blank.

    Blank lines (a trailing one from an editor, or any other) are skipped, not errors:
    a choice, as no request is lost by skipping them. A UTF-8 byte order mark on the
    first line is ignored.
    """
    for number, raw in enumerate(iter_lines(chunks), start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
            if number == 1 and text.startswith(BOM):
                text = text[1:]
            yield number, json.loads(text)
        except ValueError:  # UnicodeDecodeError and JSONDecodeError alike
            yield number, _UNPARSEABLE


_UNPARSEABLE = object()


def read_requests(chunks: Iterable[bytes]) -> Iterator[Request]:
    """The requests of a file that ``Validation`` accepted, parsed again one at a time."""
    index = 0
    for number, obj in _parsed_lines(chunks):
        yield Request(index, number, obj["custom_id"], obj["url"], obj["body"])
        index += 1


class Validation:
    """Checks a file against a batch's endpoint; ``requests()`` yields the valid lines
    and leaves the problems in ``errors`` (empty: the batch can run)."""

    def __init__(self, endpoint: str, limits: Limits = Limits()) -> None:
        self.endpoint = endpoint
        self.limits = limits
        self.errors: list[LineError] = []
        self.model: str | None = None  # the model of the first valid line: the batch's model
        self.count = 0  # valid requests seen
        self.embedding_inputs = 0

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_ERRORS

    def requests(self, chunks: Iterable[bytes]) -> Iterator[Request]:
        seen: dict[str, int] = {}
        lines = 0
        for number, obj in _parsed_lines(chunks):
            lines += 1
            if lines > self.limits.max_requests:
                self.errors.append(too_many_tasks(self.limits.max_requests))
                return
            problem = self._check(number, obj, seen)
            if problem is not None:
                self.errors.append(problem)
                if self.full:
                    return
                continue
            request = Request(self.count, number, obj["custom_id"], obj["url"], obj["body"])
            self.count += 1
            if self.endpoint in ("/v1/embeddings", "/embeddings"):
                self.embedding_inputs += count_inputs(request.body.get("input"))
                if self.embedding_inputs > self.limits.max_embedding_inputs:
                    self.errors.append(too_many_inputs(self.limits.max_embedding_inputs))
                    return
            yield request
        if lines == 0:
            self.errors.append(LineError("empty_file", MESSAGES["empty_file"]))

    def _check(self, number: int, obj: Any, seen: dict[str, int]) -> LineError | None:
        if obj is _UNPARSEABLE:
            return LineError("invalid_json_line", MESSAGES["invalid_json_line"], number)
        if not isinstance(obj, dict):
            return LineError("invalid_json_line", MESSAGES["not_an_object"].format(got=kind(obj)), number)
        for name in ("custom_id", "method", "url", "body"):
            problem = _field(number, obj, name)
            if problem is not None:
                return problem
        custom_id = obj["custom_id"]
        if custom_id in seen:
            message = MESSAGES["duplicate_custom_id"].format(first=seen[custom_id])
            return LineError("duplicate_custom_id", message, number, "custom_id")
        seen[custom_id] = number
        if obj["url"] != self.endpoint:
            message = MESSAGES["url_mismatch"].format(url=obj["url"], endpoint=self.endpoint)
            return LineError("url_mismatch", message, number, "url")
        model = obj["body"].get("model")
        if model is None:
            return LineError(
                "missing_required_parameter", MESSAGES["missing"].format(name="body.model"), number, "body.model"
            )
        if not isinstance(model, str) or not model:
            message = MESSAGES["invalid_type"].format(name="body.model", expected="a non-empty string", got=kind(model))
            return LineError("invalid_type", message, number, "body.model")
        if self.model is None:
            self.model = model
        elif model != self.model:
            message = MESSAGES["model_mismatch"].format(model=model, expected=self.model)
            return LineError("model_mismatch", message, number, "body.model")
        return None


def _field(number: int, obj: dict[str, Any], name: str) -> LineError | None:
    """A missing or mistyped top-level field of one line."""
    if name not in obj or obj[name] is None:
        return LineError("missing_required_parameter", MESSAGES["missing"].format(name=name), number, name)
    value = obj[name]
    expected = "an object" if name == "body" else "a non-empty string"
    wrong = not isinstance(value, dict) if name == "body" else not isinstance(value, str) or not value
    if wrong:
        message = MESSAGES["invalid_type"].format(name=name, expected=expected, got=kind(value))
        return LineError("invalid_type", message, number, name)
    if name == "method" and value != "POST":
        return LineError("invalid_value", MESSAGES["method"].format(method=value), number, "method")
    return None


def count_inputs(value: Any) -> int:
    """Embedding inputs in one request: a string or a token array is one, a list of them is many."""
    if isinstance(value, list) and value and not all(isinstance(v, int) for v in value):
        return len(value)
    return 1


def too_many_tasks(limit: int) -> LineError:
    return LineError("too_many_tasks", MESSAGES["too_many_tasks"].format(limit=limit))


def too_many_inputs(limit: int) -> LineError:
    return LineError("too_many_tasks", MESSAGES["too_many_inputs"].format(limit=limit))


def kind(value: Any) -> str:
    """A JSON value's kind as OpenAI's messages name it ("an integer", "an array")."""
    if value is None:
        return "null"
    if value == "":
        return "an empty string"
    if isinstance(value, bool):
        return "a boolean"
    return {int: "an integer", float: "a number", str: "a string", list: "an array", dict: "an object"}.get(
        type(value), type(value).__name__
    )


# The wording of every validation error, in one place. Only invalid_json_line's message was
# seen live; the others follow OpenAI's usual phrasing (docs/batches.md, "Validation").
MESSAGES = {
    "invalid_json_line": "This line is not parseable as valid JSON.",
    "not_an_object": "This line is not a JSON object (got {got}).",
    "missing": "Missing required parameter: '{name}'.",
    "invalid_type": "Invalid type for '{name}': expected {expected}, but got {got} instead.",
    "method": "Invalid value: '{method}'. Supported values are: 'POST'.",
    "duplicate_custom_id": (
        "The custom_id for this request is a duplicate of another request (line {first}). "
        "The custom_id parameter must be unique for each request in a batch."
    ),
    "url_mismatch": "The URL provided for this request ('{url}') does not match the batch endpoint ('{endpoint}').",
    "model_mismatch": (
        "The model provided for this request ('{model}') does not match the model of the batch ('{expected}'). "
        "A batch input file can only use one model."
    ),
    "empty_file": "The batch input file is empty. Please ensure that it contains at least one request.",
    "too_many_tasks": "The batch input file contains more than the maximum of {limit} requests.",
    "too_many_inputs": "The batch contains more than the maximum of {limit} embedding inputs across all requests.",
}
