"""DashScope's native file API (``/api/v1/files``), in the live service's shapes.

Uploads are answered ``{"data": {"uploaded_files", "failed_uploads"}, "request_id"}`` with
per-file failures (``BadRequest.TooMany``, ``BadRequest.TooLarge``…) and UUID file ids; list,
get and delete answer in the live service's shapes; errors are ``{"code", "message",
"request_id"}``, as recorded. The ``/api/v1/files`` document's own form (one ``file`` part and a
``purpose``) is answered in that document's envelope, ``{"success", "code", "message", "data"}``,
its refusals too. The routes are in ``handlers/native_files.py``; docs/dashscope.md.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mockfiles.core.errors import MockFilesError, say
from mockfiles.core.profiles import IdShape
from mockfiles.core.record import Record
from mockfiles.files.store import StoredFile
from mockfiles.web.dialects.dashscope import beijing_time, dashscope_headers, uuid_request_id

NATIVE_ID = IdShape(prefix="", alphabet="0123456789abcdef", length=32, uuid=True)  # the SDK form's ids


class NativeDialect:
    name = "dashscope-native"
    prefix = "/api/v1"

    def new_request_id(self) -> str:
        return uuid_request_id()

    def check_request(self, query_string: bytes) -> None:
        """Every request is served by its route."""

    def headers(self, record: Record) -> list[tuple[bytes, bytes]]:
        return dashscope_headers(record)

    def error(self, err: MockFilesError, record: Record) -> tuple[int, dict[str, Any], dict[str, str]]:
        said = say(err, self.name, record.request_id)
        if record.upload is not None and record.upload.documented:  # the document's envelope
            body: dict[str, Any] = {"success": False, "code": str(said.status), "message": said.message, "data": None}
        else:
            body = {"code": said.code, "message": said.message, "request_id": record.request_id}
        return said.status, body, said.headers

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
            "url": f"{base_url}_mockfiles/files/{f.id}/content",  # as the live storage URL: no API key
            "user_id": account_number(f.account, "user"),
            "api_key_id": account_number(f.account, "key"),
            "gmt_create": beijing_time(f.created_at),
        }
        if with_purpose:
            item["purpose"] = f.purpose
        return item

    def documented_answer(self, f: StoredFile) -> dict[str, Any]:
        """The ``/api/v1/files`` document's answer to its own form."""
        data = {
            "id": f.id,
            "object": "file",
            "bytes": f.size,
            "created_at": f.created_at,
            "filename": f.filename,
            "purpose": f.purpose,
        }
        return {"success": True, "code": "200", "message": "successful", "data": data}

    def uploaded(self, f: StoredFile) -> dict[str, Any]:
        return {"name": f.filename, "file_id": f.id}

    def failed(self, name: str, err: MockFilesError, record: Record) -> dict[str, Any]:
        """One file's refusal, as the upload's answer lists it."""
        said = say(err, self.name, record.request_id)
        return {"name": name, "code": said.code, "message": said.message}

    def upload_answer(
        self, uploaded: list[dict[str, Any]], failed: list[dict[str, Any]], record: Record
    ) -> dict[str, Any]:
        return {"data": {"uploaded_files": uploaded, "failed_uploads": failed}, "request_id": record.request_id}

    def page_answer(
        self, found: list[StoredFile], total: int, page_no: int, page_size: int, base_url: str, record: Record
    ) -> dict[str, Any]:
        files = [self.file_item(f, base_url, with_purpose=False) for f in found]
        data = {"total": total, "files": files, "page_no": page_no, "page_size": page_size}
        return {"data": data, "request_id": record.request_id}

    def item_answer(self, f: StoredFile, base_url: str, record: Record) -> dict[str, Any]:
        return {"data": self.file_item(f, base_url, with_purpose=True), "request_id": record.request_id}

    def deleted_answer(self, record: Record) -> dict[str, Any]:
        return {"request_id": record.request_id}


def account_number(account: str, what: str) -> str:
    """Stable numeric ids for an account, as the live service shows its user and key ids."""
    return str(int(hashlib.sha256(f"{what}:{account}".encode()).hexdigest()[:15], 16))
