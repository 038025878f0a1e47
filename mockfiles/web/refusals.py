"""The answers an HTTP connection gives on its own (400, 431, 408), as data the application words:
``Refusal`` (what is refused), ``RequestSoFar`` (what had arrived), ``Answers`` (what the
connection asks of the application), ``PlainAnswers`` (OpenAI's envelope, nothing journaled);
``malformed``: the 400 for a request the HTTP parser refuses, saying why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from mockfiles.core.timeouts import Timeouts
from mockfiles.web.head import HEAD_LIMIT

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Refusal:
    """An answer the connection gives on its own, before or instead of the application's."""

    status: int
    message: str
    action: str  # what the journal says: malformed_request, headers_too_large, header_timeout, body_timeout


HEAD_TOO_LARGE = Refusal(
    431,
    f"Request header fields too large: the request line and headers must end within {HEAD_LIMIT} bytes.",
    "headers_too_large",
)


def malformed(error: Exception) -> Refusal:
    """The 400 for a request httptools (llhttp) refuses, with the parser's reason: ``Invalid HTTP
    request: Transfer-Encoding can't be present with Content-Length.``"""
    reason = str(error) or "the request could not be read"
    if isinstance(error, httptools.HttpParserCallbackError):  # uvicorn's own reading of the head failed
        cause = error.__context__
        reason = "Invalid request target" if isinstance(cause, (httptools.HttpParserError, ValueError)) else reason
    return Refusal(400, f"Invalid HTTP request: {reason.rstrip('.')}.", "malformed_request")


def request_line(data: bytes) -> tuple[str, bytes] | None:
    """The method and target of the request line ``data`` begins with, as sent (``get``, a
    target with bytes beyond ASCII), when the parser refused it before taking them."""
    line = data.lstrip(b"\r\n").split(b"\n", 1)[0]
    method, _, rest = line.partition(b" ")
    if not rest or not 0 < len(method) <= 32 or not all(33 <= c < 127 for c in method):
        return None
    return method.decode("ascii"), rest.rstrip(b"\r").rpartition(b" ")[0] or rest.rstrip(b"\r")


@dataclass(frozen=True)
class RequestSoFar:
    """What had arrived of a request when the connection refused it."""

    method: str | None  # None when not even the request line was read
    target: bytes  # the request target as received, cut to TARGET_SHOWN bytes
    scope: dict[str, Any] | None  # the ASGI scope, once the whole head had arrived


class Answers(Protocol):
    """What the connection asks of the application it serves."""

    def timeouts(self) -> Timeouts: ...

    def refuse(self, refusal: Refusal, request: RequestSoFar) -> tuple[int, Headers, bytes]:
        """Status, headers and body of the refusal (journaling it, if the application journals)."""
        ...


class PlainAnswers:
    """The OpenAI error envelope and fixed timeouts, for an application that says nothing itself."""

    def __init__(self, timeouts: Timeouts | None = None) -> None:
        self._timeouts = timeouts or Timeouts()

    def timeouts(self) -> Timeouts:
        return self._timeouts

    def refuse(self, refusal: Refusal, request: RequestSoFar) -> tuple[int, Headers, bytes]:
        error = {"message": refusal.message, "type": "invalid_request_error", "param": None, "code": None}
        return refusal.status, [(b"content-type", b"application/json")], orjson.dumps({"error": error})


def encode_response(status: int, headers: Headers, body: bytes) -> bytes:
    """A whole response that closes the connection, for the connection's own answers."""
    out = [STATUS_LINE[status]]
    for name, value in headers:
        out += [name, b": ", value, b"\r\n"]
    out += [b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body), body]
    return b"".join(out)
