"""DashScope's OpenAI-compatible mode (``/compatible-mode/v1``): OpenAI's shapes with
the differences documented or recorded from the live service — files without ``expires_at``,
file lists without ``first_id``/``last_id`` (``limit`` 1-2,000, default 2,000), the
``create_after``/``create_before`` filters in their four forms, content for batch result files
only, Batch objects without ``model`` and ``usage`` and with ``expires_at`` null, DashScope's
batch list filters (``ds_name``, ``input_file_ids``, ``status``, ``create_after``,
``create_before``) and ``data: null`` for an empty batch list, a top-level ``request_id`` beside
errors, DashScope's wording for keys and rate limits, UUID request ids, and no ``openai-*`` or
``x-ratelimit-*`` headers. Sources: docs/dashscope.md."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mockfiles.batches.service import BatchFilter
from mockfiles.batches.timeline import STATUSES
from mockfiles.batches.view import BatchView
from mockfiles.core.errors import InvalidRequest, InvalidValue, MockFilesError
from mockfiles.core.record import Record
from mockfiles.files.store import Page, StoredFile
from mockfiles.web.dialects.dashscope import BEIJING, dashscope_headers, uuid_request_id
from mockfiles.web.dialects.openai import OpenAIDialect

# The forms create_after/create_before take (the File document's examples: 20250306123000,
# 2025-11-12 10:10:10, 2025-11-12, 20251112), and how much of a day each leaves open.
DAY_TIMES = (
    (re.compile(r"[0-9]{14}"), "%Y%m%d%H%M%S", 0),
    (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"), "%Y-%m-%d %H:%M:%S", 0),
    (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "%Y-%m-%d", 86399),
    (re.compile(r"[0-9]{8}"), "%Y%m%d", 86399),
)
MAX_INPUT_FILE_IDS = 20  # input_file_ids: "up to 20"


class CompatibleDialect(OpenAIDialect):
    name = "dashscope-compatible"
    prefix = "/compatible-mode/v1"
    strict_bodies = False  # DashScope documents no refusal of unknown fields (a choice: they are ignored)
    list_limit = 2_000  # "Range: 1-2,000. Default: 2,000."
    downloadable = ("batch_output",)  # "Only files whose file_id starts with file-batch_output can be downloaded"

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

    def batch_object(self, batch: BatchView) -> dict[str, Any]:
        """The Batch as DashScope documents and was recorded sending it: OpenAI's without ``model``
        or ``usage``, ``expires_at`` null (in every recorded answer, whatever the status)."""
        shown = super().batch_object(batch)
        del shown["model"], shown["usage"]
        shown["expires_at"] = None
        return shown

    def batch_list_data(self, data: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """As OpenAI's, but an empty list's ``data`` is null (recorded live)."""
        return data or None

    def batch_filters(self, query: Mapping[str, str]) -> BatchFilter | None:
        """``ds_name`` (a part of the name), ``input_file_ids`` and ``status`` (comma-separated),
        ``create_after``/``create_before`` (as for files)."""
        ids = comma_list(query.get("input_file_ids"))
        if ids is not None and len(ids) > MAX_INPUT_FILE_IDS:
            raise InvalidRequest("too_many_file_ids", param="input_file_ids", limit=MAX_INPUT_FILE_IDS, count=len(ids))
        statuses = comma_list(query.get("status"))
        for status in statuses or ():
            if status not in STATUSES:
                raise InvalidValue("status", status, STATUSES)
        times = self.list_filters(query)
        where = BatchFilter(
            name=query.get("ds_name") or None,
            input_file_ids=ids,
            statuses=statuses,
            created_from=times.get("created_from"),
            created_to=times.get("created_to"),
        )
        return None if where == BatchFilter() else where

    def error(self, err: MockFilesError, record: Record) -> tuple[int, dict[str, Any], dict[str, str]]:
        status, body, headers = super().error(err, record)
        body["request_id"] = record.request_id
        return status, body, headers

    def headers(self, record: Record) -> list[tuple[bytes, bytes]]:
        return dashscope_headers(record)


def parse_day_time(raw: str, param: str, *, end: bool) -> int:
    """``YYYYMMDDhhmmss``, ``YYYY-MM-DD hh:mm:ss``, ``YYYY-MM-DD`` or ``YYYYMMDD`` in China
    Standard Time, as unix seconds; a bare day used as an upper bound means the end of that day."""
    for form, pattern, span in DAY_TIMES:
        if form.fullmatch(raw):
            try:
                moment = datetime.strptime(raw, pattern).replace(tzinfo=BEIJING)
            except ValueError:
                break  # the right form, but no such date (2025-02-30)
            return int(moment.timestamp()) + (span if end else 0)
    raise InvalidRequest("bad_day_time", param=param, raw=raw[:100])


def comma_list(raw: str | None) -> frozenset[str] | None:
    """``a,b, c`` as a set of its non-empty items; None when nothing is given."""
    items = frozenset(item.strip() for item in (raw or "").split(",") if item.strip())
    return items or None
