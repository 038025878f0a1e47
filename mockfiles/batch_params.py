"""What ``batches.create`` and ``batches.list`` accept, and every message the Batches
service answers with (one table: ``MESSAGES``).

The checks follow OpenAI's ``batch_create_params``: ``completion_window`` is ``24h``;
``metadata`` is at most 16 pairs of strings, keys up to 64 characters, values up to 512;
``output_expires_after`` is ``{anchor: created_at, seconds: 3600..2592000}`` as a file's
``expires_after``.
"""

from __future__ import annotations

from typing import NoReturn

from .batch_input import kind
from .errors import InvalidRequest, InvalidValue
from .lifecycle import check_range, parse_expires_after, parse_int, quote_list

COMPLETION_WINDOWS = ("24h",)
METADATA_PAIRS = 16
METADATA_KEY_CHARS = 64
METADATA_VALUE_CHARS = 512
LIMIT_DEFAULT, LIMIT_MIN, LIMIT_MAX = 20, 1, 100

# Every message of the service. The metadata ones are OpenAI's wording as third-party emulators
# pinned it from live probes; the cancel one was seen live (a 409); the others are choices.
MESSAGES = {
    "missing": "Missing required parameter: '{name}'.",
    "type": "Invalid type for '{name}': expected {expected}, but got {got} instead.",
    "value": "Invalid value: '{value}'. Supported values are: {choices}.",
    "metadata_type": "Invalid type for 'metadata': expected a metadata object, but got {got} instead.",
    "metadata_pairs": (
        "Invalid 'metadata': too many properties. Expected an object with at most {limit} properties, "
        "but got an object with {count} properties instead."
    ),
    "metadata_key": (
        "Invalid property name in 'metadata': '{key}' is too long. Expected a string with maximum length "
        "{limit}, but got a string with length {length} instead."
    ),
    "metadata_value": (
        "Invalid 'metadata.{key}': string too long. Expected a string with maximum length {limit}, "
        "but got a string with length {length} instead."
    ),
    "no_file": "No such File object: {file_id}",
    "purpose": "Invalid 'input_file_id': the file '{file_id}' has purpose '{purpose}'; a batch needs purpose 'batch'.",
    "not_ready": "Invalid 'input_file_id': the file '{file_id}' is still being processed (status 'uploaded').",
    "file_error": "Invalid 'input_file_id': the file '{file_id}' could not be processed (status 'error').",
    "no_batch": "No batch found with id '{batch_id}'.",
    "cursor": "Invalid 'after': no batch with id '{after}'.",
    "cancel": "Cannot cancel a batch with status '{status}'.",
}


def required_string(value: object, name: str) -> str:
    if value is None:
        raise InvalidRequest(MESSAGES["missing"].format(name=name), param=name, code="missing_required_parameter")
    if not isinstance(value, str):
        message = MESSAGES["type"].format(name=name, expected="a string", got=kind(value))
        raise InvalidRequest(message, param=name, code="invalid_type")
    return value


def invalid_value(value: str, name: str, choices: tuple[str, ...]) -> NoReturn:
    message = MESSAGES["value"].format(value=value, choices=quote_list(choices))
    raise InvalidValue(message, param=name, choices=list(choices))


def check_metadata(metadata: object) -> dict[str, str] | None:
    """At most 16 pairs of strings, keys up to 64 characters, values up to 512."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidRequest(
            MESSAGES["metadata_type"].format(got=kind(metadata)), param="metadata", code="invalid_type"
        )
    if len(metadata) > METADATA_PAIRS:
        message = MESSAGES["metadata_pairs"].format(limit=METADATA_PAIRS, count=len(metadata))
        raise InvalidRequest(message, param="metadata", code="object_above_max_properties")
    for key, value in metadata.items():
        param = f"metadata.{key}"
        if len(key) > METADATA_KEY_CHARS:
            message = MESSAGES["metadata_key"].format(key=key, limit=METADATA_KEY_CHARS, length=len(key))
            raise InvalidRequest(message, param=param, code="property_name_above_max_length")
        if not isinstance(value, str):
            message = MESSAGES["type"].format(name=param, expected="a string", got=kind(value))
            raise InvalidRequest(message, param=param, code="invalid_type")
        if len(value) > METADATA_VALUE_CHARS:
            message = MESSAGES["metadata_value"].format(key=key, limit=METADATA_VALUE_CHARS, length=len(value))
            raise InvalidRequest(message, param=param, code="string_above_max_length")
    return dict(metadata)


def check_output_expires_after(value: object) -> int | None:
    """``{anchor: created_at, seconds: 3600..2592000}``, as a file's ``expires_after``."""
    name = "output_expires_after"
    if value is None:
        return None
    if not isinstance(value, dict):
        message = MESSAGES["type"].format(name=name, expected="an object", got=kind(value))
        raise InvalidRequest(message, param=name, code="invalid_type")
    return parse_expires_after(value, text=False, name=name)


def page_limit(limit: int | str | None) -> int:
    """``limit`` of a list: 1-100, default 20."""
    count = LIMIT_DEFAULT if limit is None else parse_int(limit, "limit")
    check_range(count, "limit", LIMIT_MIN, LIMIT_MAX)
    return count
