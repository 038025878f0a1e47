"""Checks of request parameters that every API shares: integers in a range, JSON values of a type,
an ``expires_after`` object. Each problem is a data-carrying error naming the parameter; the
words are in the error table (``error_table.py``), as OpenAI's validation says them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from mockfiles.core.errors import (
    InvalidType,
    InvalidValue,
    MissingParameter,
    NotAnInteger,
    OutOfRange,
    UnknownParameter,
)

T = TypeVar("T")
EXPIRES_MIN = 3600
EXPIRES_MAX = 2_592_000
EXPIRES_AFTER_KEYS = ("anchor", "seconds")

JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),  # before int: a JSON true is not an integer
    (int, "an integer"),
    (float, "a decimal number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)


def json_type(value: object) -> str:
    """How the API's validation names a JSON value's type."""
    for kind, name in JSON_TYPES:
        if isinstance(value, kind):
            return name
    return "null"


def parse_expires_after(fields: Mapping[str, object], *, text: bool, name: str = "expires_after") -> int:
    """Validate an ``expires_after`` object and return its seconds; every problem is a 400
    naming the nested parameter (``expires_after.seconds``; ``name`` is the object's own
    parameter: a batch's is ``output_expires_after``). ``text``: the values came as form
    fields (``expires_after[seconds]=3600``), where every value is text and ``seconds`` is
    read as a number; otherwise they are JSON values, and ``seconds`` must be a JSON
    integer (``"3600"`` is a type error, as the API's JSON validation says)."""
    for key in fields:
        if key not in EXPIRES_AFTER_KEYS:
            raise UnknownParameter(f"{name}.{key}")
    anchor = required(fields, "anchor", str, name)
    if anchor != "created_at":
        raise InvalidValue(f"{name}.anchor", anchor, ("created_at",))
    raw = fields.get("seconds")
    seconds = (
        parse_int(str(raw), f"{name}.seconds") if text and raw is not None else required(fields, "seconds", int, name)
    )
    check_range(seconds, f"{name}.seconds", EXPIRES_MIN, EXPIRES_MAX)
    return seconds


def required(fields: Mapping[str, object], key: str, kind: type[T], name: str = "expires_after") -> T:
    """``<name>.<key>``: present, and a JSON value of ``kind``."""
    param = f"{name}.{key}"
    if key not in fields:
        raise MissingParameter(param)
    value = fields[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidType(param, expected=dict(JSON_TYPES)[kind], got=json_type(value))
    return value


def parse_int(raw: str | int, param: str) -> int:
    if isinstance(raw, int):
        return raw
    try:
        return int(raw)
    except ValueError:
        raise NotAnInteger(param, raw) from None


def check_range(value: int, param: str, low: int, high: int) -> None:
    if not low <= value <= high:
        raise OutOfRange(param, low=low, high=high, value=value)
