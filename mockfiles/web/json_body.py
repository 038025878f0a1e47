"""A request body's JSON, read the same way by every route that takes one (uploads, batches, the
control routes), with its integers exact whatever their length.

orjson reads a body in about a microsecond, but an integer literal beyond 64 bits comes back
as a float (``99999999999999999999999999`` as ``1e+26``, then refused as "not an integer") or,
past 309 digits, as an error ("not JSON"). Python's ``json`` keeps such integers exact but
refuses one of more than 4,300 digits (``sys.get_int_max_str_digits``), again "not JSON". So a
body with a run of 19 or more digits (one orjson might not read exactly) is read by ``json``,
an integer too long to convert becoming a ``HugeInteger``: larger than any limit, so the check
that follows says "integer above maximum value" as it does for any number too large.
"""

from __future__ import annotations

import json
import re

import orjson

from mockfiles.core.validation import MAX_DIGITS, HugeInteger

LONG_DIGITS = re.compile(rb"\d{19,}")


class NotJson(ValueError):
    """The body is not one JSON value."""


def loads(raw: bytes, *, constants: bool = False) -> object:
    """The JSON value of ``raw``; ``NotJson`` when it is none. ``constants``: ``NaN``, ``Infinity``
    and ``1e400`` are read as floats, as Python's ``json`` reads them, for the control routes,
    whose checks word such numbers themselves (``advance``: "0 to 100 years")."""
    if not constants and LONG_DIGITS.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise NotJson from None
    try:
        value = json.loads(raw, parse_int=_integer, parse_constant=None if constants else _no_constant)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
        raise NotJson from None
    _check_text(value)
    return value


def _integer(text: str) -> int:
    return HugeInteger(text) if len(text.lstrip("-")) > MAX_DIGITS else int(text)


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity, which orjson refuses too


def _check_text(value: object) -> None:
    """Refuse a lone surrogate (``"\\ud800"``), as orjson does: it could not be written back as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise NotJson from None
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
