"""Nothing one account sends makes the server's memory grow without bound: batch answers are as
large as the real models' and count in the account's storage; rate-limit windows are forgotten
once empty, in a bounded table; Uploads have bounded metadata and Parts and are forgotten after
they end; the journal is capped by bytes as well as by count. Over real HTTP where a client can
reach it; the memory each case took before and after is in bench/README.md (bench/socket/hostile.py)."""

from __future__ import annotations

import base64
import json
import tracemalloc
from dataclasses import replace
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from mockfiles.admission.ratelimit import RateLimiter
from mockfiles.core.profiles import RateLimits
from tests.support.batching import World

CHAT = "/v1/chat/completions"
IMAGES = "/v1/images/generations"


def run_batch(client: openai.OpenAI, url: str, *bodies: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    """A batch of these bodies, run to its end: the Batch, and its output and error lines by custom_id order."""
    lines = [{"custom_id": f"r{i}", "method": "POST", "url": url, "body": b} for i, b in enumerate(bodies)]
    content = b"".join(json.dumps(x).encode() + b"\n" for x in lines)
    source = client.files.create(file=("in.jsonl", content), purpose="batch")
    batch = client.batches.retrieve(
        client.batches.create(input_file_id=source.id, endpoint=url, completion_window="24h").id
    )  # type: ignore[arg-type]
    results: list[dict[str, Any]] = []
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id is not None:
            results += [json.loads(x) for x in client.files.content(file_id).text.splitlines()]
    return batch, sorted(results, key=lambda r: int(r["custom_id"][1:]))


# --- 4. batch answers, bounded as the real service bounds them --------------------------------------


@pytest.mark.mockfiles(rate_limits=False)
def test_image_sizes_and_counts_are_each_models(client: openai.OpenAI) -> None:
    """A batch has one model: one batch per model."""
    _, image = run_batch(
        client,
        IMAGES,
        {"model": "gpt-image-1", "prompt": "a fox", "n": 10, "size": "2048x2048"},
        {"model": "gpt-image-1", "prompt": "a fox", "n": 10, "size": "1536x1024"},
    )
    _, dalle3 = run_batch(
        client,
        IMAGES,
        {"model": "dall-e-3", "prompt": "a fox", "n": 2},
        {"model": "dall-e-3", "prompt": "a fox", "size": "1792x1024"},
    )
    _, dalle2 = run_batch(client, IMAGES, {"model": "dall-e-2", "prompt": "a fox", "n": 11, "size": "256x256"})
    results = [*image, *dalle3, *dalle2]
    assert [r["response"]["status_code"] for r in results] == [400, 200, 400, 200, 400]
    size, n_one, n_most = (results[i]["response"]["body"]["error"] for i in (0, 2, 4))
    assert size["param"] == "size" and "'1536x1024'" in size["message"] and "2048x2048" in size["message"]
    assert n_one["message"] == "You must provide n=1 for this model."
    assert n_most["code"] == "integer_above_max_value"
    pictures = results[1]["response"]["body"]["data"]
    assert len(pictures) == 10 and all(len(p["b64_json"]) < 1024 for p in pictures)
    png = base64.b64decode(pictures[0]["b64_json"])
    assert png.startswith(b"\x89PNG") and png[16:24] == (1536).to_bytes(4, "big") + (1024).to_bytes(4, "big")


@pytest.mark.mockfiles(rate_limits=False)
def test_an_answer_is_at_most_the_models_maximum_output(client: openai.OpenAI) -> None:
    long = "word " * 100_000  # 500 KB: echoed, it would be 125,000 tokens
    _, results = run_batch(
        client,
        CHAT,
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": long}]},
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100_000},
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "n": 129},
    )
    body = results[0]["response"]["body"]
    assert body["choices"][0]["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 16_384
    assert len(body["choices"][0]["message"]["content"]) <= 4 * 16_384
    too_large = results[1]["response"]["body"]["error"]
    assert too_large["message"] == (
        "max_tokens is too large: 100000. This model supports at most 16384 completion tokens, "
        "whereas you provided 100000."
    )
    assert results[2]["response"]["body"]["error"]["param"] == "n"


@pytest.mark.mockfiles(rate_limits=False, scenario={"limits": {"max_total_bytes": "256KB"}})
def test_batch_outputs_count_in_the_accounts_storage_and_meet_its_refusal(mockfiles: MockFilesServer) -> None:
    bodies = [
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"say {i}"}], "n": 32} for i in range(60)
    ]
    with mockfiles.client(max_retries=0) as client:
        batch, results = run_batch(client, CHAT, *bodies)
        stored = sum(f.bytes for f in client.files.list().data)
        assert stored <= 256_000 + 60 * 300  # the room, and at most a small error line per request past it
        full = [r for r in results if r["error"] is not None]
        assert full and {r["error"]["code"] for r in full} == {"storage_limit_exceeded"}
        counts = batch.request_counts
        assert counts is not None and (counts.completed, counts.failed) == (60 - len(full), len(full))
        with pytest.raises(openai.BadRequestError) as refused:
            client.files.create(file=("a.txt", b"x" * 1000), purpose="assistants")
        assert refused.value.code == "storage_limit_exceeded"
        source = client.files.list(purpose="batch").data[0].id
        used = sum(f.bytes for f in client.files.list().data)
        if used < 256_000:  # the output stopped short of the limit: fill the account to it
            client.files.create(file=("fill.txt", b"x" * (256_000 - used)), purpose="assistants")
        with pytest.raises(openai.BadRequestError) as no_room:
            client.batches.create(input_file_id=source, endpoint=CHAT, completion_window="24h")
        assert (no_room.value.code, no_room.value.param) == ("storage_limit_exceeded", "input_file_id")


# --- 5. rate-limit windows ----------------------------------------------------------------------------


def test_empty_rate_limit_windows_are_forgotten(mockfiles: MockFilesServer) -> None:
    with httpx.Client(base_url=mockfiles.url) as http:
        for i in range(300):
            assert http.get("/v1/files", headers={"Authorization": f"Bearer sk-one-shot-{i}"}).status_code == 200
        limiter = mockfiles.emulator.limiter
        assert len(limiter) > 100  # (a loaded machine may take over a second: the first ones are forgotten already)
        mockfiles.advance(2)  # every window is empty now
        for _ in range(5):
            assert http.get("/v1/files", headers={"Authorization": "Bearer sk-regular"}).status_code == 200
    assert len(limiter) == 1  # the regular key's own


def test_the_windows_table_is_bounded_and_long_keys_take_little_room() -> None:
    from mockfiles.admission.ratelimit import MAX_WINDOWS

    limiter = RateLimiter(RateLimits(upload=3, query=10))
    for i in range(MAX_WINDOWS + 5_000):
        limiter.check(f"k{i}", "files.list", now=0.0)  # all within one window: none is empty
    assert len(limiter) == MAX_WINDOWS
    assert limiter.check("k0", "files.list", now=0.5).remaining == 9  # evicted: starts afresh, as nginx's
    limiter.clear()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(1_000):
        limiter.check(f"{i}-" + "x" * 16_384, "files.list", now=0.0)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 2_000_000  # a 16 KiB key is held by its digest: not 16 MB for 1,000 of them


# --- 6. Uploads --------------------------------------------------------------------------------------------


def create_upload(client: openai.OpenAI, **kw: Any) -> Any:
    args: dict[str, Any] = {"bytes": 3, "filename": "d.jsonl", "mime_type": "application/jsonl", "purpose": "fine-tune"}
    return client.uploads.create(**{**args, **kw})


def test_an_uploads_mime_type_is_at_most_255_characters(client: openai.OpenAI) -> None:
    assert create_upload(client, mime_type="a/" + "b" * 253).status == "pending"
    with pytest.raises(openai.BadRequestError) as refused:
        create_upload(client, mime_type="x" * 1_000_000)
    assert (refused.value.code, refused.value.param) == ("string_above_max_length", "mime_type")
    assert "maximum length 255" in refused.value.message and len(refused.value.message) < 300


@pytest.mark.mockfiles(rate_limits=False)
def test_an_upload_takes_at_most_max_parts_parts(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    files = mockfiles.emulator.files
    files.profile = replace(files.profile, uploads=replace(files.profile.uploads, max_parts=3))
    upload = create_upload(client, bytes=10)
    parts = [client.uploads.parts.create(upload.id, data=b"x").id for _ in range(3)]
    with pytest.raises(openai.BadRequestError) as refused:
        client.uploads.parts.create(upload.id, data=b"x")
    assert refused.value.code == "upload_part_limit_exceeded" and "3 Parts" in refused.value.message
    assert len(parts) == 3


def test_the_part_limit_is_ten_thousand() -> None:
    world = World()
    uploads = world.emulator.uploads
    from mockfiles.uploads.requests import CreateRequest

    upload = uploads.create("k", CreateRequest(20_000, "d.jsonl", "application/jsonl", "fine-tune"))
    for _ in range(10_000):
        uploads.add_part("k", upload.id, [b"x"], 1)
    from mockfiles.core.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as refused:
        uploads.add_part("k", upload.id, [b"x"], 1)
    assert refused.value.reason == "upload_part_limit"


@pytest.mark.mockfiles(rate_limits=False)
def test_ended_uploads_are_forgotten_an_hour_after_they_end(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    cancelled = create_upload(client)
    client.uploads.cancel(cancelled.id)
    expired = create_upload(client)
    done = create_upload(client)
    part = client.uploads.parts.create(done.id, data=b"abc")
    client.uploads.complete(done.id, part_ids=[part.id])
    with httpx.Client(base_url=mockfiles.url) as admin:
        assert len(admin.get("/_mockfiles/uploads").json()["data"]) == 3
        mockfiles.advance(3599)
        assert client.uploads.cancel(cancelled.id).status == "cancelled"  # a retried cancel still answered
        mockfiles.advance(1)  # the cancelled and completed ones ended an hour ago; the expired one now
        assert [u["id"] for u in admin.get("/_mockfiles/uploads").json()["data"]] == [expired.id]
        with pytest.raises(openai.NotFoundError):
            client.uploads.cancel(cancelled.id)
        mockfiles.advance(3600)
        assert admin.get("/_mockfiles/uploads").json()["data"] == []
    assert client.files.retrieve(client.files.list().data[0].id).bytes == 3  # the completed File lives on


# --- 7. the journal, capped by bytes ---------------------------------------------------------------------


def test_the_journal_keeps_client_values_capped(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    query = "q=" + "x" * 60_000
    assert http.get(f"/v1/files?{query}").status_code == 200
    assert http.get("/v1/batches/" + "b" * 30_000).status_code == 404
    first, second = mockfiles.requests()
    assert len(first["query"]) == 512 and len(second["path"]) == 513 and second["path"].endswith("…")
    assert len(second["batch_id"]) == 513
    assert mockfiles.emulator.journal.bytes < 2 * 3_000


@pytest.mark.mockfiles(rate_limits=False, scenario={"journal": {"max_bytes": "64KiB"}})
def test_the_journal_is_capped_by_bytes(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    for i in range(200):
        assert http.get(f"/v1/files?after=file-{i}&pad={'x' * 1_000}").status_code in (200, 400)
    journal = mockfiles.emulator.journal
    entries = mockfiles.requests()
    assert journal.bytes <= 64 * 1024 and 20 < len(entries) < 200
    assert entries[-1]["seq"] == 200 and [e["seq"] for e in entries] == list(range(201 - len(entries), 201))
    after = http.get("/_mockfiles/requests", params={"after": 195}).json()["data"]
    assert [e["seq"] for e in after] == [196, 197, 198, 199, 200]


def test_the_journal_byte_cap_is_a_scenario_setting(mockfiles: MockFilesServer) -> None:
    assert mockfiles.emulator.journal.max_bytes == 10_000 * 3 * 1024
    mockfiles.use_scenario({"journal": {"cap": 100, "max_bytes": "1MiB"}})
    assert (mockfiles.emulator.journal.cap, mockfiles.emulator.journal.max_bytes) == (100, 1024 * 1024)
    with pytest.raises(Exception, match="at least 64KiB"):
        mockfiles.use_scenario({"journal": {"max_bytes": 1000}})


def test_a_forgotten_upload_leaves_the_data_directory(tmp_path: Any) -> None:
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        client = server.client(max_retries=0)
        upload = create_upload(client)
        client.uploads.cancel(upload.id)
        kept = create_upload(client)
        server.advance(3600 + 1)  # the cancelled one ended an hour ago: forgotten at the next look
        assert [u.id for u in server.emulator.uploads.all_uploads()] == [kept.id]
        client.files.list()  # an answer after a change: the data directory is written
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as again:
        assert [u.id for u in again.emulator.uploads.all_uploads()] == [kept.id]
