"""A request's head: its limits (set here, and only here), and the one pass over its headers that
every later reader uses (``scan``: made by the application, kept in the ASGI scope, read with
``head_of``). Nothing else walks a request's headers on the way of a request.

The limits: a head's header fields (names and values) may take ``MAX_HEADER_BYTES`` in all
(the application refuses more, whatever carried the request: a socket or the in-process
connection); while a head arrives on a socket, the connection stops reading it at
``HEAD_LIMIT`` bytes, request line included (protocol.py), twice the fields' share: a request
target may take up to that much.
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.types import Scope

MAX_HEADER_BYTES = 32 * 1024  # a head's header fields, names and values (httptools itself sets no limit)
HEAD_LIMIT = 2 * MAX_HEADER_BYTES  # a head as it arrives, request line included
MAX_RETRY_DIGITS = 9  # x-stainless-retry-count
SCOPE_KEY = "mockfiles.head"
PREFLIGHT = b"access-control-request-method"
# Request headers the journal keeps under these names: a retry test's id (its instructions apply),
# and the keys that group attempts into one logical call (docs/retries.md).
TAGS = {b"x-retry-test-id": "retry_test", b"idempotency-key": "idempotency_key", b"x-mockfiles-call": "call_key"}
WATCHED = frozenset(
    (
        b"content-length",
        b"content-type",
        b"transfer-encoding",
        b"x-stainless-retry-count",
        b"authorization",
        b"api-key",
        b"origin",
        b"expect",
        b"host",
        PREFLIGHT,
        b"access-control-request-headers",
        *TAGS,
    )
)


class Head(NamedTuple):
    """What one pass over a request's headers found (the first of a repeated header)."""

    size: int  # the header fields' bytes, names and values
    body: bool  # whether a body follows (a Content-Length other than 0, or a Transfer-Encoding)
    retry_count: int | None  # the SDK's x-stainless-retry-count (a number of at most 9 digits)
    tags: dict[str, str] | None  # TAGS found, under the journal's names (None: none, as for most)
    authorization: bytes | None  # raw (the front layer parses it); Azure's api-key as a bearer key
    origin: bytes | None  # a browser's Origin, raw (browsers.py)
    expect: bytes | None  # an Expect other than 100-continue
    continues: bool  # Expect: 100-continue
    content_length: str | None
    content_type: str | None
    host: str | None
    preflight: str | None  # Access-Control-Request-Method
    preflight_headers: str | None  # Access-Control-Request-Headers


def scan(headers: list[tuple[bytes, bytes]]) -> Head:
    """One pass over the request headers, as the ASGI scope holds them (lower-case names)."""
    size, body, retry_count, authorization, api_key, origin, expect = 0, False, None, None, None, None, None
    continues, content_length, content_type, host, preflight, preflight_headers = False, None, None, None, None, None
    tags: dict[str, str] | None = None
    for name, value in headers:
        size += len(name) + len(value)
        if name not in WATCHED:  # most headers: one set lookup instead of many comparisons
            continue
        if name == b"content-length":
            body = value.strip() not in (b"0", b"")
            content_length = value.decode("latin-1") if content_length is None else content_length
        elif name == b"content-type":
            content_type = value.decode("latin-1") if content_type is None else content_type
        elif name == b"host":
            host = value.decode("latin-1") if host is None else host
        elif name == b"transfer-encoding":
            body = True
        elif name == b"x-stainless-retry-count":
            # a count of at most 9 digits: a longer one is no retry count (kept as none, not refused: the
            # real services ignore the header), nor an integer the journal could not write
            retry_count = int(value) if value.isdigit() and len(value) <= MAX_RETRY_DIGITS else None
        elif name == b"authorization":
            authorization = value if authorization is None else authorization
        elif name == b"api-key":  # Azure's key header: the same account as a bearer key
            api_key = value if api_key is None else api_key
        elif name == b"origin":
            origin = value if origin is None else origin
        elif name == b"expect":
            if value.strip().lower() == b"100-continue":
                continues = True
            elif expect is None:
                expect = value
        elif name == PREFLIGHT:
            preflight = value.decode("latin-1") if preflight is None else preflight
        elif name == b"access-control-request-headers":
            preflight_headers = value.decode("latin-1") if preflight_headers is None else preflight_headers
        else:
            tags = tags or {}
            tags.setdefault(TAGS[name], value.decode("latin-1"))
    if authorization is None and api_key is not None:
        authorization = b"Bearer " + api_key
    return Head(
        size,
        body,
        retry_count,
        tags,
        authorization,
        origin,
        expect,
        continues,
        content_length,
        content_type,
        host,
        preflight,
        preflight_headers,
    )


def head_of(scope: Scope) -> Head:
    """The request's head, as the application scanned it (a scope it did not see: scanned now)."""
    head: Head | None = scope.get(SCOPE_KEY)
    if head is None:
        head = scope[SCOPE_KEY] = scan(scope["headers"])
    return head
