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

import math

from mockfiles.batches.words import ROWS as BATCH_ROWS
from mockfiles.chat.words import ROWS as CHAT_ROWS
from mockfiles.core.wording import (
    COMPATIBLE,
    NATIVE,
    NATIVE_TOO_LARGE,
    OPENAI,
    Category,
    Fields,
    Row,
    Say,
    Text,
    quote_list,
    size_text,
    words,
)
from mockfiles.fine_tuning.words import ROWS as FINE_TUNING_ROWS
from mockfiles.retries.words import ROWS as RETRY_ROWS
from mockfiles.uploads.words import ROWS as UPLOAD_ROWS
from mockfiles.vector_stores.words import ROWS as VECTOR_STORE_ROWS

__all__ = ["CATEGORIES", "COMPATIBLE", "NATIVE", "OPENAI", "ROWS", "Row", "Say", "Text", "quote_list", "size_text"]
__all__ += ["words"]

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
AZURE_ACCESS_DENIED = Say(
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource.",
    code="401",
)


def _azure_rate(f: Fields) -> str:
    seconds = f.get("retry_after")
    wait = max(1, math.ceil(seconds)) if isinstance(seconds, (int, float)) else 1
    return (
        f"Requests to the {f.get('endpoint') or 'API'} Operation under Azure OpenAI API have exceeded call rate "
        f"limit of your current OpenAI S0 pricing tier. Please retry after {wait} second{'s' if wait != 1 else ''}. "
        "Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
    )


AZURE_RATE_LIMITED = Say(_azure_rate, code="429")
NATIVE_RATE_LIMITED = Say("Requests rate limit exceeded, please try again later.")
PLEASE_WAIT = "Please try again in {retry_after!d}. " + VISIT
RATE_LIMITED = (
    "Rate limit reached for {kind} requests ({endpoint}) on requests per {per}: "
    "Limit {limit}, Used {limit}, Requested 1. " + PLEASE_WAIT
)
NATIVE_TOO_MANY = Say("Out of number, <{used}> of <{limit}> files has been uploaded.", code="BadRequest.TooMany")
WRONG_KEY = (
    "Incorrect API key provided: {key!m}. You can find your API key at https://platform.openai.com/account/api-keys."
)
INVALID_VALUE = "Invalid value: '{value}'. Supported values are: {choices!q}."
FILENAME = "Invalid filename: the name of the uploaded file "

ROWS: dict[str, Row] = {
    # --- any request ---
    "server_error": Row("{detail}", openai=Say(SERVER_ERROR)),
    "no_route": Row("Invalid URL ({method} {path})"),
    "bad_method": Row("Invalid method for URL ({method} {path})"),
    "missing_key": Row(MISSING_KEY, compatible=DS_INVALID_KEY, native=NATIVE_INVALID_KEY, azure=AZURE_ACCESS_DENIED),
    "wrong_key": Row(
        WRONG_KEY, "invalid_api_key", compatible=DS_INVALID_KEY, native=NATIVE_INVALID_KEY, azure=AZURE_ACCESS_DENIED
    ),
    "admin_token_missing": Row(
        "This route needs the admin token: send it as Authorization: Bearer <token> (mockfiles serve --admin-token)."
    ),
    "admin_token_wrong": Row("Incorrect admin token.", "invalid_admin_token"),
    "rate_limited": Row(
        RATE_LIMITED,
        "rate_limit_exceeded",
        compatible=DS_RATE_LIMITED,
        native=NATIVE_RATE_LIMITED,
        azure=AZURE_RATE_LIMITED,
    ),
    "rate_limited_unclassed": Row(  # an injected 429 on a request class that has no limit
        "Rate limit reached for requests. " + PLEASE_WAIT,
        "rate_limit_exceeded",
        compatible=DS_RATE_LIMITED,
        native=NATIVE_RATE_LIMITED,
        azure=AZURE_RATE_LIMITED,
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
    "bad_day_time": Row(
        "Invalid '{param}': expected a time as YYYYMMDDhhmmss, 'YYYY-MM-DD hh:mm:ss', YYYY-MM-DD or YYYYMMDD, "
        "but got '{raw}' instead.",
        "invalid_value",
    ),
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
    # --- a file used by a consumer (files/use.py): a consumer's own rows say it in its words ---
    "file_use_purpose": Row(
        "Invalid '{param}': the file '{file_id}' has purpose '{purpose}', but this endpoint reads files with "
        "purpose {purposes!q}.",
        "invalid_value",
    ),
    "file_use_processing": Row(
        "Invalid '{param}': the file '{file_id}' is still being processed (status '{status}'). Wait until its "
        "status is 'processed'.",
        "file_not_ready",
    ),
    "file_use_failed": Row(
        "Invalid '{param}': the file '{file_id}' could not be processed (status 'error').", "invalid_file"
    ),
    "file_use_type": Row("Invalid '{param}': files of type '{extension}' are not supported here.", "unsupported_file"),
    "file_use_too_large": Row(
        "Invalid '{param}': the file '{file_id}' is {size} bytes; the limit here is {limit} bytes.", "file_too_large"
    ),
    "file_use_empty": Row("Invalid '{param}': the file '{file_id}' is empty.", "empty_file"),
    "unknown_file_cursor": Row("Invalid 'after': no file with id '{after}'."),
    "not_downloadable": Row(
        "Only a batch's result files (purpose 'batch_output', ids starting with 'file-batch_output' or "
        "'file-batch_error') can be downloaded; '{id}' has purpose '{purpose}'."
    ),
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
    "files_without_expiry": Row(
        "File count limit reached: this account already stores {used} of {limit} files without an expiry. Delete "
        "files, or upload with 'expires_after'.",
        "file_count_limit_exceeded",
        azure=Say("The quota for files without expiry is reached. The maximum is {limit}.", code="quotaExceeded"),
    ),
    "expires_after_too_short": Row(
        "Invalid 'expires_after.seconds': integer below minimum value. Expected a value greater than or equal to "
        "{least}, but got {value} instead.",
        "integer_below_min_value",
    ),
    # --- Azure OpenAI's own ---
    "azure_resource_not_found": Row("Resource not found", azure=Say(code="404")),
    "azure_deployment": Row(
        "The {operation} operation does not work with the specified model, {model}. Please choose different model "
        "and try again. You can learn more about which models can be used with each operation here: "
        "https://go.microsoft.com/fwlink/?linkid=2197993.",
        azure=Say(code="OperationNotSupported"),
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
    "account_full": Row(
        "Storage limit reached: this account stores {used} of {limit} bytes, and a batch's results need room. "
        "Delete files to make room.",
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
ROWS |= BATCH_ROWS | UPLOAD_ROWS | RETRY_ROWS | CHAT_ROWS | VECTOR_STORE_ROWS | FINE_TUNING_ROWS
