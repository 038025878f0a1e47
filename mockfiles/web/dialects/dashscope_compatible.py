"""DashScope's OpenAI-compatible mode (``/compatible-mode/v1``): OpenAI's shapes with
the differences recorded from the live service — no ``expires_at``, no
``first_id``/``last_id``, ``create_after``/``create_before`` list filters, a top-level
``request_id`` beside errors, DashScope's wording for keys and rate limits, UUID
request ids, and no ``openai-*`` or ``x-ratelimit-*`` headers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mockfiles.core.errors import InvalidRequest, MockFilesError
from mockfiles.core.record import Record
from mockfiles.files.store import Page, StoredFile
from mockfiles.web.dialects.dashscope import BEIJING, dashscope_headers, uuid_request_id
from mockfiles.web.dialects.openai import OpenAIDialect


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

    def error(self, err: MockFilesError, record: Record) -> tuple[int, dict[str, Any], dict[str, str]]:
        status, body, headers = super().error(err, record)
        body["request_id"] = record.request_id
        return status, body, headers

    def headers(self, record: Record) -> list[tuple[bytes, bytes]]:
        return dashscope_headers(record)


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
