"""Helpers for the model routes' tests: documents to upload (PDF, DOCX, text), the answer line that
names a file, and error bodies read back."""

from __future__ import annotations

import base64
import io
import zipfile
import zlib
from typing import Any

import openai
import pytest

REPORT = b"Quarterly report\nTotal: 42 units\nShipped on time.\n"  # 8 words, first line "Quarterly report"


def pdf(*lines: str, compressed: bool = False) -> bytes:
    """A one-page PDF showing ``lines`` (its content stream Flate-compressed or not)."""
    shown = "BT /F1 12 Tf 72 720 Td " + " 0 -14 Td ".join(f"({line}) Tj" for line in lines) + " ET"
    stream = zlib.compress(shown.encode()) if compressed else shown.encode()
    flate = b" /Filter /FlateDecode" if compressed else b""
    return b"".join(
        [
            b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n",
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n",
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n",
            b"4 0 obj << /Length %d%s >>\nstream\n" % (len(stream), flate),
            stream,
            b"\nendstream\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        ]
    )


def docx(*paragraphs: str) -> bytes:
    """A Word document whose body is ``paragraphs``."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    xml = f'<?xml version="1.0"?><w:document xmlns:w="urn:w"><w:body>{body}</w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", xml)
    return out.getvalue()


def data_url(content: bytes, mime: str = "application/pdf") -> str:
    return f"data:{mime};base64,{base64.b64encode(content).decode()}"


def named(file_id: str, filename: str, content: bytes, words: int, first_line: str) -> str:
    """The line of a stand-in's answer that names a file it read."""
    return f'File {file_id} "{filename}": {len(content):,} bytes, {words:,} words, first line "{first_line}".'


def file_part(file_id: str) -> dict[str, Any]:
    return {"type": "file", "file": {"file_id": file_id}}


def asking(*parts: dict[str, Any], text: str = "What is the total?") -> list[dict[str, Any]]:
    """One user message: the parts, then the question."""
    return [{"role": "user", "content": [*parts, {"type": "text", "text": text}]}]


def refused(call: Any) -> tuple[int, dict[str, Any]]:
    """(status, error body) of a call the SDK raised for."""
    with pytest.raises(openai.APIStatusError) as raised:
        call()
    body = raised.value.body
    assert isinstance(body, dict)
    return raised.value.status_code, body


def error_of(
    status: int, message: str, param: str | None, code: str | None, kind: str = "invalid_request_error"
) -> tuple[int, dict[str, Any]]:
    return status, {"message": message, "type": kind, "param": param, "code": code}
