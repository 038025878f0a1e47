"""The vector stores themselves over HTTP with the openai SDK (sync and async) and httpx: create,
retrieve, list and its cursors, modify, delete; the objects as the SDK types them, strictly; every
refusal with its status, code and message; accounts; DashScope's 404; the journal; the reset."""

from __future__ import annotations

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.vectoring import CATS, DOGS, refused, typed, upload

NO_STORE = "No vector store found with id '{}'."
pytestmark = pytest.mark.mockfiles(rate_limits=False)


def test_create_retrieve_and_the_object_the_sdk_types(client: openai.OpenAI, http: httpx.Client) -> None:
    made = client.vector_stores.create(name="Support FAQ", metadata={"team": "docs"})
    raw = http.get(f"/v1/vector_stores/{made.id}").json()
    typed(raw)
    assert raw["id"].startswith("vs_") and len(raw["id"]) == 35
    assert raw == {
        "id": made.id,
        "object": "vector_store",
        "created_at": made.created_at,
        "name": "Support FAQ",
        "usage_bytes": 0,
        "file_counts": {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0},
        "status": "completed",
        "expires_after": None,
        "expires_at": None,
        "last_active_at": made.created_at,
        "metadata": {"team": "docs"},
    }
    assert client.vector_stores.retrieve(made.id) == made


def test_a_store_made_with_files_is_in_progress_then_completed(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    ids = [upload(client, "cats.txt", CATS), upload(client, "dogs.md", DOGS)]
    made = client.vector_stores.create(name="pets", file_ids=ids)
    assert made.status == "in_progress" and made.file_counts.in_progress == 2 and made.usage_bytes == 0
    mockfiles.advance(1)
    done = client.vector_stores.retrieve(made.id)
    assert done.status == "completed" and done.file_counts.completed == 2 == done.file_counts.total
    assert done.usage_bytes == len(CATS) + len(DOGS)  # the parsed text's bytes
    assert [f.id for f in client.vector_stores.files.list(made.id, order="asc")] == ids


def test_list_pages_with_after_before_limit_and_order(client: openai.OpenAI, http: httpx.Client) -> None:
    made = [client.vector_stores.create(name=f"s{i}").id for i in range(5)]
    newest = made[::-1]
    assert [s.id for s in client.vector_stores.list()] == newest
    assert [s.id for s in client.vector_stores.list(limit=2)] == newest  # the SDK follows has_more/after
    first = http.get("/v1/vector_stores?limit=2").json()
    assert (first["first_id"], first["last_id"], first["has_more"]) == (newest[0], newest[1], True)
    assert [s["id"] for s in http.get(f"/v1/vector_stores?limit=2&after={newest[1]}").json()["data"]] == newest[2:4]
    before = http.get(f"/v1/vector_stores?limit=2&before={newest[3]}").json()
    assert [s["id"] for s in before["data"]] == newest[1:3] and before["has_more"]
    assert [s["id"] for s in http.get("/v1/vector_stores?order=asc").json()["data"]] == made
    empty = http.get(f"/v1/vector_stores?after={newest[-1]}").json()
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


@pytest.mark.parametrize(
    ("query", "param", "code", "message"),
    [
        (
            "limit=0",
            "limit",
            "integer_below_min_value",
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        ),
        (
            "limit=101",
            "limit",
            "integer_above_max_value",
            "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 instead.",
        ),
        ("order=up", "order", "invalid_value", "Invalid value: 'up'. Supported values are: 'asc' and 'desc'."),
        ("after=vs_nope", "after", None, "Invalid 'after': no vector store with id 'vs_nope'."),
    ],
)
def test_list_refusals(http: httpx.Client, query: str, param: str, code: str | None, message: str) -> None:
    refused(http.get(f"/v1/vector_stores?{query}"), 400, message, code, param)


def test_modify_renames_sets_metadata_and_an_expiration(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    made = client.vector_stores.create(name="old")
    mockfiles.advance(100)
    changed = client.vector_stores.update(
        made.id, name="new", metadata={"k": "v"}, expires_after={"anchor": "last_active_at", "days": 2}
    )
    assert changed.name == "new" and changed.metadata == {"k": "v"}
    assert changed.expires_after is not None and changed.expires_after.days == 2
    assert changed.last_active_at == made.created_at + 100 and changed.expires_at == changed.last_active_at + 2 * 86400
    kept = client.vector_stores.update(made.id, metadata={"other": "x"})
    assert kept.name == "new" and kept.metadata == {"other": "x"}
    cleared = client.vector_stores.update(made.id, expires_after=None)
    assert cleared.expires_after is None and cleared.expires_at is None


def test_delete_then_it_is_gone_and_its_files_stay(client: openai.OpenAI, http: httpx.Client) -> None:
    file_id = upload(client, "cats.txt", CATS)
    made = client.vector_stores.create(file_ids=[file_id])
    raw = http.delete(f"/v1/vector_stores/{made.id}").json()
    assert typed(raw) == {"id": made.id, "object": "vector_store.deleted", "deleted": True}
    refused(http.get(f"/v1/vector_stores/{made.id}"), 404, NO_STORE.format(made.id), None, None)
    refused(http.delete(f"/v1/vector_stores/{made.id}"), 404, NO_STORE.format(made.id), None, None)
    assert client.files.retrieve(file_id).status == "processed"


@pytest.mark.parametrize(
    ("body", "param", "code", "message"),
    [
        (
            {"name": 3},
            "name",
            "invalid_type",
            "Invalid type for 'name': expected a string, but got an integer instead.",
        ),
        (
            {"file_ids": "file-1"},
            "file_ids",
            "invalid_type",
            "Invalid type for 'file_ids': expected an array, but got a string instead.",
        ),
        (
            {"file_ids": [f"file-{i}" for i in range(501)]},
            "file_ids",
            "array_above_max_length",
            "Invalid 'file_ids': array too long. Expected an array with maximum length 500, but got an array with length 501 instead.",
        ),
        (
            {"file_ids": [""]},
            "file_ids[0]",
            "empty_string",
            "Invalid 'file_ids[0]': empty string. Expected a string with minimum length 1, but got an empty string instead.",
        ),
        (
            {"expires_after": {"anchor": "created_at", "days": 1}},
            "expires_after.anchor",
            "invalid_value",
            "Invalid value: 'created_at'. Supported values are: 'last_active_at'.",
        ),
        (
            {"expires_after": {"anchor": "last_active_at", "days": 0}},
            "expires_after.days",
            "integer_below_min_value",
            "Invalid 'expires_after.days': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        ),
        (
            {"expires_after": {"anchor": "last_active_at", "days": 366}},
            "expires_after.days",
            "integer_above_max_value",
            "Invalid 'expires_after.days': integer above maximum value. Expected a value <= 365, but got 366 instead.",
        ),
        (
            {"expires_after": {"anchor": "last_active_at"}},
            "expires_after.days",
            "missing_required_parameter",
            "Missing required parameter: 'expires_after.days'.",
        ),
        (
            {"metadata": {str(i): "v" for i in range(17)}},
            "metadata",
            "object_above_max_properties",
            "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
        ),
        (
            {"chunking_strategy": {"type": "fixed"}},
            "chunking_strategy.type",
            "invalid_value",
            "Invalid value: 'fixed'. Supported values are: 'auto' and 'static'.",
        ),
        (
            {"chunking_strategy": {"type": "static"}},
            "chunking_strategy.static",
            "missing_required_parameter",
            "Missing required parameter: 'chunking_strategy.static'.",
        ),
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0},
                }
            },
            "chunking_strategy.static.max_chunk_size_tokens",
            "integer_below_min_value",
            "Invalid 'chunking_strategy.static.max_chunk_size_tokens': integer below minimum value. Expected a value >= 100, but got 99 instead.",
        ),
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 4097, "chunk_overlap_tokens": 0},
                }
            },
            "chunking_strategy.static.max_chunk_size_tokens",
            "integer_above_max_value",
            "Invalid 'chunking_strategy.static.max_chunk_size_tokens': integer above maximum value. Expected a value <= 4096, but got 4097 instead.",
        ),
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 401},
                }
            },
            "chunking_strategy.static.chunk_overlap_tokens",
            "invalid_value",
            "Invalid 'chunking_strategy.static.chunk_overlap_tokens': must be at most half of 'max_chunk_size_tokens' (400), but got 401 instead.",
        ),
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": -1},
                }
            },
            "chunking_strategy.static.chunk_overlap_tokens",
            "integer_below_min_value",
            "Invalid 'chunking_strategy.static.chunk_overlap_tokens': integer below minimum value. Expected a value >= 0, but got -1 instead.",
        ),
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": "800", "chunk_overlap_tokens": 1},
                }
            },
            "chunking_strategy.static.max_chunk_size_tokens",
            "invalid_type",
            "Invalid type for 'chunking_strategy.static.max_chunk_size_tokens': expected an integer, but got a string instead.",
        ),
    ],
)
def test_create_refusals(http: httpx.Client, body: dict[str, object], param: str, code: str, message: str) -> None:
    refused(http.post("/v1/vector_stores", json=body), 400, message, code, param)
    assert http.get("/v1/vector_stores").json()["data"] == []  # nothing was made


def test_bodies_that_are_not_objects(http: httpx.Client) -> None:
    refused(http.post("/v1/vector_stores", content=b"[1]"), 400, "The request body must be a JSON object.", None, None)
    refused(http.post("/v1/vector_stores", content=b"{"), 400, "The request body must be a JSON object.", None, None)
    assert http.post("/v1/vector_stores").json()["name"] == ""  # no body: every field defaults


def test_ids_of_the_wrong_shape_and_unknown_ones(http: httpx.Client) -> None:
    message = "Invalid 'vector_store_id': 'file-abc'. Expected an ID that begins with 'vs_'."
    refused(http.get("/v1/vector_stores/file-abc"), 400, message, "invalid_value", "vector_store_id")
    refused(http.get("/v1/vector_stores/vs_unknown"), 404, NO_STORE.format("vs_unknown"), None, None)
    made = http.post("/v1/vector_stores", json={}).json()["id"]
    message = "Invalid 'batch_id': 'vs_x'. Expected an ID that begins with 'vsfb_'."
    refused(http.get(f"/v1/vector_stores/{made}/file_batches/vs_x"), 400, message, "invalid_value", "batch_id")


def test_accounts_are_isolated(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    mine = client.vector_stores.create(name="mine")
    with mockfiles.client(api_key="sk-other", max_retries=0) as other:
        with pytest.raises(openai.NotFoundError) as info:
            other.vector_stores.retrieve(mine.id)
        assert info.value.body == {  # type: ignore[comparison-overlap]
            "message": NO_STORE.format(mine.id),
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
        with pytest.raises(openai.NotFoundError):
            other.vector_stores.delete(mine.id)
        assert other.vector_stores.list().data == []
        with pytest.raises(openai.BadRequestError):
            other.vector_stores.list(after=mine.id)
    assert [s.id for s in client.vector_stores.list()] == [mine.id]


@pytest.mark.mockfiles(profile="dashscope")
def test_dashscope_has_no_vector_stores(mockfiles: MockFilesServer) -> None:
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": f"Bearer {mockfiles.api_key}"}) as http:
        response = http.post("/compatible-mode/v1/vector_stores", json={"name": "x"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /compatible-mode/v1/vector_stores)"


async def test_the_async_client(aclient: openai.AsyncOpenAI) -> None:
    made = await aclient.vector_stores.create(name="async")
    assert (await aclient.vector_stores.retrieve(made.id)).name == "async"
    assert [s.id async for s in aclient.vector_stores.list(limit=1)] == [made.id]
    changed = await aclient.vector_stores.update(made.id, name="renamed")
    assert changed.name == "renamed"
    assert (await aclient.vector_stores.delete(made.id)).deleted


def test_the_journal_names_the_store(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    made = client.vector_stores.create(name="j")
    client.vector_stores.retrieve(made.id)
    created, retrieved = mockfiles.requests(["vector_stores.create", "vector_stores.retrieve"])
    assert created["vector_store_id"] == made.id and created["status"] == 200 and created["file_ids"] is None
    assert retrieved["vector_store_id"] == made.id and retrieved["endpoint"] == "vector_stores.retrieve"


def test_the_reset_forgets_every_store(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    made = client.vector_stores.create(name="gone soon")
    mockfiles.reset()
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.retrieve(made.id)
    assert client.vector_stores.list().data == []


@pytest.mark.mockfiles(scenario={"vector_stores": {"ingestion": "1m"}})
def test_the_admin_listing(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    store = client.vector_stores.create(
        name="listed", description="shown here", file_ids=[upload(client, "cats.txt", CATS)]
    )
    listed = httpx.get(mockfiles.url + "/_mockfiles/vector-stores").json()
    (shown,) = listed["data"]
    assert (
        shown["id"] == store.id
        and shown["description"] == "shown here"
        and shown["account"] == mockfiles.account_id(mockfiles.api_key)
    )
    assert shown["files"][0]["filename"] == "cats.txt" and shown["files"][0]["status"] == "in_progress"
    assert shown["key"] != mockfiles.api_key and "…" in shown["key"]


@pytest.mark.parametrize(
    ("route", "body", "param"),
    [
        ("/v1/vector_stores", {"nmae": "x"}, "nmae"),
        (
            "/v1/vector_stores",
            {"expires_after": {"anchor": "last_active_at", "days": 1, "hours": 2}},
            "expires_after.hours",
        ),
        ("/v1/vector_stores", {"chunking_strategy": {"type": "auto", "static": {}}}, "chunking_strategy.static"),
        (
            "/v1/vector_stores",
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 0, "size": 1},
                }
            },
            "chunking_strategy.static.size",
        ),
        ("{store}", {"description": "not here"}, "description"),
        ("{store}/search", {"query": "a", "top_k": 3}, "top_k"),
        ("{store}/search", {"query": "a", "ranking_options": {"boost": 1}}, "ranking_options.boost"),
        (
            "{store}/search",
            {"query": "a", "filters": {"type": "eq", "key": "k", "value": 1, "not": True}},
            "filters.not",
        ),
        ("{store}/search", {"query": "a", "filters": {"type": "or", "filters": [], "key": "k"}}, "filters.key"),
        ("{store}/files", {"file_id": "file-x", "purpose": "assistants"}, "purpose"),
        ("{store}/file_batches", {"file_ids": ["file-x"], "priority": 1}, "priority"),
        ("{store}/file_batches", {"files": [{"file_id": "file-x", "filename": "a"}]}, "files[0].filename"),
    ],
)
def test_unknown_fields_are_refused_as_openai_refuses_them(
    http: httpx.Client, route: str, body: dict[str, object], param: str
) -> None:
    store = http.post("/v1/vector_stores", json={}).json()["id"]
    path = route.replace("{store}", f"/v1/vector_stores/{store}")
    refused(http.post(path, json=body), 400, f"Unknown parameter: '{param}'.", "unknown_parameter", param)


@pytest.mark.mockfiles(rate_limits=False, in_process=True)
def test_in_process_clients_without_a_socket(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(max_retries=0) as client:
        done = client.vector_stores.files.upload_and_poll(
            vector_store_id=client.vector_stores.create(name="in process").id, file=("cats.txt", CATS)
        )
        assert done.status == "completed"
        assert [r.filename for r in client.vector_stores.search(done.vector_store_id, query="cats")] == ["cats.txt"]
