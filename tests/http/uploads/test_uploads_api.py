"""The Uploads API over HTTP with the real openai SDK (sync and async): upload_file_chunked, manual
create/parts/complete/cancel, expiry, quotas, the objects' shapes, every refusal, the journal,
fault rules, rate limits, the control route; docs/uploads.md."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types import FileObject, Upload
from openai.types.uploads import UploadPart

from mockfiles import MockFilesServer
from tests.support.node_clients import HERE as NODE_DIR
from tests.support.node_clients import NODE, requires_node

pytestmark = pytest.mark.mockfiles(rate_limits=False)

MiB = 1024 * 1024
DATA = os.urandom(300_000)  # 300,000 bytes: 8 Parts of 40,000 bytes (the last 20,000)
PART = 40_000


def error_of(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.body
    assert isinstance(body, dict)
    return body


def create(client: openai.OpenAI, size: int, **kw: Any) -> Upload:
    args: dict[str, Any] = {"filename": "data.jsonl", "mime_type": "application/jsonl", "purpose": "fine-tune"}
    args.update(kw)
    return client.uploads.create(bytes=size, **args)


def parts_of(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def uploads_admin(server: MockFilesServer) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = httpx.get(server.url + "/_mockfiles/uploads").json()["data"]
    return data


# --- upload_file_chunked: the SDK's own helper ----------------------------------------------------


@pytest.mark.parametrize("source", ["path", "bytes"])
def test_upload_file_chunked_sync(
    client: openai.OpenAI, mockfiles: MockFilesServer, tmp_path: Path, source: str
) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(DATA)
    if source == "path":
        upload = client.uploads.upload_file_chunked(
            file=path, mime_type="application/jsonl", purpose="fine-tune", part_size=PART
        )
    else:
        upload = client.uploads.upload_file_chunked(
            file=DATA,
            filename="train.jsonl",
            bytes=len(DATA),
            mime_type="application/jsonl",
            purpose="fine-tune",
            part_size=PART,
        )
    assert upload.status == "completed" and upload.bytes == len(DATA) and upload.filename == "train.jsonl"
    assert upload.file is not None and upload.file.bytes == len(DATA) and upload.file.filename == "train.jsonl"
    assert client.files.content(upload.file.id).content == DATA  # byte for byte
    parts = mockfiles.requests("uploads.parts.create")
    assert [p["status"] for p in parts] == [200] * 8
    assert [p["size"] for p in parts] == [PART] * 7 + [20_000]
    # sequential: each Part's request began after the one before was answered
    assert all(b["received_at"] >= a["time"] for a, b in zip(parts, parts[1:], strict=False))


@pytest.mark.parametrize("source", ["path", "bytes"])
async def test_upload_file_chunked_async(
    aclient: openai.AsyncOpenAI, mockfiles: MockFilesServer, tmp_path: Path, source: str
) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(DATA)
    if source == "path":
        upload = await aclient.uploads.upload_file_chunked(
            file=path, mime_type="application/jsonl", purpose="fine-tune", part_size=PART
        )
    else:
        upload = await aclient.uploads.upload_file_chunked(
            file=DATA,
            filename="train.jsonl",
            bytes=len(DATA),
            mime_type="application/jsonl",
            purpose="fine-tune",
            part_size=PART,
        )
    assert upload.status == "completed" and upload.file is not None
    assert (await aclient.files.content(upload.file.id)).content == DATA
    assert len(mockfiles.requests("uploads.parts.create")) == 8


@pytest.mark.mockfiles(rate_limits=None)  # the profile's: 3 uploads (Parts) per second per key
def test_upload_file_chunked_passes_the_rate_limit_with_the_sdks_default_retries(mockfiles: MockFilesServer) -> None:
    with mockfiles.client() as client:  # max_retries=2, the SDK's default
        upload = client.uploads.upload_file_chunked(
            file=DATA,
            filename="train.jsonl",
            bytes=len(DATA),
            mime_type="application/jsonl",
            purpose="fine-tune",
            part_size=PART,
        )
        assert upload.file is not None and client.files.content(upload.file.id).content == DATA
    statuses = [e["status"] for e in mockfiles.requests("uploads.parts.create")]
    assert statuses.count(200) == 8 and 429 in statuses  # limited, waited as told, and retried
    limited = [e for e in mockfiles.requests("uploads.parts.create") if e["status"] == 429]
    assert all(float(e["advice"]["retry-after"]) <= 1 for e in limited)


# --- the objects -------------------------------------------------------------------------------


def test_objects_are_exactly_the_sdks_types(http: httpx.Client) -> None:
    created = http.post(
        "/v1/uploads", json={"bytes": 5, "filename": "a.txt", "mime_type": "text/plain", "purpose": "assistants"}
    ).json()
    assert list(created) == [
        "id",
        "object",
        "bytes",
        "created_at",
        "filename",
        "purpose",
        "status",
        "expires_at",
        "file",
    ]
    assert created["status"] == "pending" and created["file"] is None and created["object"] == "upload"
    assert created["id"].startswith("upload_") and len(created["id"]) == len("upload_") + 32
    assert created["expires_at"] == created["created_at"] + 3600
    Upload.model_validate(created, strict=True)
    part = http.post(f"/v1/uploads/{created['id']}/parts", files={"data": ("upload", b"hello")}).json()
    assert list(part) == ["id", "object", "created_at", "upload_id"]
    assert part["object"] == "upload.part" and part["upload_id"] == created["id"] and part["id"].startswith("part_")
    UploadPart.model_validate(part, strict=True)
    done = http.post(f"/v1/uploads/{created['id']}/complete", json={"part_ids": [part["id"]]}).json()
    Upload.model_validate(done, strict=True)
    FileObject.model_validate(done["file"], strict=True)
    assert done["status"] == "completed" and done["file"] == http.get(f"/v1/files/{done['file']['id']}").json()
    assert set(done["file"]) == set(FileObject.model_fields)
    assert set(done) == set(Upload.model_fields)


def test_a_text_field_data_is_the_parts_bytes(http: httpx.Client) -> None:
    """As the reference's curl example sends it: ``-F data="aaa"``."""
    upload = http.post(
        "/v1/uploads", json={"bytes": 3, "filename": "a.txt", "mime_type": "text/plain", "purpose": "assistants"}
    ).json()
    part = http.post(f"/v1/uploads/{upload['id']}/parts", files={"data": (None, "aaa")}).json()
    done = http.post(f"/v1/uploads/{upload['id']}/complete", json={"part_ids": [part["id"]]}).json()
    assert http.get(f"/v1/files/{done['file']['id']}/content").content == b"aaa"


# --- manual create / parts / complete ----------------------------------------------------------


def test_complete_with_the_right_md5_and_a_wrong_one(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    upload = create(client, len(DATA))
    ids = [client.uploads.parts.create(upload_id=upload.id, data=p).id for p in parts_of(DATA, 100_000)]
    wrong = hashlib.md5(b"something else").hexdigest()
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.complete(upload_id=upload.id, part_ids=ids, md5=wrong)
    error = error_of(info.value)
    assert error["param"] == "md5" and error["code"] == "md5_mismatch" and error["type"] == "invalid_request_error"
    assert wrong in error["message"] and hashlib.md5(DATA).hexdigest() in error["message"]
    assert client.files.list().data == []  # nothing created
    assert uploads_admin(mockfiles)[0]["status"] == "pending" and uploads_admin(mockfiles)[0]["parts"] == 3
    done = client.uploads.complete(upload_id=upload.id, part_ids=ids, md5=hashlib.md5(DATA).hexdigest().upper())
    assert done.status == "completed" and done.file is not None
    assert client.files.content(done.file.id).content == DATA
    assert mockfiles.requests("uploads.complete")[-1]["file_id"] == done.file.id


def test_parts_are_assembled_in_the_order_complete_lists_them(client: openai.OpenAI) -> None:
    upload = create(client, 9)
    a, b, c = (client.uploads.parts.create(upload_id=upload.id, data=d).id for d in (b"aaa", b"bbb", b"ccc"))
    done = client.uploads.complete(upload_id=upload.id, part_ids=[c, a, b])
    assert done.file is not None and client.files.content(done.file.id).content == b"cccaaabbb"


async def test_concurrent_parts(aclient: openai.AsyncOpenAI) -> None:
    pieces = [bytes([i]) * 50_000 for i in range(12)]
    upload = await aclient.uploads.create(
        bytes=sum(map(len, pieces)), filename="d.jsonl", mime_type="application/jsonl", purpose="fine-tune"
    )
    parts = await asyncio.gather(*(aclient.uploads.parts.create(upload_id=upload.id, data=p) for p in pieces))
    assert len({p.id for p in parts}) == 12
    done = await aclient.uploads.complete(upload_id=upload.id, part_ids=[p.id for p in parts])
    assert done.file is not None and (await aclient.files.content(done.file.id)).content == b"".join(pieces)


def test_complete_refusals_leave_the_upload_pending(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    upload = create(client, 6)
    a = client.uploads.parts.create(upload_id=upload.id, data=b"aaa").id
    b = client.uploads.parts.create(upload_id=upload.id, data=b"bbb").id
    other = create(client, 3)
    foreign = client.uploads.parts.create(upload_id=other.id, data=b"ccc").id
    cases = [
        ({"part_ids": [a]}, "part_ids", "bytes_mismatch"),
        ({"part_ids": [a, a]}, "part_ids", "duplicate_part_id"),
        ({"part_ids": [a, foreign]}, "part_ids", "unknown_part_id"),
        ({"part_ids": [a, b], "md5": "xyz"}, "md5", "invalid_value"),
        ({"part_ids": [a, 7]}, "part_ids[1]", "invalid_type"),
        ({}, "part_ids", "missing_required_parameter"),
        ({"part_ids": [a, b], "extra": 1}, "extra", "unknown_parameter"),
    ]
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": f"Bearer {mockfiles.api_key}"}) as http:
        for body, param, code in cases:
            r = http.post(f"/v1/uploads/{upload.id}/complete", json=body)
            assert r.status_code == 400, body
            assert (r.json()["error"]["param"], r.json()["error"]["code"]) == (param, code), body
        r = http.post(
            f"/v1/uploads/{upload.id}/complete", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert r.status_code == 400 and "could not parse the JSON body" in r.json()["error"]["message"]
        r = http.post(f"/v1/uploads/{upload.id}/complete", json=[a, b])
        assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_type")
    assert client.files.list().data == []
    done = client.uploads.complete(upload_id=upload.id, part_ids=[b, a])
    assert done.file is not None and client.files.content(done.file.id).content == b"bbbaaa"
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.complete(upload_id=upload.id, part_ids=[b, a])
    assert (
        error_of(info.value)["code"] == "upload_already_completed" and done.file.id in error_of(info.value)["message"]
    )
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.parts.create(upload_id=upload.id, data=b"more")
    assert error_of(info.value)["code"] == "upload_already_completed"


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"bytes": 8 * 1024**3 + 1}, "bytes", "integer_above_max_value"),
        ({"bytes": 0}, "bytes", "integer_below_min_value"),
        ({"bytes": "5"}, "bytes", "invalid_type"),
        ({"purpose": "nonsense"}, "purpose", "invalid_value"),
        ({"purpose": "batch", "filename": "a.txt"}, "filename", "invalid_file_format"),
        ({"filename": "../etc/a.jsonl"}, "filename", "invalid_filename"),
        ({"purpose": "batch", "bytes": 200 * MiB + 1}, "bytes", "file_too_large"),
        ({"md5": "x"}, "md5", "unknown_parameter"),
        (
            {"expires_after": {"anchor": "created_at", "seconds": 10}},
            "expires_after.seconds",
            "integer_below_min_value",
        ),
    ],
)
def test_create_refusals(http: httpx.Client, fields: dict[str, object], param: str, code: str) -> None:
    body: dict[str, object] = {"bytes": 10, "filename": "a.jsonl", "mime_type": "application/jsonl", "purpose": "batch"}
    body.update(fields)
    r = http.post("/v1/uploads", json=body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


def test_create_refuses_missing_fields(http: httpx.Client) -> None:
    r = http.post("/v1/uploads", json={"bytes": 10, "filename": "a.jsonl", "purpose": "batch"})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "Missing required parameter: 'mime_type'."


def test_a_large_upload_is_accepted_beyond_the_512_mb_of_post_files(client: openai.OpenAI) -> None:
    upload = create(client, 8 * 1024**3)  # the most an Upload can take
    assert upload.bytes == 8 * 1024**3 and upload.status == "pending"


def test_unknown_and_foreign_uploads_are_404(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    upload = create(client, 3)
    with mockfiles.client(api_key="sk-someone-else", max_retries=0) as other:
        for call in (
            lambda: other.uploads.parts.create(upload_id=upload.id, data=b"abc"),
            lambda: other.uploads.complete(upload_id=upload.id, part_ids=[]),
            lambda: other.uploads.cancel(upload_id=upload.id),
            lambda: client.uploads.cancel(upload_id="upload_nothing"),
        ):
            with pytest.raises(openai.NotFoundError) as info:
                call()
            error = error_of(info.value)
            assert error["param"] == "id" and error["message"].startswith("No such Upload object: upload_")
    assert uploads_admin(mockfiles)[0]["status"] == "pending"


def test_dashscope_has_no_uploads_api(mockfiles: MockFilesServer) -> None:
    for path in ("/compatible-mode/v1/uploads", "/compatible-mode/v1/uploads/upload_x/parts", "/api/v1/uploads"):
        r = httpx.post(mockfiles.url + path, headers={"Authorization": "Bearer sk-x"}, json={})
        assert r.status_code == 404, path


# --- cancel and expiry --------------------------------------------------------------------------


def test_cancel(client: openai.OpenAI) -> None:
    upload = create(client, 6)
    part = client.uploads.parts.create(upload_id=upload.id, data=b"aaa")
    cancelled = client.uploads.cancel(upload_id=upload.id)
    assert cancelled.status == "cancelled" and cancelled.file is None
    assert client.uploads.cancel(upload_id=upload.id).status == "cancelled"  # a retried cancel
    for call in (
        lambda: client.uploads.parts.create(upload_id=upload.id, data=b"bbb"),
        lambda: client.uploads.complete(upload_id=upload.id, part_ids=[part.id]),
    ):
        with pytest.raises(openai.BadRequestError) as info:
            call()
        assert error_of(info.value)["code"] == "upload_cancelled"
    done = create(client, 3)
    p = client.uploads.parts.create(upload_id=done.id, data=b"abc")
    client.uploads.complete(upload_id=done.id, part_ids=[p.id])
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.cancel(upload_id=done.id)
    assert error_of(info.value)["code"] == "upload_already_completed"


@pytest.mark.mockfiles(rate_limits=False, scenario={"limits": {"max_total_bytes": "1MiB"}})
def test_expiry_frees_the_parts(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    upload = create(client, 900_000)
    client.uploads.parts.create(upload_id=upload.id, data=b"x" * 700_000)
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=("b.txt", b"y" * 500_000), purpose="assistants")  # the Part holds 700,000
    assert error_of(info.value)["code"] == "storage_limit_exceeded"
    mockfiles.advance(3598)  # expires_at is whole seconds: created_at (cut to the second) + 3600
    assert uploads_admin(mockfiles)[0]["status"] == "pending"
    mockfiles.advance(2)
    assert uploads_admin(mockfiles)[0]["status"] == "expired" and uploads_admin(mockfiles)[0]["held_bytes"] == 0
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.parts.create(upload_id=upload.id, data=b"z")
    assert error_of(info.value)["code"] == "upload_expired"
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.cancel(upload_id=upload.id)
    assert error_of(info.value)["code"] == "upload_expired"
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.complete(upload_id=upload.id, part_ids=[])
    assert error_of(info.value)["code"] == "upload_expired"
    assert client.files.create(file=("b.txt", b"y" * 500_000), purpose="assistants").bytes == 500_000  # fits now


# --- quotas -----------------------------------------------------------------------------------


@pytest.mark.mockfiles(rate_limits=False, scenario={"limits": {"max_total_bytes": "1MiB"}})
def test_parts_count_toward_storage(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        create(client, MiB + 1)
    assert (error_of(info.value)["param"], error_of(info.value)["code"]) == ("bytes", "storage_limit_exceeded")
    upload = create(client, 900_000)  # declared and checked, not reserved
    client.uploads.parts.create(upload_id=upload.id, data=b"a" * 600_000)
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.parts.create(upload_id=upload.id, data=b"b" * 600_000)
    error = error_of(info.value)
    assert (error["param"], error["code"]) == ("data", "storage_limit_exceeded")
    entry = mockfiles.requests("uploads.parts.create")[-1]
    assert entry["status"] == 400 and entry["size"] is None  # its declared length was enough: refused unread

    def chunked() -> Iterator[bytes]:  # no Content-Length: refused as it streams, at the piece that crosses
        yield b'--B\r\nContent-Disposition: form-data; name="data"; filename="upload"\r\n\r\n'
        for _ in range(10):
            yield b"c" * 100_000
        yield b"\r\n--B--\r\n"

    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": f"Bearer {mockfiles.api_key}"}) as http:
        r = http.post(
            f"/v1/uploads/{upload.id}/parts",
            content=chunked(),
            headers={"content-type": "multipart/form-data; boundary=B"},
        )
    assert r.status_code == 400
    assert (r.json()["error"]["param"], r.json()["error"]["code"]) == ("data", "storage_limit_exceeded")
    assert mockfiles.requests("uploads.parts.create")[-1]["size"] is None
    assert uploads_admin(mockfiles)[0]["parts"] == 1 and uploads_admin(mockfiles)[0]["held_bytes"] == 600_000
    client.uploads.cancel(upload_id=upload.id)
    assert client.files.create(file=("b.txt", b"y" * 900_000), purpose="assistants").bytes == 900_000


@pytest.mark.mockfiles(rate_limits=False, scenario={"limits": {"max_total_bytes": "1MiB"}})
def test_the_completed_file_takes_the_parts_place_in_storage(client: openai.OpenAI) -> None:
    upload = create(client, 800_000)
    part = client.uploads.parts.create(upload_id=upload.id, data=b"a" * 800_000)
    done = client.uploads.complete(upload_id=upload.id, part_ids=[part.id])
    assert done.file is not None
    with pytest.raises(openai.BadRequestError):  # the File holds 800,000 (counted once, not twice)
        client.files.create(file=("b.txt", b"y" * 300_000), purpose="assistants")
    assert client.files.create(file=("b.txt", b"y" * 200_000), purpose="assistants").bytes == 200_000
    client.files.delete(done.file.id)  # deleting frees it as any file
    assert client.files.create(file=("c.txt", b"z" * 700_000), purpose="assistants").bytes == 700_000


@pytest.mark.mockfiles(rate_limits=False, scenario={"processing": {"batch": {"delay": "30s"}}})
def test_the_completed_file_behaves_as_any_file(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    line = b'{"custom_id": "1", "method": "POST", "url": "/v1/embeddings", "body": {"model": "m", "input": "x"}}\n'
    upload = client.uploads.create(
        bytes=len(line),
        filename="in.jsonl",
        mime_type="application/jsonl",
        purpose="batch",
        expires_after={"anchor": "created_at", "seconds": 7200},
    )
    part = client.uploads.parts.create(upload_id=upload.id, data=line)
    done = client.uploads.complete(upload_id=upload.id, part_ids=[part.id])
    f = done.file
    assert f is not None and f.purpose == "batch" and f.expires_at == f.created_at + 7200
    assert f.status == "uploaded"  # processed after the purpose's delay, as a POST /files upload
    mockfiles.advance(30)
    assert client.files.retrieve(f.id).status == "processed"
    mockfiles.advance(7170)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(f.id)


# --- 413 while streaming ---------------------------------------------------------------------------


async def test_a_part_over_64_mib_is_refused_as_it_streams_async(
    aclient: openai.AsyncOpenAI, mockfiles: MockFilesServer
) -> None:
    upload = await aclient.uploads.create(
        bytes=65 * MiB, filename="big.jsonl", mime_type="application/jsonl", purpose="fine-tune"
    )
    with pytest.raises(openai.APIStatusError) as info:
        await aclient.uploads.parts.create(upload_id=upload.id, data=b"\0" * (64 * MiB + 1))
    assert info.value.status_code == 413
    assert error_of(info.value) == {
        "message": "Maximum content size limit (67108864) exceeded (67108865 bytes read)",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    assert uploads_admin(mockfiles)[0]["parts"] == 0 and uploads_admin(mockfiles)[0]["held_bytes"] == 0
    ok = await aclient.uploads.parts.create(upload_id=upload.id, data=b"\1" * 1000)  # the connection goes on
    assert ok.upload_id == upload.id


def test_a_streamed_part_is_refused_at_the_piece_that_crosses_64_mib(
    http: httpx.Client, mockfiles: MockFilesServer
) -> None:
    upload = http.post(
        "/v1/uploads", json={"bytes": 10, "filename": "a.txt", "mime_type": "text/plain", "purpose": "assistants"}
    ).json()

    def body() -> Iterator[bytes]:  # no Content-Length: chunked, so only the streaming check can refuse it
        yield b'--B\r\nContent-Disposition: form-data; name="data"; filename="upload"\r\n\r\n'
        for _ in range(80):  # 80 MiB
            yield b"\0" * MiB
        yield b"\r\n--B--\r\n"

    r = http.post(
        f"/v1/uploads/{upload['id']}/parts", content=body(), headers={"content-type": "multipart/form-data; boundary=B"}
    )
    assert r.status_code == 413
    read = int(r.json()["error"]["message"].rsplit("(", 1)[1].split()[0])
    assert 64 * MiB < read < 65 * MiB  # refused at the piece that crossed the limit, not at the body's end
    entry = mockfiles.requests("uploads.parts.create")[-1]
    assert entry["size"] is None and "part_id" not in entry
    assert uploads_admin(mockfiles)[0]["parts"] == 0


def test_a_declared_length_over_64_mib_is_refused_before_reading(http: httpx.Client) -> None:
    upload = http.post(
        "/v1/uploads", json={"bytes": 10, "filename": "a.txt", "mime_type": "text/plain", "purpose": "assistants"}
    ).json()
    r = http.post(f"/v1/uploads/{upload['id']}/parts", files={"data": ("upload", b"\0" * (65 * MiB))})
    assert r.status_code == 413 and "bytes declared" in r.json()["error"]["message"]


def test_part_form_refusals(http: httpx.Client) -> None:
    upload = http.post(
        "/v1/uploads", json={"bytes": 10, "filename": "a.txt", "mime_type": "text/plain", "purpose": "assistants"}
    ).json()
    url = f"/v1/uploads/{upload['id']}/parts"
    cases: list[tuple[Any, str, str | None]] = [
        ({"file": ("upload", b"abc")}, "file", "unknown_parameter"),
        ([("data", ("u", b"a")), ("data", ("u", b"b"))], "data", None),
        ({"other": (None, "x")}, "data", "missing_required_parameter"),
    ]
    for files, param, code in cases:
        r = http.post(url, files=files)
        assert r.status_code == 400, files
        assert (r.json()["error"]["param"], r.json()["error"]["code"]) == (param, code), files
    assert http.post(url, json={"data": "abc"}).status_code == 400  # not multipart


# --- journal, faults, control routes, reset ---------------------------------------------------------


def test_the_journal(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    upload = create(client, 6)
    part = client.uploads.parts.create(upload_id=upload.id, data=b"abcdef")
    done = client.uploads.complete(upload_id=upload.id, part_ids=[part.id])
    created, added, completed = (
        mockfiles.requests(e)[0] for e in ("uploads.create", "uploads.parts.create", "uploads.complete")
    )
    assert created["upload_id"] == upload.id and created["bytes"] == 6 and created["purpose"] == "fine-tune"
    assert added["part_id"] == part.id and added["upload_id"] == upload.id and added["size"] == 6
    assert added["sha256"] == hashlib.sha256(b"abcdef").hexdigest() and added["purpose"] == "fine-tune"
    assert done.file is not None and completed["file_id"] == done.file.id


@pytest.mark.mockfiles(
    rate_limits=False,
    scenario={"faults": [{"match": {"endpoint": "uploads.parts.create"}, "status": 503, "times": 2}]},
)
def test_a_fault_rule_on_parts_and_the_sdk_retries(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(max_retries=2) as client:
        upload = client.uploads.upload_file_chunked(
            file=DATA,
            filename="t.jsonl",
            bytes=len(DATA),
            mime_type="application/jsonl",
            purpose="fine-tune",
            part_size=PART,
        )
        assert upload.file is not None and client.files.content(upload.file.id).content == DATA
    parts = mockfiles.requests("uploads.parts.create")
    assert [p["status"] for p in parts[:3]] == [503, 503, 200]
    assert parts[0]["rule"] == "faults[0]" and parts[0]["size"] == PART  # decided once the Part was read


COMPLETE_PROCESSING = {
    "faults": [
        {
            "match": {"endpoint": "uploads.complete", "purpose": "fine-tune", "filename": "*.jsonl"},
            "times": 1,
            "processing": {"status": "error", "status_details": "line 3: invalid JSON", "delay": "5s"},
        },
        {"match": {"endpoint": "uploads.complete"}, "status": 503, "times": 1, "after": 1},
    ]
}


@pytest.mark.mockfiles(rate_limits=False, scenario=COMPLETE_PROCESSING)
def test_a_processing_rule_ends_the_completed_file_in_error(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(max_retries=1) as client:
        other = create(client, 1, purpose="assistants", filename="notes.txt")  # not matched: processed
        part = client.uploads.parts.create(upload_id=other.id, data=b"x")
        assert client.uploads.complete(upload_id=other.id, part_ids=[part.id]).file.status == "processed"  # type: ignore[union-attr]
        upload = create(client, 2)
        part = client.uploads.parts.create(upload_id=upload.id, data=b"ab")
        done = client.uploads.complete(upload_id=upload.id, part_ids=[part.id])
        assert done.file is not None and done.file.status == "uploaded"
        mockfiles.advance(5)
        f = client.files.wait_for_processing(done.file.id, poll_interval=0.01)
        assert (f.status, f.status_details) == ("error", "line 3: invalid JSON")
    entries = mockfiles.requests("uploads.complete")
    assert [(e["status"], e.get("rule"), e.get("action")) for e in entries] == [
        (200, None, None),
        (503, "faults[1]", "status 503"),  # the other rule on arrival, once; the SDK retries
        (200, "faults[0]", "processing error"),  # the processing rule once the Upload is known
    ]


def test_the_control_route_masks_accounts(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    upload = create(client, 3)
    [shown] = uploads_admin(mockfiles)
    assert shown["id"] == upload.id and shown["account"] == mockfiles.account_id(mockfiles.api_key)
    assert mockfiles.api_key not in str(shown) and shown["mime_type"] == "application/jsonl"


def test_a_reset_forgets_uploads(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    upload = create(client, 3)
    mockfiles.reset(rate_limits=False)
    assert uploads_admin(mockfiles) == []
    with pytest.raises(openai.NotFoundError):
        client.uploads.parts.create(upload_id=upload.id, data=b"abc")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_as_the_api_reference_shows_it(mockfiles: MockFilesServer, tmp_path: Path) -> None:
    """The reference's curl examples: create with -d JSON, a Part with -F data="aaa", complete."""
    auth = ["-H", f"Authorization: Bearer {mockfiles.api_key}"]
    base = mockfiles.url + "/v1/uploads"

    def curl(*args: str) -> dict[str, Any]:
        out = subprocess.run(["curl", "-sS", *auth, *args], capture_output=True, text=True, timeout=30, check=True)
        parsed: dict[str, Any] = json.loads(out.stdout)
        return parsed

    upload = curl(
        base,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"purpose": "fine-tune", "filename": "training_examples.jsonl", "bytes": 6, "mime_type": "text/jsonl"}',
    )
    first = curl(f"{base}/{upload['id']}/parts", "-F", 'data="aaa"')
    (tmp_path / "part.bin").write_bytes(b"bbb")
    second = curl(f"{base}/{upload['id']}/parts", "-F", f"data=@{tmp_path / 'part.bin'}")
    done = curl(
        f"{base}/{upload['id']}/complete",
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps({"part_ids": [first["id"], second["id"]]}),
    )
    assert done["status"] == "completed"
    got = subprocess.run(
        ["curl", "-sS", *auth, f"{mockfiles.url}/v1/files/{done['file']['id']}/content"],
        capture_output=True,
        check=True,
    )
    assert got.stdout == b"aaabbb"
    assert curl(f"{base}/{upload['id']}/cancel", "-X", "POST")["error"]["code"] == "upload_already_completed"


def test_the_file_is_made_of_the_parts_chunks(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    """Completing copies no byte: the File's chunks are the very objects the Parts' reader filled."""
    upload = create(client, 2 * MiB)
    ids = [client.uploads.parts.create(upload_id=upload.id, data=os.urandom(MiB)).id for _ in range(2)]
    [held] = mockfiles.emulator.uploads.all_uploads()
    chunks = [chunk for part_id in reversed(ids) for chunk in held.parts[part_id].chunks]
    done = client.uploads.complete(upload_id=upload.id, part_ids=ids[::-1])
    assert done.file is not None
    stored = mockfiles.emulator.files.get(mockfiles.api_key, done.file.id).chunks
    assert len(stored) == len(chunks) and all(a is b for a, b in zip(stored, chunks, strict=True))


@pytest.mark.mockfiles(
    rate_limits=False,
    scenario={
        "limits": {"max_total_bytes": 400_000},
        "faults": [{"match": {"endpoint": "uploads.parts.create"}, "action": "reset_after_commit", "times": 1}],
    },
)
def test_a_part_whose_answer_is_lost_is_retried_and_the_orphan_freed(mockfiles: MockFilesServer) -> None:
    """The first Part is kept but its answer lost: the SDK sends it again, a second Part; only the
    one it got an id for is listed, and completing frees the other."""
    with mockfiles.client(max_retries=2) as client:
        upload = client.uploads.upload_file_chunked(
            file=DATA,
            filename="t.jsonl",
            bytes=len(DATA),
            mime_type="application/jsonl",
            purpose="fine-tune",
            part_size=PART,
        )
        assert upload.file is not None and client.files.content(upload.file.id).content == DATA
        parts = mockfiles.requests("uploads.parts.create")
        assert parts[0]["action"] == "reset_after_commit" and parts[0]["part_id"] is not None
        assert len(parts) == 9 and parts[1]["retry_count"] == 1
        # the orphan's 40,000 bytes are free again: 300,000 stored, room for 100,000 more
        assert client.files.create(file=("b.txt", b"y" * 100_000), purpose="assistants").bytes == 100_000


@pytest.mark.mockfiles(
    rate_limits=False,
    scenario={"faults": [{"match": {"endpoint": "uploads.parts.create", "purpose": "batch"}, "status": 500}]},
)
def test_a_fault_rule_matches_a_parts_upload_purpose(client: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    tuned = create(client, 3)
    assert client.uploads.parts.create(upload_id=tuned.id, data=b"abc").upload_id == tuned.id
    batch = create(client, 3, purpose="batch")
    with pytest.raises(openai.InternalServerError):
        client.uploads.parts.create(upload_id=batch.id, data=b"abc")
    assert uploads_admin(mockfiles)[1]["parts"] == 0
    assert [e["rule"] for e in mockfiles.requests("uploads.parts.create")] == [None, "faults[0]"]


@requires_node
def test_the_node_client(mockfiles: MockFilesServer) -> None:
    """The official npm client: Parts sent concurrently, completed with the md5, the bytes read back;
    a Part over 64 MiB answered 413, which its fetch reads (the body is drained, not reset)."""
    spec = {"base_url": mockfiles.base_url, "api_key": mockfiles.api_key, "parts": [100_000, 100_000, 5]}
    spec["oversized"] = 64 * MiB + 1
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(NODE_DIR / "uploads.mjs"), json.dumps(spec)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed" and result["file_bytes"] == 200_005 and result["same"]
    assert result["oversized"]["status"] == 413
    assert "67108864" in result["oversized"]["message"]
