"""What ``batches.create`` and ``batches.list`` accept. The Batches service's refusals are worded
in the one error table (``error_table.py``): the metadata ones are OpenAI's wording as third-party
emulators pinned it from live probes; the cancel one was seen live (a 409); the others are choices.

The checks follow OpenAI's ``batch_create_params``: ``completion_window`` is ``24h``;
``metadata`` is at most 16 pairs of strings, keys up to 64 characters, values up to 512;
``output_expires_after`` is ``{anchor: created_at, seconds: 3600..2592000}`` as a file's
``expires_after``. A profile can widen the window (DashScope: 24 to 336 hours, in ``h`` or ``d``)
and hold some metadata keys shorter (DashScope: ``ds_name`` 100 characters, ``ds_description`` 200).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from mockfiles.batches.input import kind
from mockfiles.core.errors import InvalidRequest, InvalidType, InvalidValue, MissingParameter, UnknownParameter
from mockfiles.core.profiles import BatchRules
from mockfiles.core.validation import check_range, parse_expires_after, parse_int

COMPLETION_WINDOWS = ("24h",)
DAY_WINDOW = 86_400.0
WINDOW = re.compile(r"([0-9]{1,6})([hd])")
CREATE_FIELDS = ("input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after")
METADATA_PAIRS = 16
METADATA_KEY_CHARS = 64
METADATA_VALUE_CHARS = 512
LIMIT_DEFAULT, LIMIT_MIN, LIMIT_MAX = 20, 1, 100


@dataclass(frozen=True)
class CreateRequest:
    """A create's body, checked against the profile's rules (its endpoints, windows, metadata limits)."""

    input_file_id: str
    endpoint: str
    completion_window: str
    window_seconds: float
    metadata: dict[str, str] | None = None
    output_expires_after: int | None = None  # seconds: the output and error files' lifetime

    @classmethod
    def parse(cls, body: Mapping[str, object], rules: BatchRules, *, strict: bool = False) -> CreateRequest:
        """The first field wrong is the 400; ``strict``: an unknown field is one (OpenAI's, as for
        ``/v1/uploads``), else it is ignored."""
        if strict:
            unknown = next((name for name in body if name not in CREATE_FIELDS), None)
            if unknown is not None:
                raise UnknownParameter(unknown)
        file_id = required_string(body.get("input_file_id"), "input_file_id")
        url = required_string(body.get("endpoint"), "endpoint")
        if url not in rules.urls:
            invalid_value(url, "endpoint", rules.urls)
        window, seconds = parse_window(body.get("completion_window"), rules.window_hours)
        pairs = check_metadata(body.get("metadata"), rules.metadata_limits)
        lifetime = check_output_expires_after(body.get("output_expires_after"))
        return cls(file_id, url, window, seconds, pairs, lifetime)


def required_string(value: object, name: str) -> str:
    if value is None:
        raise MissingParameter(name)
    if not isinstance(value, str):
        raise InvalidType(name, expected="a string", got=kind(value))
    return value


def invalid_value(value: str, name: str, choices: tuple[str, ...]) -> NoReturn:
    raise InvalidValue(name, value, choices)


def parse_window(value: object, hours: tuple[int, int] | None) -> tuple[str, float]:
    """The window as given and its length in seconds: ``24h`` only; with ``hours`` (low, high), a
    whole number of hours or days (``48h``, ``14d``) from ``low`` to ``high`` hours."""
    window = required_string(value, "completion_window")
    if hours is None:
        if window not in COMPLETION_WINDOWS:
            invalid_value(window, "completion_window", COMPLETION_WINDOWS)
        return window, DAY_WINDOW
    match = WINDOW.fullmatch(window)
    count = int(match[1]) * (24 if match[2] == "d" else 1) if match else 0
    if not hours[0] <= count <= hours[1]:
        raise InvalidRequest("window_range", param="completion_window", value=window, low=hours[0], high=hours[1])
    return window, count * 3600.0


def check_metadata(metadata: object, limits: tuple[tuple[str, int], ...] = ()) -> dict[str, str] | None:
    """At most 16 pairs of strings, keys up to 64 characters, values up to 512 (or the shorter
    limit ``limits`` gives the key)."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidRequest("metadata_type", param="metadata", got=kind(metadata))
    if len(metadata) > METADATA_PAIRS:
        raise InvalidRequest("metadata_pairs", param="metadata", limit=METADATA_PAIRS, count=len(metadata))
    for key, value in metadata.items():
        param = f"metadata.{key}"
        if len(key) > METADATA_KEY_CHARS:
            raise InvalidRequest("metadata_key", param=param, key=key, limit=METADATA_KEY_CHARS, length=len(key))
        if not isinstance(value, str):
            raise InvalidType(param, expected="a string", got=kind(value))
        limit = dict(limits).get(key, METADATA_VALUE_CHARS)
        if len(value) > limit:
            raise InvalidRequest("metadata_value", param=param, key=key, limit=limit, length=len(value))
    return dict(metadata)


def check_output_expires_after(value: object) -> int | None:
    """``{anchor: created_at, seconds: 3600..2592000}``, as a file's ``expires_after``."""
    name = "output_expires_after"
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidType(name, expected="an object", got=kind(value))
    return parse_expires_after(value, text=False, name=name)


def page_limit(limit: int | str | None) -> int:
    """``limit`` of a list: 1-100, default 20."""
    count = LIMIT_DEFAULT if limit is None else parse_int(limit, "limit")
    check_range(count, "limit", LIMIT_MIN, LIMIT_MAX)
    return count
