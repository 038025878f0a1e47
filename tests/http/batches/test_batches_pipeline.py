"""The whole batch pipeline with the real openai SDK, sync and async: upload a .jsonl, create,
poll with retrieve until it has ended, download the output and error files, parse the lines.
Scenario rules shape the lines; the emulator clock (advance(), the admin clock, freezegun) moves
the batches; the 24 h window expires them; validation fails them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import openai
import pytest
from freezegun import freeze_time
from openai.types import Batch
from openai.types.chat import ChatCompletion

from mockfiles import MockFilesServer
from tests.support.batching import CHAT, chat_file, chat_line, typed
from tests.support.helpers import jsonl

FINAL = ("completed", "failed", "expired", "cancelled")
RULES = {
    "seed": 3,
    "batches": {
        "requests": [
            {"match": {"custom_id": "bad-*"}, "status": 500},
            {"match": {"custom_id": "fixed"}, "body": {"answer": 42}},
        ]
    },
}


def lines(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines()]


def poll(client: openai.OpenAI, batch_id: str) -> Batch:
    for _ in range(100):
        batch = client.batches.retrieve(batch_id)
        if batch.status in FINAL:
            return batch
    raise AssertionError("the batch never ended")


def check_results(outputs: list[dict[str, Any]], errors: list[dict[str, Any]]) -> None:
    assert [o["custom_id"] for o in outputs] == ["ok-1", "fixed", "ok-2"]  # input order
    first = outputs[0]
    assert first["id"].startswith("batch_req_") and first["error"] is None
    assert first["response"]["status_code"] == 200 and first["response"]["request_id"].startswith("req_")
    reply = ChatCompletion.model_validate(first["response"]["body"], strict=True)
    assert reply.choices[0].message.content == "Echo: say ok-1"
    assert outputs[1]["response"]["body"] == {"answer": 42}
    assert [e["custom_id"] for e in errors] == ["bad-1"]
    assert errors[0]["response"]["status_code"] == 500 and errors[0]["response"]["body"]["error"]["type"]


@pytest.mark.mockfiles(scenario=RULES, rate_limits=False)
def test_the_pipeline_with_the_sync_client(client: openai.OpenAI) -> None:
    source = client.files.create(file=("in.jsonl", chat_file("ok-1", "bad-1", "fixed", "ok-2")), purpose="batch")
    batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    done = poll(client, batch.id)
    typed(done.model_dump())
    assert done.status == "completed"
    assert done.request_counts is not None and done.request_counts.model_dump() == {
        "total": 4,
        "completed": 3,
        "failed": 1,
    }
    check_results(lines(client, done.output_file_id), lines(client, done.error_file_id))
    output = client.files.retrieve(done.output_file_id or "")
    assert (output.purpose, output.status, output.filename) == ("batch_output", "processed", f"{batch.id}_output.jsonl")
    assert {f.id for f in client.files.list(purpose="batch_output")} == {done.output_file_id, done.error_file_id}


@pytest.mark.mockfiles(scenario=RULES, rate_limits=False)
async def test_the_pipeline_with_the_async_client(aclient: openai.AsyncOpenAI) -> None:
    content = chat_file("ok-1", "bad-1", "fixed", "ok-2")
    source = await aclient.files.create(file=("in.jsonl", content), purpose="batch")
    batch = await aclient.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    while batch.status not in FINAL:
        batch = await aclient.batches.retrieve(batch.id)
    assert batch.status == "completed" and batch.output_file_id and batch.error_file_id
    outputs = [json.loads(x) for x in (await aclient.files.content(batch.output_file_id)).text.splitlines()]
    errors = [json.loads(x) for x in (await aclient.files.content(batch.error_file_id)).text.splitlines()]
    check_results(outputs, errors)
    # many clients polling at once see the same batch
    seen = await asyncio.gather(*(aclient.batches.retrieve(batch.id) for _ in range(8)))
    assert {b.output_file_id for b in seen} == {batch.output_file_id}


TIMED = {"batches": {"timing": {"validating": "2s", "in_progress": "10m", "finalizing": "3s"}}}


@pytest.mark.mockfiles(scenario=TIMED, rate_limits=False)
def test_timing_follows_server_advance(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    source = client.files.create(file=("in.jsonl", chat_file("a", "b", "c", "d")), purpose="batch")
    batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    assert client.batches.retrieve(batch.id).status == "validating"
    mockfiles.advance(2)
    running = client.batches.retrieve(batch.id)
    assert running.status == "in_progress" and running.in_progress_at == batch.created_at + 2
    mockfiles.advance(300)  # half of in_progress: half the requests done
    assert client.batches.retrieve(batch.id).request_counts.completed == 2  # type: ignore[union-attr]
    mockfiles.advance(300)
    finalizing = client.batches.retrieve(batch.id)
    assert finalizing.status == "finalizing" and finalizing.output_file_id is None
    mockfiles.advance(3)
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.completed_at == batch.created_at + 605
    assert len(lines(client, done.output_file_id)) == 4


@pytest.mark.mockfiles(scenario=TIMED, rate_limits=False)
def test_timing_follows_the_admin_clock(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    source = client.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")
    batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    assert httpx.post(mockfiles.url + "/_mockfiles/clock", json={"advance": 605}).status_code == 200
    assert client.batches.retrieve(batch.id).status == "completed"


@pytest.mark.mockfiles(scenario=TIMED, rate_limits=False)
def test_timing_follows_freezegun(client: openai.OpenAI) -> None:
    with freeze_time("2031-03-01 12:00:00") as frozen:
        source = client.files.create(file=("in.jsonl", chat_file("a", "b")), purpose="batch")
        batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
        frozen.tick(2)
        assert client.batches.retrieve(batch.id).status == "in_progress"
        frozen.tick(603)
        done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.completed_at == batch.created_at + 605


@pytest.mark.mockfiles(scenario={"batches": {"timing": {"in_progress": "25h"}}}, rate_limits=False)
def test_the_24h_window_expires_a_batch(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    source = client.files.create(file=("in.jsonl", chat_file("a", "b", "c", "d")), purpose="batch")
    batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    mockfiles.advance(86_399)
    assert client.batches.retrieve(batch.id).status == "in_progress"
    mockfiles.advance(1)
    expired = client.batches.retrieve(batch.id)
    assert expired.status == "expired" and expired.expired_at == batch.expires_at
    assert [o["custom_id"] for o in lines(client, expired.output_file_id)] == ["a", "b", "c"]
    (late,) = lines(client, expired.error_file_id)
    assert late["custom_id"] == "d" and late["response"] is None and late["error"]["code"] == "batch_expired"


@pytest.mark.parametrize(
    ("content", "code", "line"),
    [
        (
            b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\nnot json\n',
            "invalid_json_line",
            2,
        ),
        (jsonl(chat_line("a"), chat_line("a")), "duplicate_custom_id", 2),
        (jsonl(chat_line("a"), {**chat_line("b"), "url": "/v1/embeddings"}), "url_mismatch", 2),
        (jsonl(chat_line("a"), chat_line("b", model="gpt-4o")), "model_mismatch", 2),
        (b"\n", "empty_file", None),
    ],
)
def test_a_bad_input_file_uploads_processed_and_fails_the_batch(
    mockfiles: MockFilesServer, content: bytes, code: str, line: int | None
) -> None:
    with mockfiles.client(max_retries=0) as client:
        source = client.files.create(file=("in.jsonl", content), purpose="batch")
        assert source.status == "processed"
        batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
        assert batch.status == "validating"
        failed = client.batches.retrieve(batch.id)
    typed(failed.model_dump())
    assert failed.status == "failed" and failed.failed_at is not None and failed.errors is not None
    assert failed.errors.data and (failed.errors.data[0].code, failed.errors.data[0].line) == (code, line)
    assert failed.output_file_id is None and failed.error_file_id is None
    assert failed.request_counts is not None and failed.request_counts.total == 0


@pytest.mark.mockfiles(
    scenario={"batches": {"requests": [{"match": {"custom_id": "*"}, "status": 429}]}}, rate_limits=False
)
def test_a_batch_whose_lines_all_failed_is_completed_with_no_output_file(client: openai.OpenAI) -> None:
    source = client.files.create(file=("in.jsonl", chat_file("a", "b")), purpose="batch")
    done = poll(client, client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h").id)
    assert done.status == "completed" and done.output_file_id is None and done.error_file_id is not None
    assert done.request_counts is not None and (done.request_counts.completed, done.request_counts.failed) == (0, 2)
    assert [e["response"]["status_code"] for e in lines(client, done.error_file_id)] == [429, 429]


@pytest.mark.mockfiles(scenario="batch_failures", rate_limits=False)
def test_the_example_scenario_batch_failures(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    ids = ["ok-1", "bad-1", "quota-1", "slow-1", "fixed", "ok-2"]
    source = client.files.create(file=("in.jsonl", chat_file(*ids)), purpose="batch")
    batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    assert client.batches.retrieve(batch.id).status == "validating"
    mockfiles.advance(1 + 600 + 1)
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed"
    outputs, errors = lines(client, done.output_file_id), lines(client, done.error_file_id)
    assert [o["custom_id"] for o in outputs] == ["ok-1", "fixed", "ok-2"]
    assert outputs[1]["response"]["body"] == {"answer": 42}
    failures = {e["custom_id"]: e for e in errors}
    assert failures["bad-1"]["response"]["status_code"] == 500
    assert failures["quota-1"]["response"]["body"]["error"]["code"] == "rate_limit_exceeded"
    assert failures["slow-1"]["response"] is None and failures["slow-1"]["error"]["code"] == "request_timeout"


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False)
def test_dashscope_test_model_on_its_test_endpoint(mockfiles: MockFilesServer) -> None:
    line = {
        "custom_id": "t1",
        "method": "POST",
        "url": "/v1/chat/ds-test",
        "body": {"model": "batch-test-model", "messages": [{"role": "user", "content": "ping"}]},
    }
    base_url = mockfiles.url + "/compatible-mode/v1"
    with openai.OpenAI(base_url=base_url, api_key=mockfiles.api_key, max_retries=0) as client:
        source = client.files.create(file=("test.jsonl", jsonl(line)), purpose="batch")
        assert source.id.startswith("file-batch")
        batch = client.batches.create(
            input_file_id=source.id,
            endpoint="/v1/chat/ds-test",  # type: ignore[arg-type]
            completion_window="24h",
        )
        done = poll(client, batch.id)
        assert done.status == "completed" and done.model is None  # DashScope's Batch has no model
        (output,) = lines(client, done.output_file_id)
        assert output["response"]["body"]["object"] == "chat.completion"
        too_many = jsonl(*({**line, "custom_id": f"t{i}"} for i in range(101)))
        source = client.files.create(file=("test.jsonl", too_many), purpose="batch")
        batch = client.batches.create(
            input_file_id=source.id,
            endpoint="/v1/chat/ds-test",  # type: ignore[arg-type]
            completion_window="24h",
        )
        failed = poll(client, batch.id)
    assert failed.status == "failed" and failed.errors is not None
    assert failed.errors.data[0].code == "too_many_tasks"


@pytest.mark.mockfiles(rate_limits=False)
def test_output_expires_after_sets_the_result_files_lifetime(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    source = client.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")
    short = client.batches.create(
        input_file_id=source.id,
        endpoint=CHAT,
        completion_window="24h",
        output_expires_after={"anchor": "created_at", "seconds": 3600},
    )
    default = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    short_file = client.files.retrieve(client.batches.retrieve(short.id).output_file_id or "")
    default_file = client.files.retrieve(client.batches.retrieve(default.id).output_file_id or "")
    assert short_file.expires_at == short_file.created_at + 3600
    assert default_file.expires_at == default_file.created_at + 30 * 86_400
    mockfiles.advance(3600)
    with pytest.raises(openai.NotFoundError):
        client.files.content(short_file.id)
    assert client.batches.retrieve(short.id).output_file_id == short_file.id  # the batch still names it
