"""Shared helpers. The ``mockfiles`` fixture itself comes from the installed plugin,
exactly as a downstream suite gets it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import openai
import pytest

from mockfiles import MockFilesServer


def batch_line(custom_id: str, url: str = "/v1/chat/completions", model: str = "gpt-4o-mini") -> dict[str, object]:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": {"model": model, "messages": []}}


def jsonl(*objects: object) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


def batch_file(n: int = 2) -> bytes:
    return jsonl(*(batch_line(str(i)) for i in range(n)))


@pytest.fixture
def client(mockfiles: MockFilesServer) -> Iterator[openai.OpenAI]:
    with mockfiles.client(max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(mockfiles: MockFilesServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with mockfiles.async_client(max_retries=0) as c:
        yield c


@pytest.fixture
def http(mockfiles: MockFilesServer) -> Iterator[httpx.Client]:
    """Raw HTTP with the server's key, for asserting exact wire shapes."""
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": f"Bearer {mockfiles.api_key}"}) as c:
        yield c


def upload(
    http: httpx.Client, content: bytes = b"hello", purpose: str = "assistants", filename: str = "a.txt", **data: str
) -> httpx.Response:
    return http.post("/v1/files", files={"file": (filename, content)}, data={"purpose": purpose, **data})
