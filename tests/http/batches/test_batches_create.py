"""POST /v1/batches over HTTP: the Batch object as the openai SDK types it (strictly), every refusal
of a create with its status, param and code, accounts, the journal and fault rules."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from openai.types import Batch

from mockfiles import MockFilesServer
from tests.support.batching import CHAT, chat_file, typed
from tests.support.helpers import upload


def batch_input(http: httpx.Client, content: bytes | None = None, purpose: str = "batch") -> str:
    response = upload(http, content or chat_file("a", "b"), purpose=purpose, filename="in.jsonl")
    assert response.status_code == 200, response.text
    file_id: str = response.json()["id"]
    return file_id


def create(http: httpx.Client, prefix: str = "/v1", **body: Any) -> httpx.Response:
    return http.post(f"{prefix}/batches", json=body)


def test_create_answers_a_validating_batch_the_sdk_types_strictly(
    client: openai.OpenAI, mockfiles: MockFilesServer
) -> None:
    source = client.files.create(file=("in.jsonl", chat_file("a", "b")), purpose="batch")
    assert source.status == "processed"
    batch = client.batches.create(
        input_file_id=source.id, endpoint=CHAT, completion_window="24h", metadata={"run": "nightly"}
    )
    raw = typed(batch.model_dump())  # every field of the SDK's Batch, no other, strictly typed
    assert raw["id"].startswith("batch_") and len(raw["id"]) == len("batch_") + 32
    assert (batch.object, batch.status, batch.endpoint, batch.input_file_id) == ("batch", "validating", CHAT, source.id)
    assert batch.completion_window == "24h" and batch.model == "gpt-4o-mini"
    assert batch.expires_at == batch.created_at + 86_400
    assert batch.metadata == {"run": "nightly"} and batch.errors is None
    assert batch.request_counts is not None and batch.request_counts.total == 0
    assert batch.output_file_id is None and batch.error_file_id is None and batch.in_progress_at is None


def test_the_wire_object_validates_with_the_sdk_model_in_strict_mode(http: httpx.Client) -> None:
    response = create(http, input_file_id=batch_input(http), endpoint=CHAT, completion_window="24h")
    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    assert "x-ratelimit-limit-requests" in response.headers
    Batch.model_validate_json(response.content, strict=True)
    typed(response.json())


async def test_create_with_the_async_client(aclient: openai.AsyncOpenAI) -> None:
    source = await aclient.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")
    batch = await aclient.batches.create(
        input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.status == "validating" and batch.input_file_id == source.id


LONG = "k" * 65


@pytest.mark.parametrize(
    ("body", "status", "param", "code", "message"),
    [
        ({"input_file_id": None}, 400, "input_file_id", "missing_required_parameter", None),
        ({"endpoint": None}, 400, "endpoint", "missing_required_parameter", "Missing required parameter: 'endpoint'."),
        ({"completion_window": None}, 400, "completion_window", "missing_required_parameter", None),
        ({"endpoint": 7}, 400, "endpoint", "invalid_type", None),
        ({"endpoint": "/v1/videos"}, 400, "endpoint", "invalid_value", None),
        ({"endpoint": "/v1/files"}, 400, "endpoint", "invalid_value", None),
        ({"completion_window": "48h"}, 400, "completion_window", "invalid_value", None),
        ({"metadata": "x"}, 400, "metadata", "invalid_type", None),
        ({"metadata": {str(i): "v" for i in range(17)}}, 400, "metadata", "object_above_max_properties", None),
        ({"metadata": {LONG: "v"}}, 400, f"metadata.{LONG}", "property_name_above_max_length", None),
        ({"metadata": {"n": 1}}, 400, "metadata.n", "invalid_type", None),
        ({"metadata": {"note": "v" * 513}}, 400, "metadata.note", "string_above_max_length", None),
        (
            {"output_expires_after": {"anchor": "created_at", "seconds": 60}},
            400,
            "output_expires_after.seconds",
            None,
            None,
        ),
        ({"output_expires_after": {"anchor": "now", "seconds": 3600}}, 400, "output_expires_after.anchor", None, None),
        ({"input_file_id": "file-nothere"}, 404, "input_file_id", None, "No such File object: file-nothere"),
    ],
)
def test_every_refusal_of_create(
    http: httpx.Client,
    mockfiles: MockFilesServer,
    body: dict[str, Any],
    status: int,
    param: str,
    code: str | None,
    message: str | None,
) -> None:
    full = {"input_file_id": batch_input(http), "endpoint": CHAT, "completion_window": "24h", **body}
    response = create(http, **{k: v for k, v in full.items() if v is not None})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    if code is not None:
        assert error["code"] == code
    if message is not None:
        assert error["message"] == message


def test_the_endpoint_refusal_names_the_supported_endpoints(http: httpx.Client) -> None:
    error = create(http, input_file_id=batch_input(http), endpoint="/v1/videos", completion_window="24h").json()[
        "error"
    ]
    assert error["message"].startswith("Invalid value: '/v1/videos'. Supported values are: '/v1/responses'")
    assert "'/v1/embeddings'" in error["message"]


def test_an_input_file_of_another_purpose_is_a_400(http: httpx.Client) -> None:
    other = batch_input(http, purpose="assistants")
    error = create(http, input_file_id=other, endpoint=CHAT, completion_window="24h").json()["error"]
    assert error["param"] == "input_file_id" and error["code"] == "invalid_value"
    assert (
        error["message"]
        == f"Invalid 'input_file_id': the file '{other}' has purpose 'assistants'; a batch needs purpose 'batch'."
    )


def test_a_body_that_is_not_a_json_object_is_a_400(http: httpx.Client) -> None:
    for content in (b"[1]", b"{", b"\xff"):
        response = http.post("/v1/batches", content=content, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "The request body must be a JSON object."


def test_the_sdk_raises_its_typed_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.batches.create(input_file_id="file-nothere", endpoint=CHAT, completion_window="24h")
    source = client.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")
    with pytest.raises(openai.BadRequestError) as info:
        client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="48h")  # type: ignore[arg-type]
    assert info.value.param == "completion_window"  # type: ignore[attr-defined]


def test_another_account_cannot_use_the_input_file(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    source = batch_input(http)
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": "Bearer sk-other"}) as other:
        response = create(other, input_file_id=source, endpoint=CHAT, completion_window="24h")
    assert response.status_code == 404 and response.json()["error"]["param"] == "input_file_id"


def test_the_journal_names_the_endpoint_and_the_batch_created(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    source = batch_input(http)
    batch = create(http, input_file_id=source, endpoint=CHAT, completion_window="24h").json()
    create(http, input_file_id="file-nothere", endpoint=CHAT, completion_window="24h")
    made, refused = mockfiles.requests("batches.create")
    assert (made["status"], made["batch_id"], made["input_file_id"]) == (200, batch["id"], source)
    assert (refused["status"], refused["batch_id"], refused["input_file_id"]) == (404, None, "file-nothere")


@pytest.mark.mockfiles(scenario={"faults": [{"match": {"endpoint": "batches.create"}, "status": 503, "times": 1}]})
def test_a_fault_rule_matches_batches_create(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    source = batch_input(http)
    first = create(http, input_file_id=source, endpoint=CHAT, completion_window="24h")
    second = create(http, input_file_id=source, endpoint=CHAT, completion_window="24h")
    assert (first.status_code, second.status_code) == (503, 200)
    assert [e["rule"] for e in mockfiles.requests("batches.create")] == ["faults[0]", None]


@pytest.mark.mockfiles(profile="dashscope")
def test_dashscope_compatible_create(mockfiles: MockFilesServer) -> None:
    base_url = mockfiles.url + "/compatible-mode/v1"
    with openai.OpenAI(base_url=base_url, api_key=mockfiles.api_key, max_retries=0) as client:
        source = client.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")
        assert source.id.startswith("file-batch")
        batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
        with pytest.raises(openai.BadRequestError) as info:
            client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="337h")  # type: ignore[arg-type]
    prefix, uuid = batch.id[:6], batch.id[6:]
    assert prefix == "batch_" and [len(p) for p in uuid.split("-")] == [8, 4, 4, 4, 12]
    body = info.value.body
    assert isinstance(body, dict) and body.get("param") == "completion_window"
    response = info.value.response
    assert "request_id" in response.json() and not any(h.startswith("x-ratelimit") for h in response.headers)


@pytest.mark.mockfiles(scenario={"processing": {"batch": {"delay": "10s"}}})
def test_an_input_file_still_being_processed_is_a_400(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    source = batch_input(http)
    error = create(http, input_file_id=source, endpoint=CHAT, completion_window="24h").json()["error"]
    assert (error["param"], error["code"]) == ("input_file_id", "invalid_value")
    assert "still being processed" in error["message"]
    mockfiles.advance(10)
    assert create(http, input_file_id=source, endpoint=CHAT, completion_window="24h").status_code == 200
