"""The OpenAI-shaped Files routes (create, list, retrieve, delete, content), served for every
dialect that speaks that shape (OpenAI's ``/v1``, DashScope's ``/compatible-mode/v1``): the
dialect only decides how objects and errors look on the wire."""

from __future__ import annotations

import asyncio
import functools

import orjson
from starlette.requests import Request

from mockfiles.core.errors import InvalidRequest, InvalidValue, MissingParameter
from mockfiles.core.registry import Endpoint
from mockfiles.core.validation import check_range, parse_int
from mockfiles.files.service import Files
from mockfiles.web.api import Api
from mockfiles.web.dialects.openai import OpenAIDialect
from mockfiles.web.exchange import Exchange
from mockfiles.web.multipart.reader import FilePart, Form
from mockfiles.web.params import expires_after_of, query_of, read_upload
from mockfiles.web.responses import ContentResponse, JSONResponse
from mockfiles.web.routing import Handler

THREAD_CHECK_BYTES = 1024 * 1024  # content checks of larger files run off the event loop


def handlers(api: Api, dialect: OpenAIDialect) -> dict[Endpoint, Handler]:
    return FilesAPI(api, dialect).handlers()


class FilesAPI:
    def __init__(self, api: Api, dialect: OpenAIDialect) -> None:
        self.api = api
        self.dialect = dialect

    @property
    def files(self) -> Files:
        return self.api.emulator.files  # a reset makes a new one

    def handlers(self) -> dict[Endpoint, Handler]:
        return {
            Endpoint.FILES_CREATE: self.create,
            Endpoint.FILES_LIST: self.list,
            Endpoint.FILES_RETRIEVE: self.retrieve,
            Endpoint.FILES_DELETE: self.delete,
            Endpoint.FILES_CONTENT: self.content,
        }

    async def create(self, request: Request, ex: Exchange) -> JSONResponse:
        files, record = self.files, ex.record
        budget = files.budget(record.key or "", record.arrival.received_at)  # as things stand at its arrival
        budget.check_count()  # the file count, before any of the body is read
        form, upload = await read_upload(request, budget, record, file_parts)
        purpose = form.value("purpose")
        part = upload_part(form)
        if part is not None:
            budget.check_fits(part)
        outcome = await self.api.front.admit_form(ex, purpose, part.filename if part else None)
        rules = files.rules(purpose, self.dialect.name)  # the one check of the purpose
        if part is None:
            raise MissingParameter("file")
        assert purpose is not None
        expires_after = expires_after_of(form)
        accepted = files.accept(part, purpose, rules)
        commit = functools.partial(
            files.commit, budget, accepted, expires_after=expires_after, outcome=outcome, dialect=self.dialect.name
        )
        await ex.drop_if_stale()  # not into a store reset meanwhile
        needs_thread = rules.content is not None and outcome is None and part.size > THREAD_CHECK_BYTES
        f, now = await asyncio.to_thread(commit) if needs_thread else commit()
        upload.files[0].file_id = f.id
        obj = self.dialect.file_object(f, now)
        where = self.dialect.created_headers(obj, lambda: str(request.url.replace(query="")))  # the URL if needed
        return JSONResponse(obj, self.dialect.created_status, where)

    async def list(self, request: Request, ex: Exchange) -> JSONResponse:
        query = query_of(request)
        limit = self.dialect.list_limit  # the most, and the default
        if "limit" in query:
            limit = parse_int(query["limit"], "limit")
            check_range(limit, "limit", 1, self.dialect.list_limit)
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise InvalidValue("order", order, ("asc", "desc"))
        after = query.get("after") or None
        purpose = query.get("purpose") or None
        filters = self.dialect.list_filters(query)
        page = self.files.page(ex.record.key or "", limit=limit, order=order, after=after, purpose=purpose, **filters)
        return JSONResponse(self.dialect.list_object(page, self.files.clock.now()))

    async def retrieve(self, request: Request, ex: Exchange) -> JSONResponse:
        f, now = self.api.emulator.files.get_at(ex.record.key or "", request.path_params["file_id"])
        if now < f.ready_at:  # still processing: its status changes with time
            return JSONResponse(self.dialect.file_object(f, now))
        shown, name = f.shown, self.dialect.name
        if shown is None or shown[0] != name:  # a processed file's object never changes: encoded once
            shown = f.shown = (name, orjson.dumps(self.dialect.file_object(f, now)))
        return JSONResponse.encoded(shown[1])

    async def delete(self, request: Request, ex: Exchange) -> JSONResponse:
        f = self.files.delete(ex.record.key or "", request.path_params["file_id"])
        if f.digest is not None:  # its bytes go: the journal's sha256 is made first (digest.py)
            await f.digest.made()
        return JSONResponse(self.dialect.deleted_object(f))

    async def content(self, request: Request, ex: Exchange) -> ContentResponse:
        f = self.files.get(ex.record.key or "", request.path_params["file_id"])
        downloadable = self.dialect.downloadable
        if downloadable is not None and f.purpose not in downloadable:
            raise InvalidRequest("not_downloadable", param="file_id", id=f.id, purpose=f.purpose)
        return ContentResponse(f.chunks, f.size)


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
