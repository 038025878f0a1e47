"""Vector stores under chaos: scenario fault rules and retry tests match their endpoints by name, the
SDK retries what it should and an attach retried after a lost answer does no harm; the per-store
write limit (OpenAI's 300 a minute, off unless a scenario sets it) answers 429 with its wait; the
per-key rate limit counts every vector store request in the query class."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.vectoring import CATS, DOGS, upload


@pytest.mark.mockfiles(
    rate_limits=False,
    scenario={"faults": [{"match": {"endpoint": "vector_stores.search"}, "times": 2, "status": 503}]},
)
def test_a_fault_rule_on_search_and_the_sdk_retries_it(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(max_retries=2) as client:
        vs = client.vector_stores.create(name="flaky", file_ids=[upload(client, "cats.txt", CATS)])
        mockfiles.advance(1)
        assert [r.filename for r in client.vector_stores.search(vs.id, query="cat")] == ["cats.txt"]
    searches = mockfiles.requests("vector_stores.search")
    assert [e["status"] for e in searches] == [503, 503, 200]
    assert [e["rule"] for e in searches] == ["faults[0]", "faults[0]", None]
    assert {e["path"] for e in searches} == {f"/v1/vector_stores/{vs.id}/search"} and searches[2][
        "vector_store_id"
    ] == vs.id


@pytest.mark.mockfiles(rate_limits=False)
def test_retry_tests_script_vector_store_endpoints(mockfiles: MockFilesServer) -> None:
    test = mockfiles.retry_test(
        {
            "vector_stores.files.create": ["reset-after-commit"],
            "vector_stores.file_batches.retrieve": ["return-429-retry-after-300ms"],
            "vector_stores.files.list": ["return-malformed-json"],
        }
    )
    with mockfiles.client(max_retries=3, default_headers=test.headers) as client:
        vs = client.vector_stores.create(name="scripted")
        cats = upload(client, "cats.txt", CATS)
        attached = client.vector_stores.files.create(vector_store_id=vs.id, file_id=cats)  # answer lost, retried
        assert attached.id == cats
        assert client.vector_stores.retrieve(vs.id).file_counts.total == 1  # attached once
        batch = client.vector_stores.file_batches.create(vs.id, file_ids=[upload(client, "dogs.md", DOGS)])
        assert client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=vs.id).id == batch.id
        with pytest.raises(json.JSONDecodeError):  # a 200 that does not parse: the SDK does not retry it
            client.vector_stores.files.list(vs.id)
    assert test.completed
    attaches = mockfiles.requests("vector_stores.files.create")
    assert [e["action"] for e in attaches] == ["reset_after_commit", None] and attaches[1]["retry_count"] == 1


@pytest.mark.mockfiles(rate_limits=False, scenario={"vector_stores": {"write_limit": 2, "write_window": "1m"}})
def test_the_per_store_write_limit(mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client) -> None:
    vs, other = client.vector_stores.create(name="busy"), client.vector_stores.create(name="quiet")
    ids = [upload(client, f"f{i}.txt", CATS) for i in range(3)]
    client.vector_stores.files.create(vector_store_id=vs.id, file_id=ids[0])
    client.vector_stores.file_batches.create(vs.id, file_ids=[ids[1]])  # files and file batches share it
    refused = http.post(f"/v1/vector_stores/{vs.id}/files", json={"file_id": ids[2]})
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("requests", "rate_limit_exceeded", None)
    assert error["message"].startswith(
        f"Rate limit reached for writes to vector store {vs.id} (vector_stores.files and vector_stores.file_batches) "
        "on requests per minute: Limit 2, Used 2, Requested 1. Please try again in "
    )
    assert 1 <= int(refused.headers["retry-after"]) <= 60 and int(refused.headers["retry-after-ms"]) <= 60_000
    assert client.vector_stores.files.create(vector_store_id=other.id, file_id=ids[2]).status == "in_progress"
    client.vector_stores.search(vs.id, query="cat")  # reads are not writes
    mockfiles.advance(60)
    assert client.vector_stores.files.create(vector_store_id=vs.id, file_id=ids[2]).status == "in_progress"


@pytest.mark.mockfiles(scenario={"rate_limits": {"query": 2}})
def test_vector_store_requests_are_in_the_query_rate_class(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    answers = [http.get("/v1/vector_stores") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["x-ratelimit-limit-requests"] == "2"
