"""litellm's batch functions against the server (custom_llm_provider="openai", api_base at the
server): create_file, create_batch, retrieve_batch, file_content — sync and async. Skipped only
when litellm is not installed (it is in the dev extra)."""

from __future__ import annotations

import json
import os

import pytest

from mockfiles import MockFilesServer
from tests.support.batching import CHAT, chat_file

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch of the model price list at import
litellm = pytest.importorskip("litellm")

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:pydantic"),  # litellm's own models, at import
    pytest.mark.filterwarnings("ignore::DeprecationWarning:litellm"),  # its cost calculator on pydantic 2.11+
    pytest.mark.filterwarnings("ignore:coroutine 'OpenAIFilesAPI.afile_content' was never awaited:RuntimeWarning"),
]
RULES = {"batches": {"requests": [{"match": {"custom_id": "bad-*"}, "status": 500}]}}


@pytest.mark.mockfiles(scenario=RULES, rate_limits=False)
def test_litellm_runs_the_pipeline(mockfiles: MockFilesServer) -> None:
    where = {"custom_llm_provider": "openai", "api_base": mockfiles.base_url, "api_key": mockfiles.api_key}
    source = litellm.create_file(file=("in.jsonl", chat_file("a", "bad-1", "b")), purpose="batch", **where)
    assert source.status == "processed"
    batch = litellm.create_batch(
        completion_window="24h", endpoint=CHAT, input_file_id=source.id, metadata={"by": "litellm"}, **where
    )
    assert batch.status == "validating" and batch.id.startswith("batch_")
    done = litellm.retrieve_batch(batch_id=batch.id, **where)
    assert done.status == "completed" and done.request_counts.completed == 2 and done.request_counts.failed == 1
    output = litellm.file_content(file_id=done.output_file_id, **where)
    assert [json.loads(line)["custom_id"] for line in output.text.splitlines()] == ["a", "b"]
    errors = litellm.file_content(file_id=done.error_file_id, **where)
    assert [json.loads(line)["response"]["status_code"] for line in errors.text.splitlines()] == [500]
    assert [e["endpoint"] for e in mockfiles.requests()] == [
        "files.create",
        "batches.create",
        "batches.retrieve",
        "files.content",
        "files.content",
    ]


@pytest.mark.mockfiles(rate_limits=False)
async def test_litellm_async_functions(mockfiles: MockFilesServer) -> None:
    where = {"custom_llm_provider": "openai", "api_base": mockfiles.base_url, "api_key": mockfiles.api_key}
    source = await litellm.acreate_file(file=("in.jsonl", chat_file("a")), purpose="batch", **where)
    batch = await litellm.acreate_batch(completion_window="24h", endpoint=CHAT, input_file_id=source.id, **where)
    done = await litellm.aretrieve_batch(batch_id=batch.id, **where)
    assert done.status == "completed"
    output = await litellm.afile_content(file_id=done.output_file_id, **where)
    (line,) = output.text.splitlines()
    assert json.loads(line)["response"]["body"]["choices"][0]["message"]["content"] == "Echo: say a"
