"""The OpenAI-shaped Files routes (create, list, retrieve, delete, content), served
once for every dialect that speaks that shape: the dialect only decides how objects
and errors look on the wire."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .chaos import drop_stale
from .context import RequestContext, Upload, UploadedFile
from .emulator import Emulator
from .errors import InvalidRequest, InvalidType, InvalidValue, MissingParameter, PayloadTooLarge
from .lifecycle import Files, Outcome
from .responses import JSONResponse
from .routes import Route, by_method
from .store import Page, StoredFile
from .upload import FilePart, Form, read_form
from .validation import check_range, json_type, parse_expires_after, parse_int

FORM_OVERHEAD = 64 * 1024  # room for the non-file parts when judging a declared Content-Length
LIST_LIMIT_MAX = 10_000
THREAD_CHECK_BYTES = 1024 * 1024  # content checks of larger files run off the event loop


class FilesDialect(Protocol):
    name: str

    def file_object(self, f: StoredFile, now: float) -> dict[str, Any]: ...
    def list_object(self, page: Page, now: float) -> dict[str, Any]: ...
    def deleted_object(self, f: StoredFile) -> dict[str, Any]: ...
    def list_filters(self, query: Mapping[str, str]) -> dict[str, Any]: ...


class FilesAPI:
    def __init__(self, emulator: Emulator, dialect: FilesDialect) -> None:
        self.emulator = emulator
        self.dialect = dialect

    def routes(self, prefix: str) -> list[Route]:
        return [
            by_method(prefix + "/files", GET=self.list, POST=self.create),
            by_method(prefix + "/files/{file_id}", GET=self.retrieve, DELETE=self.delete),
            by_method(prefix + "/files/{file_id}/content", GET=self.content),
        ]

    async def create(self, request: Request) -> JSONResponse:
        ctx = await admit(self.emulator, request, "files.create")
        key = ctx.key or ""
        files = self.emulator.files
        files.check_room(key)  # the file count, before any of the body is read
        form, upload = await read_upload(request, files, key, ctx, file_parts)
        purpose = form.value("purpose")
        part = upload_part(form)
        if part is not None and part.room_left is not None:
            raise files.storage_refusal(part.size, part.room_left)
        details = lambda: fault_request(ctx, request, purpose=purpose, filename=part.filename if part else None)  # noqa: E731
        outcome: Outcome | None = await self.emulator.apply_faults(ctx, details)
        rules = files.rules(purpose, self.dialect.name)
        if part is None:
            raise MissingParameter("file")
        assert purpose is not None
        expires_after = expires_after_of(form)
        files.check_filename(part.filename)
        files.check_file_type(purpose, part.filename)
        create = functools.partial(
            files.create,
            key,
            purpose=purpose,
            filename=part.filename,
            chunks=part.chunks,
            size=part.size,
            expires_after=expires_after,
            outcome=outcome,
            dialect=self.dialect.name,
        )
        await drop_stale(ctx, self.emulator.is_current(ctx))  # not into a store reset meanwhile
        needs_thread = rules.content is not None and outcome is None and part.size > THREAD_CHECK_BYTES
        f = await run_in_threadpool(create) if needs_thread else create()
        upload.files[0].file_id = f.id
        return JSONResponse(self.dialect.file_object(f, files.clock.now()))

    async def list(self, request: Request) -> JSONResponse:
        ctx = await admit(self.emulator, request, "files.list")
        query = query_of(request)
        limit = LIST_LIMIT_MAX
        if "limit" in query:
            limit = parse_int(query["limit"], "limit")
            check_range(limit, "limit", 1, LIST_LIMIT_MAX)
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise InvalidValue("order", order, ("asc", "desc"))
        after = query.get("after") or None
        purpose = query.get("purpose") or None
        files = self.emulator.files
        filters = self.dialect.list_filters(query)
        page = files.page(ctx.key or "", limit=limit, order=order, after=after, purpose=purpose, **filters)
        return JSONResponse(self.dialect.list_object(page, files.clock.now()))

    async def retrieve(self, request: Request) -> JSONResponse:
        ctx = await admit(self.emulator, request, "files.retrieve")
        files = self.emulator.files
        f = files.get(ctx.key or "", request.path_params["file_id"])
        return JSONResponse(self.dialect.file_object(f, files.clock.now()))

    async def delete(self, request: Request) -> JSONResponse:
        ctx = await admit(self.emulator, request, "files.delete")
        f = self.emulator.files.delete(ctx.key or "", request.path_params["file_id"])
        return JSONResponse(self.dialect.deleted_object(f))

    async def content(self, request: Request) -> ContentResponse:
        ctx = await admit(self.emulator, request, "files.content")
        f = self.emulator.files.get(ctx.key or "", request.path_params["file_id"])
        return ContentResponse(f.chunks, f.size)


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


async def admit(emulator: Emulator, request: Request, endpoint: str) -> RequestContext:
    """The thin layer in front of every operation, in every dialect: authentication, the
    rate limit, and (except for uploads, which wait for their form) the fault rules."""
    ctx: RequestContext = request.scope["mockfiles"]
    ctx.endpoint = endpoint
    emulator.authenticate(ctx, header(request, b"authorization"))
    emulator.check_rate(ctx)
    if endpoint != "files.create" and emulator.chaos.rules:
        await emulator.apply_faults(ctx, lambda: fault_request(ctx, request))
    return ctx


def header(request: Request, name: bytes) -> str | None:
    """One request header, read from the ASGI scope (no Headers object on the hot path)."""
    for key, value in request.scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def read_upload(
    request: Request,
    files: Files,
    key: str,
    ctx: RequestContext,
    uploaded: Callable[[Form], list[FilePart]],
    default_purpose: str | None = None,
) -> tuple[Form, Upload]:
    """Read an upload's form, streaming its file parts against their size limits and the
    account's room, and note what it carried for the journal (even when it is refused):
    ``uploaded`` picks the parts that are the files to store, in the order they are stored."""
    declared = declared_length(request)

    def refuse_if_declared_over(limit: int) -> None:
        """A declared Content-Length can already rule the upload out, before any of it is read."""
        if declared is not None and declared > limit + FORM_OVERHEAD:
            raise PayloadTooLarge("size_limit_declared", limit=limit, read=declared)

    def file_limit(field: str, form: Form) -> int:
        """The purpose's limit once it is known (before: the largest), asked again when it arrives after the file."""
        limit = files.max_upload_bytes(form.value("purpose"))
        refuse_if_declared_over(limit)
        return limit

    refuse_if_declared_over(files.profile.max_file_bytes)
    form = Form()
    try:
        await read_form(
            request.stream(),
            request.headers.get("content-type"),
            file_limit,
            room=lambda: files.room_for(key),
            form=form,
        )
    finally:
        purposes = form.values("purpose")
        ctx.upload = Upload(
            purpose=(purposes[0] if purposes else None) or default_purpose,
            files=[UploadedFile(p.filename, p.size if p.complete else None, p.sha256) for p in uploaded(form)],
        )
    return form, ctx.upload


def file_parts(form: Form) -> list[FilePart]:
    return [p for p in form.files if p.field == "file"]


def upload_part(form: Form) -> FilePart | None:
    """The one ``file`` part of an upload (None when there is none)."""
    parts = file_parts(form)
    if len(parts) > 1:
        raise InvalidRequest("one_file_only", param="file")
    if not parts and form.values("file"):
        raise InvalidRequest("file_not_a_file", param="file")
    return parts[0] if parts else None


BRACKETED = re.compile(r"expires_after\[([^\[\]]*)\]")


def expires_after_of(form: Form) -> int | None:
    """The upload's ``expires_after`` seconds, from ``expires_after[anchor]``/``[seconds]`` as
    the SDK and curl send them, or from one ``expires_after`` part holding a JSON object
    (OpenAPI's encoding of an object field): both checked alike; both at once is a 400."""
    whole = form.value("expires_after")
    names = dict.fromkeys(name for name, _ in form.fields if name.startswith("expires_after["))
    if whole is not None and names:
        raise InvalidRequest("expires_twice", param="expires_after", names=tuple(names))
    if whole is not None:
        return parse_expires_after(json_object(whole), text=False)
    if not names:
        return None
    fields: dict[str, object] = {}
    for name in names:
        bracketed = BRACKETED.fullmatch(name)
        fields[bracketed.group(1) if bracketed else name[len("expires_after") :]] = form.value(name)
    return parse_expires_after(fields, text=True)


def json_object(text: str) -> dict[str, object]:
    """The ``expires_after`` part's JSON object."""
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidRequest("expires_not_json", param="expires_after", text=text[:100]) from None
    if not isinstance(value, dict):
        raise InvalidType("expires_after", expected="an object", got=json_type(value))
    return value


def query_of(request: Request) -> dict[str, str]:
    """The query's parameters as a plain dict (a repeated one keeps its last value, as
    Starlette reads it); most requests have none, and then nothing is parsed."""
    return dict(request.query_params) if request.scope["query_string"] else {}


def declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidRequest("bad_content_length") from None


def fault_request(ctx: RequestContext, request: Request, **extra: Any) -> dict[str, Any]:
    """What a fault rule's ``match`` looks at."""
    return {
        "endpoint": ctx.endpoint,
        "method": ctx.method,
        "path": ctx.path,
        "dialect": ctx.dialect,
        "key": ctx.key,
        "headers": request.headers,
        **extra,
    }
