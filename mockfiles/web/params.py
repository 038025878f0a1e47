"""Reading what a request carries, for any handler: its query, its declared length, an upload's
form (streamed against the account's upload budget and noted for the journal, even when it is
refused) and an upload's ``expires_after`` (a JSON body: json_body.py). Problems are data-carrying errors (errors.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request

from mockfiles.core.errors import InvalidRequest, InvalidType, PayloadTooLarge
from mockfiles.core.record import Record, UploadedFile, UploadRecord
from mockfiles.core.validation import json_type, parse_expires_after
from mockfiles.files.upload import UploadBudget
from mockfiles.web import json_body
from mockfiles.web.head import Head, head_of
from mockfiles.web.json_body import NotJson
from mockfiles.web.multipart.reader import FilePart, Form, read_form

FORM_OVERHEAD = 64 * 1024  # room for the non-file parts when judging a declared Content-Length
BRACKETED = re.compile(r"expires_after\[([^\[\]]*)\]")


def query_of(request: Request) -> dict[str, str]:
    """The query's parameters as a plain dict (a repeated one keeps its last value, as
    Starlette reads it); most requests have none, and then nothing is parsed."""
    return dict(request.query_params) if request.scope["query_string"] else {}


def declared_length(head: Head) -> int | None:
    raw = head.content_length
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidRequest("bad_content_length") from None


async def read_upload(
    request: Request, budget: UploadBudget, record: Record, uploaded: Callable[[Form], list[FilePart]]
) -> tuple[Form, UploadRecord]:
    """Read an upload's form, streaming its file parts against their size limits and the
    account's room, and note what it carried for the journal (even when it is refused):
    ``uploaded`` picks the parts that are the files to store, in the order they are stored."""
    head = head_of(request.scope)
    declared = declared_length(head)

    def refuse_if_declared_over(limit: int) -> None:
        """A declared Content-Length can already rule the upload out, before any of it is read."""
        if declared is not None and declared > limit + FORM_OVERHEAD:
            raise PayloadTooLarge("size_limit_declared", limit=limit, read=declared)

    def file_limit(field: str, form: Form) -> int:
        """The purpose's limit once it is known (before: the largest), asked again when it arrives after the file."""
        limit = budget.file_limit(form.value("purpose"))
        refuse_if_declared_over(limit)
        return limit

    refuse_if_declared_over(budget.max_file_bytes)
    form = Form()
    try:
        await read_form(
            request.stream(),
            head.content_type,
            file_limit,
            room=budget.room,
            form=form,
            declared=declared,
        )
    finally:
        purposes = form.values("purpose")
        record.upload = UploadRecord(
            purpose=purposes[0] if purposes else None,
            files=[
                UploadedFile(p.filename, p.size if p.complete else None, p.kept or p.streamed_sha256)
                for p in uploaded(form)
            ],
        )
    return form, record.upload


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
    """The ``expires_after`` part's JSON object, read as every JSON body is (json_body.py: nesting too
    deep for Python, a lone surrogate or NaN is no JSON)."""
    try:
        value = json_body.loads(text.encode("utf-8", "surrogatepass"))
    except NotJson:
        raise InvalidRequest("expires_not_json", param="expires_after", text=text) from None
    if not isinstance(value, dict):
        raise InvalidType("expires_after", expected="an object", got=json_type(value))
    return value
