"""Responses: JSON encoded by orjson with its headers built directly, and a file's bytes as stored.

On the hot path the standard library's encoder cost more than everything else a retrieve does,
and Starlette's generic header set-up was a visible share too (bench/README.md has the
measurements); the output is the same compact UTF-8 JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockfiles.core.echoes import digits, writable


class JSONResponse(Response):
    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body = dumps(content)
        self.raw_headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]
        if headers:
            self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    @classmethod
    def encoded(cls, body: bytes) -> JSONResponse:
        """A 200 answer of JSON already encoded (a file object kept as bytes)."""
        response = cls.__new__(cls)
        response.status_code, response.background, response.body = 200, None, body
        response.raw_headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]
        return response


def dumps(content: Any) -> bytes:
    """``content`` as JSON; should it hold what JSON cannot carry (a lone surrogate, an integer
    beyond 64 bits, nesting orjson refuses), those parts written as text instead of a 500. Every
    kept value is made safe where it enters (the journal, error echoes, batch lines): this is the
    last line, for any answer."""
    try:
        return orjson.dumps(content)
    except TypeError:  # orjson.JSONEncodeError is one
        return orjson.dumps(json_safe(content))


def json_safe(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return writable(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else digits(value)
    if depth >= 200:
        return "…"
    if isinstance(value, dict):
        return {writable(str(k)): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, depth + 1) for v in value]
    return writable(str(value))


class ContentResponse(Response):
    """A file's bytes sent chunk by chunk as stored: never joined into one copy."""

    media_type = "application/octet-stream"

    def __init__(self, chunks: tuple[bytes, ...], size: int) -> None:
        super().__init__(headers={"content-length": str(size)})
        self.chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if len(self.chunks) == 1:
            await send({"type": "http.response.body", "body": self.chunks[0]})
            return
        for chunk in self.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
