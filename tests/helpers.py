"""Helpers the tests share: batch input lines and files, and a raw multipart upload."""

from __future__ import annotations

import json

import httpx


def batch_line(custom_id: str, url: str = "/v1/chat/completions", model: str = "gpt-4o-mini") -> dict[str, object]:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": {"model": model, "messages": []}}


def jsonl(*objects: object) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


def batch_file(n: int = 2) -> bytes:
    return jsonl(*(batch_line(str(i)) for i in range(n)))


def upload(
    http: httpx.Client, content: bytes = b"hello", purpose: str = "assistants", filename: str = "a.txt", **data: str
) -> httpx.Response:
    return http.post("/v1/files", files={"file": (filename, content)}, data={"purpose": purpose, **data})
