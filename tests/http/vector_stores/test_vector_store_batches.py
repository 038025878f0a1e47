"""File batches over HTTP: made from file_ids or files[], their counts and status following their
files on the clock, cancel, their files listed; every refusal with its status, code and message."""

from __future__ import annotations

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.vectoring import BIRDS, CATS, DOGS, UNSUPPORTED, refused, typed, upload

pytestmark = pytest.mark.mockfiles(rate_limits=False)
SLOW = {"vector_stores": {"ingestion": "10s", "files": [{"match": {"filename": "slow-*"}, "delay": "1h"}]}}


def store(http: httpx.Client) -> str:
    made: str = http.post("/v1/vector_stores", json={"name": "batched"}).json()["id"]
    return made


@pytest.mark.mockfiles(scenario=SLOW)
def test_a_batch_follows_its_files(mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client) -> None:
    vs = store(http)
    ids = [upload(client, "cats.txt", CATS), upload(client, "dogs.md", DOGS), upload(client, "empty.txt", b" ")]
    made = typed(http.post(f"/v1/vector_stores/{vs}/file_batches", json={"file_ids": ids}).json())
    assert made["id"].startswith("vsfb_") and made["vector_store_id"] == vs and made["status"] == "in_progress"
    assert made["file_counts"] == {"in_progress": 3, "completed": 0, "failed": 0, "cancelled": 0, "total": 3}
    polled = http.get(f"/v1/vector_stores/{vs}/file_batches/{made['id']}")
    assert polled.headers["openai-poll-after-ms"] == "1000"  # 10 s left: the most it says
    mockfiles.advance(10)
    done = typed(http.get(f"/v1/vector_stores/{vs}/file_batches/{made['id']}").json())
    assert done["status"] == "completed"  # one of three failed: the batch still completed
    assert done["file_counts"] == {"in_progress": 0, "completed": 2, "failed": 1, "cancelled": 0, "total": 3}
    listed = [f.id for f in client.vector_stores.file_batches.list_files(made["id"], vector_store_id=vs, order="asc")]
    assert listed == ids
    failed = client.vector_stores.file_batches.list_files(made["id"], vector_store_id=vs, filter="failed")
    assert [f.id for f in failed] == [ids[2]] and failed.data[0].last_error is not None


@pytest.mark.mockfiles(scenario={"vector_stores": {"files": [{"fail": "server_error"}]}})
def test_a_batch_whose_every_file_failed_failed(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    vs = client.vector_stores.create(name="doomed")
    ids = [upload(client, "a.txt", CATS), upload(client, "b.txt", DOGS)]
    batch = client.vector_stores.file_batches.create(vs.id, file_ids=ids)
    mockfiles.advance(1)
    done = client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=vs.id)
    assert done.status == "failed" and done.file_counts.failed == 2


def test_files_with_their_own_attributes_and_chunking(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    vs = client.vector_stores.create(name="own")
    cats, dogs = upload(client, "cats.txt", CATS), upload(client, "dogs.md", DOGS)
    strategy = {"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50}}
    batch = client.vector_stores.file_batches.create(
        vs.id,
        files=[{"file_id": cats, "attributes": {"kind": "cat"}, "chunking_strategy": strategy}, {"file_id": dogs}],  # type: ignore[list-item]
    )
    assert batch.file_counts.total == 2
    shown = {f.id: f for f in client.vector_stores.files.list(vs.id)}
    assert shown[cats].attributes == {"kind": "cat"} and shown[dogs].attributes == {}
    assert shown[cats].chunking_strategy is not None and shown[cats].chunking_strategy.model_dump() == strategy
    shared = client.vector_stores.file_batches.create(
        vs.id, file_ids=[upload(client, "birds.txt", BIRDS)], attributes={"kind": "bird"}
    )
    listed = client.vector_stores.file_batches.list_files(shared.id, vector_store_id=vs.id)
    assert [f.attributes for f in listed] == [{"kind": "bird"}]


@pytest.mark.mockfiles(scenario=SLOW)
def test_cancel_stops_the_files_still_in_progress(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs = store(http)
    quick, slow = upload(client, "quick.txt", CATS), upload(client, "slow-1.txt", DOGS)
    batch = client.vector_stores.file_batches.create(vs, file_ids=[quick, slow])
    mockfiles.advance(10)
    cancelled = client.vector_stores.file_batches.cancel(batch.id, vector_store_id=vs)
    typed(cancelled.model_dump())
    assert cancelled.status == "cancelled"
    assert cancelled.file_counts.model_dump() == {
        "in_progress": 0,
        "completed": 1,
        "failed": 0,
        "cancelled": 1,
        "total": 2,
    }
    assert client.vector_stores.files.retrieve(slow, vector_store_id=vs).status == "cancelled"
    assert (
        client.vector_stores.file_batches.cancel(batch.id, vector_store_id=vs).status == "cancelled"
    )  # again: as it is
    mockfiles.advance(3600)
    assert client.vector_stores.files.retrieve(slow, vector_store_id=vs).status == "cancelled"  # it stays so
    assert client.vector_stores.retrieve(vs).file_counts.cancelled == 1
    again = client.vector_stores.file_batches.create(vs, file_ids=[slow])  # a cancelled file is ingested again
    assert client.vector_stores.files.retrieve(slow, vector_store_id=vs).status == "in_progress"
    done = client.vector_stores.file_batches.create(vs, file_ids=[quick])
    mockfiles.advance(3600)
    assert client.vector_stores.file_batches.retrieve(again.id, vector_store_id=vs).status == "completed"
    message = "Cannot cancel vector store file batch with status 'completed'."
    refused(http.post(f"/v1/vector_stores/{vs}/file_batches/{done.id}/cancel"), 400, message, "invalid_request", None)


def test_batch_refusals(client: openai.OpenAI, http: httpx.Client) -> None:
    vs = store(http)
    ok = upload(client, "cats.txt", CATS)
    image = upload(client, "scan.jpg", b"\xff\xd8\xff")

    def post(body: object) -> httpx.Response:
        return http.post(f"/v1/vector_stores/{vs}/file_batches", json=body)

    refused(
        post({}),
        400,
        "Missing required parameter: give 'file_ids' or 'files'.",
        "missing_required_parameter",
        "file_ids",
    )
    refused(
        post({"file_ids": [ok], "files": [{"file_id": ok}]}),
        400,
        "Invalid request: 'file_ids' and 'files' cannot be given together. Give one or the other.",
        "invalid_request",
        "files",
    )
    refused(
        post({"file_ids": []}),
        400,
        "Invalid 'file_ids': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        "empty_array",
        "file_ids",
    )
    refused(
        post({"files": []}),
        400,
        "Invalid 'files': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        "empty_array",
        "files",
    )
    refused(
        post({"file_ids": [ok] * 2001}),
        400,
        "Invalid 'file_ids': array too long. Expected an array with maximum length 2000, but got an array with length 2001 instead.",
        "array_above_max_length",
        "file_ids",
    )
    refused(
        post({"files": [{"file_id": ok}] * 2001}),
        400,
        "Invalid 'files': array too long. Expected an array with maximum length 2000, but got an array with length 2001 instead.",
        "array_above_max_length",
        "files",
    )
    refused(
        post({"files": [{"file_id": ok}, {}]}),
        400,
        "Missing required parameter: 'files[1].file_id'.",
        "missing_required_parameter",
        "files[1].file_id",
    )
    refused(
        post({"files": [{"file_id": ok, "attributes": {"k": {}}}]}),
        400,
        "Invalid type for 'files[0].attributes.k': expected a string, a number or a boolean, but got an object instead.",
        "invalid_type",
        "files[0].attributes.k",
    )
    refused(
        post({"files": ["x"]}),
        400,
        "Invalid type for 'files[0]': expected an object, but got a string instead.",
        "invalid_type",
        "files[0]",
    )
    refused(post({"file_ids": [ok, image]}), 400, UNSUPPORTED.format(".jpg"), "unsupported_file", "file_ids")
    refused(
        post({"files": [{"file_id": ok}, {"file_id": "file-nope"}]}),
        404,
        "No such File object: file-nope",
        None,
        "files[1].file_id",
    )
    assert http.get(f"/v1/vector_stores/{vs}").json()["file_counts"]["total"] == 0  # nothing joined
    refused(
        http.get(f"/v1/vector_stores/{vs}/file_batches/vsfb_nope"),
        404,
        f"No vector store file batch found with id 'vsfb_nope' in vector store '{vs}'.",
        None,
        None,
    )
    refused(
        http.post(f"/v1/vector_stores/{vs}/file_batches/vsfb_nope/cancel"),
        404,
        f"No vector store file batch found with id 'vsfb_nope' in vector store '{vs}'.",
        None,
        None,
    )


def test_a_file_named_twice_joins_once(client: openai.OpenAI) -> None:
    vs = client.vector_stores.create(name="twice")
    cats = upload(client, "cats.txt", CATS)
    batch = client.vector_stores.file_batches.create(vs.id, file_ids=[cats, cats])
    assert batch.file_counts.total == 1 and client.vector_stores.retrieve(vs.id).file_counts.total == 1


async def test_the_async_client_makes_and_lists_a_batch(
    mockfiles: MockFilesServer, aclient: openai.AsyncOpenAI
) -> None:
    vs = await aclient.vector_stores.create(name="async batch")
    source = await aclient.files.create(file=("cats.txt", CATS), purpose="assistants")
    batch = await aclient.vector_stores.file_batches.create(vs.id, file_ids=[source.id])
    mockfiles.advance(1)
    assert (await aclient.vector_stores.file_batches.retrieve(batch.id, vector_store_id=vs.id)).status == "completed"
    assert [f.id async for f in aclient.vector_stores.file_batches.list_files(batch.id, vector_store_id=vs.id)] == [
        source.id
    ]
