"""The request journal's entries: arrival and answer times, the retry advice a response
carried, and what each upload carried (name, purpose, size, sha256, the stored file's id)."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import threading
import time
import tracemalloc
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from mockfiles.files.digest import StreamDigest
from tests.http.files.test_upload_limits import file_head, file_part, form, post, streamed, text_part

pytestmark = pytest.mark.mockfiles(rate_limits=False)

UPLOAD_KEYS = ("purpose", "filename", "size", "sha256", "file_id")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rules(*faults: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"rate_limits": False, "faults": list(faults), **top}


def test_every_entry_has_the_documented_keys(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    client.files.create(file=b"x", purpose="assistants")
    client.files.list()
    created, listed = mockfiles.requests()
    for entry in (created, listed):
        assert entry["rule"] is None and entry["fault"] is None and entry["advice"] is None
        assert entry["received_at"] <= entry["time"]
        assert entry["received_wall_time"] <= entry["wall_time"]
    assert all(key in created for key in UPLOAD_KEYS)
    assert not any(key in listed for key in UPLOAD_KEYS)  # upload details only on uploads


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "delay": "1s"}))
def test_received_at_is_the_arrival_and_time_the_answer(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    """While the request is held by its delay, the emulator clock moves an hour: the entry
    shows both ends on that clock."""
    threading.Timer(0.3, mockfiles.advance, args=(3600,)).start()
    client.files.list()
    [entry] = mockfiles.requests()
    assert entry["time"] - entry["received_at"] >= 3600
    assert 0 < entry["wall_time"] - entry["received_wall_time"] < 3600  # the wall clock did not jump
    assert entry["rule"] == "faults[0]" and entry["action"] == "delay"


@pytest.mark.parametrize("size", [5, 3 * 1024 * 1024 + 17], ids=["small", "3MiB"])
def test_an_upload_shows_its_file_sync(mockfiles: MockFilesServer, client: openai.OpenAI, size: int) -> None:
    content = os.urandom(size)
    created = client.files.create(file=("data.bin", content), purpose="user_data")
    entry = mockfiles.requests("files.create")[-1]
    assert {k: entry[k] for k in UPLOAD_KEYS} == {
        "purpose": "user_data",
        "filename": "data.bin",
        "size": size,
        "sha256": sha256(content),
        "file_id": created.id,
    }


@pytest.mark.parametrize("size", [5, 3 * 1024 * 1024 + 17], ids=["small", "3MiB"])
async def test_an_upload_shows_its_file_async(
    mockfiles: MockFilesServer, aclient: openai.AsyncOpenAI, size: int
) -> None:
    content = os.urandom(size)
    created = await aclient.files.create(file=("data.bin", content), purpose="assistants")
    entry = mockfiles.requests("files.create")[-1]
    assert (entry["size"], entry["sha256"], entry["file_id"]) == (size, sha256(content), created.id)


def test_the_sha256_is_of_the_bytes_whatever_the_pieces(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    content = os.urandom(5 * 1024 * 1024 + 3)
    body = form(file_part("f.bin", content), text_part("purpose", "assistants"))
    for piece in (1, 1000, 65536, 300_000):  # split anywhere, even inside the boundary
        r = post(http, streamed(body, piece) if piece > 1 else body)
        assert r.status_code == 200
        entry = mockfiles.requests("files.create")[-1]
        assert (entry["size"], entry["sha256"], entry["file_id"]) == (len(content), sha256(content), r.json()["id"])
        assert mockfiles.emulator.files.get(http.headers["authorization"][7:], r.json()["id"]).content() == content


@pytest.mark.mockfiles(scenario={"limits": {"max_total_bytes": "1MB", "max_file_bytes": "2MB"}})
def test_refused_uploads_show_what_was_read(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    over_quota = os.urandom(1_500_000)
    r = post(http, streamed(form(text_part("purpose", "assistants"), file_part("q.bin", over_quota))))
    assert r.status_code == 400
    too_big = form(text_part("purpose", "assistants"), file_head("big.bin"), b"x" * 3_000_000, b"\r\n")
    assert post(http, streamed(too_big)).status_code == 413
    quota, size = mockfiles.requests("files.create")
    # refused for the quota once read whole: its size and digest are known
    assert {k: quota[k] for k in UPLOAD_KEYS} == {
        "purpose": "assistants",
        "filename": "q.bin",
        "size": 1_500_000,
        "sha256": sha256(over_quota),
        "file_id": None,
    }
    # refused while it streamed: only its name and purpose
    assert {k: size[k] for k in UPLOAD_KEYS} == dict.fromkeys(UPLOAD_KEYS) | {
        "purpose": "assistants",
        "filename": "big.bin",
    }


def test_an_upload_refused_before_its_body_shows_nulls(mockfiles: MockFilesServer) -> None:
    mockfiles.reset(api_keys=["sk-right"])
    with pytest.raises(openai.AuthenticationError):
        mockfiles.client(api_key="sk-wrong", max_retries=0).files.create(file=b"x", purpose="assistants")
    entry = mockfiles.requests()[-1]
    assert entry["status"] == 401
    assert {k: entry[k] for k in UPLOAD_KEYS} == dict.fromkeys(UPLOAD_KEYS)


@pytest.mark.mockfiles(
    scenario=rules({"match": {"endpoint": "files.create"}, "times": 1, "action": "reset_after_commit"})
)
def test_reset_after_commit_shows_the_file_that_was_stored(mockfiles: MockFilesServer) -> None:
    created = mockfiles.client().files.create(file=("a.txt", b"payload"), purpose="assistants")
    lost, retried = mockfiles.requests("files.create")
    assert (lost["status"], lost["committed_status"], lost["action"]) == (None, 200, "reset_after_commit")
    assert lost["file_id"] is not None and lost["file_id"] != created.id
    assert lost["file_id"] in {f.id for f in mockfiles.client().files.list()}  # stored, though unanswered
    assert lost["sha256"] == retried["sha256"] == sha256(b"payload")
    assert retried["file_id"] == created.id


@pytest.mark.mockfiles(profile="dashscope")
def test_a_native_upload_of_several_files_lists_them(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    body = form(
        text_part("purpose", "file-extract"),
        file_part("a.txt", b"first", name="files"),
        file_part("b.txt", b"second!", name="files"),
    )
    r = post(http, body, path="/api/v1/files")
    assert r.status_code == 200
    ids = [u["file_id"] for u in r.json()["data"]["uploaded_files"]]
    entry = mockfiles.requests()[-1]
    assert (entry["filename"], entry["size"], entry["file_id"], entry["purpose"]) == (
        "a.txt",
        5,
        ids[0],
        "file-extract",
    )
    assert entry["files"] == [
        {"filename": "a.txt", "size": 5, "sha256": sha256(b"first"), "file_id": ids[0]},
        {"filename": "b.txt", "size": 7, "sha256": sha256(b"second!"), "file_id": ids[1]},
    ]


# --- retry advice ----------------------------------------------------------------------------------


@pytest.mark.mockfiles(
    scenario=rules(
        {
            "match": {"endpoint": "files.list"},
            "times": 1,
            "status": 503,
            "headers": {"retry-after-ms": 20, "x-should-retry": "true"},
        }
    )
)
def test_the_advice_a_fault_sent_is_journaled(mockfiles: MockFilesServer) -> None:
    mockfiles.client().files.list()
    failed, succeeded = mockfiles.requests()
    assert failed["advice"] == {"retry-after-ms": "20", "x-should-retry": "true"}
    assert succeeded["advice"] is None


@pytest.mark.mockfiles(rate_limits=True, scenario={"rate_limits": {"upload": 1, "window": "1m"}})
def test_the_advice_of_a_rate_limit_refusal_is_journaled(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    client.files.create(file=b"x", purpose="assistants")
    with pytest.raises(openai.RateLimitError) as info:
        client.files.create(file=b"x", purpose="assistants")
    entry = mockfiles.requests()[-1]
    headers = info.value.response.headers
    assert entry["advice"] == {"retry-after": headers["retry-after"], "retry-after-ms": headers["retry-after-ms"]}
    assert entry["rule"] is None and entry["action"] == "rate_limited"


def test_journal_over_http_has_the_same_entries(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    client.files.create(file=("a.txt", b"abc"), purpose="assistants")
    time.sleep(0.05)  # the server finishes the request just after its last byte
    over_http = httpx.get(mockfiles.url + "/_mockfiles/requests").json()["data"]
    assert over_http[0]["sha256"] == sha256(b"abc") and over_http[0]["received_at"] is not None
    assert over_http == mockfiles.requests()


async def test_stream_digest_unit() -> None:
    """The digest is the file's sha256 whatever the pieces, inline (small) or on its thread (large)."""
    for size in (0, 10, 1024 * 1024 - 1, 5 * 1024 * 1024 + 7):
        data = os.urandom(size)
        digest = StreamDigest()
        for i in range(0, size, 100_003):
            digest.update(memoryview(data)[i : i + 100_003])
        digest.finish()
        assert await digest.hexdigest() == sha256(data)
    abandoned = StreamDigest()
    abandoned.update(os.urandom(3 * 1024 * 1024))
    abandoned.cancel()  # a refused upload: its thread stops, nothing waits for it


# --- the sha256 of kept bytes is made when first read, or before the bytes go -----------------------

SIZES = pytest.mark.parametrize("size", [5, 3 * 1024 * 1024 + 17], ids=["small", "3MiB"])


@SIZES
def test_a_deleted_files_sha256_is_still_journaled(
    mockfiles: MockFilesServer, client: openai.OpenAI, size: int
) -> None:
    content = os.urandom(size)
    created = client.files.create(file=("gone.bin", content), purpose="assistants")
    assert client.files.delete(created.id).deleted
    entry = mockfiles.requests("files.create")[-1]
    assert (entry["size"], entry["sha256"], entry["file_id"]) == (size, sha256(content), created.id)


@SIZES
async def test_a_deleted_files_sha256_is_still_journaled_async(
    mockfiles: MockFilesServer, aclient: openai.AsyncOpenAI, size: int
) -> None:
    content = os.urandom(size)
    created = await aclient.files.create(file=("gone.bin", content), purpose="assistants")
    await aclient.files.delete(created.id)
    [entry] = [e for e in await asyncio.to_thread(lambda: mockfiles.requests()) if e["endpoint"] == "files.create"]
    assert (entry["sha256"], entry["file_id"]) == (sha256(content), created.id)


@SIZES
def test_an_expired_files_sha256_is_still_journaled(
    mockfiles: MockFilesServer, client: openai.OpenAI, size: int
) -> None:
    content = os.urandom(size)
    client.files.create(
        file=("brief.jsonl", content), purpose="batch", expires_after={"anchor": "created_at", "seconds": 3600}
    )
    mockfiles.advance(3601)
    assert client.files.list().data == []  # expired, its bytes gone
    assert mockfiles.requests("files.create")[-1]["sha256"] == sha256(content)


@SIZES
def test_a_refused_uploads_sha256_is_journaled(mockfiles: MockFilesServer, http: httpx.Client, size: int) -> None:
    content = os.urandom(size)
    r = post(http, form(text_part("purpose", "no-such-purpose"), file_part("f.bin", content)))
    assert r.status_code == 400  # refused once read whole: nothing keeps its bytes
    entry = mockfiles.requests("files.create")[-1]
    assert (entry["size"], entry["sha256"], entry["file_id"]) == (size, sha256(content), None)


def test_the_journal_over_http_shows_an_unread_digest(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    content = os.urandom(3 * 1024 * 1024)
    client.files.create(file=("a.bin", content), purpose="assistants")
    r = httpx.get(mockfiles.url + "/_mockfiles/requests", params={"endpoint": "files.create"})
    assert [e["sha256"] for e in r.json()["data"]] == [sha256(content)]


def test_the_journal_holds_no_bytes_of_files_that_are_gone(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    """Ten 3 MiB uploads deleted, ten refused once read, ten expired: their entries are kept
    (unread), their bytes are not."""
    content = os.urandom(3 * 1024 * 1024)

    def upload_and_drop() -> None:
        r = post(http, form(text_part("purpose", "assistants"), file_part("f.bin", content)))
        assert http.delete(f"/v1/files/{r.json()['id']}").status_code == 200
        r = post(http, form(text_part("purpose", "no-such-purpose"), file_part("f.bin", content)))
        assert r.status_code == 400
        expiring = [text_part("expires_after[anchor]", "created_at"), text_part("expires_after[seconds]", "3600")]
        r = post(http, form(text_part("purpose", "user_data"), *expiring, file_part("f.bin", content)))
        assert r.status_code == 200, r.text
        mockfiles.advance(3601)
        assert http.get("/v1/files").json()["data"] == []  # expired

    upload_and_drop()  # warm up allocator pools
    time.sleep(0.2)  # the digest threads of the first round end
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(10):
            upload_and_drop()
        time.sleep(0.5)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(mockfiles.requests("files.create")) == 33
    assert after - before < 8 * 2**20, f"{(after - before) / 2**20:.1f} MiB held after 30 uploads of 3 MiB went"
    assert {e["sha256"] for e in mockfiles.requests("files.create")} == {sha256(content)}
