"""OpenAI's wire dialect: object shapes, the error envelope, response headers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mockfiles.admission.ratelimit import RateDecision
from mockfiles.batches.service import BatchFilter
from mockfiles.batches.view import BatchPage, BatchView
from mockfiles.core import ids
from mockfiles.core.errors import MockFilesError, say
from mockfiles.core.record import Record
from mockfiles.core.units import format_duration
from mockfiles.files.store import Page, StoredFile
from mockfiles.uploads.service import Part, Upload

VERSION = (b"openai-version", b"2020-10-01")  # the constant headers, made once
EXPOSE = (b"access-control-expose-headers", b"X-Request-ID")


class OpenAIDialect:
    name = "openai"
    prefix = "/v1"
    created_status = 200  # a file upload's answer
    strict_bodies = True  # a JSON body's unknown fields are refused (unknown_parameter), as OpenAI does
    list_limit = 10_000  # files.list: ``limit`` 1-10,000, and its default
    downloadable: tuple[str, ...] | None = None  # the purposes whose content can be downloaded; None: all

    def check_request(self, query_string: bytes) -> None:
        """Refuse a request this dialect never serves whatever its route (Azure: its api-version)."""

    def created_headers(self, obj: dict[str, Any], url: Callable[[], str]) -> dict[str, str]:
        """Headers of a file upload's answer besides the dialect's own (``url()``: the request's,
        made only if a dialect says it)."""
        return {}

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

    def upload_object(self, upload: Upload, now: float, file: dict[str, Any] | None = None) -> dict[str, Any]:
        """The Upload object; ``file`` is its File (``Uploads.file_of``) as this dialect shows Files."""
        return {
            "id": upload.id,
            "object": "upload",
            "bytes": upload.bytes,
            "created_at": upload.created_at,
            "filename": upload.filename,
            "purpose": upload.purpose,
            "status": upload.status(now),
            "expires_at": upload.expires_at,
            "file": file,
        }

    def part_object(self, part: Part) -> dict[str, Any]:
        return {"id": part.id, "object": "upload.part", "created_at": part.created_at, "upload_id": part.upload_id}

    def batch_object(self, batch: BatchView) -> dict[str, Any]:
        """The Batch object, as the SDK's ``Batch`` types it; the other dialects start from it."""
        usage = batch.usage
        errors = None
        if batch.errors is not None:
            errors = {"object": "list", "data": [e.as_dict() for e in batch.errors]}
        counts = batch.request_counts
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": batch.endpoint,
            "model": batch.model,
            "errors": errors,
            "input_file_id": batch.input_file_id,
            "completion_window": batch.completion_window,
            "status": batch.status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": batch.created_at,
            "in_progress_at": batch.in_progress_at,
            "expires_at": batch.expires_at,
            "finalizing_at": batch.finalizing_at,
            "completed_at": batch.completed_at,
            "failed_at": batch.failed_at,
            "expired_at": batch.expired_at,
            "cancelling_at": batch.cancelling_at,
            "cancelled_at": batch.cancelled_at,
            "request_counts": {"total": counts.total, "completed": counts.completed, "failed": counts.failed},
            "usage": {
                "input_tokens": usage.input_tokens,
                "input_tokens_details": {"cached_tokens": usage.cached_tokens},
                "output_tokens": usage.output_tokens,
                "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
                "total_tokens": usage.input_tokens + usage.output_tokens,
            },
            "metadata": None if batch.metadata is None else dict(batch.metadata),
        }

    def batch_list_object(self, page: BatchPage) -> dict[str, Any]:
        data = [self.batch_object(batch) for batch in page.data]
        return {
            "object": "list",
            "data": self.batch_list_data(data),
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": page.has_more,
        }

    def batch_list_data(self, data: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """A batch list's ``data`` (DashScope's: null when empty)."""
        return data

    def list_filters(self, query: Mapping[str, str]) -> dict[str, Any]:
        """Filters beyond purpose/limit/order/after that this dialect's list accepts."""
        return {}

    def batch_filters(self, query: Mapping[str, str]) -> BatchFilter | None:
        """Filters beyond limit/after that this dialect's batch list accepts (others are ignored)."""
        return None

    # --- errors and headers -------------------------------------------------------

    def error(self, err: MockFilesError, record: Record) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, body and extra headers of an error response, as the error table words it."""
        said = say(err, self.name, record.request_id)
        error = {"message": said.message, "type": said.type, "param": said.param, "code": said.code}
        return said.status, {"error": error}, said.headers

    def new_request_id(self) -> str:
        return ids.request_id()

    def headers(self, record: Record) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-request-id", record.arrival.request_id.encode()),
            (b"openai-processing-ms", b"%d" % record.elapsed_ms()),
            VERSION,
            EXPOSE,
        ]
        rate = record.rate
        if rate is not None:
            headers += rate_headers(rate)
        tokens = record.tokens
        if tokens is not None:
            headers += [
                (b"x-ratelimit-limit-tokens", str(tokens.limit).encode()),
                (b"x-ratelimit-remaining-tokens", str(tokens.remaining).encode()),
                (b"x-ratelimit-reset-tokens", format_duration(tokens.reset).encode()),
            ]
        return headers


def rate_headers(rate: RateDecision) -> list[tuple[bytes, bytes]]:
    """A rate-limited request's ``x-ratelimit-*`` headers (its class's limit, what remains, when it resets)."""
    return [
        (b"x-ratelimit-limit-requests", str(rate.limit).encode()),
        (b"x-ratelimit-remaining-requests", str(rate.remaining).encode()),
        (b"x-ratelimit-reset-requests", format_duration(rate.reset).encode()),
    ]
