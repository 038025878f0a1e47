"""Domain errors: what went wrong, as data.

Every error the emulator answers with is a ``MockFilesError`` that names its ``reason`` (a row of
the one error table, ``error_table.py``) and carries the values the row's words need (``fields``)
and the parameter it is about (``param``). The domain says *what* is wrong; the table says how
each dialect words it: the HTTP status, OpenAI's ``type``, ``code`` and ``message``, DashScope
compatible mode's differences, DashScope native's ``code`` and ``message``. ``message``, ``type``
and ``code`` read the table in the errors' own words (OpenAI's), for logs, tests and ``str()``.

The class is the error's ``category``: its status, OpenAI type and DashScope native code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from mockfiles.core.echoes import echoed, shown_param, writable
from mockfiles.core.error_table import CATEGORIES, COMPATIBLE, INJECTED_NATIVE, NATIVE, OPENAI, ROWS, words
from mockfiles.core.units import format_duration
from mockfiles.core.wording import Row, Say


class MockFilesError(Exception):
    """An error the emulator answers with, in whatever dialect the request came in."""

    category: ClassVar[str] = "server"

    def __init__(
        self,
        reason: str,
        /,
        *,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
        **fields: object,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fields: dict[str, object] = fields
        self.param = param
        self.headers: dict[str, str] = dict(headers or {})
        self.status = CATEGORIES[self.category].status
        self.retry_after: float | None = None  # seconds a client is told to wait (retry-after headers)
        self.overrides: dict[str, str | None] = {}  # body fields a fault rule sets over the dialect's

    @property
    def type(self) -> str:
        return own_words(self).type

    @property
    def code(self) -> str | None:
        return own_words(self).code

    @property
    def message(self) -> str:
        return own_words(self).message

    def __str__(self) -> str:
        return self.message


class ServerError(MockFilesError):
    """Something broke inside the emulator (a bug): 500, and the log has the traceback."""

    def __init__(self, detail: str) -> None:
        super().__init__("server_error", detail=detail)


# --- 400: the request is wrong ------------------------------------------------------------------


class InvalidRequest(MockFilesError):
    category = "invalid_request"


class MissingParameter(InvalidRequest):
    def __init__(self, param: str) -> None:
        super().__init__("missing_parameter", param=param)


class UnknownParameter(InvalidRequest):
    def __init__(self, param: str) -> None:
        super().__init__("unknown_parameter", param=param)


class InvalidType(InvalidRequest):
    """A JSON value of the wrong type; ``expected`` and ``got`` name types as the API does ("an integer")."""

    def __init__(self, param: str, *, expected: str, got: str) -> None:
        super().__init__("invalid_type", param=param, expected=expected, got=got)


class NotAnInteger(InvalidRequest):
    def __init__(self, param: str, raw: str) -> None:
        super().__init__("not_an_integer", param=param, raw=raw)


class OutOfRange(InvalidRequest):
    def __init__(self, param: str, *, low: int, high: int, value: int) -> None:
        super().__init__(
            "below_minimum" if value < low else "above_maximum", param=param, low=low, high=high, value=value
        )


class InvalidValue(InvalidRequest):
    """A value outside its allowed ones; ``choices`` lists them (DashScope words a purpose's so)."""

    def __init__(self, param: str, value: str, choices: Sequence[str], *, reason: str = "invalid_value") -> None:
        super().__init__(reason, param=param, value=value, choices=tuple(choices))
        self.choices = list(choices)


class ConnectionRefusal(InvalidRequest):
    """An answer the connection gave before the application could (431, 408): see protocol.py.
    A request error (the client's head or body did not come as it should)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__("connection_refused", message=message)
        self.status = status


class QuotaExceeded(MockFilesError):
    """An account limit (``which``: ``file_count`` or ``storage``) would be exceeded."""

    category = "quota"

    def __init__(
        self, reason: str, *, which: str, limit: int, used: int, param: str | None = "file", **fields: object
    ) -> None:
        super().__init__(reason, param=param, limit=limit, used=used)
        self.fields.update(fields)
        self.which = which
        self.limit = limit
        self.used = used


# --- other statuses -------------------------------------------------------------------------------


class AuthenticationFailed(MockFilesError):
    """401. ``missing`` tells a request with no usable key from one with a wrong key."""

    category = "authentication"

    def __init__(self, *, missing: bool, key: str | None = None, admin: bool = False) -> None:
        if admin:  # the control routes' token, not an API key: worded as such
            reason = "admin_token_missing" if missing else "admin_token_wrong"
        else:
            reason = "missing_key" if missing else "wrong_key"
        super().__init__(reason, key=key or "")
        self.missing = missing
        self.key = key


class BrowserRefused(MockFilesError):
    """403: a request a web page may not make (browsers.py): the reason names what was wrong."""

    category = "forbidden"


class NotFound(MockFilesError):
    category = "not_found"


class MethodNotAllowed(MockFilesError):
    category = "method_not_allowed"


class Conflict(MockFilesError):
    """409: the object is not in a state that allows the operation (cancelling a finished batch)."""

    category = "conflict"


class PayloadTooLarge(MockFilesError):
    """413 in the shape OpenAI was seen answering an oversized upload (type server_error)."""

    category = "payload_too_large"

    def __init__(self, reason: str, *, limit: int, read: int, **fields: object) -> None:
        super().__init__(reason, limit=limit, read=read)
        self.fields.update(fields)
        self.limit = limit
        self.read = read


class BodyTooLarge(MockFilesError):
    """413 for a control route's body (``what``: ``scenario`` or ``body``)."""

    category = "body_too_large"

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what}_too_large", limit=limit)


class HeadersTooLarge(MockFilesError):
    category = "headers_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__("headers_too_large", limit=limit, headers={"connection": "close"})


class RateLimited(MockFilesError):
    """429. ``kind`` (the request class: upload, query…) and ``limit`` are None for an injected 429
    on a request class that has no limit; ``endpoint`` is the endpoint refused; ``window`` the
    class's, in seconds."""

    category = "rate_limited"

    def __init__(
        self,
        *,
        retry_after: float,
        limit: int | None,
        kind: str | None,
        endpoint: str | None = None,
        headers: Mapping[str, str] | None = None,
        window: float = 1.0,
    ) -> None:
        super().__init__("rate_limited" if limit is not None else "rate_limited_unclassed", headers=headers)
        self.retry_after = retry_after
        self.limit = limit
        self.kind = kind
        self.fields.update(retry_after=retry_after, limit=limit, kind=kind, endpoint=endpoint, per=per(window))


class InjectedRateLimit(RateLimited):
    """A 429 a scenario's fault rule asked for: each dialect answers it as it answers a real
    rate-limit refusal (wording, ``retry-after``…), then the rule's ``error`` fields and
    ``headers`` go over that (``overrides``: a null ``message`` or ``type`` keeps the dialect's)."""

    def __init__(
        self, *, retry_after: float, given: Mapping[str, str | None], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(retry_after=retry_after, limit=None, kind=None, headers=headers)
        self.given = dict(given)
        self.overrides = {k: v for k, v in given.items() if v is not None or k in ("code", "param")}

    def limited(self, kind: str, limit: int, endpoint: str, window: float = 1.0) -> InjectedRateLimit:
        """The same refusal told as a real one of this request class (the x-ratelimit-* headers say so)."""
        wait = self.retry_after or 0.0
        dressed = InjectedRateLimit(retry_after=wait, given=self.given, headers=self.headers)
        dressed.kind, dressed.limit, dressed.reason = kind, limit, "rate_limited"
        dressed.fields.update(kind=kind, limit=limit, endpoint=endpoint, per=per(window))
        return dressed


def per(window: float) -> str:
    """A rate limit's window as its message says it: ``second``, ``minute``, or ``2.5s``."""
    return {1.0: "second", 60.0: "minute", 3600.0: "hour"}.get(window, format_duration(window))


class InjectedError(MockFilesError):
    """An error response a scenario's fault rule asked for: its status, and its body's fields
    as the rule gave them over the status's defaults (``error_table.INJECTED``)."""

    category = "injected"

    def __init__(
        self,
        status: int,
        *,
        message: str,
        type: str,
        code: str | None,
        param: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__("injected", param=param, headers=headers, message=message, type=type, code=code)
        self.status = status


# --- how a dialect says an error (reading error_table) ---------------------------------------------


@dataclass(frozen=True)
class Words:
    type: str
    code: str | None
    message: str


@dataclass(frozen=True)
class Said:
    """An error as one dialect says it."""

    status: int
    type: str
    code: str | None
    message: str
    param: str | None
    headers: dict[str, str]


# a rule's or a check's own words (the lists of forms and endpoints a refusal offers); a key is masked anyway
OWN_WORDS = frozenset({"message", "detail", "forms", "endpoints", "key"})


def _fields(err: MockFilesError, request_id: str | None) -> dict[str, object]:
    fields = {
        name: (writable(value) if isinstance(value, str) else value) if name in OWN_WORDS else echoed(value)
        for name, value in err.fields.items()
    }
    return {**fields, "param": shown_param(err.param), "request_id": request_id}


def own_words(err: MockFilesError, request_id: str | None = None) -> Words:
    """An error in its own words (OpenAI's, before any dialect's differences)."""
    fields = _fields(err, request_id)
    if err.category == "injected":  # the rule's words, over the status's defaults
        code = fields["code"]
        return Words(str(fields["type"]), code if isinstance(code, str) else None, str(fields["message"]))
    row = ROWS[err.reason]
    return Words(CATEGORIES[err.category].type, row.code, words(row.message, fields))


def say(err: MockFilesError, dialect: str, request_id: str) -> Said:
    """How ``dialect`` says ``err``: the row's own words, then the dialect's differences, then what
    a fault rule set (``overrides``); a refusal that advises a wait gets ``retry-after`` headers
    (a rule's own headers win)."""
    row = ROWS[err.reason]
    fields = _fields(err, request_id)
    own = own_words(err, request_id)
    type_, code, message, param = own.type, own.code, own.message, shown_param(err.param)
    azure = dialect.startswith(AZURE)
    layers = dialect_layers(row, dialect)
    for layer in layers:
        if layer is not None:
            message = words(layer.message, fields) if layer.message is not None else message
            code, type_ = layer.code or code, layer.type or type_
    over = err.overrides
    if dialect == NATIVE:
        native = row.native.code if row.native is not None else None
        code = over.get("code") or native or _native_code(err, code)
        message = over.get("message") or message
    else:
        message, type_ = over.get("message") or message, over.get("type") or type_
        code = over["code"] if "code" in over else code
        param = over["param"] if "param" in over else param
    if azure and not code:  # Azure's envelope has no type or param, and every error has a code
        code = str(err.status) if err.category == "injected" else AZURE_CODES[err.category]
    headers = dict(err.headers)
    if err.retry_after is not None:
        headers = {**retry_headers(err.retry_after), **headers}
    return Said(err.status, type_, code, message, param, headers)


AZURE = "azure"  # and "azure-v1": Azure OpenAI's two route forms
# Azure's code for an error whose row names none (docs/azure.md: observed codes, and choices)
AZURE_CODES = {
    "server": "InternalServerError",
    "invalid_request": "invalidPayload",
    "authentication": "401",
    "not_found": "404",
    "method_not_allowed": "405",
    "conflict": "409",
    "payload_too_large": "invalidPayload",
    "body_too_large": "invalidPayload",
    "quota": "quotaExceeded",
    "rate_limited": "429",
    "headers_too_large": "431",
    "injected": "500",
}


def dialect_layers(row: Row, dialect: str) -> tuple[Say | None, ...]:
    """A row's differences that a dialect says over its own words, in order."""
    if dialect == OPENAI:
        return (row.openai,)
    if dialect == COMPATIBLE:
        return (row.openai, row.compatible)
    if dialect.startswith(AZURE):
        return (row.openai, row.azure)
    return (row.native,)


def _native_code(err: MockFilesError, code: str | None) -> str:
    if err.category == "injected":
        return code or INJECTED_NATIVE.get(err.status, "InvalidParameter" if err.status < 500 else "InternalError")
    return CATEGORIES[err.category].native


def retry_headers(seconds: float) -> dict[str, str]:
    """``retry-after`` in whole seconds (rounded up) and the exact ``retry-after-ms``."""
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(max(1, math.ceil(seconds * 1000))),
    }
