"""A Batch input file, read and checked when the batch is validated (not at upload).

OpenAI accepts a ``.jsonl`` batch file whose lines are bad (``processed``) and fails the
batch built from it instead: ``validating -> failed`` with ``errors.data`` entries
``{code, line, message, param}``. This module is that check, with OpenAI's codes.

A line is read as strict JSON: text that is not valid UTF-8, a lone surrogate (``"\udc00"``:
text no service can write back as UTF-8), ``NaN`` or ``Infinity``, a number too large for a
double, an integer of more than 4,300 digits, or nesting deeper than ``MAX_DEPTH`` levels makes
it ``invalid_json_line``, an error of that batch and nothing else: whatever a line carries can
then always be written back out as JSON (the output echoes parts of it).

The file is read as the store holds it, a tuple of chunks, one line at a time: nothing
joins it into one copy, and nothing keeps the parsed requests. A 50,000-line file keeps
only its custom_ids (for duplicates) while it is checked; the requests are parsed again,
one by one, when the results are written.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from mockfiles.core.echoes import echoed
from mockfiles.core.validation import utf8_writable

MAX_ERRORS = 10  # problems reported per file; the scan stops at the tenth (a choice: OpenAI reports several)
BOM = "\ufeff"
BOM_BYTES = BOM.encode()
MAX_DEPTH = 128  # levels of nesting in a line (serde_json's default); orjson itself stops at 1024
MAX_MODEL_CHARS = 256  # a model's name (the longest real one is under 100 characters)
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # where a lone surrogate could come from


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
        if number == 1 and raw.startswith(BOM_BYTES):
            raw = raw[len(BOM_BYTES) :]
        yield number, strict_json(raw)


_UNPARSEABLE = object()


def strict_json(raw: bytes) -> Any:
    """A line's JSON value, or ``_UNPARSEABLE`` (see the module's docstring for what is refused)."""
    try:
        value = _DECODER.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError, JSONDecodeError, 4,301 digits; deep nesting
        return _UNPARSEABLE
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and depth(value) > MAX_DEPTH:
        return _UNPARSEABLE
    if SURROGATE_ESCAPE.search(raw) is not None and not utf8_writable(value):
        return _UNPARSEABLE
    return value


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large for a number")
    return number


_DECODER = json.JSONDecoder(parse_constant=_refuse, parse_float=_finite)  # made once: json.loads would make one a line


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed value (iteratively: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item if isinstance(child, (list, dict)))
    return deepest


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
            message = MESSAGES["url_mismatch"].format(url=echoed(obj["url"]), endpoint=self.endpoint)
            return LineError("url_mismatch", message, number, "url")
        model = obj["body"].get("model")
        if model is None:
            return LineError(
                "missing_required_parameter", MESSAGES["missing"].format(name="body.model"), number, "body.model"
            )
        if not isinstance(model, str) or not model:
            message = MESSAGES["invalid_type"].format(name="body.model", expected="a non-empty string", got=kind(model))
            return LineError("invalid_type", message, number, "body.model")
        if len(model) > MAX_MODEL_CHARS:
            message = MESSAGES["model_too_long"].format(model=echoed(model), limit=MAX_MODEL_CHARS)
            return LineError("invalid_value", message, number, "body.model")
        if self.model is None:
            self.model = model
        elif model != self.model:
            message = MESSAGES["model_mismatch"].format(model=echoed(model), expected=self.model)
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
        return LineError("invalid_value", MESSAGES["method"].format(method=echoed(value)), number, "method")
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
    "model_too_long": "Invalid value for 'body.model': '{model}' is longer than {limit} characters.",
    "empty_file": "The batch input file is empty. Please ensure that it contains at least one request.",
    "too_many_tasks": "The batch input file contains more than the maximum of {limit} requests.",
    "too_many_inputs": "The batch contains more than the maximum of {limit} embedding inputs across all requests.",
}
