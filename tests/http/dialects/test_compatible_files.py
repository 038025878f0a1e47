"""DashScope compatible mode's Files API as Alibaba documents it ("OpenAI compatible - File",
"OpenAI compatible - Batch (file input)"), through the openai SDK, sync and async: ``limit``
1-2,000 (default 2,000), ``create_after``/``create_before`` in their four forms, and content for
batch result files only (docs/dashscope.md)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone

import openai
import pytest

from mockfiles import MockFilesServer
from mockfiles.core.profiles import IdShape
from tests.support.batching import chat_file

pytestmark = pytest.mark.mockfiles(profile="dashscope", rate_limits=False)
BEIJING = timezone(timedelta(hours=8))
KEY = "sk-qwen"


@pytest.fixture
def compat(mockfiles: MockFilesServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=KEY, base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0) as c:
        yield c


@pytest.fixture
async def acompat(mockfiles: MockFilesServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(api_key=KEY, base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0) as c:
        yield c


def seed_files(mockfiles: MockFilesServer, n: int) -> None:
    """``n`` small files in the key's account, written directly (uploading 2,001 would take long)."""
    files = mockfiles.emulator.files
    for i in range(n):
        files.add_generated(
            KEY,
            purpose="file-extract",
            filename=f"{i}.txt",
            chunks=(b"x",),
            size=1,
            created_at=int(files.clock.now()),
            expires_after=None,
            id_shape=IdShape("file-fe-", alphabet="0123456789abcdef", length=24),
        )


def test_list_limit_is_1_to_2000_and_2000_by_default(mockfiles: MockFilesServer, compat: openai.OpenAI) -> None:
    seed_files(mockfiles, 2001)
    page = compat.files.list()
    assert len(page.data) == 2000 and page.has_more is True  # the default: 2,000
    assert len(compat.files.list(limit=2000).data) == 2000
    for limit, code in ((2001, "integer_above_max_value"), (0, "integer_below_min_value")):
        with pytest.raises(openai.BadRequestError) as info:
            compat.files.list(limit=limit)
        assert info.value.body["param"] == "limit" and info.value.body["code"] == code  # type: ignore[index]
    # OpenAI's own /v1 keeps its 1-10,000
    assert len(openai.OpenAI(api_key=KEY, base_url=mockfiles.base_url).files.list(limit=2001).data) == 2001


async def test_list_limit_with_the_async_client(acompat: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await acompat.files.list(limit=2001)
    assert "Expected a value <= 2000" in info.value.message


def beijing(timestamp: int, pattern: str) -> str:
    return datetime.fromtimestamp(timestamp, BEIJING).strftime(pattern)


def test_create_after_and_before_take_the_four_documented_forms(
    mockfiles: MockFilesServer, compat: openai.OpenAI
) -> None:
    first = compat.files.create(file=("a.txt", b"1"), purpose="file-extract")  # type: ignore[arg-type]
    mockfiles.advance(2 * 86400)
    second = compat.files.create(file=("b.txt", b"2"), purpose="file-extract")  # type: ignore[arg-type]
    at = second.created_at
    forms = {
        "20250306123000": beijing(at, "%Y%m%d%H%M%S"),
        "2025-11-12 10:10:10": beijing(at, "%Y-%m-%d %H:%M:%S"),
        "2025-11-12": beijing(at, "%Y-%m-%d"),
        "20251112": beijing(at, "%Y%m%d"),
    }
    for form, value in forms.items():
        after = compat.files.list(extra_query={"create_after": value})
        assert [f.id for f in after] == [second.id], form
        before = compat.files.list(extra_query={"create_before": value})  # a bare day: up to its end
        assert [f.id for f in before] == [second.id, first.id], form
    the_day_before = beijing(at - 86400, "%Y-%m-%d")
    assert [f.id for f in compat.files.list(extra_query={"create_before": the_day_before})] == [first.id]
    for bad in ("2025/11/12", "2025-11-12T10:10:10", "2025111", "2025-02-30", "yesterday"):
        with pytest.raises(openai.BadRequestError) as info:
            compat.files.list(extra_query={"create_after": bad})
        assert info.value.body["param"] == "create_after", bad  # type: ignore[index]


async def test_create_after_with_the_async_client(acompat: openai.AsyncOpenAI) -> None:
    made = await acompat.files.create(file=("a.txt", b"1"), purpose="file-extract")  # type: ignore[arg-type]
    day = beijing(made.created_at, "%Y-%m-%d")
    assert [f.id async for f in acompat.files.list(extra_query={"create_after": day})] == [made.id]
    tomorrow = beijing(made.created_at + 86400, "%Y-%m-%d 00:00:00")
    assert [f.id async for f in acompat.files.list(extra_query={"create_after": tomorrow})] == []


ERRORS = {"batches": {"requests": [{"match": {"custom_id": "bad"}, "status": 500}]}}


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False, scenario=ERRORS)
def test_only_batch_results_can_be_downloaded(compat: openai.OpenAI) -> None:
    source = compat.files.create(file=("in.jsonl", chat_file("ok", "bad")), purpose="batch")
    doc = compat.files.create(file=("doc.txt", b"words"), purpose="file-extract")  # type: ignore[arg-type]
    batch = compat.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    done = compat.batches.retrieve(batch.id)
    assert done.output_file_id and re.fullmatch(r"file-batch_output-[0-9a-f]{24}", done.output_file_id)
    assert done.error_file_id and re.fullmatch(r"file-batch_error-[0-9a-f]{24}", done.error_file_id)
    assert b'"custom_id": "ok"' in compat.files.content(done.output_file_id).read()
    assert b'"custom_id": "bad"' in compat.files.content(done.error_file_id).read()
    assert compat.files.retrieve(done.error_file_id).purpose == "batch_output"
    for refused in (source, doc):
        with pytest.raises(openai.BadRequestError) as info:
            compat.files.content(refused.id)
        assert info.value.body["param"] == "file_id"  # type: ignore[index]
        assert info.value.body["message"].startswith("Only a batch's result files")  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        compat.files.content("file-batch_output-000000000000000000000000")


async def test_only_batch_results_can_be_downloaded_with_the_async_client(
    mockfiles: MockFilesServer, acompat: openai.AsyncOpenAI
) -> None:
    source = await acompat.files.create(file=("in.jsonl", chat_file("a", "b")), purpose="batch")
    with pytest.raises(openai.BadRequestError):
        await acompat.files.content(source.id)
    batch = await acompat.batches.create(
        input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    done = await acompat.batches.retrieve(batch.id)
    assert done.output_file_id is not None and done.error_file_id is None
    assert len((await acompat.files.content(done.output_file_id)).text.splitlines()) == 2
    # OpenAI's /v1 downloads any file, input files included
    v1 = openai.AsyncOpenAI(api_key=KEY, base_url=mockfiles.base_url, max_retries=0)
    assert (await v1.files.content(source.id)).read() == chat_file("a", "b")
    await v1.close()
