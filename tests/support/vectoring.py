"""Helpers for the vector store tests: the SDK's models taken strictly, files to attach, the refusals'
bodies, a PDF and Office documents made by hand."""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any, TypeVar

import httpx
import openai
from openai.types import VectorStore, VectorStoreDeleted, VectorStoreSearchResponse
from openai.types.vector_stores import VectorStoreFile, VectorStoreFileBatch, VectorStoreFileDeleted
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

UNSUPPORTED = (
    "Files with extensions [{}] are not supported for retrieval. "
    "See https://platform.openai.com/docs/assistants/tools/file-search/supported-files"
)
SHAPES: dict[str, type[BaseModel]] = {
    "vector_store": VectorStore,
    "vector_store.file": VectorStoreFile,
    "vector_store.files_batch": VectorStoreFileBatch,
    "vector_store.deleted": VectorStoreDeleted,
    "vector_store.file.deleted": VectorStoreFileDeleted,
}

CATS = b"Cats are small furry animals. A cat sleeps most of the day and purrs when it is happy."
DOGS = b"# Dogs\n\nDogs bark at strangers. A dog is a loyal friend that fetches balls in the park."
BIRDS = b"Birds have feathers and most of them fly. Parrots can learn words; owls hunt at night."


def strictly(model: type[M], body: dict[str, Any]) -> M:
    """The SDK's model, validated in strict mode, with every field of the body known to it and every
    field of the model present."""
    parsed = model.model_validate(body, strict=True)
    assert set(body) == set(model.model_fields), set(body) ^ set(model.model_fields)
    assert not parsed.model_extra
    return parsed


def typed(body: dict[str, Any]) -> dict[str, Any]:
    """An object of the API, checked against the SDK model its ``object`` names."""
    strictly(SHAPES[body["object"]], body)
    return body


def hit(body: dict[str, Any]) -> VectorStoreSearchResponse:
    return strictly(VectorStoreSearchResponse, body)


def upload(client: openai.OpenAI, name: str, content: bytes, purpose: str = "assistants") -> str:
    return client.files.create(file=(name, content), purpose=purpose).id  # type: ignore[arg-type]


def error_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}, body
    return dict(body["error"])


def refused(response: httpx.Response, status: int, message: str, code: str | None, param: str | None) -> None:
    """The response is exactly this refusal (OpenAI's envelope)."""
    assert response.status_code == status, response.text
    assert error_of(response) == {
        "message": message,
        "type": "invalid_request_error" if status != 429 else "requests",
        "param": param,
        "code": code,
    }


def pdf(*lines: str, compress: bool = True) -> bytes:
    """A one-page PDF showing ``lines`` (its content stream deflated unless ``compress`` is false)."""
    shown = "BT /F1 12 Tf 72 720 Td " + " T* ".join(f"({line})Tj" for line in lines) + " ET"
    stream = zlib.compress(shown.encode("latin-1")) if compress else shown.encode("latin-1")
    head = f"<< /Length {len(stream)}{' /Filter /FlateDecode' if compress else ''} >>".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
        head + b"\nstream\n" + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, 1):
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    out.write(b"trailer << /Root 1 0 R >>\n%%EOF\n")
    return out.getvalue()


def docx(*paragraphs: str) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    xml = f'<?xml version="1.0"?><w:document xmlns:w="x"><w:body>{body}</w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", xml)
    return out.getvalue()


def pptx(*slides: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i, text in enumerate(slides, 1):
            xml = f'<p:sld xmlns:a="a" xmlns:p="p"><a:p><a:r><a:t>{text}</a:t></a:r></a:p></p:sld>'
            archive.writestr(f"ppt/slides/slide{i}.xml", xml)
    return out.getvalue()
