"""DashScope's native file API (``/api/v1/files``), in the live service's shapes.

Uploads carry one or more file parts (``files``, as the ``dashscope`` SDK and the docs'
curl send them, or ``file``, as other SDKs do), an optional ``purpose`` and optional
``descriptions`` (or ``description``); the answer is ``{"data": {"uploaded_files",
"failed_uploads"}, "request_id"}`` with per-file failures (``BadRequest.TooMany``,
``BadRequest.TooLarge``…) and UUID file ids, as recorded from the live service.

The ``dashscope`` SDK never sends ``purpose`` (its ``purpose`` argument only decides
whether it checks the JSONL itself), and its users upload documents and media that way,
so a file sent without a purpose is checked against no purpose's types: it is stored as
``fine-tune`` when it is ``.jsonl`` (the SDK's default purpose), else as ``file-extract``
(``user_data`` under the ``openai`` profile). See docs/dashscope.md.

Errors are ``{"code", "message", "request_id"}``, as recorded; list, get and delete answer
in the live service's shapes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from starlette.requests import Request

from ..chaos import drop_stale
from ..context import RequestContext
from ..emulator import Emulator
from ..errors import InvalidRequest, MissingParameter, MockFilesError, PayloadTooLarge, QuotaExceeded, say
from ..files_api import admit, fault_request, query_of, read_upload
from ..lifecycle import Files
from ..profiles import IdShape
from ..responses import JSONResponse
from ..routes import Route, by_method
from ..store import StoredFile
from ..upload import FilePart, Form
from ..validation import check_range, parse_int
from .dashscope_compatible import BEIJING, dashscope_headers, uuid_request_id

FILE_FIELDS = ("files", "file")
IMPLIED_PURPOSES = ("file-extract", "user_data")  # for a file sent without purpose that is not .jsonl
PAGE_SIZE_MAX = 100
NATIVE_ID = IdShape(prefix="", alphabet="0123456789abcdef", length=32, uuid=True)  # the SDK form's ids


class NativeDialect:
    name = "dashscope-native"
    prefix = "/api/v1"

    def new_request_id(self) -> str:
        return uuid_request_id()

    def headers(self, ctx: RequestContext) -> list[tuple[bytes, bytes]]:
        return dashscope_headers(ctx)

    def error(self, err: MockFilesError, ctx: RequestContext) -> tuple[int, dict[str, Any], dict[str, str]]:
        said = say(err, self.name, ctx.request_id)
        return said.status, {"code": said.code, "message": said.message, "request_id": ctx.request_id}, said.headers

    # --- objects ------------------------------------------------------------------

    def file_item(self, f: StoredFile, base_url: str, *, with_purpose: bool) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": f.seq,
            "name": f.filename,
            "description": f.description or "",
            "size": f.size,
            "md5": f.md5,
            "region": "cn-beijing",
            "file_id": f.id,
            "url": f"{base_url}compatible-mode/v1/files/{f.id}/content",
            "user_id": account_number(f.account, "user"),
            "api_key_id": account_number(f.account, "key"),
            "gmt_create": beijing_time(f.created_at),
        }
        if with_purpose:
            item["purpose"] = f.purpose
        return item


def implied_purpose(files: Files, filename: str) -> str:
    """The purpose of a file sent without one: ``fine-tune`` for JSONL (the SDK's default
    purpose, whose lines the SDK checks before sending), else the profile's any-document purpose."""
    if filename.lower().endswith(".jsonl") and "fine-tune" in files.profile.purposes:
        return "fine-tune"
    return next((p for p in IMPLIED_PURPOSES if p in files.profile.purposes), "fine-tune")


def check_size(files: Files, purpose: str, part: FilePart) -> None:
    """The per-file limit of a purpose the file did not name (the stream was held to the largest one)."""
    limit = files.profile.purposes[purpose].max_bytes
    if part.size > limit:
        raise PayloadTooLarge(
            "implied_purpose_size", limit=limit, read=part.size, filename=part.filename, purpose=purpose
        )


def native_parts(form: Form) -> list[FilePart]:
    """The files an upload stores, in the order they came."""
    return [p for p in form.files if p.field in FILE_FIELDS]


def beijing_time(timestamp: int) -> str:
    """``2025-11-30 19:37:33`` in China Standard Time; a time beyond the calendar's years
    1-9999 (freezegun can set the clock anywhere) shows as that calendar's end."""
    try:
        return datetime.fromtimestamp(timestamp, BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError, OSError):
        return "9999-12-31 23:59:59" if timestamp > 0 else "0001-01-01 00:00:00"


def account_number(account: str, what: str) -> str:
    """Stable numeric ids for an account, as the live service shows its user and key ids."""
    return str(int(hashlib.sha256(f"{what}:{account}".encode()).hexdigest()[:15], 16))


class NativeFilesAPI:
    def __init__(self, emulator: Emulator, dialect: NativeDialect) -> None:
        self.emulator = emulator
        self.dialect = dialect

    def routes(self, prefix: str) -> list[Route]:
        return [
            by_method(prefix + "/files", GET=self.list, POST=self.upload),
            by_method(prefix + "/files/{file_id}", GET=self.get, DELETE=self.delete),
        ]

    async def upload(self, request: Request) -> JSONResponse:
        ctx = await admit(self.emulator, request, "files.create")
        key = ctx.key or ""
        files = self.emulator.files

        form, upload = await read_upload(request, files, key, ctx, native_parts)
        given = form.value("purpose")
        parts = native_parts(form)
        first = parts[0].filename if parts else ""
        if given is None and parts:
            upload.purpose = implied_purpose(files, first)
        outcome = await self.emulator.apply_faults(
            ctx,
            lambda: fault_request(ctx, request, purpose=given or implied_purpose(files, first), filename=first or None),
        )
        if given is not None:
            files.rules(given, self.dialect.name)  # a purpose this service does not have: 400
        if not parts:
            raise MissingParameter("files")
        descriptions = form.values("descriptions") or form.values("description")
        await drop_stale(ctx, self.emulator.is_current(ctx))  # not into a store reset meanwhile

        def store(i: int, part: FilePart) -> StoredFile:
            files.check_filename(part.filename)
            purpose = given or implied_purpose(files, part.filename)
            if given is not None:
                files.check_file_type(purpose, part.filename)
            else:
                check_size(files, purpose, part)
            if part.room_left is not None:
                raise files.storage_refusal(part.size, part.room_left)
            f = files.create(
                key,
                purpose=purpose,
                filename=part.filename,
                chunks=part.chunks,
                size=part.size,
                outcome=outcome,
                dialect=self.dialect.name,
                description=descriptions[i] if i < len(descriptions) else None,
                id_shape=NATIVE_ID,
            )
            upload.files[i].file_id = f.id
            return f

        uploaded, failed = [], []
        for i, part in enumerate(parts):
            try:
                f = store(i, part)
            except (QuotaExceeded, InvalidRequest, PayloadTooLarge) as exc:
                _, body, _ = self.dialect.error(exc, ctx)
                failed.append({"name": part.filename, "code": body["code"], "message": body["message"]})
            else:
                uploaded.append({"name": part.filename, "file_id": f.id})
        return JSONResponse(
            {"data": {"uploaded_files": uploaded, "failed_uploads": failed}, "request_id": ctx.request_id}
        )

    async def list(self, request: Request) -> JSONResponse:
        ctx = await admit(self.emulator, request, "files.list")
        query = query_of(request)
        page_no = parse_int(query.get("page_no", "1"), "page_no")
        check_range(page_no, "page_no", 1, 2**31)
        page_size = parse_int(query.get("page_size", "10"), "page_size")
        check_range(page_size, "page_size", 1, PAGE_SIZE_MAX)
        found, total = self.emulator.files.page_at(ctx.key or "", offset=(page_no - 1) * page_size, limit=page_size)
        base = str(request.base_url)
        data = {
            "total": total,
            "files": [self.dialect.file_item(f, base, with_purpose=False) for f in found],
            "page_no": page_no,
            "page_size": page_size,
        }
        return JSONResponse({"data": data, "request_id": ctx.request_id})

    async def get(self, request: Request) -> JSONResponse:
        ctx = await admit(self.emulator, request, "files.retrieve")
        f = self.emulator.files.get(ctx.key or "", request.path_params["file_id"])
        item = self.dialect.file_item(f, str(request.base_url), with_purpose=True)
        return JSONResponse({"data": item, "request_id": ctx.request_id})

    async def delete(self, request: Request) -> JSONResponse:
        ctx = await admit(self.emulator, request, "files.delete")
        self.emulator.files.delete(ctx.key or "", request.path_params["file_id"])
        return JSONResponse({"request_id": ctx.request_id})
