"""GET /v1/batches, GET /v1/batches/{id}, POST /v1/batches/{id}/cancel over HTTP with the openai
SDK: listing and its pagination, accounts, cancel and its 409, the journal, fault rules, the
admin route, the fixture's reset."""

from __future__ import annotations

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.batching import CHAT, chat_file, typed

SLOW = {"batches": {"timing": {"validating": "1s", "in_progress": "10m", "finalizing": "1s", "cancelling": "5s"}}}


def make_batch(client: openai.OpenAI, *custom_ids: str, **params: object) -> openai.types.Batch:
    source = client.files.create(file=("in.jsonl", chat_file(*(custom_ids or ("a",)))), purpose="batch")
    return client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h", **params)  # type: ignore[arg-type]


@pytest.mark.mockfiles(rate_limits=False)
def test_retrieve_shows_the_batch_completed_with_the_default_timing(client: openai.OpenAI) -> None:
    batch = make_batch(client, "a", "b")
    got = client.batches.retrieve(batch.id)
    typed(got.model_dump())
    assert got.status == "completed" and got.output_file_id is not None and got.error_file_id is None
    assert got.request_counts is not None and got.request_counts.model_dump() == {
        "total": 2,
        "completed": 2,
        "failed": 0,
    }
    assert got.usage is not None and got.usage.total_tokens > 0
    assert got.in_progress_at == got.finalizing_at == got.completed_at == got.created_at


@pytest.mark.mockfiles(rate_limits=False)
def test_list_is_newest_first_with_after_limit_and_has_more(client: openai.OpenAI, http: httpx.Client) -> None:
    made = [make_batch(client).id for _ in range(5)]
    page = client.batches.list(limit=2)
    assert [b.id for b in page.data] == made[::-1][:2] and page.has_more
    rest = client.batches.list(limit=2, after=page.data[-1].id)
    assert [b.id for b in rest.data] == made[::-1][2:4] and rest.has_more
    assert [b.id for b in client.batches.list()] == made[::-1]  # auto-pagination over every page
    assert [b.id for b in client.batches.list(limit=2)] == made[::-1]  # the SDK follows `after` and has_more
    raw = http.get("/v1/batches").json()
    assert set(raw) == {"object", "data", "first_id", "last_id", "has_more"}
    assert (raw["first_id"], raw["last_id"], raw["has_more"], len(raw["data"])) == (made[-1], made[0], False, 5)
    for item in raw["data"]:
        typed(item)


@pytest.mark.mockfiles(rate_limits=False)
def test_list_defaults_to_20(client: openai.OpenAI, http: httpx.Client) -> None:
    for _ in range(21):
        make_batch(client)
    raw = http.get("/v1/batches").json()
    assert len(raw["data"]) == 20 and raw["has_more"]


@pytest.mark.parametrize(
    ("query", "param", "code"),
    [
        ("limit=0", "limit", "integer_below_min_value"),
        ("limit=101", "limit", "integer_above_max_value"),
        ("limit=x", "limit", "invalid_type"),
        ("after=batch_nothere", "after", None),
    ],
)
def test_list_refusals(http: httpx.Client, query: str, param: str, code: str | None) -> None:
    response = http.get(f"/v1/batches?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and (code is None or error["code"] == code)


async def test_the_async_client_lists_retrieves_and_pages(aclient: openai.AsyncOpenAI) -> None:
    source = await aclient.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")
    made = [
        (await aclient.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")).id
        for _ in range(3)
    ]
    assert [b.id async for b in aclient.batches.list(limit=1)] == made[::-1]
    assert (await aclient.batches.retrieve(made[0])).status == "completed"


def test_accounts_are_isolated(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    batch = make_batch(client)
    with mockfiles.client(api_key="sk-other", max_retries=0) as other:
        with pytest.raises(openai.NotFoundError) as info:
            other.batches.retrieve(batch.id)
        assert info.value.body == {  # type: ignore[comparison-overlap]
            "message": f"No batch found with id '{batch.id}'.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
        with pytest.raises(openai.NotFoundError):
            other.batches.cancel(batch.id)
        assert other.batches.list().data == []
        with pytest.raises(openai.BadRequestError):
            other.batches.list(after=batch.id)  # not a cursor of this account
    assert [b.id for b in client.batches.list()] == [batch.id]


@pytest.mark.mockfiles(scenario=SLOW, rate_limits=False)
def test_cancel_answers_cancelling_then_the_batch_is_cancelled(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    batch = make_batch(client, *(f"r{i}" for i in range(4)))
    mockfiles.advance(1 + 300)  # validated, then halfway through in_progress: 2 of 4 done
    cancelling = client.batches.cancel(batch.id)
    typed(cancelling.model_dump())
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    assert client.batches.cancel(batch.id).status == "cancelling"  # a retried cancel does not fail
    assert client.batches.retrieve(batch.id).status == "cancelling"
    mockfiles.advance(5)
    done = client.batches.retrieve(batch.id)
    assert done.status == "cancelled" and done.cancelled_at is not None
    assert done.request_counts is not None and done.request_counts.model_dump() == {
        "total": 4,
        "completed": 2,
        "failed": 2,
    }
    assert done.output_file_id is not None and done.error_file_id is not None
    errors = [line for line in client.files.content(done.error_file_id).text.splitlines()]
    assert len(errors) == 2 and all('"code": "batch_cancelled"' in line for line in errors)


@pytest.mark.mockfiles(rate_limits=False)
def test_cancel_of_an_ended_batch_is_a_409_conflict(client: openai.OpenAI, http: httpx.Client) -> None:
    batch = make_batch(client)
    response = http.post(f"/v1/batches/{batch.id}/cancel")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "message": "Cannot cancel a batch with status 'completed'.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(batch.id)


@pytest.mark.mockfiles(rate_limits=False)
def test_the_sdk_retries_a_409_before_raising_conflict_error(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(max_retries=1) as client:
        batch = make_batch(client)
        client.batches.retrieve(batch.id)
        with pytest.raises(openai.ConflictError):
            client.batches.cancel(batch.id)
    assert [e["retry_count"] for e in mockfiles.requests("batches.cancel")] == [0, 1]


@pytest.mark.mockfiles(rate_limits=False)
def test_the_journal_names_each_endpoint_and_its_batch(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    batch = make_batch(client)
    client.batches.retrieve(batch.id)
    client.batches.list()
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(batch.id)
    entries = [e for e in mockfiles.requests() if e["endpoint"].startswith("batches.")]
    assert [e["endpoint"] for e in entries] == ["batches.create", "batches.retrieve", "batches.list", "batches.cancel"]
    assert [e.get("batch_id") for e in entries] == [batch.id, batch.id, None, batch.id]
    assert [e["status"] for e in entries] == [200, 200, 200, 409]


@pytest.mark.mockfiles(
    rate_limits=False,
    scenario={
        "faults": [
            {"match": {"endpoint": "batches.retrieve"}, "status": 500, "times": 1},
            {"match": {"endpoint": ["batches.list", "batches.cancel"]}, "status": 429, "times": 2},
        ]
    },
)
def test_fault_rules_match_the_batch_endpoints(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(max_retries=2) as client:
        batch = make_batch(client)
        assert client.batches.retrieve(batch.id).status == "completed"  # retried past the 500
        assert client.batches.list().data[0].id == batch.id  # past two 429s
    statuses = [(e["endpoint"], e["status"]) for e in mockfiles.requests() if e["endpoint"] != "files.create"]
    assert statuses[:6] == [
        ("batches.create", 200),
        ("batches.retrieve", 500),
        ("batches.retrieve", 200),
        ("batches.list", 429),
        ("batches.list", 429),
        ("batches.list", 200),
    ]


def test_the_batch_endpoints_count_in_the_query_rate_class(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    statuses = [http.get("/v1/batches/batch_x").status_code for _ in range(11)]
    assert statuses == [404] * 10 + [429]
    response = http.get("/v1/batches")
    assert response.status_code == 429 and response.headers["x-ratelimit-limit-requests"] == "10"


@pytest.mark.mockfiles(rate_limits=False)
def test_the_admin_route_lists_every_accounts_batches_masked(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    mine = make_batch(client)
    with mockfiles.client(api_key="sk-someone-else-1234", max_retries=0) as other:
        theirs = make_batch(other)
    data = httpx.get(mockfiles.url + "/_mockfiles/batches").json()["data"]
    assert [b["id"] for b in data] == [mine.id, theirs.id]
    assert data[1]["account"] == mockfiles.account_id("sk-someone-else-1234")
    assert "sk-someone-else-1234" not in str(data) and data[1]["key"].endswith("1234")
    assert data[0]["status"] == "completed"


@pytest.mark.mockfiles(rate_limits=False)
def test_a_reset_forgets_batches(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    batch = make_batch(client)
    mockfiles.reset(rate_limits=False)
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve(batch.id)
    assert httpx.get(mockfiles.url + "/_mockfiles/batches").json()["data"] == []


def test_the_fixture_starts_each_test_with_no_batches(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    assert client.batches.list().data == []


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False)
def test_dashscope_compatible_lifecycle(mockfiles: MockFilesServer) -> None:
    base_url = mockfiles.url + "/compatible-mode/v1"
    with openai.OpenAI(base_url=base_url, api_key=mockfiles.api_key, max_retries=0) as client:
        batch = make_batch(client, "a", "b")
        done = client.batches.retrieve(batch.id)
        assert done.status == "completed" and done.output_file_id is not None
        assert done.output_file_id.startswith("file-batch_output-")
        lines = client.files.content(done.output_file_id).text.splitlines()
        assert len(lines) == 2
        assert [b.id for b in client.batches.list()] == [batch.id]
        with pytest.raises(openai.ConflictError) as info:
            client.batches.cancel(batch.id)
        with pytest.raises(openai.NotFoundError) as missing:
            client.batches.retrieve("batch_nothere")
    for raised in (info.value, missing.value):
        assert "request_id" in raised.response.json()
        assert not any(h.startswith("x-ratelimit") or h.startswith("openai-") for h in raised.response.headers)


@pytest.mark.mockfiles(rate_limits=False)
def test_answers_match_the_published_openapi_schemas(client: openai.OpenAI, http: httpx.Client) -> None:
    import jsonschema

    document = http.get("/_mockfiles/openapi.json").json()

    def check(value: object, name: str) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator)

    made = make_batch(client, "a", "b")
    check(http.get(f"/v1/batches/{made.id}").json(), "Batch")
    check(http.get("/v1/batches").json(), "ListBatchesResponse")
    failed = client.files.create(file=("bad.jsonl", b"not json\n"), purpose="batch")
    bad = client.batches.create(input_file_id=failed.id, endpoint=CHAT, completion_window="24h")
    check(http.get(f"/v1/batches/{bad.id}").json(), "Batch")  # errors.data
    assert http.post(f"/v1/batches/{bad.id}/cancel").status_code == 409
    operations = {
        (method, path): op["x-mockfiles-endpoint"]
        for path, item in document["paths"].items()
        for method, op in item.items()
        if path.startswith("/batches")
    }
    assert operations == {
        ("post", "/batches"): "batches.create",
        ("get", "/batches"): "batches.list",
        ("get", "/batches/{batch_id}"): "batches.retrieve",
        ("post", "/batches/{batch_id}/cancel"): "batches.cancel",
    }


@pytest.mark.mockfiles(scenario=SLOW, rate_limits=False)
async def test_cancel_with_the_async_client(mockfiles: MockFilesServer, aclient: openai.AsyncOpenAI) -> None:
    source = await aclient.files.create(file=("in.jsonl", chat_file("a", "b")), purpose="batch")
    batch = await aclient.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    cancelling = await aclient.batches.cancel(batch.id)  # still validating: nothing runs
    assert cancelling.status == "cancelling"
    mockfiles.advance(5)
    cancelled = await aclient.batches.retrieve(batch.id)
    assert cancelled.status == "cancelled" and cancelled.output_file_id is None and cancelled.error_file_id is None
    with pytest.raises(openai.ConflictError):
        await aclient.batches.cancel(batch.id)
