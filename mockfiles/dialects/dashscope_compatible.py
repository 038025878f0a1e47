"""DashScope's OpenAI-compatible mode (``/compatible-mode/v1``): OpenAI's shapes with
the differences recorded from the live service — no ``expires_at``, no
``first_id``/``last_id``, ``create_after``/``create_before`` list filters, a top-level
``request_id`` beside errors, DashScope's wording for keys and rate limits, UUID
request ids, and no ``openai-*`` or ``x-ratelimit-*`` headers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import ids
from ..context import RequestContext
from ..errors import InvalidRequest, MockFilesError
from ..store import Page, StoredFile
from .openai import OpenAIDialect

BEIJING = timezone(timedelta(hours=8))  # DashScope's dates are China Standard Time


def uuid_request_id() -> str:
    return ids.uuid4()


class CompatibleDialect(OpenAIDialect):
    name = "dashscope-compatible"
    prefix = "/compatible-mode/v1"

    def new_request_id(self) -> str:
        return uuid_request_id()

    def file_object(self, f: StoredFile, now: float) -> dict[str, Any]:
        obj = super().file_object(f, now)
        del obj["expires_at"]  # DashScope's files never expire, and its objects have no such field
        return obj

    def list_object(self, page: Page, now: float) -> dict[str, Any]:
        return {"object": "list", "data": [self.file_object(f, now) for f in page.files], "has_more": page.has_more}

    def list_filters(self, query: Mapping[str, str]) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        if query.get("create_after"):
            filters["created_from"] = parse_day_time(query["create_after"], "create_after", end=False)
        if query.get("create_before"):
            filters["created_to"] = parse_day_time(query["create_before"], "create_before", end=True)
        return filters

    def error(self, err: MockFilesError, ctx: RequestContext) -> tuple[int, dict[str, Any], dict[str, str]]:
        status, body, headers = super().error(err, ctx)
        body["request_id"] = ctx.request_id
        return status, body, headers

    def headers(self, ctx: RequestContext) -> list[tuple[bytes, bytes]]:
        return dashscope_headers(ctx)


def dashscope_headers(ctx: RequestContext) -> list[tuple[bytes, bytes]]:
    """DashScope sends its request id and timing, and no rate-limit headers (a 429 still
    carries ``retry-after``/``retry-after-ms``, added with the error)."""
    return [(b"x-request-id", ctx.request_id.encode()), (b"req-cost-time", str(int(ctx.elapsed_ms())).encode())]


def parse_day_time(raw: str, param: str, *, end: bool) -> int:
    """``YYYYMMDD`` or ``YYYYMMDDhhmmss`` in China Standard Time, as unix seconds; a bare
    day used as an upper bound means the end of that day."""
    for pattern, span in (("%Y%m%d%H%M%S", 0), ("%Y%m%d", 86399)):
        try:
            moment = datetime.strptime(raw, pattern).replace(tzinfo=BEIJING)
        except ValueError:
            continue
        return int(moment.timestamp()) + (span if end else 0)
    raise InvalidRequest("bad_day_time", param=param, raw=raw)
