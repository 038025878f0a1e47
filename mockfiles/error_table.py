"""The one error table: how every error the emulator answers with is said on the wire.

Errors are data (``errors.py``): a category (their class) and a reason with its fields. Each category
has its HTTP status, OpenAI ``type`` and DashScope native ``code``; each reason has its words: OpenAI's
message and ``code``, which every dialect uses unless the row says otherwise, and where DashScope
differs, compatible mode's and native's. A message is a format string over the error's fields (and
``{param}``, ``{request_id}``), or a function of them. The words are the real services' where they
are documented or were observed (docs/wire.md, docs/dashscope.md); the others are choices, marked
there. ``errors.say`` reads the table for the dialects, which only shape the envelope.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .ids import mask_key
from .units import format_duration

Fields = Mapping[str, object]
Text = str | Callable[[Fields], str]
OPENAI, COMPATIBLE, NATIVE = "openai", "dashscope-compatible", "dashscope-native"


@dataclass(frozen=True)
class Category:
    status: int
    type: str  # OpenAI's error type
    native: str  # DashScope native's code


@dataclass(frozen=True)
class Say:
    """How one dialect says an error where it differs from the row's own words."""

    message: Text | None = None
    code: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class Row:
    message: Text  # the error's own words: OpenAI's, and every dialect's unless it says otherwise
    code: str | None = None  # OpenAI's code
    openai: Say | None = None
    compatible: Say | None = None  # over OpenAI's
    native: Say | None = None


CATEGORIES = {
    "server": Category(500, "server_error", "InternalError"),
    "invalid_request": Category(400, "invalid_request_error", "InvalidParameter"),
    "authentication": Category(401, "invalid_request_error", "InvalidApiKey"),
    "forbidden": Category(403, "invalid_request_error", "AccessDenied"),
    "not_found": Category(404, "invalid_request_error", "NotFound"),
    "method_not_allowed": Category(405, "invalid_request_error", "MethodNotAllowed"),
    "conflict": Category(409, "invalid_request_error", "InternalError"),
    "payload_too_large": Category(413, "server_error", "BadRequest.FileTooLarge"),
    "body_too_large": Category(413, "invalid_request_error", "InternalError"),
    "quota": Category(400, "invalid_request_error", "InternalError"),  # each row names its own
    "rate_limited": Category(429, "requests", "Throttling.RateQuota"),
    "headers_too_large": Category(431, "invalid_request_error", "InternalError"),
    "injected": Category(500, "server_error", "InternalError"),  # the rule's status, type and code
}

SORRY = (
    "The server had an error processing your request. Sorry about that! You can retry your request, "
    "or contact us through our help center at help.openai.com if you keep seeing this error."
)
VISIT = "Visit https://platform.openai.com/account/rate-limits to learn more."
# A fault rule's injected errors: OpenAI's type, code and words by status, unless the rule gives its own.
INJECTED: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", None, "You are not allowed to perform this request."),
    404: ("invalid_request_error", None, "Not found."),
    408: ("server_error", None, "Request timed out."),
    409: ("invalid_request_error", None, "Conflict: the request could not be completed. Please retry."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s. " + VISIT),
    500: ("server_error", None, SORRY),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
    504: ("server_error", None, "Gateway timeout."),
}
INJECTED_NATIVE = {429: "Throttling.RateQuota", 500: "InternalError", 502: "InternalError"}
INJECTED_NATIVE |= {503: "ServiceUnavailable", 504: "RequestTimeOut"}


def injected_defaults(status: int, fallback: str) -> tuple[str, str | None, str]:
    """An injected error's type, code and message for ``status`` (``fallback`` words an unknown one)."""
    return INJECTED.get(status, ("server_error" if status >= 500 else "invalid_request_error", None, fallback))


# --- words that compute something -----------------------------------------------------------------


def quote_list(values: Sequence[object]) -> str:
    """``'a', 'b', and 'c'`` as in OpenAI's validation messages."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def size_text(n: int) -> str:
    """``8 GiB``, ``200 MiB``, ``1.5 KiB``: a limit as people read it beside its exact bytes."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + " " + unit
    return f"{n} bytes"


def _seq(value: object) -> Sequence[object]:
    return value if isinstance(value, (list, tuple)) else ()


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


class _Formatter(string.Formatter):
    """``str.format`` with conversions for the values messages show: ``!q`` a list quoted as OpenAI
    does (``'a', 'b', and 'c'``), ``!j`` joined by commas, ``!l`` their reprs joined by commas, ``!z``
    a size as people read it, ``!k`` bytes as whole KiB, ``!m`` an API key masked, ``!d`` seconds as
    a duration (``1.5s``), ``!h`` a guess offered (``did you mean 'x'? ``) or nothing."""

    CONVERSIONS: dict[str, Callable[[object], str]] = {
        "q": lambda v: quote_list(_seq(v)),
        "j": lambda v: ", ".join(str(x) for x in _seq(v)),
        "l": lambda v: ", ".join(repr(x) for x in _seq(v)),
        "z": lambda v: size_text(_int(v)),
        "k": lambda v: str(_int(v) // 1024),
        "m": lambda v: mask_key(str(v)),
        "d": lambda v: format_duration(v if isinstance(v, (int, float)) else 0),
        "h": lambda v: f"did you mean '{v}'? " if v else "",
    }

    def convert_field(self, value: object, conversion: str | None) -> object:
        convert = self.CONVERSIONS.get(conversion or "")
        return convert(value) if convert is not None else super().convert_field(value, conversion)


_FORMATTER = _Formatter()


def words(text: Text, fields: Fields) -> str:
    """A row's text with the error's fields."""
    return text(fields) if callable(text) else _FORMATTER.vformat(text, (), fields)


MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
    "username) if you're accessing the API from your browser and are prompted for a username and "
    "password. You can obtain an API key from https://platform.openai.com/account/api-keys."
)
SERVER_ERROR = SORRY + " (Please include the request ID {request_id} in your email.)"
DS_INVALID_KEY = Say(
    "Incorrect API key provided. For details, see: https://help.aliyun.com/zh/model-studio/error-code#apikey-error",
    code="invalid_api_key",
)
DS_RATE_LIMITED = Say(
    "You have exceeded your current request limit. For details, see: "
    "https://help.aliyun.com/zh/model-studio/error-code#rate-limit",
    code="limit_requests",
    type="limit_requests",
)
NATIVE_INVALID_KEY = Say("Invalid API-key provided.")
NATIVE_RATE_LIMITED = Say("Requests rate limit exceeded, please try again later.")
PLEASE_WAIT = "Please try again in {retry_after!d}. " + VISIT
RATE_LIMITED = (
    "Rate limit reached for {kind} requests ({endpoint}) on requests per second: "
    "Limit {limit}, Used {limit}, Requested 1. " + PLEASE_WAIT
)
NATIVE_TOO_MANY = Say("Out of number, <{used}> of <{limit}> files has been uploaded.", code="BadRequest.TooMany")
NATIVE_TOO_LARGE = Say("Out of space, <{used}> B of <{limit}> B storage space has been used.", "BadRequest.TooLarge")
WRONG_KEY = (
    "Incorrect API key provided: {key!m}. You can find your API key at https://platform.openai.com/account/api-keys."
)
INVALID_VALUE = "Invalid value: '{value}'. Supported values are: {choices!q}."
FILENAME = "Invalid filename: the name of the uploaded file "
CANNOT = "Cannot {action} Upload {id}: "
STILL_PENDING = "Nothing was created; the Upload is still pending."

ROWS: dict[str, Row] = {
    # --- any request ---
    "server_error": Row("{detail}", openai=Say(SERVER_ERROR)),
    "no_route": Row("Invalid URL ({method} {path})"),
    "bad_method": Row("Invalid method for URL ({method} {path})"),
    "missing_key": Row(MISSING_KEY, compatible=DS_INVALID_KEY, native=NATIVE_INVALID_KEY),
    "wrong_key": Row(WRONG_KEY, "invalid_api_key", compatible=DS_INVALID_KEY, native=NATIVE_INVALID_KEY),
    "admin_token_missing": Row(
        "This route needs the admin token: send it as Authorization: Bearer <token> (mockfiles serve --admin-token)."
    ),
    "admin_token_wrong": Row("Incorrect admin token.", "invalid_admin_token"),
    "rate_limited": Row(RATE_LIMITED, "rate_limit_exceeded", compatible=DS_RATE_LIMITED, native=NATIVE_RATE_LIMITED),
    "rate_limited_unclassed": Row(  # an injected 429 on a request class that has no limit
        "Rate limit reached for requests. " + PLEASE_WAIT,
        "rate_limit_exceeded",
        compatible=DS_RATE_LIMITED,
        native=NATIVE_RATE_LIMITED,
    ),
    "injected": Row("{message}"),
    "headers_too_large": Row("Request header fields too large: at most {limit} bytes of headers are accepted."),
    "connection_refused": Row("{message}"),
    "bad_content_length": Row("Invalid Content-Length header."),
    # --- parameters ---
    "missing_parameter": Row("Missing required parameter: '{param}'.", "missing_required_parameter"),
    "unknown_parameter": Row("Unknown parameter: '{param}'.", "unknown_parameter"),
    "invalid_type": Row("Invalid type for '{param}': expected {expected}, but got {got} instead.", "invalid_type"),
    "not_an_integer": Row("Invalid '{param}': expected an integer, but got '{raw}' instead.", "invalid_type"),
    "below_minimum": Row(
        "Invalid '{param}': integer below minimum value. Expected a value >= {low}, but got {value} instead.",
        "integer_below_min_value",
    ),
    "above_maximum": Row(
        "Invalid '{param}': integer above maximum value. Expected a value <= {high}, but got {value} instead.",
        "integer_above_max_value",
    ),
    "invalid_value": Row(INVALID_VALUE, "invalid_value"),
    "invalid_purpose": Row(INVALID_VALUE, "invalid_value", compatible=Say("'purpose' must be one of {choices!l}")),
    "bad_day_time": Row("Invalid '{param}': expected YYYYMMDD or YYYYMMDDhhmmss, got '{raw}'.", "invalid_value"),
    # --- multipart forms ---
    "not_multipart": Row(
        lambda f: (
            "Invalid Content-Type: this endpoint expects multipart/form-data "
            f"(got {f['content_type'] or 'no Content-Type'})."
        )
    ),
    "no_boundary": Row("Invalid Content-Type: multipart/form-data needs a boundary parameter."),
    "bad_boundary": Row("Invalid multipart boundary: {detail}"),
    "malformed_multipart": Row("Malformed multipart body: {detail}"),
    "no_closing_boundary": Row("Malformed multipart body: the closing boundary is missing."),
    "part_headers_too_long": Row("Malformed multipart body: part headers longer than {limit} bytes."),
    "no_part_name": Row("Malformed multipart body: a part has no Content-Disposition name."),
    "too_many_parts": Row("Too many form fields: at most {limit} are accepted."),
    "field_too_long": Row("Form field '{param}' is longer than {limit} bytes."),
    "repeated_field": Row("'{param}' was given more than once."),
    "name_not_utf8": Row("The field name is not valid UTF-8."),
    "filename_not_utf8": Row("The filename is not valid UTF-8."),
    "value_not_utf8": Row("The field '{field}' is not valid UTF-8."),
    # --- files ---
    "no_such_file": Row("No such File object: {id}"),
    "unknown_file_cursor": Row("Invalid 'after': no file with id '{after}'."),
    "one_file_only": Row("Only one 'file' may be uploaded per request."),
    "file_not_a_file": Row("'file' must be a file upload (a part with a filename), not a text field."),
    "empty_file": Row("The uploaded file is empty.", "empty_file"),
    "filename_empty": Row(FILENAME + "is empty.", "invalid_filename"),
    "filename_too_long": Row(FILENAME + "is longer than {limit} characters ({length}).", "invalid_filename"),
    "filename_separator": Row(FILENAME + "contains a path separator; send the file's name only.", "invalid_filename"),
    "filename_control": Row(FILENAME + "contains a control character.", "invalid_filename"),
    "invalid_file_format": Row(
        "Invalid file format for purpose '{purpose}': '{filename}'. Supported formats: {formats!j}.",
        "invalid_file_format",
    ),
    "expires_twice": Row("'expires_after' was given twice: as one JSON part and as {names!l}. Send one or the other."),
    "expires_not_json": Row(
        "Invalid 'expires_after': expected a JSON object with 'anchor' and 'seconds', but got {text!r} instead.",
        "invalid_type",
    ),
    "size_limit_read": Row("Maximum content size limit ({limit}) exceeded ({read} bytes read)"),
    "size_limit_declared": Row("Maximum content size limit ({limit}) exceeded ({read} bytes declared)"),
    "implied_purpose_size": Row(
        "File '{filename}' is {read} bytes; files for '{purpose}' may be at most {limit} bytes."
    ),
    "file_count_limit": Row(
        "File count limit reached: this account already stores {used} of {limit} files. Delete files to make room.",
        "file_count_limit_exceeded",
        native=NATIVE_TOO_MANY,
    ),
    "storage_limit": Row(
        "Storage limit reached: this account stores {used} of {limit} bytes, "
        "and this upload needs {size} more. Delete files to make room.",
        "storage_limit_exceeded",
        native=NATIVE_TOO_LARGE,
    ),
    # --- control routes ---
    "scenario_too_large": Row("A scenario may be at most {limit!k} KiB ({limit} bytes).", "request_too_large"),
    "body_too_large": Row("This request's body may be at most {limit!k} KiB ({limit} bytes).", "request_too_large"),
    "body_not_object": Row("The request body must be a JSON object."),
    "advance_not_a_number": Row("'advance' must be a number of seconds >= 0."),
    "advance_refused": Row("Invalid 'advance': {detail}."),
    "scenario_refused": Row("{detail}"),
    # --- browsers (browsers.py) ---
    "host_not_allowed": Row(
        "The admin routes do not answer to the name '{host}' (a page of another site can reach this server under "
        "a name of its own). Use this server's address or localhost, or allow the name: --allowed-host {host}.",
        "host_not_allowed",
    ),
    "origin_not_allowed": Row(
        "{method} from a page of another origin ({origin}) is refused on the admin routes. Use the console, or "
        "require an admin token (--admin-token) and allow the origin (--cors-origin).",
        "origin_not_allowed",
    ),
    "cors_origin_not_allowed": Row(
        "Pages of {origin} may not call this server: allow the origin with --cors-origin (cors_origins=).",
        "cors_origin_not_allowed",
    ),
    "cors_admin_refused": Row(
        "The admin routes take no requests from pages of other origins ({origin}) unless an admin token is "
        "required (--admin-token).",
        "cors_admin_refused",
    ),
}
ROWS |= {
    # --- batches ---
    "metadata_type": Row(
        "Invalid type for 'metadata': expected a metadata object, but got {got} instead.", "invalid_type"
    ),
    "metadata_pairs": Row(
        "Invalid 'metadata': too many properties. Expected an object with at most {limit} properties, "
        "but got an object with {count} properties instead.",
        "object_above_max_properties",
    ),
    "metadata_key": Row(
        "Invalid property name in 'metadata': '{key}' is too long. Expected a string with maximum length "
        "{limit}, but got a string with length {length} instead.",
        "property_name_above_max_length",
    ),
    "metadata_value": Row(
        "Invalid 'metadata.{key}': string too long. Expected a string with maximum length {limit}, "
        "but got a string with length {length} instead.",
        "string_above_max_length",
    ),
    "batch_input_purpose": Row(
        "Invalid 'input_file_id': the file '{file_id}' has purpose '{purpose}'; a batch needs purpose 'batch'.",
        "invalid_value",
    ),
    "batch_input_processing": Row(
        "Invalid 'input_file_id': the file '{file_id}' is still being processed (status 'uploaded').", "invalid_value"
    ),
    "batch_input_failed": Row(
        "Invalid 'input_file_id': the file '{file_id}' could not be processed (status 'error').", "invalid_value"
    ),
    "no_such_batch": Row("No batch found with id '{batch_id}'."),
    "unknown_batch_cursor": Row("Invalid 'after': no batch with id '{after}'."),
    "batch_not_cancellable": Row("Cannot cancel a batch with status '{status}'."),
    # --- uploads ---
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
    # --- retry tests ---
    "retry_test_not_object": Row(
        'a retry test is a JSON object like {{"instructions": {{"files.create": ["return-503"]}}}}, got {got}'
    ),
    "retry_test_unknown_key": Row("unknown key {key!r} in the retry test; expected 'instructions'"),
    "retry_test_no_instructions": Row('a retry test needs "instructions": {{endpoint: [instruction, ...]}}'),
    "retry_test_instructions_type": Row(
        '"instructions" must be an object mapping endpoints to lists of instructions, got {got}'
    ),
    "retry_test_too_many": Row("a retry test holds at most {limit} instructions, got {total}"),
    "retry_test_unknown_endpoint": Row("unknown endpoint {endpoint!r} in instructions; {hint!h}endpoints: {endpoints}"),
    "retry_test_queue_type": Row('{param} must be a list of instructions like ["return-503"], got {got}'),
    "retry_test_bad_instruction": Row("{param}: {detail}"),
    "no_such_retry_test": Row(
        "no retry test '{test_id}': it was never created, was deleted, or was dropped (oldest first)"
    ),
    "instruction_not_text": Row("an instruction must be a string like 'return-503', got {value!r}"),
    "instruction_unknown": Row("unknown instruction '{text}'; instructions: {forms}"),
    "instruction_unknown_near": Row("unknown instruction '{text}'; did you mean '{hint}'? Instructions: {forms}"),
    "instruction_fraction": Row(
        "'{text}': Retry-After takes whole numbers; write e.g. -retry-after-2s or -retry-after-1500ms"
    ),
    "instruction_status": Row("'{text}': {digits} is not an error status; use 400 to 599"),
    "instruction_kib": Row("'{text}': {kib}K is more than any body the emulator takes (at most {limit}K)"),
    "instruction_seconds": Row("'{text}': {number}{unit} is longer than {limit:g} s, the longest hold"),
    "instruction_not_download": Row("'{text}' breaks a downloaded body; it applies to {downloads}, not {endpoint}"),
    "instruction_no_body": Row(
        "'{text}' stalls a body counted in KiB; it applies to uploads ({uploads}) and downloads ({downloads}), "
        "not {endpoint}; use delay-<dur> for a slow answer"
    ),
    "instruction_not_upload": Row("'{text}' acts part-way through an upload; it applies to {uploads}, not {endpoint}"),
    "instruction_not_json": Row("'{text}' mangles a JSON answer; {endpoint} answers with the file's bytes, not JSON"),
}
