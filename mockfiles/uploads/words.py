"""The Uploads API's refusals as the error table words them (assembled in ``core/error_table.py``)."""

from __future__ import annotations

from mockfiles.core.wording import NATIVE_TOO_LARGE, Row

CANNOT = "Cannot {action} Upload {id}: "
STILL_PENDING = "Nothing was created; the Upload is still pending."

ROWS: dict[str, Row] = {
    "upload_body_not_object": Row(
        "Invalid request body: expected a JSON object, but got {got} instead.", "invalid_type"
    ),
    "upload_body_not_json": Row(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
        "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you "
        "have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)"
    ),
    "md5_format": Row(
        "Invalid 'md5': expected the hex digest of the file's bytes (32 hexadecimal digits), but got '{md5}'.",
        "invalid_value",
    ),
    "upload_too_large": Row(
        "Invalid 'bytes': an Upload can accept at most {limit} bytes ({limit!z}), but {bytes} were declared.",
        "integer_above_max_value",
    ),
    "upload_purpose_too_large": Row(
        "Invalid 'bytes': files with purpose '{purpose}' can be at most {limit} bytes ({limit!z}), "
        "but {bytes} were declared.",
        "file_too_large",
    ),
    "parts_over_max": Row(
        "Upload {id} already holds {held} bytes in Parts; this Part's {size} more would take it past "
        "the Upload maximum of {limit} bytes ({limit!z}).",
        "upload_too_large",
    ),
    "part_over_storage": Row(
        "Storage limit reached: this account stores {used} of {limit} bytes, and this Part needs {size} more. "
        "Delete files or cancel Uploads to make room.",
        "storage_limit_exceeded",
        native=NATIVE_TOO_LARGE,
    ),
    "string_too_long": Row(
        "Invalid '{param}': string too long. Expected a string with maximum length {limit}, "
        "but got a string with length {length} instead.",
        "string_above_max_length",
    ),
    "upload_part_limit": Row(
        "Upload {id} already has {limit} Parts, the most an Upload can take. Complete it with the Parts it has, "
        "or cancel it and send larger Parts.",
        "upload_part_limit_exceeded",
    ),
    "no_such_upload": Row("No such Upload object: {id}"),
    "upload_completed": Row(CANNOT + "it is already completed (its File is {file_id}).", "upload_already_completed"),
    "upload_cancelled": Row(CANNOT + "it was cancelled.", "upload_cancelled"),
    "upload_expired": Row(
        CANNOT + "it expired at {expires_at}, an hour after it was created. Create a new Upload.", "upload_expired"
    ),
    "upload_completing": Row(CANNOT + "it is being completed.", "upload_being_completed"),
    "duplicate_part": Row("Invalid 'part_ids': {part_id} is listed more than once.", "duplicate_part_id"),
    "unknown_part": Row("Invalid 'part_ids': {part_id} is not a Part of Upload {id}.", "unknown_part_id"),
    "bytes_mismatch": Row(
        "The Parts listed in 'part_ids' hold {total} bytes, but Upload {id} was created with bytes={bytes}. "
        + STILL_PENDING,
        "bytes_mismatch",
    ),
    "md5_mismatch": Row(
        "The md5 of the assembled Parts is {actual}, but 'md5' is {given}. " + STILL_PENDING, "md5_mismatch"
    ),
}
