"""DashScope's native file routes (``/api/v1/files``: upload, list, get, delete).

Uploads carry one or more file parts (``files``, as the ``dashscope`` SDK and the docs' curl send
them, or ``file``, as other SDKs do), an optional ``purpose`` and optional ``descriptions`` (or
``description``); each file is accepted or refused on its own, and the answer lists both.

The ``/api/v1/files`` document's own form — one ``file`` part and a ``purpose``, nothing else — is
answered as that document shows: ``{"success": true, "code": "200", "message": "successful",
"data": {the File}}``, its refusals in the same envelope (``documented_form``; docs/dashscope.md).

The ``dashscope`` SDK never sends ``purpose`` (its ``purpose`` argument only decides whether it
checks the JSONL itself), and its users upload documents and media that way, so a file sent
without a purpose is checked against no purpose's types: it is stored as ``fine-tune`` when it is
``.jsonl`` (the SDK's default purpose), else as ``file-extract`` (``user_data`` under the
``openai`` profile): ``Files.implied_purpose``. See docs/dashscope.md.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mockfiles.core.errors import InvalidRequest, MissingParameter, MockFilesError, PayloadTooLarge, QuotaExceeded
from mockfiles.core.profiles import IdShape, PurposeRules
from mockfiles.core.registry import Endpoint
from mockfiles.core.validation import check_range, parse_int
from mockfiles.files.service import Files, Outcome
from mockfiles.files.store import StoredFile
from mockfiles.files.upload import UploadBudget
from mockfiles.web.api import Api
from mockfiles.web.dialects.dashscope_native import NATIVE_ID, NativeDialect
from mockfiles.web.exchange import Exchange
from mockfiles.web.multipart.reader import FilePart, Form
from mockfiles.web.params import query_of, read_upload
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Handler

FILE_FIELDS = ("files", "file")
DESCRIPTION_FIELDS = ("descriptions", "description")
PAGE_SIZE_MAX = 100


def handlers(api: Api, dialect: NativeDialect) -> dict[Endpoint, Handler]:
    return NativeFilesAPI(api, dialect).handlers()


class NativeFilesAPI:
    def __init__(self, api: Api, dialect: NativeDialect) -> None:
        self.api = api
        self.dialect = dialect

    @property
    def files(self) -> Files:
        return self.api.emulator.files  # a reset makes a new one

    def handlers(self) -> dict[Endpoint, Handler]:
        return {
            Endpoint.FILES_CREATE: self.upload,
            Endpoint.FILES_LIST: self.list,
            Endpoint.FILES_RETRIEVE: self.get,
            Endpoint.FILES_DELETE: self.delete,
        }

    async def upload(self, request: Request, ex: Exchange) -> JSONResponse:
        files, record = self.files, ex.record
        budget = files.budget(record.key or "", record.arrival.received_at)  # as things stand at its arrival
        read: list[Form] = []  # the form as far as it was read, even when reading it fails

        def parts_of(form: Form) -> list[FilePart]:
            read[:] = [form]
            return native_parts(form)

        try:
            form, upload = await read_upload(request, budget, record, parts_of)
        except MockFilesError:
            if read and record.upload is not None:  # its refusal is said as the form's shape says
                record.upload.documented = documented_form(read[0], whole=False)
            raise
        documented = upload.documented = documented_form(form, whole=True)
        given = form.value("purpose")
        parts = native_parts(form)
        first = parts[0].filename if parts else ""
        if given is None and parts:
            upload.purpose = files.implied_purpose(first)
        outcome = await self.api.front.admit_form(ex, given or files.implied_purpose(first), first or None)
        checked = None if given is None else files.rules(given, self.dialect.name)  # the one check: 400
        if not parts:
            raise MissingParameter("files")
        await ex.drop_if_stale()  # not into a store reset meanwhile
        if documented:
            assert given is not None
            f = self._store(budget, parts[0], given, checked, outcome, None, id_shape=None)
            upload.files[0].file_id = f.id
            return JSONResponse(self.dialect.documented_answer(f))
        descriptions = form.values("descriptions") or form.values("description")
        uploaded: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for i, part in enumerate(parts):
            description = descriptions[i] if i < len(descriptions) else None
            try:
                f = self._store(budget, part, given, checked, outcome, description)
            except (QuotaExceeded, InvalidRequest, PayloadTooLarge) as exc:
                failed.append(self.dialect.failed(part.filename, exc, record))
            else:
                upload.files[i].file_id = f.id
                uploaded.append(self.dialect.uploaded(f))
        return JSONResponse(self.dialect.upload_answer(uploaded, failed, record))

    def _store(
        self,
        budget: UploadBudget,
        part: FilePart,
        given: str | None,
        checked: PurposeRules | None,
        outcome: Outcome | None,
        description: str | None,
        id_shape: IdShape | None = NATIVE_ID,
    ) -> StoredFile:
        """Store one file (``checked``: the rules of the purpose given; without one, the purpose its
        name implies): with ``id_shape`` None, an id of its purpose's shape (``file-batch-…``), as
        the document's form gets; else a UUID, as the SDK's form gets."""
        files, dialect = self.files, self.dialect.name
        purpose = given or files.implied_purpose(part.filename)
        rules = checked if checked is not None else files.rules(purpose, dialect)
        accepted = files.accept(part, purpose, rules, implied=given is None)
        budget.check_fits(part)
        f, _ = files.commit(
            budget, accepted, outcome=outcome, dialect=dialect, description=description, id_shape=id_shape
        )
        return f

    async def list(self, request: Request, ex: Exchange) -> JSONResponse:
        query = query_of(request)
        page_no = parse_int(query.get("page_no", "1"), "page_no")
        check_range(page_no, "page_no", 1, 2**31)
        page_size = parse_int(query.get("page_size", "10"), "page_size")
        check_range(page_size, "page_size", 1, PAGE_SIZE_MAX)
        found, total = self.files.page_at(ex.record.key or "", offset=(page_no - 1) * page_size, limit=page_size)
        base = str(request.base_url)
        return JSONResponse(self.dialect.page_answer(found, total, page_no, page_size, base, ex.record))

    async def get(self, request: Request, ex: Exchange) -> JSONResponse:
        f = self.files.get(ex.record.key or "", request.path_params["file_id"])
        return JSONResponse(self.dialect.item_answer(f, str(request.base_url), ex.record))

    async def delete(self, request: Request, ex: Exchange) -> JSONResponse:
        f = self.files.delete(ex.record.key or "", request.path_params["file_id"])
        if f.digest is not None:  # its bytes go: the journal's sha256 is made first (digest.py)
            await f.digest.made()
        return JSONResponse(self.dialect.deleted_answer(ex.record))


def native_parts(form: Form) -> list[FilePart]:
    """The files an upload stores, in the order they came."""
    return [p for p in form.files if p.field in FILE_FIELDS]


def documented_form(form: Form, *, whole: bool) -> bool:
    """Whether the form is the ``/api/v1/files`` document's: exactly one file part, named ``file``,
    a ``purpose``, and no descriptions (the ``dashscope`` SDK sends ``files`` parts and no purpose;
    cnblogs' .NET SDK sends ``file`` parts with a ``description`` each when given). A form cut
    short (``whole`` False: refused while it streamed, or at a file part's head) counts as the
    document's when what came so far fits it: the document's curl sends the file before ``purpose``."""
    if form.file_fields != ["file"]:
        return False
    if any(name in DESCRIPTION_FIELDS or name == "files" for name, _ in form.fields):
        return False
    return bool(form.values("purpose")) or not whole
