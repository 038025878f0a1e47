"""OpenAI's Batches details: an unknown batch's 404, and one rule for unknown JSON fields on
``batches.create`` and ``/v1/uploads`` (refused, as OpenAI refuses them), through the openai SDK
sync and async (docs/batches.md)."""

from __future__ import annotations

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.batching import chat_file

pytestmark = pytest.mark.mockfiles(rate_limits=False)
CHAT = "/v1/chat/completions"
NOT_FOUND = {"type": "invalid_request_error", "param": None, "code": None}


def test_an_unknown_batch_is_a_404_with_no_code(client: openai.OpenAI) -> None:
    for call in (client.batches.retrieve, client.batches.cancel):
        with pytest.raises(openai.NotFoundError) as info:
            call("batch_abc123")
        assert info.value.body == {"message": "No batch found with id 'batch_abc123'.", **NOT_FOUND}
        assert info.value.code is None


async def test_an_unknown_batch_with_the_async_client(aclient: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        await aclient.batches.cancel("batch_abc123")
    assert info.value.body == {"message": "No batch found with id 'batch_abc123'.", **NOT_FOUND}


def refused_field(info: pytest.ExceptionInfo[openai.BadRequestError], name: str) -> None:
    assert info.value.body == {  # type: ignore[comparison-overlap]
        "message": f"Unknown parameter: '{name}'.",
        "type": "invalid_request_error",
        "param": name,
        "code": "unknown_parameter",
    }


def test_unknown_fields_are_refused_on_batches_and_uploads_alike(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    source = client.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")
    with pytest.raises(openai.BadRequestError) as batch:
        client.batches.create(
            input_file_id=source.id, endpoint=CHAT, completion_window="24h", extra_body={"priority": "high"}
        )
    refused_field(batch, "priority")
    with pytest.raises(openai.BadRequestError) as upload:
        client.uploads.create(
            bytes=3, filename="a.txt", mime_type="text/plain", purpose="assistants", extra_body={"priority": "high"}
        )
    refused_field(upload, "priority")
    assert mockfiles.emulator.batches.store.everyone() == []  # nothing was made
    assert client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h").status == "validating"


async def test_unknown_fields_with_the_async_client(aclient: openai.AsyncOpenAI) -> None:
    source = await aclient.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")
    with pytest.raises(openai.BadRequestError) as info:
        await aclient.batches.create(
            input_file_id=source.id, endpoint=CHAT, completion_window="24h", extra_body={"model": "gpt-4o"}
        )
    refused_field(info, "model")


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False)
def test_compatible_mode_ignores_unknown_fields(mockfiles: MockFilesServer) -> None:
    """DashScope documents no such refusal, and its compatible mode is used with fields of its own."""
    base_url = mockfiles.url + "/compatible-mode/v1"
    with openai.OpenAI(api_key="sk-qwen", base_url=base_url, max_retries=0) as compat:
        source = compat.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")
        made = compat.batches.create(
            input_file_id=source.id, endpoint=CHAT, completion_window="24h", extra_body={"priority": "high"}
        )
    assert made.status == "validating"
    body = httpx.post(
        base_url + "/batches",
        headers={"Authorization": "Bearer sk-qwen"},
        json={"input_file_id": source.id, "endpoint": CHAT, "completion_window": "24h", "anything": [1]},
    )
    assert body.status_code == 200
