"""The OpenAI /v1/files endpoints through the official SDK (sync and async) and raw HTTP."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.helpers import batch_file, upload

pytestmark = pytest.mark.mockfiles(rate_limits=False)

FILE_KEYS = {"id", "object", "bytes", "created_at", "expires_at", "filename", "purpose", "status", "status_details"}


def test_create_returns_a_file_object_of_the_exact_shape(http: httpx.Client) -> None:
    before = int(time.time())
    r = upload(http, b"hello world", filename="notes.txt")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == FILE_KEYS
    assert re.fullmatch(r"file-[1-9A-HJ-NP-Za-km-z]{22}", body["id"])
    assert body["object"] == "file"
    assert body["bytes"] == 11
    assert before <= body["created_at"] <= int(time.time())
    assert body["expires_at"] is None
    assert body["filename"] == "notes.txt"
    assert body["purpose"] == "assistants"
    assert body["status"] == "processed"
    assert body["status_details"] is None
    assert r.headers["content-type"] == "application/json"


def test_sdk_round_trip_sync(client: openai.OpenAI) -> None:
    created = client.files.create(file=("data.jsonl", batch_file(3)), purpose="batch")
    assert created.purpose == "batch" and created.status == "processed"
    assert created.expires_at == created.created_at + 30 * 86400
    fetched = client.files.retrieve(created.id)
    assert fetched == created
    assert client.files.content(created.id).read() == batch_file(3)
    assert [f.id for f in client.files.list()] == [created.id]
    deleted = client.files.delete(created.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (created.id, True, "file")
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)
    assert list(client.files.list()) == []


async def test_sdk_round_trip_async(aclient: openai.AsyncOpenAI) -> None:
    created = await aclient.files.create(file=("a.txt", b"async bytes"), purpose="user_data")
    assert (await aclient.files.retrieve(created.id)).bytes == 11
    assert (await aclient.files.content(created.id)).read() == b"async bytes"
    page = await aclient.files.list()
    assert [f.id for f in page.data] == [created.id]
    assert (await aclient.files.delete(created.id)).deleted is True
    with pytest.raises(openai.NotFoundError):
        await aclient.files.content(created.id)


def test_upload_from_path_bytes_and_file_object(client: openai.OpenAI, tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(b"from a path")
    from_path = client.files.create(file=path, purpose="assistants")
    assert (from_path.filename, from_path.bytes) == ("report.txt", 11)
    from_bytes = client.files.create(file=b"raw bytes", purpose="assistants")
    assert (from_bytes.filename, from_bytes.bytes) == ("upload", 9)
    with path.open("rb") as handle:
        from_handle = client.files.create(file=handle, purpose="assistants")
    assert from_handle.filename == "report.txt"
    from_buffer = client.files.create(file=io.BytesIO(b"buffer"), purpose="assistants")
    assert (from_buffer.filename, from_buffer.bytes) == ("upload", 6)


def test_binary_content_round_trips_byte_exact(client: openai.OpenAI) -> None:
    payload = os.urandom(300_000) + b"\r\n--boundary-lookalike\r\n" + bytes(range(256)) * 50
    created = client.files.create(file=("blob.bin", payload), purpose="vision")
    assert created.bytes == len(payload)
    assert client.files.content(created.id).read() == payload


def test_content_download_is_raw_octets(http: httpx.Client) -> None:
    file_id = upload(http, b"\x00\x01binary\xff").json()["id"]
    r = http.get(f"/v1/files/{file_id}/content", headers={"Accept": "application/binary"})
    assert r.status_code == 200
    assert r.content == b"\x00\x01binary\xff"
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-length"] == "9"


def test_list_envelope_shape_and_default_order(http: httpx.Client) -> None:
    ids = [upload(http, f"{i}".encode()).json()["id"] for i in range(3)]
    body = http.get("/v1/files").json()
    assert set(body) == {"object", "data", "first_id", "last_id", "has_more"}
    assert body["object"] == "list"
    assert [f["id"] for f in body["data"]] == ids[::-1]  # newest first
    assert (body["first_id"], body["last_id"], body["has_more"]) == (ids[2], ids[0], False)


def test_empty_list_has_null_cursors(http: httpx.Client) -> None:
    assert http.get("/v1/files").json() == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


def test_pagination_limit_after_order(http: httpx.Client) -> None:
    ids = [upload(http, b"x").json()["id"] for _ in range(5)]
    first = http.get("/v1/files", params={"limit": 2}).json()
    assert [f["id"] for f in first["data"]] == [ids[4], ids[3]] and first["has_more"] is True
    second = http.get("/v1/files", params={"limit": 2, "after": first["last_id"]}).json()
    assert [f["id"] for f in second["data"]] == [ids[2], ids[1]] and second["has_more"] is True
    third = http.get("/v1/files", params={"limit": 2, "after": second["last_id"]}).json()
    assert [f["id"] for f in third["data"]] == [ids[0]] and third["has_more"] is False
    asc = http.get("/v1/files", params={"order": "asc", "limit": 3, "after": ids[0]}).json()
    assert [f["id"] for f in asc["data"]] == ids[1:4] and asc["has_more"] is True
    exact = http.get("/v1/files", params={"limit": 5}).json()
    assert len(exact["data"]) == 5 and exact["has_more"] is False


def test_list_filters_by_purpose(client: openai.OpenAI) -> None:
    batch = client.files.create(file=("b.jsonl", batch_file()), purpose="batch")
    other = client.files.create(file=b"x", purpose="assistants")
    assert [f.id for f in client.files.list(purpose="batch")] == [batch.id]
    assert [f.id for f in client.files.list(purpose="assistants")] == [other.id]
    assert list(client.files.list(purpose="fine-tune")) == []


def test_sdk_auto_pagination_walks_every_page(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    ids = [client.files.create(file=f"{i}".encode(), purpose="assistants").id for i in range(7)]
    seen = [f.id for f in client.files.list(limit=2)]
    assert seen == ids[::-1]
    assert len(mockfiles.requests("files.list")) == 4  # 2+2+2+1
    assert [f.id for f in client.files.list(limit=3, order="asc")] == ids


async def test_async_auto_pagination(aclient: openai.AsyncOpenAI) -> None:
    ids = [(await aclient.files.create(file=b"x", purpose="assistants")).id for _ in range(5)]
    seen = [f.id async for f in aclient.files.list(limit=2, order="asc")]
    assert seen == ids


def test_deleting_while_paginating_keeps_the_cursor_valid(client: openai.OpenAI) -> None:
    for i in range(5):
        client.files.create(file=f"{i}".encode(), purpose="assistants")
    deleted = [client.files.delete(f.id).id for f in client.files.list(limit=2)]
    assert len(deleted) == 5
    assert list(client.files.list()) == []


def test_wait_for_processing_returns_the_processed_file(client: openai.OpenAI) -> None:
    created = client.files.create(file=("ok.jsonl", batch_file()), purpose="batch")
    done = client.files.wait_for_processing(created.id, poll_interval=0.01)
    assert done.status == "processed"


def test_file_ids_are_unique(client: openai.OpenAI) -> None:
    ids = {client.files.create(file=b"x", purpose="assistants").id for _ in range(50)}
    assert len(ids) == 50


def test_every_response_has_request_id_and_processing_ms(http: httpx.Client) -> None:
    responses = [upload(http), http.get("/v1/files"), http.get("/v1/files/file-missing"), http.get("/v1/nope")]
    seen = set()
    for r in responses:
        assert re.fullmatch(r"req_[0-9a-f]{32}", r.headers["x-request-id"]), r.headers
        assert r.headers["openai-processing-ms"].isdigit()
        assert r.headers["openai-version"] == "2020-10-01"
        seen.add(r.headers["x-request-id"])
    assert len(seen) == len(responses)


def test_sdk_exposes_the_request_id(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    created = client.files.create(file=b"x", purpose="assistants")
    assert created._request_id == mockfiles.requests()[-1]["request_id"]


def test_ids_differ_after_each_reset_without_a_seed_and_repeat_with_one(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client()

    def first_ids(**options: object) -> list[str]:
        mockfiles.reset(rate_limits=False, **options)
        return [client.files.create(file=("a.txt", b"a"), purpose="assistants").id for _ in range(3)]

    unseeded = [first_ids() for _ in range(3)]
    assert len({id_ for ids in unseeded for id_ in ids}) == 9
    assert first_ids(seed=7) == first_ids(seed=7) != first_ids(seed=8)
