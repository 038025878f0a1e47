"""The Uploads routes (create, parts, complete, cancel), served at OpenAI's ``/v1`` only: DashScope
has no Uploads API, so ``/compatible-mode/v1/uploads`` is an unknown route (404) there.

The rules are the Uploads service's (uploads.py, docs/uploads.md); these handlers read the
requests, stream a Part's bytes into the chunks the service keeps, and shape the answers.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib

from starlette.requests import Request

from mockfiles.core.errors import InvalidRequest, MissingParameter, PayloadTooLarge, UnknownParameter
from mockfiles.core.record import UploadedFile, UploadRecord
from mockfiles.core.registry import Endpoint
from mockfiles.uploads.requests import CompleteRequest, CreateRequest, kind
from mockfiles.uploads.service import PartBudget, Uploads
from mockfiles.web.api import Api
from mockfiles.web.dialects.openai import OpenAIDialect
from mockfiles.web.exchange import Exchange
from mockfiles.web.head import head_of
from mockfiles.web.json_body import JsonBody
from mockfiles.web.multipart.reader import FilePart, Form, read_form
from mockfiles.web.params import FORM_OVERHEAD, declared_length
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Handler

BODY = JsonBody(  # a completion listing 10,000 Part ids is about 400 KB
    1024 * 1024,
    empty=None,
    not_json=lambda: InvalidRequest("upload_body_not_json"),
    not_object=lambda value: InvalidRequest("upload_body_not_object", got=kind(value)),
)
PART_FIELD = "data"


def handlers(api: Api, dialect: OpenAIDialect) -> dict[Endpoint, Handler]:
    return UploadsAPI(api, dialect).handlers()


class UploadsAPI:
    def __init__(self, api: Api, dialect: OpenAIDialect) -> None:
        self.api = api
        self.dialect = dialect

    @property
    def uploads(self) -> Uploads:
        return self.api.emulator.uploads  # a reset makes a new one

    def handlers(self) -> dict[Endpoint, Handler]:
        return {
            Endpoint.UPLOADS_CREATE: self.create,
            Endpoint.UPLOADS_PARTS_CREATE: self.add_part,
            Endpoint.UPLOADS_COMPLETE: self.complete,
            Endpoint.UPLOADS_CANCEL: self.cancel,
        }

    async def create(self, request: Request, ex: Exchange) -> JSONResponse:
        uploads = self.uploads
        body = CreateRequest.parse(await BODY.read(request, ex.record))
        await ex.drop_if_stale()
        upload = uploads.create(ex.record.key or "", body, dialect=self.dialect.name)
        ex.record.details.update(upload_id=upload.id, bytes=upload.bytes, purpose=upload.purpose)
        return JSONResponse(self.dialect.upload_object(upload, uploads.files.clock.now()))

    async def add_part(self, request: Request, ex: Exchange) -> JSONResponse:
        uploads, record = self.uploads, ex.record
        key, upload_id = record.key or "", request.path_params["upload_id"]
        record.details["upload_id"] = upload_id
        purpose = uploads.get(key, upload_id).purpose  # 404 before the body is read
        budget = uploads.part_budget(key, upload_id)  # 400 when it takes no more Parts
        head = head_of(request.scope)
        refuse_if_declared_over(budget, declared_length(head))
        form = Form()
        try:
            await read_form(request.stream(), head.content_type, part_limit(budget), form=form)
        except PayloadTooLarge as exc:
            raise budget.refusal(exc.read) from None
        finally:
            record.upload = UploadRecord(purpose, [noted(p) for p in form.files if p.field == PART_FIELD])
        chunks, size, filename = part_bytes(form)
        if record.upload.files == [] and filename is None:  # a text field: noted as a nameless file
            record.upload.files.append(text_noted(chunks, size))
        await self.api.front.admit_form(ex, purpose, filename)
        await ex.drop_if_stale()  # not into an emulator reset meanwhile
        part = uploads.add_part(key, upload_id, chunks, size)
        record.details["part_id"] = part.id
        return JSONResponse(self.dialect.part_object(part))

    async def complete(self, request: Request, ex: Exchange) -> JSONResponse:
        uploads, record = self.uploads, ex.record
        upload_id = record.details["upload_id"] = request.path_params["upload_id"]
        pending = uploads.get(record.key or "", upload_id)  # 404 first, whatever the body
        body = CompleteRequest.parse(await BODY.read(request, record))
        # a scenario's processing rule for uploads.complete, matched by the Upload's purpose and filename
        outcome = await self.api.front.admit_form(ex, pending.purpose, pending.filename)
        await ex.drop_if_stale()
        complete = functools.partial(uploads.complete, record.key or "", upload_id, body, outcome=outcome)
        # An md5 takes 1.4 s per GiB (docs/uploads.md): off the event loop, which hashlib lets run meanwhile.
        upload = await asyncio.to_thread(complete) if body.md5 is not None else complete()
        now = uploads.files.clock.now()
        f = uploads.file_of(upload)
        record.details["file_id"] = upload.file_id
        shown = None if f is None else self.dialect.file_object(f, now)
        return JSONResponse(self.dialect.upload_object(upload, now, shown))

    async def cancel(self, request: Request, ex: Exchange) -> JSONResponse:
        uploads, record = self.uploads, ex.record
        upload_id = record.details["upload_id"] = request.path_params["upload_id"]
        upload = uploads.cancel(record.key or "", upload_id)
        return JSONResponse(self.dialect.upload_object(upload, uploads.files.clock.now()))


def refuse_if_declared_over(budget: PartBudget, declared: int | None) -> None:
    """A declared Content-Length can already rule the Part out, before any of it is read."""
    if declared is None or declared <= budget.limit + FORM_OVERHEAD:
        return
    if declared > budget.part_max + FORM_OVERHEAD:
        raise PayloadTooLarge("size_limit_declared", limit=budget.part_max, read=declared)
    raise budget.refusal(declared)


def part_limit(budget: PartBudget) -> functools.partial[int]:
    return functools.partial(_part_limit, budget.limit)


def _part_limit(limit: int, field: str, form: Form) -> int:
    """Each file part's limit, asked as it begins: only one, named ``data``, is read (another
    file part would be bytes held for nothing)."""
    if field != PART_FIELD:
        raise UnknownParameter(field)
    if any(p.field == PART_FIELD for p in form.files):
        raise InvalidRequest("repeated_field", param=PART_FIELD)
    return limit


def part_bytes(form: Form) -> tuple[list[bytes], int, str | None]:
    """The Part's chunks, size and filename: from the file part ``data``, or from a text field
    ``data`` (its UTF-8 bytes, as ``curl -F data="…"`` sends them; no filename)."""
    text = form.value(PART_FIELD)
    parts = [p for p in form.files if p.field == PART_FIELD]
    if parts and text is not None:
        raise InvalidRequest("repeated_field", param=PART_FIELD)
    if parts:
        return parts[0].chunks, parts[0].size, parts[0].filename
    if text is None:
        raise MissingParameter(PART_FIELD)
    data = text.encode("utf-8")
    return ([data] if data else []), len(data), None


def noted(part: FilePart) -> UploadedFile:
    """A Part as the journal shows it: its size and sha256 once it was read to its end. The sha256
    of kept bytes is made when the entry is first read, or when the request ends, on a thread of its
    own for a large Part (digest.py): hashing 64 MiB on the event loop took 0.1 s a Part."""
    return UploadedFile(part.filename, part.size if part.complete else None, part.kept or part.streamed_sha256)


def text_noted(chunks: list[bytes], size: int) -> UploadedFile:
    """A Part sent as a text field (at most 64 KiB: the form's limit on fields), which has no filename."""
    return UploadedFile("", size, hashlib.sha256(b"".join(chunks)).hexdigest())
