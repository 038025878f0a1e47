"""The Uploads API's JSON request bodies, checked field by field into typed requests.

A route hands over the body's JSON object (``parse``); what comes back has every field
present and of its type, or a 400 naming the first field that is not. What depends on the
account or the profile (purposes, sizes, quotas) is checked by the Uploads service.
The body's fields are those of the OpenAPI schemas ``CreateUploadRequest`` and
``CompleteUploadRequest``; both say ``additionalProperties: false``, so any other is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from mockfiles.core.errors import InvalidRequest, InvalidType, MissingParameter, OutOfRange, UnknownParameter
from mockfiles.core.profiles import UploadRules
from mockfiles.core.validation import check_range, parse_expires_after

MD5_HEX = re.compile(r"[0-9a-fA-F]{32}")
CREATE_FIELDS = ("bytes", "filename", "mime_type", "purpose", "expires_after")
COMPLETE_FIELDS = ("part_ids", "md5")
EXPIRES_AFTER_FIELDS = ("anchor", "seconds")
INT64_MAX = 2**63 - 1  # beyond it, no service's validator reads the number as an integer at all
MIME_TYPE_MAX = 255  # characters: a type and a subtype of at most 127 each and "/" (RFC 6838, 4.2)
T = TypeVar("T")


@dataclass(frozen=True)
class CreateRequest:
    bytes: int
    filename: str
    mime_type: str  # any string of at most 255 characters: no per-purpose list of MIME types is published
    purpose: str
    expires_after: int | None = None  # seconds: the completed File's lifetime

    @classmethod
    def parse(cls, body: object) -> CreateRequest:
        """A create's body checked field by field (the first field wrong is the 400)."""
        fields = _object(body, CREATE_FIELDS)
        size = _required(fields, "bytes", int)
        if size < 1:  # an empty file cannot be stored (POST /files refuses one too)
            check_range(size, "bytes", 1, 1)
        if size > INT64_MAX:  # said as any integer out of range is; up to it, the service names its 8 GiB
            raise OutOfRange("bytes", low=1, high=UploadRules.max_bytes, value=size)
        filename = _required(fields, "filename", str)
        mime_type = _required(fields, "mime_type", str)
        if len(mime_type) > MIME_TYPE_MAX:
            raise InvalidRequest("string_too_long", param="mime_type", limit=MIME_TYPE_MAX, length=len(mime_type))
        purpose = _required(fields, "purpose", str)
        return cls(size, filename, mime_type, purpose, _expires_after(fields.get("expires_after")))


@dataclass(frozen=True)
class CompleteRequest:
    part_ids: tuple[str, ...]
    md5: str | None = None  # lower-case hex

    @classmethod
    def parse(cls, body: object) -> CompleteRequest:
        """A complete's body checked field by field."""
        fields = _object(body, COMPLETE_FIELDS)
        part_ids: list[object] = _required(fields, "part_ids", list)
        ids: list[str] = []
        for i, part_id in enumerate(part_ids):
            if not isinstance(part_id, str):
                raise InvalidType(f"part_ids[{i}]", expected="a string", got=kind(part_id))
            ids.append(part_id)
        raw = fields.get("md5")
        md5 = None if raw is None else _typed(raw, "md5", str)
        if md5 is not None and not MD5_HEX.fullmatch(md5):
            raise InvalidRequest("md5_format", param="md5", md5=md5[:64])
        return cls(tuple(ids), None if md5 is None else md5.lower())


def kind(value: object) -> str:
    """A JSON value's type as OpenAI's validation messages name it."""
    if value is None:
        return "null"
    for cls, name in ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string")):
        if isinstance(value, cls):
            return name
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_EXPECTED = {int: "an integer", str: "a string", list: "an array", dict: "an object"}


def _object(body: object, known: tuple[str, ...], prefix: str = "") -> Mapping[str, object]:
    if not isinstance(body, dict):
        if prefix:
            raise InvalidType(prefix.rstrip("."), expected="an object", got=kind(body))
        raise InvalidRequest("upload_body_not_object", got=kind(body))
    for name in body:
        if name not in known:
            raise UnknownParameter(prefix + str(name))
    return body


def _required(fields: Mapping[str, object], name: str, cls: type[T]) -> T:
    """A field that must be there, of type ``cls`` (a JSON true is no integer)."""
    if name not in fields:
        raise MissingParameter(name)
    return _typed(fields[name], name, cls)


def _typed(value: object, name: str, cls: type[T]) -> T:
    if not isinstance(value, cls) or (cls is int and isinstance(value, bool)):
        raise InvalidType(name, expected=_EXPECTED[cls], got=kind(value))
    return value


def _expires_after(value: object) -> int | None:
    """As for POST /files: both parts or neither, anchor ``created_at``, 3600 to 2592000 seconds."""
    if value is None:
        return None
    return parse_expires_after(_object(value, EXPIRES_AFTER_FIELDS, prefix="expires_after."), text=False)
