"""OpenAI's wire dialect: object shapes, the error envelope, response headers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .. import ids
from ..context import RequestContext
from ..errors import AuthenticationFailed, InjectedRateLimit, MockFilesError, RateLimited, ServerError
from ..ids import mask_key
from ..store import Page, StoredFile
from ..units import format_duration

SERVER_ERROR = (
    "The server had an error processing your request. Sorry about that! You can retry your request, "
    "or contact us through our help center at help.openai.com if you keep seeing this error. "
    "(Please include the request ID {request_id} in your email.)"
)


class OpenAIDialect:
    name = "openai"
    prefix = "/v1"

    # --- objects ------------------------------------------------------------------

    def file_object(self, f: StoredFile, now: float) -> dict[str, Any]:
        return {
            "id": f.id,
            "object": "file",
            "bytes": f.size,
            "created_at": f.created_at,
            "expires_at": f.expires_at,
            "filename": f.filename,
            "purpose": f.purpose,
            "status": f.status(now),
            "status_details": f.status_details(now),
        }

    def list_object(self, page: Page, now: float) -> dict[str, Any]:
        data = [self.file_object(f, now) for f in page.files]
        return {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": page.has_more,
        }

    def deleted_object(self, f: StoredFile) -> dict[str, Any]:
        return {"id": f.id, "object": "file", "deleted": True}

    def list_filters(self, query: Mapping[str, str]) -> dict[str, Any]:
        """Filters beyond purpose/limit/order/after that this dialect's list accepts."""
        return {}

    # --- errors and headers -------------------------------------------------------

    def error(self, err: MockFilesError, ctx: RequestContext) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, body and extra headers of an error response."""
        message, code, type_ = err.message, err.code, err.type
        headers = dict(err.headers)
        if isinstance(err, AuthenticationFailed) and not err.missing:
            message = (
                f"Incorrect API key provided: {mask_key(err.key or '')}. "
                "You can find your API key at https://platform.openai.com/account/api-keys."
            )
        elif isinstance(err, RateLimited):
            message = rate_limit_message(err, ctx)
            headers = {**retry_headers(err.retry_after), **headers}  # an injected 429's own headers win
        elif isinstance(err, ServerError):
            message = SERVER_ERROR.format(request_id=ctx.request_id)
        error = {"message": message, "type": type_, "param": err.param, "code": code}
        if isinstance(err, InjectedRateLimit):
            error.update(err.overrides())
        return err.status, {"error": error}, headers

    def new_request_id(self) -> str:
        return ids.request_id()

    def headers(self, ctx: RequestContext) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-request-id", ctx.request_id.encode()),
            (b"openai-processing-ms", str(int(ctx.elapsed_ms())).encode()),
            (b"openai-version", b"2020-10-01"),
            (b"access-control-expose-headers", b"X-Request-ID"),
        ]
        if ctx.rate is not None:
            headers += [
                (b"x-ratelimit-limit-requests", str(ctx.rate.limit).encode()),
                (b"x-ratelimit-remaining-requests", str(ctx.rate.remaining).encode()),
                (b"x-ratelimit-reset-requests", format_duration(ctx.rate.reset).encode()),
            ]
        return headers


def rate_limit_message(err: RateLimited, ctx: RequestContext) -> str:
    """OpenAI's words for a 429, with the limit when there is one."""
    wait = f"Please try again in {format_duration(err.retry_after)}. "
    visit = "Visit https://platform.openai.com/account/rate-limits to learn more."
    if err.limit is None:
        return f"Rate limit reached for requests. {wait}{visit}"
    return (
        f"Rate limit reached for {err.kind} requests ({ctx.endpoint}) on requests per second: "
        f"Limit {err.limit}, Used {err.limit}, Requested 1. {wait}{visit}"
    )


def retry_headers(seconds: float) -> dict[str, str]:
    """``retry-after`` in whole seconds (rounded up) and the exact ``retry-after-ms``."""
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(max(1, math.ceil(seconds * 1000))),
    }
