"""Domain errors. Each dialect renders them in its own wire shape, in one place."""

from __future__ import annotations

from collections.abc import Mapping


class MockFilesError(Exception):
    """An error the emulator answers with, in whatever dialect the request came in."""

    status: int = 500
    type: str = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})


class InvalidRequest(MockFilesError):
    status = 400
    type = "invalid_request_error"


class InvalidValue(InvalidRequest):
    """A parameter outside its allowed values; ``choices`` lists them for dialects that word it so."""

    def __init__(self, message: str, *, param: str, choices: list[str]) -> None:
        super().__init__(message, param=param, code="invalid_value")
        self.choices = choices


class AuthenticationFailed(MockFilesError):
    """401. ``missing`` tells a request with no usable key from one with a wrong key."""

    status = 401
    type = "invalid_request_error"

    def __init__(self, message: str, *, missing: bool, key: str | None = None) -> None:
        super().__init__(message, code=None if missing else "invalid_api_key")
        self.missing = missing
        self.key = key


class NotFound(MockFilesError):
    status = 404
    type = "invalid_request_error"


class Conflict(MockFilesError):
    """409: the object is not in a state that allows the operation (cancelling a finished batch)."""

    status = 409
    type = "invalid_request_error"


class MethodNotAllowed(MockFilesError):
    status = 405
    type = "invalid_request_error"


class PayloadTooLarge(MockFilesError):
    """413 in the shape OpenAI was seen answering an oversized upload (type server_error)."""

    status = 413
    type = "server_error"

    def __init__(self, message: str, *, limit: int, read: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.read = read


class QuotaExceeded(MockFilesError):
    """An account limit (file count or storage) would be exceeded by this upload."""

    status = 400
    type = "invalid_request_error"

    def __init__(self, message: str, *, which: str, limit: int, used: int) -> None:
        super().__init__(message, param="file", code=f"{which}_limit_exceeded")
        self.which = which
        self.limit = limit
        self.used = used


class RateLimited(MockFilesError):
    """429. ``kind`` (upload or query) and ``limit`` are None for an injected 429 on a
    request class that has no limit."""

    status = 429
    type = "requests"
    code = "rate_limit_exceeded"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        limit: int | None,
        kind: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, headers=headers)
        self.retry_after = retry_after
        self.limit = limit
        self.kind = kind


class InjectedRateLimit(RateLimited):
    """A 429 a scenario's fault rule asked for: each dialect answers it as it answers a real
    rate-limit refusal (wording, ``retry-after``…), then the rule's ``error`` fields and
    ``headers`` go over that."""

    def __init__(
        self, *, retry_after: float, given: Mapping[str, str | None], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__("", retry_after=retry_after, limit=None, kind=None, headers=headers)
        self.given = dict(given)

    def overrides(self) -> dict[str, str | None]:
        """The body fields the rule sets: a null ``message`` or ``type`` keeps the dialect's."""
        return {k: v for k, v in self.given.items() if v is not None or k in ("code", "param")}


class InjectedError(MockFilesError):
    """An error response a scenario's fault rule asked for."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str,
        code: str | None,
        param: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code, headers=headers)
        self.status = status
        self.type = type
        self.code = code


class ServerError(MockFilesError):
    status = 500
    type = "server_error"
