"""Every refusal of the Uploads API, worded in one table.

The real service's wording for these is not documented. The request checks follow the
wording OpenAI's validator uses elsewhere (``Missing required parameter: 'x'.``,
``Unknown parameter: 'x'.``, ``Invalid type for 'x': expected an integer, but got a string
instead.``); the others say what is wrong and what the client can do about it. A refused
purpose, filename or ``expires_after`` is worded as for POST /files (mockfiles/lifecycle.py).
"""

from __future__ import annotations

from .errors import InvalidRequest, MockFilesError, NotFound, PayloadTooLarge, QuotaExceeded

# name -> (class, message, param, code); message and param are format strings over the fields
# each refusal is raised with.
ERRORS: dict[str, tuple[type[MockFilesError], str, str | None, str | None]] = {
    # --- request bodies ---
    "not_object": (
        InvalidRequest,
        "Invalid request body: expected a JSON object, but got {got} instead.",
        None,
        "invalid_type",
    ),
    "unknown_parameter": (InvalidRequest, "Unknown parameter: '{name}'.", "{name}", "unknown_parameter"),
    "missing": (InvalidRequest, "Missing required parameter: '{name}'.", "{name}", "missing_required_parameter"),
    "type": (
        InvalidRequest,
        "Invalid type for '{name}': expected {expected}, but got {got} instead.",
        "{name}",
        "invalid_type",
    ),
    "md5_format": (
        InvalidRequest,
        "Invalid 'md5': expected the hex digest of the file's bytes (32 hexadecimal digits), but got '{md5}'.",
        "md5",
        "invalid_value",
    ),
    # --- limits ---
    "too_large": (
        InvalidRequest,
        "Invalid 'bytes': an Upload can accept at most {limit} bytes ({limit_text}), but {bytes} were declared.",
        "bytes",
        "integer_above_max_value",
    ),
    "purpose_too_large": (
        InvalidRequest,
        "Invalid 'bytes': files with purpose '{purpose}' can be at most {limit} bytes ({limit_text}), "
        "but {bytes} were declared.",
        "bytes",
        "file_too_large",
    ),
    "parts_over_max": (
        InvalidRequest,
        "Upload {id} already holds {held} bytes in Parts; this Part's {size} more would take it past "
        "the Upload maximum of {limit} bytes ({limit_text}).",
        "data",
        "upload_too_large",
    ),
    # --- an Upload that cannot do what is asked ---
    "not_found": (NotFound, "No such Upload object: {id}", "id", None),
    "completed": (
        InvalidRequest,
        "Cannot {action} Upload {id}: it is already completed (its File is {file_id}).",
        None,
        "upload_already_completed",
    ),
    "cancelled": (InvalidRequest, "Cannot {action} Upload {id}: it was cancelled.", None, "upload_cancelled"),
    "expired": (
        InvalidRequest,
        "Cannot {action} Upload {id}: it expired at {expires_at}, an hour after it was created. Create a new Upload.",
        None,
        "upload_expired",
    ),
    "completing": (
        InvalidRequest,
        "Cannot {action} Upload {id}: it is being completed.",
        None,
        "upload_being_completed",
    ),
    # --- completion ---
    "duplicate_part": (
        InvalidRequest,
        "Invalid 'part_ids': {part_id} is listed more than once.",
        "part_ids",
        "duplicate_part_id",
    ),
    "unknown_part": (
        InvalidRequest,
        "Invalid 'part_ids': {part_id} is not a Part of Upload {id}.",
        "part_ids",
        "unknown_part_id",
    ),
    "bytes_mismatch": (
        InvalidRequest,
        "The Parts listed in 'part_ids' hold {total} bytes, but Upload {id} was created with bytes={bytes}. "
        "Nothing was created; the Upload is still pending.",
        "part_ids",
        "bytes_mismatch",
    ),
    "md5_mismatch": (
        InvalidRequest,
        "The md5 of the assembled Parts is {actual}, but 'md5' is {given}. "
        "Nothing was created; the Upload is still pending.",
        "md5",
        "md5_mismatch",
    ),
}
# Two refusals carry more than a message: a Part over its maximum is a 413 worded as POST /files
# words an oversized file, and a Part over the account's storage is the storage quota's error.
PART_TOO_LARGE = "Maximum content size limit ({limit}) exceeded ({read} bytes read)"
PART_OVER_STORAGE = (
    "Storage limit reached: this account stores {used} of {limit} bytes, and this Part needs {size} more. "
    "Delete files or cancel Uploads to make room."
)


def refuse(error: str, /, **fields: object) -> MockFilesError:
    """The error named ``error`` in ``ERRORS``, worded with ``fields``."""
    cls, message, param, code = ERRORS[error]
    return cls(message.format(**fields), param=None if param is None else param.format(**fields), code=code)


def part_too_large(limit: int, read: int) -> PayloadTooLarge:
    return PayloadTooLarge(PART_TOO_LARGE.format(limit=limit, read=read), limit=limit, read=read)


def part_over_storage(size: int, limit: int, used: int) -> QuotaExceeded:
    message = PART_OVER_STORAGE.format(used=used, limit=limit, size=size)
    err = QuotaExceeded(message, which="storage", limit=limit, used=used)
    err.param = "data"
    return err


def size_text(n: int) -> str:
    """``8 GiB``, ``200 MiB``, ``1.5 KiB``: a limit as people read it beside its exact bytes."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + " " + unit
    return f"{n} bytes"
