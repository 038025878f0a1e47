"""Checks of request parameters that every API shares: integers in a range, JSON values of a type,
an ``expires_after`` object. Each problem is a data-carrying error naming the parameter; the
words are in the error table (``error_table.py``), as OpenAI's validation says them.
"""

from __future__ import annotations

import re
import sys
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
INTEGER = re.compile(r"-?[0-9]+")  # re.ASCII is not needed: [0-9] is ASCII only
MAX_DIGITS = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
SHOWN_DIGITS = 64


class HugeInteger(int):
    """An integer written with more than 4,300 digits (more than ``int()`` converts): 10^4000 with
    its sign (above or below every limit), shown as its first 64 characters and ``…`` wherever a
    message repeats it."""

    def __new__(cls, text: str) -> HugeInteger:
        value = super().__new__(cls, -(10**4000) if text.startswith("-") else 10**4000)
        value.text = text[:SHOWN_DIGITS] + "…"
        return value

    text: str

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(self.text, spec)


JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),  # before int: a JSON true is not an integer
    (int, "an integer"),
    (float, "a decimal number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)


def utf8_writable(value: object) -> bool:
    """Whether every string in a parsed JSON value is text that UTF-8 can write: no lone surrogate
    (``"\\ud800"``, which Python's ``json`` reads and orjson refuses). Walked iteratively: no
    recursion limit."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


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
    """An integer written as text (a query parameter, a form field): ASCII digits, with a ``-``
    for a negative one, as JSON writes integers. Python's ``int()`` also takes what the API's
    validation refuses (``' 3600 '``, ``'+3600'``, ``'3_600'``, ``'٣٦٠٠'``); one of more than 4,300
    digits is larger than every limit (a ``HugeInteger``), not "not an integer"."""
    if isinstance(raw, int):
        return raw
    if INTEGER.fullmatch(raw) is None:
        raise NotAnInteger(param, raw)
    return int(raw) if len(raw) <= MAX_DIGITS else HugeInteger(raw)


def check_range(value: int, param: str, low: int, high: int) -> None:
    if not low <= value <= high:
        raise OutOfRange(param, low=low, high=high, value=value)
