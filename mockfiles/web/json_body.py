"""A request's JSON body, read one way by every route that takes one: bounded (413 past the
route's limit), kept by the journal when the route keeps it, strict JSON with its integers exact
whatever their length, and an object, each failure said in the route's own words (``JsonBody``).
The route then checks the object into its typed request (``parse``).

orjson reads a body in about a microsecond, but an integer literal beyond 64 bits comes back
as a float (``99999999999999999999999999`` as ``1e+26``, then refused as "not an integer") or,
past 309 digits, as an error ("not JSON"). Python's ``json`` keeps such integers exact but
refuses one of more than 4,300 digits (``sys.get_int_max_str_digits``), again "not JSON". So a
body with a run of 19 or more digits (one orjson might not read exactly) is read by ``json``,
an integer too long to convert becoming a ``HugeInteger``: larger than any limit, so the check
that follows says "integer above maximum value" as it does for any number too large.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from starlette.requests import Request

from mockfiles.core.errors import BodyTooLarge, InvalidRequest
from mockfiles.core.record import Record
from mockfiles.core.validation import MAX_DIGITS, HugeInteger, utf8_writable
from mockfiles.web.head import head_of

LONG_DIGITS = re.compile(rb"\d{19,}")


class NotJson(ValueError):
    """The body is not one JSON value."""


def not_an_object(value: object) -> Exception:
    """The refusal of a body that is JSON but no object, unless a route words it otherwise."""
    return InvalidRequest("body_not_object")


def not_json() -> Exception:
    """The refusal of a body that is no JSON: by default the same words (the routes of OpenAI's
    Batches, Vector Stores and Fine-tuning APIs say "The request body must be a JSON object.")."""
    return InvalidRequest("body_not_object")


@dataclass(frozen=True)
class JsonBody:
    """How one route reads its JSON body: its size ``limit``, what no body reads as (``empty``;
    None: no body is no JSON), whether ``NaN``, ``Infinity`` and ``1e400`` read as floats
    (``constants``: the control routes, whose checks word such numbers themselves), whether the
    journal keeps the body as sent (``keep``), the size above which it is parsed in a worker thread
    (``thread_above``), and the errors of a body that is no JSON or not an object."""

    limit: int
    empty: bytes | None = b"{}"
    constants: bool = False
    keep: bool = True
    thread_above: int | None = None
    not_json: Callable[[], Exception] = not_json
    not_object: Callable[[object], Exception] = not_an_object

    async def read(self, request: Request, record: Record) -> dict[str, object]:
        """The request's JSON object, or the route's refusal."""
        raw = await bounded_body(request, self.limit, "body")
        if self.keep:
            record.keep_body(raw)
        if not raw and self.empty is not None:
            raw = self.empty
        if self.thread_above is not None and len(raw) > self.thread_above:
            return await asyncio.to_thread(self.parse, raw)
        return self.parse(raw)

    def parse(self, raw: bytes) -> dict[str, object]:
        try:
            value = loads(raw, constants=self.constants)
        except NotJson:
            raise self.not_json() from None
        if not isinstance(value, dict):
            raise self.not_object(value)
        return value


async def bounded_body(request: Request, limit: int, what: str = "body") -> bytes:
    """A small body whole, refused with 413 once it is longer than ``limit`` (at once when its
    declared length already is); ``what``: ``scenario`` or ``body``, for the refusal's words."""
    declared = head_of(request.scope).content_length or ""
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(what, limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(what, limit)
        chunks.append(chunk)
    return b"".join(chunks)


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
    if not utf8_writable(value):  # a lone surrogate, as orjson refuses it: it could not be written back
        raise NotJson
    return value


def _integer(text: str) -> int:
    return HugeInteger(text) if len(text.lstrip("-")) > MAX_DIGITS else int(text)


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity, which orjson refuses too
