"""The OpenAI-shaped Files routes (create, list, retrieve, delete, content), served
once for every dialect that speaks that shape: the dialect only decides how objects
and errors look on the wire."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .chaos import drop_stale
from .context import RequestContext
from .emulator import Emulator
from .errors import InvalidRequest, PayloadTooLarge
from .lifecycle import Outcome, check_range, parse_expires_after, parse_int
from .responses import JSONResponse
from .routes import Route, by_method
from .store import Page, StoredFile
from .upload import Form, read_form

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
        files.check_room(key)
        declared = declared_length(request)

        def refuse_if_declared_over(limit: int) -> None:
            """A declared Content-Length can already rule the upload out, before any of it is read."""
            if declared is not None and declared > limit + FORM_OVERHEAD:
                files.check_room(key, declared - FORM_OVERHEAD)  # the storage quota, when that is the cause
                raise PayloadTooLarge(
                    f"Maximum content size limit ({limit}) exceeded ({declared} bytes declared)",
                    limit=limit,
                    read=declared,
                )

        def file_limit(field: str, form: Form) -> int:
            limit = min(files.max_upload_bytes(form.value("purpose")), files.room_for(key))
            refuse_if_declared_over(limit)
            return limit

        refuse_if_declared_over(min(files.profile.max_file_bytes, files.room_for(key)))
        try:
            form = await read_form(request.stream(), request.headers.get("content-type"), file_limit)
        except PayloadTooLarge as exc:
            files.check_room(key, exc.read)  # the storage quota, when that is what was crossed
            raise
        purpose = form.value("purpose")
        part = upload_part(form)
        details = lambda: fault_request(ctx, request, purpose=purpose, filename=part.filename if part else None)  # noqa: E731
        outcome: Outcome | None = await self.emulator.chaos.apply(ctx, details, lambda: self.emulator.is_current(ctx))
        rules = files.rules(purpose, self.dialect.name)
        if part is None:
            raise InvalidRequest("Missing required parameter: 'file'.", param="file", code="missing_required_parameter")
        assert purpose is not None
        expires_after = parse_expires_after(*expires_after_fields(form))
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
            raise InvalidRequest(
                f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
                param="order",
                code="invalid_value",
            )
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
        await emulator.chaos.apply(ctx, lambda: fault_request(ctx, request), lambda: emulator.is_current(ctx))
    return ctx


def header(request: Request, name: bytes) -> str | None:
    """One request header, read from the ASGI scope (no Headers object on the hot path)."""
    for key, value in request.scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def upload_part(form: Form) -> Any:
    """The one ``file`` part of an upload (None when there is none)."""
    parts = [p for p in form.files if p.field == "file"]
    if len(parts) > 1:
        raise InvalidRequest("Only one 'file' may be uploaded per request.", param="file")
    if not parts and form.values("file"):
        raise InvalidRequest("'file' must be a file upload (a part with a filename), not a text field.", param="file")
    return parts[0] if parts else None


def expires_after_fields(form: Form) -> tuple[str | None, str | int | None]:
    """``expires_after[anchor]``/``[seconds]`` as the SDK and curl send them, or one
    ``expires_after`` part holding a JSON object (OpenAPI's encoding of an object field)."""
    whole = form.value("expires_after")
    if whole is None:
        return form.value("expires_after[anchor]"), form.value("expires_after[seconds]")
    try:
        value = json.loads(whole)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidRequest(
            "'expires_after' must be a JSON object with 'anchor' and 'seconds'.",
            param="expires_after",
            code="invalid_type",
        )
    anchor, seconds = value.get("anchor"), value.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, str, type(None))):
        seconds = str(seconds)
    return (anchor if isinstance(anchor, str) or anchor is None else str(anchor)), seconds


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
        raise InvalidRequest("Invalid Content-Length header.") from None


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
