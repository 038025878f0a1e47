"""DashScope compatible mode's Batches API as Alibaba documents it ("OpenAI compatible - Batch
(file input)") and as it was recorded live, through the openai SDK, sync and async: windows of
24 to 336 hours in ``h`` or ``d``, the Batch object as documented, ``metadata`` limits, the list's
filters, batch calls metered per minute apart from file queries, and RFC 4122 ids
(docs/dashscope.md)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.batching import chat_file

pytestmark = pytest.mark.mockfiles(profile="dashscope", rate_limits=False)
CHAT = "/v1/chat/completions"
KEY = "sk-qwen"
HOUR = 3600
# The create example's fields, in its order (the Batch object at create, documented and recorded)
DOCUMENTED = [
    "id",
    "object",
    "endpoint",
    "errors",
    "input_file_id",
    "completion_window",
    "status",
    "output_file_id",
    "error_file_id",
    "created_at",
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
    "request_counts",
    "metadata",
]


@pytest.fixture
def compat(mockfiles: MockFilesServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=KEY, base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0) as c:
        yield c


@pytest.fixture
async def acompat(mockfiles: MockFilesServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(api_key=KEY, base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0) as c:
        yield c


@pytest.fixture
def raw(mockfiles: MockFilesServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mockfiles.url + "/compatible-mode/v1", headers={"Authorization": f"Bearer {KEY}"}) as c:
        yield c


def source(client: openai.OpenAI, *custom_ids: str) -> str:
    return client.files.create(file=("in.jsonl", chat_file(*(custom_ids or ("a",)))), purpose="batch").id


# --- completion_window ----------------------------------------------------------------------------


def test_completion_window_is_24h_to_336h_in_hours_or_days(compat: openai.OpenAI) -> None:
    file_id = source(compat)
    for window in ("24h", "48h", "336h", "1d", "14d", "100h"):
        made = compat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window=window)  # type: ignore[arg-type]
        assert made.completion_window == window
        assert compat.batches.retrieve(made.id).completion_window == window
    for window in ("23h", "337h", "15d", "0d", "24", "24m", "1.5d", "24H", " 24h", "", "2w"):
        with pytest.raises(openai.BadRequestError) as info:
            compat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window=window)  # type: ignore[arg-type]
        body = info.value.body
        assert isinstance(body, dict) and (body["param"], body["code"]) == ("completion_window", "invalid_value"), (
            window
        )
        assert body["message"] == (
            "Invalid 'completion_window': expected a whole number of hours or days from 24h to 336h "
            f"(such as '24h', '48h' or '14d'), but got '{window}' instead."
        )


async def test_completion_window_with_the_async_client(acompat: openai.AsyncOpenAI) -> None:
    file_id = (await acompat.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")).id
    made = await acompat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="14d")  # type: ignore[arg-type]
    assert made.completion_window == "14d"
    with pytest.raises(openai.BadRequestError):
        await acompat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="15d")  # type: ignore[arg-type]


def test_openai_keeps_24h_only(mockfiles: MockFilesServer) -> None:
    mockfiles.reset(profile="openai", rate_limits=False)
    with mockfiles.client(max_retries=0) as client:
        file_id = source(client)
        with pytest.raises(openai.BadRequestError) as info:
            client.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="48h")  # type: ignore[arg-type]
    assert info.value.body["message"] == "Invalid value: '48h'. Supported values are: '24h'."  # type: ignore[index]


SLOW = {"batches": {"timing": {"in_progress": "30h"}}}


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False, scenario=SLOW)
def test_a_batch_expires_at_its_own_window(mockfiles: MockFilesServer, compat: openai.OpenAI) -> None:
    """30 hours of work: a 24h batch expires at 24 h, a 2d one completes."""
    file_id = source(compat, "a", "b")
    short = compat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")
    long = compat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="2d")  # type: ignore[arg-type]
    mockfiles.advance(24 * HOUR)
    expired = compat.batches.retrieve(short.id)
    assert expired.status == "expired" and expired.expired_at == short.created_at + 24 * HOUR
    assert compat.batches.retrieve(long.id).status == "in_progress"
    mockfiles.advance(6 * HOUR)
    done = compat.batches.retrieve(long.id)
    assert done.status == "completed" and done.request_counts.completed == 2 and done.expired_at is None
    # OpenAI shows when a batch expires; compatible mode's expires_at is null (documented at create, recorded after)
    v1 = openai.OpenAI(api_key=KEY, base_url=mockfiles.base_url, max_retries=0)
    assert v1.batches.retrieve(long.id).expires_at == long.created_at + 48 * HOUR
    assert done.expires_at is None


# --- the Batch object -------------------------------------------------------------------------------


def test_the_batch_object_at_create_is_the_documented_one(
    mockfiles: MockFilesServer, compat: openai.OpenAI, raw: httpx.Client
) -> None:
    file_id = source(compat)
    metadata = {"ds_name": "Task name", "ds_description": "Task description"}
    created = raw.post(
        "/batches", json={"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h", "metadata": metadata}
    ).json()
    assert list(created) == DOCUMENTED
    assert {name: created[name] for name in DOCUMENTED if name not in ("id", "created_at")} == {
        "object": "batch",
        "endpoint": CHAT,
        "errors": None,
        "input_file_id": file_id,
        "completion_window": "24h",
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "in_progress_at": None,
        "expires_at": None,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": metadata,
    }
    done = raw.get(f"/batches/{created['id']}").json()  # retrieve and list: the same fields
    assert list(done) == DOCUMENTED and done["status"] == "completed" and done["expires_at"] is None
    assert list(raw.get("/batches").json()["data"][0]) == DOCUMENTED
    openai_shape = httpx.get(
        f"{mockfiles.base_url}/batches/{created['id']}", headers={"Authorization": f"Bearer {KEY}"}
    )
    assert {"model", "usage"} <= set(openai_shape.json())  # OpenAI's own Batch keeps them


def test_metadata_ds_description_and_ds_name_limits(compat: openai.OpenAI) -> None:
    file_id = source(compat)
    fits = {"ds_name": "n" * 100, "ds_description": "d" * 200, "other": "o" * 512}
    assert (
        compat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h", metadata=fits).metadata
        == fits
    )
    for key, length in (("ds_description", 201), ("ds_name", 101)):
        with pytest.raises(openai.BadRequestError) as info:
            compat.batches.create(
                input_file_id=file_id, endpoint=CHAT, completion_window="24h", metadata={key: "x" * length}
            )
        body = info.value.body
        assert isinstance(body, dict) and (body["param"], body["code"]) == (
            f"metadata.{key}",
            "string_above_max_length",
        )
        assert f"maximum length {length - 1}, but got a string with length {length}" in body["message"]


# --- list filters -----------------------------------------------------------------------------------


def ids(page: object) -> list[str]:
    return [batch.id for batch in page]  # type: ignore[attr-defined]


FILTERS = {"batches": {"timing": {"in_progress": "1h"}}}


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False, scenario=FILTERS)
def test_the_list_filters(mockfiles: MockFilesServer, compat: openai.OpenAI, raw: httpx.Client) -> None:
    one, two = source(compat, "a"), source(compat, "b")

    def make(file_id: str, name: str | None) -> str:
        metadata = {"ds_name": name} if name is not None else None
        return compat.batches.create(
            input_file_id=file_id, endpoint=CHAT, completion_window="24h", metadata=metadata
        ).id

    first = make(one, "Nightly run")
    mockfiles.advance(2 * 86400)
    second = make(two, "nightly CHECK")
    third = make(one, None)
    compat.batches.cancel(third)
    day = datetime.fromtimestamp(compat.batches.retrieve(second).created_at, timezone(timedelta(hours=8)))

    def listed(**query: str) -> list[str]:
        return ids(compat.batches.list(extra_query=query))

    assert listed() == [third, second, first]
    assert listed(ds_name="nightly") == [second, first]  # a part of the name, letter case aside
    assert listed(ds_name="run") == [first] and listed(ds_name="weekly") == []
    assert listed(input_file_ids=one) == [third, first]
    assert listed(input_file_ids=f"{one}, {two}") == [third, second, first]
    assert listed(status="in_progress") == [second]
    assert listed(status="cancelled,completed") == [third, first]  # the first ran its hour two days ago
    assert listed(status="cancelled") == [third]
    assert listed(create_after=day.strftime("%Y%m%d")) == [third, second]
    assert listed(create_before=(day - timedelta(days=1)).strftime("%Y-%m-%d")) == [first]
    assert listed(create_after=day.strftime("%Y-%m-%d %H:%M:%S"), ds_name="nightly") == [second]
    mockfiles.advance(HOUR)
    assert listed(status="completed") == [second, first]
    page = compat.batches.list(limit=1, extra_query={"input_file_ids": one})
    assert ids(page.data) == [third] and page.has_more is True
    assert ids(page.get_next_page().data) == [first]  # the SDK's paging carries the filters on
    assert ids(page) == [third, first]  # auto-pagination too
    # an empty page: data is null, as recorded live; the SDK reads it as no batches
    empty = raw.get("/batches", params={"input_file_ids": "hello"}).json()
    assert empty == {"object": "list", "data": None, "first_id": None, "last_id": None, "has_more": False}
    assert listed(input_file_ids="hello") == []
    # OpenAI's /v1 has none of these filters: they are ignored there
    v1 = openai.OpenAI(api_key=KEY, base_url=mockfiles.base_url, max_retries=0)
    assert ids(v1.batches.list(extra_query={"ds_name": "weekly", "status": "failed"})) == [third, second, first]


def test_list_filters_refuse_what_they_cannot_read(compat: openai.OpenAI) -> None:
    too_many = ",".join(f"file-batch-{i:024x}" for i in range(21))
    for query, param in (
        ({"input_file_ids": too_many}, "input_file_ids"),
        ({"status": "completed,done"}, "status"),
        ({"create_after": "2025/03/04"}, "create_after"),
        ({"create_before": "soon"}, "create_before"),
    ):
        with pytest.raises(openai.BadRequestError) as info:
            compat.batches.list(extra_query=query)
        assert info.value.body["param"] == param  # type: ignore[index]
    ok = ",".join(f"file-batch-{i:024x}" for i in range(20))
    assert compat.batches.list(extra_query={"input_file_ids": ok}).data is None


async def test_list_filters_with_the_async_client(acompat: openai.AsyncOpenAI) -> None:
    file_id = (await acompat.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")).id
    named = await acompat.batches.create(
        input_file_id=file_id, endpoint=CHAT, completion_window="24h", metadata={"ds_name": "async job"}
    )
    await acompat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")
    assert [b.id async for b in acompat.batches.list(extra_query={"ds_name": "ASYNC"})] == [named.id]
    assert [b.id async for b in acompat.batches.list(extra_query={"status": "failed"})] == []


# --- rate limits ------------------------------------------------------------------------------------


@pytest.mark.mockfiles(profile="dashscope", rate_limits=True)
def test_the_profile_meters_batch_calls_per_minute_apart_from_queries(mockfiles: MockFilesServer) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=mockfiles.base_url, headers=headers) as v1:  # /v1 shows x-ratelimit-* headers
        listed = v1.get("/batches")
        missing = v1.get("/batches/batch_00000000-0000-4000-8000-000000000000")
        files = v1.get("/files")
    assert (listed.headers["x-ratelimit-limit-requests"], listed.headers["x-ratelimit-reset-requests"]) == (
        "100",
        "1m0s",
    )
    assert missing.status_code == 404 and missing.headers["x-ratelimit-limit-requests"] == "1000"
    assert (files.headers["x-ratelimit-limit-requests"], files.headers["x-ratelimit-reset-requests"]) == ("10", "1s")


TIGHT = {"rate_limits": {"batch": 2, "batch_list": 1}}


@pytest.mark.mockfiles(profile="dashscope", rate_limits=True, scenario=TIGHT)
def test_batch_calls_have_their_own_windows(mockfiles: MockFilesServer, compat: openai.OpenAI) -> None:
    """Create, retrieve and cancel each have their limit, list its own; none touches the files' queries."""
    file_id = source(compat)
    made = compat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")
    compat.batches.retrieve(made.id)
    compat.batches.retrieve(made.id)
    with pytest.raises(openai.RateLimitError) as info:
        compat.batches.retrieve(made.id)
    assert info.value.body["code"] == "limit_requests"  # type: ignore[index]
    assert 59 <= float(info.value.response.headers["retry-after"]) <= 60
    with pytest.raises(openai.ConflictError):  # cancel counts apart: it is let through (and the batch has ended)
        compat.batches.cancel(made.id)
    compat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")  # create: its second
    compat.batches.list()
    with pytest.raises(openai.RateLimitError):
        compat.batches.list()
    for _ in range(5):  # the files' query class is not touched by batch calls
        compat.files.list()
    mockfiles.advance(60)
    assert compat.batches.retrieve(made.id).id == made.id and compat.batches.list().data


@pytest.mark.mockfiles(profile="dashscope", rate_limits=True, scenario=TIGHT)
async def test_batch_classes_with_the_async_client(mockfiles: MockFilesServer, acompat: openai.AsyncOpenAI) -> None:
    await acompat.batches.list()
    with pytest.raises(openai.RateLimitError):
        await acompat.batches.list()


@pytest.mark.mockfiles(profile="openai", rate_limits=True, scenario={"rate_limits": {"query": 2}})
def test_openai_counts_batch_calls_as_queries(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(max_retries=0) as client:
        client.batches.list()
        client.files.list()
        with pytest.raises(openai.RateLimitError) as info:
            client.batches.list()
    assert info.value.body["message"].startswith(  # type: ignore[index]
        "Rate limit reached for query requests (batches.list) on requests per second: Limit 2"
    )


@pytest.mark.mockfiles(profile="dashscope", rate_limits=True, scenario={"rate_limits": {"batch_list": 1}})
def test_openais_wording_names_the_minute(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(max_retries=0) as client:  # /v1, under the dashscope profile
        client.batches.list()
        with pytest.raises(openai.RateLimitError) as info:
            client.batches.list()
    assert info.value.body["message"].startswith(  # type: ignore[index]
        "Rate limit reached for batch_list requests (batches.list) on requests per minute: Limit 1, Used 1"
    )


# --- ids --------------------------------------------------------------------------------------------


def test_batch_ids_are_rfc_4122_uuids(compat: openai.OpenAI) -> None:
    file_id = source(compat)
    for _ in range(40):
        batch_id = compat.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h").id
        assert re.fullmatch(r"batch_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", batch_id)
        parsed = uuid.UUID(batch_id.removeprefix("batch_"))
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


ONE_FAILS = {"batches": {"requests": [{"match": {"custom_id": "bad"}, "status": 500}]}}


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False, scenario=ONE_FAILS)
async def test_the_batch_object_metadata_and_error_file_with_the_async_client(acompat: openai.AsyncOpenAI) -> None:
    file_id = (await acompat.files.create(file=("in.jsonl", chat_file("ok", "bad")), purpose="batch")).id
    with pytest.raises(openai.BadRequestError) as info:
        await acompat.batches.create(
            input_file_id=file_id, endpoint=CHAT, completion_window="24h", metadata={"ds_description": "d" * 201}
        )
    assert info.value.body["param"] == "metadata.ds_description"  # type: ignore[index]
    made = await acompat.batches.create(
        input_file_id=file_id,
        endpoint=CHAT,
        completion_window="3d",
        metadata={"ds_name": "async"},  # type: ignore[arg-type]
    )
    assert (made.status, made.expires_at, made.model, made.usage) == ("validating", None, None, None)
    assert sorted(made.model_dump(exclude_unset=True)) == sorted(DOCUMENTED)  # the fields sent, no others
    done = await acompat.batches.retrieve(made.id)
    assert done.error_file_id is not None and re.fullmatch(r"file-batch_error-[0-9a-f]{24}", done.error_file_id)
    assert '"custom_id": "bad"' in (await acompat.files.content(done.error_file_id)).text
