"""Search over a vector store with the openai SDK (sync and async) and httpx: BM25 ranking that finds
the file a query is about, deterministically; scores 0-1 and their threshold; attribute filters;
several queries; rewrite_query; files not searchable until completed; every refusal; and a RAG
example (upload, attach, wait, search, answer)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.vectoring import BIRDS, CATS, DOGS, hit, refused, upload

pytestmark = pytest.mark.mockfiles(rate_limits=False)


def pets(mockfiles: MockFilesServer, client: openai.OpenAI) -> tuple[str, dict[str, str]]:
    """A store of three completed files with attributes: its id, and the file ids by animal."""
    ids = {"cats": upload(client, "cats.txt", CATS), "dogs": upload(client, "dogs.md", DOGS)}
    ids["birds"] = upload(client, "birds.txt", BIRDS)
    vs = client.vector_stores.create(name="pets")
    years = {"cats": 2022, "dogs": 2023, "birds": 2024}
    for animal, file_id in ids.items():
        attributes = {"animal": animal, "year": years[animal], "pet": animal != "birds"}
        client.vector_stores.files.create(vector_store_id=vs.id, file_id=file_id, attributes=attributes)
    mockfiles.advance(1)
    return vs.id, ids


def search(http: httpx.Client, vs: str, **body: Any) -> dict[str, Any]:
    response = http.post(f"/v1/vector_stores/{vs}/search", json=body)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_the_query_finds_the_file_it_is_about(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs, ids = pets(mockfiles, client)
    page = search(http, vs, query="Which animal barks at strangers?")
    assert set(page) == {"object", "search_query", "data", "has_more", "next_page"}
    assert (page["object"], page["has_more"], page["next_page"]) == ("vector_store.search_results.page", False, None)
    assert page["search_query"] == ["Which animal barks at strangers?"]
    first = hit(page["data"][0])
    assert first.file_id == ids["dogs"] and first.filename == "dogs.md"
    assert first.attributes == {"animal": "dogs", "year": 2023, "pet": True}
    assert first.content[0].type == "text" and first.content[0].text == DOGS.decode()
    assert 0 < first.score < 1
    assert [r.file_id for r in client.vector_stores.search(vs, query="owls hunt at night")] == [ids["birds"]]
    scores = [r["score"] for r in search(http, vs, query="cat dog bird friend day")["data"]]
    assert scores == sorted(scores, reverse=True)
    assert search(http, vs, query="purrs")["data"][0]["file_id"] == ids["cats"]
    assert search(http, vs, query="zebra")["data"] == []


def test_the_ranking_is_bm25_and_deterministic(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    texts = {
        "once.txt": b"the report mentions revenue once among many other words about weather and travel",
        "often.txt": b"revenue revenue revenue: the revenue report is all about revenue",
        "never.txt": b"nothing relevant here at all",
    }
    ids = {name: upload(client, name, text) for name, text in texts.items()}
    vs = client.vector_stores.create(name="bm25", file_ids=list(ids.values()))
    mockfiles.advance(1)
    ranked = search(http, vs.id, query="revenue")["data"]
    assert [r["file_id"] for r in ranked] == [ids["often.txt"], ids["once.txt"]]  # tf saturates, never reverses
    again = search(http, vs.id, query="revenue")["data"]
    assert again == ranked  # the same scores, to the last bit
    # idf: a word in one chunk of three weighs more than one in two: ln(1 + 2.5/1.5) against ln(1 + 1.5/2.5)
    both = search(http, vs.id, query="report weather")["data"]
    assert both[0]["file_id"] == ids["once.txt"]


def test_a_score_threshold_and_max_num_results(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs, ids = pets(mockfiles, client)
    everything = search(http, vs, query="a dog is a cat friend birds fly", max_num_results=50)["data"]
    assert len(everything) == 3
    assert len(search(http, vs, query="a dog is a cat friend birds fly", max_num_results=1)["data"]) == 1
    cut = everything[1]["score"]
    kept = search(http, vs, query="a dog is a cat friend birds fly", ranking_options={"score_threshold": cut})["data"]
    assert [r["file_id"] for r in kept] == [r["file_id"] for r in everything[:2]]
    ranked = search(http, vs, query="dog", ranking_options={"ranker": "none"})["data"]
    assert [r["file_id"] for r in ranked] == [ids["dogs"]]


@pytest.mark.parametrize(
    ("filters", "animals"),
    [
        ({"type": "eq", "key": "animal", "value": "cats"}, {"cats"}),
        ({"type": "ne", "key": "animal", "value": "cats"}, {"dogs", "birds"}),
        ({"type": "gte", "key": "year", "value": 2023}, {"dogs", "birds"}),
        ({"type": "lt", "key": "year", "value": 2023.5}, {"cats", "dogs"}),
        ({"type": "in", "key": "animal", "value": ["cats", "birds"]}, {"cats", "birds"}),
        ({"type": "nin", "key": "animal", "value": ["cats", "birds"]}, {"dogs"}),
        ({"type": "eq", "key": "pet", "value": False}, {"birds"}),
        ({"type": "eq", "key": "missing", "value": "x"}, set()),
        ({"type": "ne", "key": "missing", "value": "x"}, {"cats", "dogs", "birds"}),
        ({"type": "gt", "key": "animal", "value": 3}, set()),  # a string is not compared with a number
        (
            {
                "type": "and",
                "filters": [{"type": "eq", "key": "pet", "value": True}, {"type": "gt", "key": "year", "value": 2022}],
            },
            {"dogs"},
        ),
        (
            {
                "type": "or",
                "filters": [
                    {"type": "eq", "key": "animal", "value": "cats"},
                    {"type": "and", "filters": [{"type": "eq", "key": "pet", "value": False}]},
                ],
            },
            {"cats", "birds"},
        ),
    ],
)
def test_filters_on_attributes(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client, filters: dict[str, Any], animals: set[str]
) -> None:
    vs, ids = pets(mockfiles, client)
    found = search(http, vs, query="cat dog bird animals friend fly day", filters=filters)["data"]
    assert {r["attributes"]["animal"] for r in found} == animals


def test_several_queries_and_rewrite_query(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs, ids = pets(mockfiles, client)
    page = search(http, vs, query=["Where do owls hunt?", "what do cats do"])
    assert page["search_query"] == ["Where do owls hunt?", "what do cats do"]
    assert {r["file_id"] for r in page["data"]} == {ids["birds"], ids["cats"]}
    rewritten = search(http, vs, query="What is the thing that the dogs do?", rewrite_query=True)
    assert rewritten["search_query"] == ["thing dogs"]
    assert rewritten["data"][0]["file_id"] == ids["dogs"]


@pytest.mark.mockfiles(scenario={"vector_stores": {"files": [{"match": {"filename": "slow*"}, "delay": "1h"}]}})
def test_files_in_progress_neither_show_nor_weigh(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs = client.vector_stores.create(
        name="weights", file_ids=[upload(client, "cats.txt", CATS), upload(client, "dogs.md", DOGS)]
    )
    mockfiles.advance(1)
    before = search(http, vs.id, query="cat purrs")["data"]
    slow = upload(client, "slow.txt", b"cat cat cat purrs purrs cat " * 50)
    client.vector_stores.files.create(vector_store_id=vs.id, file_id=slow)  # indexed at once, in progress for 1 h
    assert search(http, vs.id, query="cat purrs")["data"] == before  # the same scores, to the last bit
    mockfiles.advance(3600)
    after = search(http, vs.id, query="cat purrs")["data"]
    assert after[0]["file_id"] == slow and len(after) == 2


@pytest.mark.mockfiles(scenario={"vector_stores": {"ingestion": "1m"}})
def test_a_file_is_found_only_once_completed(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs = client.vector_stores.create(name="pending", file_ids=[upload(client, "cats.txt", CATS)])
    assert search(http, vs.id, query="cat")["data"] == []
    mockfiles.advance(60)
    assert len(search(http, vs.id, query="cat")["data"]) == 1


@pytest.mark.parametrize(
    ("body", "param", "code", "message"),
    [
        ({}, "query", "missing_required_parameter", "Missing required parameter: 'query'."),
        (
            {"query": ""},
            "query",
            "empty_string",
            "Invalid 'query': empty string. Expected a string with minimum length 1, but got an empty string instead.",
        ),
        (
            {"query": []},
            "query",
            "empty_array",
            "Invalid 'query': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        ),
        (
            {"query": ["a", 2]},
            "query[1]",
            "invalid_type",
            "Invalid type for 'query[1]': expected a string, but got an integer instead.",
        ),
        (
            {"query": "a", "max_num_results": 0},
            "max_num_results",
            "integer_below_min_value",
            "Invalid 'max_num_results': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        ),
        (
            {"query": "a", "max_num_results": 51},
            "max_num_results",
            "integer_above_max_value",
            "Invalid 'max_num_results': integer above maximum value. Expected a value <= 50, but got 51 instead.",
        ),
        (
            {"query": "a", "ranking_options": {"ranker": "best"}},
            "ranking_options.ranker",
            "invalid_value",
            "Invalid value: 'best'. Supported values are: 'none', 'auto', and 'default-2024-11-15'.",
        ),
        (
            {"query": "a", "ranking_options": {"score_threshold": 1.5}},
            "ranking_options.score_threshold",
            "decimal_above_max_value",
            "Invalid 'ranking_options.score_threshold': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.",
        ),
        (
            {"query": "a", "ranking_options": {"score_threshold": -0.1}},
            "ranking_options.score_threshold",
            "decimal_below_min_value",
            "Invalid 'ranking_options.score_threshold': decimal below minimum value. Expected a value >= 0, but got -0.1 instead.",
        ),
        (
            {"query": "a", "rewrite_query": "yes"},
            "rewrite_query",
            "invalid_type",
            "Invalid type for 'rewrite_query': expected a boolean, but got a string instead.",
        ),
        (
            {"query": "a", "filters": {"type": "like", "key": "k", "value": "v"}},
            "filters.type",
            "invalid_value",
            "Invalid value: 'like'. Supported values are: 'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'and', and 'or'.",
        ),
        (
            {"query": "a", "filters": {"type": "eq", "value": "v"}},
            "filters.key",
            "missing_required_parameter",
            "Missing required parameter: 'filters.key'.",
        ),
        (
            {"query": "a", "filters": {"type": "eq", "key": "k"}},
            "filters.value",
            "missing_required_parameter",
            "Missing required parameter: 'filters.value'.",
        ),
        (
            {"query": "a", "filters": {"type": "in", "key": "k", "value": "v"}},
            "filters.value",
            "invalid_type",
            "Invalid type for 'filters.value': expected an array, but got a string instead.",
        ),
        (
            {"query": "a", "filters": {"type": "and", "filters": [{"type": "eq", "key": "k", "value": {}}]}},
            "filters.filters[0].value",
            "invalid_type",
            "Invalid type for 'filters.filters[0].value': expected a string, a number or a boolean, but got an object instead.",
        ),
        (
            {"query": "a", "filters": {"type": "or", "filters": {}}},
            "filters.filters",
            "invalid_type",
            "Invalid type for 'filters.filters': expected an array, but got an object instead.",
        ),
    ],
)
def test_search_refusals(
    client: openai.OpenAI, http: httpx.Client, body: dict[str, Any], param: str, code: str, message: str
) -> None:
    vs = client.vector_stores.create(name="refusals")
    refused(http.post(f"/v1/vector_stores/{vs.id}/search", json=body), 400, message, code, param)


def test_filters_nested_too_deep(client: openai.OpenAI, http: httpx.Client) -> None:
    vs = client.vector_stores.create(name="deep")
    nested: dict[str, Any] = {"type": "eq", "key": "k", "value": 1}
    for _ in range(16):
        nested = {"type": "and", "filters": [nested]}
    refused(
        http.post(f"/v1/vector_stores/{vs.id}/search", json={"query": "a", "filters": nested}),
        400,
        "Invalid 'filters': nested more than 16 levels deep.",
        "invalid_value",
        "filters",
    )


def rag_answer(client: openai.OpenAI, vs: str, question: str) -> tuple[str, list[str]]:
    """Retrieval-augmented answering as an application does it: search, then answer from the best
    chunks, citing their files (here the answer quotes the best chunk, as a model would use it)."""
    results = client.vector_stores.search(vs, query=question, max_num_results=2)
    context = [r for r in results if r.score > 0.05]
    if not context:
        return "I don't know.", []
    return context[0].content[0].text, [r.filename for r in context]


def test_a_rag_example(client: openai.OpenAI) -> None:
    vs = client.vector_stores.create(name="handbook")
    docs = {
        "leave.md": b"# Leave policy\n\nEmployees get 25 days of paid leave per year. Unused days carry over until March.",
        "expenses.md": b"# Expenses\n\nTravel expenses are refunded within 30 days when receipts are attached.",
    }
    batch = client.vector_stores.file_batches.upload_and_poll(vs.id, files=list(docs.items()))
    assert batch.file_counts.completed == 2
    answer, cited = rag_answer(client, vs.id, "How many days of paid leave do employees get?")
    assert "25 days of paid leave" in answer and cited[0] == "leave.md"
    answer, cited = rag_answer(client, vs.id, "When are travel expenses refunded?")
    assert "within 30 days" in answer and cited[0] == "expenses.md"
    assert rag_answer(client, vs.id, "quantum chromodynamics") == ("I don't know.", [])


async def test_the_async_client_searches(mockfiles: MockFilesServer, aclient: openai.AsyncOpenAI) -> None:
    vs = await aclient.vector_stores.create(name="async search")
    await aclient.vector_stores.files.upload_and_poll(vector_store_id=vs.id, file=("birds.txt", BIRDS))
    found = [r async for r in aclient.vector_stores.search(vs.id, query="parrots learn words")]
    assert len(found) == 1 and found[0].filename == "birds.txt" and "Parrots" in found[0].content[0].text


@pytest.mark.mockfiles(scenario={"vector_stores": {"ingestion": "1h"}})
def test_files_are_indexed_as_soon_as_attached(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    ids = [upload(client, f"doc{i}.txt", b"alpha beta gamma delta " * 500 + str(i).encode()) for i in range(8)]
    vs = client.vector_stores.create(name="eager", file_ids=ids)
    service = mockfiles.emulator.vector_stores
    seqs = [f.seq for f in service.find(vs.id).files.values()]  # type: ignore[union-attr]
    deadline = time.monotonic() + 30
    while not all(service.index.indexed(seq) for seq in seqs):  # in a worker thread, ahead of any search
        assert time.monotonic() < deadline, "never indexed"
        time.sleep(0.01)
    assert client.vector_stores.search(vs.id, query="alpha").data == []  # indexed, but not completed
    mockfiles.advance(3600)
    found = client.vector_stores.search(vs.id, query="alpha", max_num_results=50).data
    assert {r.file_id for r in found} == set(ids)


def test_a_reset_while_files_are_indexed(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    ids = [upload(client, f"doc{i}.txt", b"alpha beta gamma delta " * 5000) for i in range(20)]
    client.vector_stores.create(name="interrupted", file_ids=ids)
    old = mockfiles.emulator.vector_stores.index
    mockfiles.reset()  # the indexing stops at its next batch, and the index is closed
    assert old.closed
    fresh = client.vector_stores.create(name="after", file_ids=[upload(client, "cats.txt", CATS)])
    mockfiles.advance(1)
    assert [r.filename for r in client.vector_stores.search(fresh.id, query="cat")] == ["cats.txt"]
