"""Deleting a File removes it from every vector store of its account (counts, usage, search), at once
or after a scenario's lag; an expired File goes the same way; detaching touches one store only; an
idle store expires on the clock (``expires_after``) and can then be read and deleted, not used."""

from __future__ import annotations

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.vectoring import CATS, DOGS, refused, upload

pytestmark = pytest.mark.mockfiles(rate_limits=False)


def found(client: openai.OpenAI, vs: str, query: str) -> list[str]:
    return [r.file_id for r in client.vector_stores.search(vs, query=query)]


def test_a_deleted_file_leaves_every_store(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    cats, dogs = upload(client, "cats.txt", CATS), upload(client, "dogs.md", DOGS)
    stores = [client.vector_stores.create(name=f"s{i}", file_ids=[cats, dogs]).id for i in range(3)]
    mockfiles.advance(1)
    for vs in stores:
        assert found(client, vs, "cat purrs") == [cats]  # indexed: the search has seen it
    with mockfiles.client(api_key="sk-other", max_retries=0) as other:
        theirs = other.vector_stores.create(name="theirs", file_ids=[upload(other, "cats.txt", CATS)])
    assert client.files.delete(cats).deleted
    for vs in stores:
        shown = client.vector_stores.retrieve(vs)
        assert shown.file_counts.total == 1 == shown.file_counts.completed
        assert shown.usage_bytes == len(DOGS)
        assert [f.id for f in client.vector_stores.files.list(vs)] == [dogs]
        assert found(client, vs, "cat purrs") == []
        with pytest.raises(openai.NotFoundError):
            client.vector_stores.files.retrieve(cats, vector_store_id=vs)
        assert found(client, vs, "dogs bark") == [dogs]
    with mockfiles.client(api_key="sk-other", max_retries=0) as other:
        assert other.vector_stores.retrieve(theirs.id).file_counts.total == 1  # another account's: untouched


@pytest.mark.mockfiles(scenario={"vector_stores": {"cascade_lag": "30s"}})
def test_a_lagging_cascade_keeps_the_deleted_file_listed_for_a_while(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    cats = upload(client, "cats.txt", CATS)
    vs = client.vector_stores.create(name="lagging", file_ids=[cats])
    mockfiles.advance(1)
    client.files.delete(cats)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(cats)  # the File is gone at once...
    assert [f.id for f in client.vector_stores.files.list(vs.id)] == [cats]  # ...its store still lists it
    assert found(client, vs.id, "cat purrs") == [cats]
    assert client.vector_stores.retrieve(vs.id).file_counts.total == 1
    shown = http.get("/_mockfiles/vector-stores").json()["data"][0]["files"][0]
    assert shown["id"] == cats and shown["leaves_at"] is not None
    mockfiles.advance(29)
    assert client.vector_stores.retrieve(vs.id).file_counts.total == 1
    mockfiles.advance(1)
    assert client.vector_stores.retrieve(vs.id).file_counts.total == 0
    assert client.vector_stores.files.list(vs.id).data == [] and found(client, vs.id, "cat purrs") == []


def test_an_expired_file_leaves_its_stores(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    made = http.post(
        "/v1/files",
        files={"file": ("cats.txt", CATS)},
        data={"purpose": "assistants", "expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"},
    ).json()
    vs = client.vector_stores.create(name="expiring", file_ids=[made["id"]])
    mockfiles.advance(3599)
    assert client.vector_stores.retrieve(vs.id).file_counts.completed == 1
    mockfiles.advance(1)
    assert client.vector_stores.retrieve(vs.id).file_counts.total == 0


def test_detaching_touches_one_store_only(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    cats = upload(client, "cats.txt", CATS)
    first, second = (client.vector_stores.create(name=n, file_ids=[cats]).id for n in ("a", "b"))
    mockfiles.advance(1)
    client.vector_stores.files.delete(cats, vector_store_id=first)
    assert client.vector_stores.retrieve(first).file_counts.total == 0
    assert client.vector_stores.retrieve(second).file_counts.total == 1
    assert found(client, second, "cat purrs") == [cats] and found(client, first, "cat purrs") == []


def test_a_deleted_store_takes_its_index_with_it(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    cats = upload(client, "cats.txt", CATS)
    doomed = client.vector_stores.create(name="doomed", file_ids=[cats])
    mockfiles.advance(1)
    assert found(client, doomed.id, "cat") == [cats]
    client.vector_stores.delete(doomed.id)
    kept = client.vector_stores.create(name="kept", file_ids=[cats])
    mockfiles.advance(1)
    assert found(client, kept.id, "cat") == [cats]


def test_an_idle_store_expires(mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client) -> None:
    cats = upload(client, "cats.txt", CATS)
    vs = client.vector_stores.create(
        name="idle", file_ids=[cats], expires_after={"anchor": "last_active_at", "days": 1}
    )
    assert vs.expires_at == vs.last_active_at + 86400  # type: ignore[operator]
    mockfiles.advance(20 * 3600)
    assert found(client, vs.id, "cat") == [cats]  # a search is activity: a new day starts
    searched = client.vector_stores.retrieve(vs.id)
    assert searched.last_active_at == vs.created_at + 20 * 3600 and searched.status == "completed"
    mockfiles.advance(86400 - 1)
    assert client.vector_stores.retrieve(vs.id).status == "completed"  # reading is not activity
    mockfiles.advance(1)
    expired = client.vector_stores.retrieve(vs.id)
    assert expired.status == "expired" and expired.file_counts.completed == 1
    message = f"Vector store '{vs.id}' has expired."
    refused(
        http.post(f"/v1/vector_stores/{vs.id}/search", json={"query": "cat"}),
        400,
        message,
        "vector_store_expired",
        None,
    )
    refused(
        http.post(f"/v1/vector_stores/{vs.id}/files", json={"file_id": cats}),
        400,
        message,
        "vector_store_expired",
        None,
    )
    refused(
        http.post(f"/v1/vector_stores/{vs.id}/file_batches", json={"file_ids": [cats]}),
        400,
        message,
        "vector_store_expired",
        None,
    )
    refused(
        http.post(f"/v1/vector_stores/{vs.id}", json={"name": "revived?"}), 400, message, "vector_store_expired", None
    )
    refused(
        http.post(f"/v1/vector_stores/{vs.id}/files/{cats}", json={"attributes": {}}),
        400,
        message,
        "vector_store_expired",
        None,
    )
    assert [s.status for s in client.vector_stores.list()] == ["expired"]
    assert client.vector_stores.delete(vs.id).deleted
