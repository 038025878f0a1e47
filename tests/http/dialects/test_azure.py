"""The Azure OpenAI dialect through the openai SDK's AzureOpenAI and AsyncAzureOpenAI, OpenAI(base_url=…/openai/v1),
httpx and curl: routes with api-version, api-key or bearer keys, Azure's file states and error envelope, the quota
of files without expiry, expires_after bounds, batches on deployments that do not expire, and Uploads."""

from __future__ import annotations

import json
import subprocess

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.node_clients import HERE, NODE, requires_node

VERSION = {"api-version": "2024-10-21"}
DEPLOYMENTS = {"azure": {"deployments": ["gpt-4o-batch"]}}


def batch_line(custom_id: str, model: str = "gpt-4o-batch", url: str = "/chat/completions") -> bytes:
    body = {"model": model, "messages": [{"role": "user", "content": f"say {custom_id}"}]}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}).encode() + b"\n"


@pytest.fixture(scope="module")
def azure() -> MockFilesServer:
    with MockFilesServer(profile="azure", rate_limits=False, scenario=DEPLOYMENTS) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(azure: MockFilesServer) -> None:
    azure.reset(profile="azure", rate_limits=False, scenario=DEPLOYMENTS)


def test_files_through_azure_openai(azure: MockFilesServer) -> None:
    client = azure.azure_client()
    f = client.files.create(file=("notes.txt", b"hello azure"), purpose="assistants")
    assert f.id.startswith("file-") and len(f.id) == 37 and f.status == "processed"
    assert client.files.retrieve(f.id).filename == "notes.txt"
    assert [x.id for x in client.files.list()] == [f.id]
    assert client.files.content(f.id).read() == b"hello azure"
    assert client.files.delete(f.id).deleted is True
    with pytest.raises(openai.NotFoundError) as caught:
        client.files.retrieve(f.id)
    assert caught.value.body == {"code": "404", "message": f"No such File object: {f.id}"}


def test_the_upload_is_201_with_location_and_azure_headers(azure: MockFilesServer) -> None:
    r = httpx.post(
        azure.url + "/openai/files",
        params=VERSION,
        headers={"api-key": "sk-a"},
        files={"file": ("x.txt", b"x")},
        data={"purpose": "assistants"},
    )
    assert r.status_code == 201
    assert r.headers["location"] == f"{azure.url}/openai/files/{r.json()['id']}"
    assert r.headers["apim-request-id"] == r.headers["x-request-id"] and len(r.headers["apim-request-id"]) == 36
    assert "openai-version" not in r.headers


@pytest.mark.parametrize("query", [{}, {"api-version": "1999-01-01"}, {"api-version": ""}])
def test_a_missing_or_unknown_api_version_is_resource_not_found(azure: MockFilesServer, query: dict[str, str]) -> None:
    r = httpx.get(azure.url + "/openai/files", params=query, headers={"api-key": "sk-a"})
    assert r.status_code == 404 and r.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_keys_by_api_key_or_bearer_are_one_account(azure: MockFilesServer) -> None:
    made = httpx.post(
        azure.url + "/openai/files",
        params=VERSION,
        headers={"api-key": "sk-same"},
        files={"file": ("x.txt", b"x")},
        data={"purpose": "assistants"},
    ).json()
    listed = httpx.get(azure.url + "/openai/v1/files", headers={"Authorization": "Bearer sk-same"}).json()
    assert [f["id"] for f in listed["data"]] == [made["id"]]
    other = httpx.get(azure.url + "/openai/files", params=VERSION, headers={"api-key": "sk-other"}).json()
    assert other["data"] == []


def test_no_key_is_azures_access_denied(azure: MockFilesServer) -> None:
    r = httpx.get(azure.url + "/openai/files", params=VERSION)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "401"
    assert r.json()["error"]["message"].startswith("Access denied due to invalid subscription key")


def test_files_go_pending_running_processed_on_the_clock(azure: MockFilesServer) -> None:
    azure.reset(
        profile="azure", rate_limits=False, scenario={**DEPLOYMENTS, "processing": {"default": {"delay": "10s"}}}
    )
    client = azure.azure_client()
    f = client.files.create(file=("a.jsonl", batch_line("1")), purpose="batch")
    assert f.status == "pending"
    azure.advance(6)
    assert client.files.retrieve(f.id).status == "running"
    with pytest.raises(openai.BadRequestError) as caught:
        client.batches.create(input_file_id=f.id, endpoint="/chat/completions", completion_window="24h")
    assert caught.value.body == {
        "code": "invalidPayload",
        "message": f"The input file '{f.id}' is in 'running' state. Only files with status 'Processed' are accepted "
        "for batch inferencing. Please check the file status and try again",
    }
    azure.advance(5)
    assert client.files.wait_for_processing(f.id, poll_interval=0.01).status == "processed"


def test_the_quota_of_files_without_expiry(azure: MockFilesServer) -> None:
    client = azure.azure_client()
    for n in range(500):
        client.files.create(file=(f"f{n}.txt", b"x"), purpose="assistants")
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("one-more.txt", b"x"), purpose="assistants")
    assert caught.value.status_code == 400
    assert caught.value.body == {
        "code": "quotaExceeded",
        "message": "The quota for files without expiry is reached. The maximum is 500.",
    }
    kept = client.files.create(
        file=("expiring.txt", b"x"), purpose="assistants", expires_after={"anchor": "created_at", "seconds": 1209600}
    )
    assert kept.expires_at == kept.created_at + 1209600


def test_expires_after_below_the_minimum_is_refused(azure: MockFilesServer) -> None:
    client = azure.azure_client()
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(
            file=("x.txt", b"x"), purpose="assistants", expires_after={"anchor": "created_at", "seconds": 3600}
        )
    assert caught.value.body["code"] == "integer_below_min_value"
    assert "greater than or equal to 259200" in caught.value.body["message"]
    three_days = client.files.create(
        file=("x.txt", b"x"), purpose="assistants", expires_after={"anchor": "created_at", "seconds": 259200}
    )
    assert three_days.expires_at == three_days.created_at + 259200


def test_the_batch_pipeline_does_not_expire(azure: MockFilesServer) -> None:
    client = azure.azure_client()
    f = client.files.create(file=("in.jsonl", batch_line("a") + batch_line("b")), purpose="batch")
    batch = client.batches.create(input_file_id=f.id, endpoint="/chat/completions", completion_window="24h")
    assert batch.id.startswith("batch_") and batch.status == "validating"
    azure.advance(3 * 86400)  # past 24 h: Azure lets a batch run on
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.request_counts.completed == 2
    assert done.output_file_id is not None
    outputs = [json.loads(line) for line in client.files.content(done.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in outputs] == ["a", "b"]
    assert outputs[0]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: say a"


def test_an_unknown_deployment_is_operation_not_supported(azure: MockFilesServer) -> None:
    client = azure.azure_client()
    f = client.files.create(file=("in.jsonl", batch_line("a", model="gpt-4o")), purpose="batch")
    with pytest.raises(openai.BadRequestError) as caught:
        client.batches.create(input_file_id=f.id, endpoint="/chat/completions", completion_window="24h")
    assert caught.value.body["code"] == "OperationNotSupported"
    assert caught.value.body["message"].startswith(
        "The chatCompletion operation does not work with the specified model, gpt-4o. Please choose different model"
    )


def test_the_v1_routes_through_the_plain_openai_client(azure: MockFilesServer) -> None:
    client = openai.OpenAI(base_url=azure.url + "/openai/v1", api_key="sk-v1")
    f = client.files.create(file=("a.jsonl", batch_line("x")), purpose="batch")
    assert client.files.retrieve(f.id).status == "processed"
    batch = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert client.batches.retrieve(batch.id).input_file_id == f.id


def test_uploads_in_parts(azure: MockFilesServer) -> None:
    client = azure.azure_client()
    data = b"line\n" * 300_000
    done = client.uploads.upload_file_chunked(
        file=data,
        filename="big.jsonl",
        bytes=len(data),
        mime_type="text/jsonl",
        purpose="assistants",
        part_size=500_000,
    )
    assert done.status == "completed" and done.file is not None
    assert client.files.content(done.file.id).read() == data


def test_rate_limits_say_azures_words_and_retry_after_ms(azure: MockFilesServer) -> None:
    azure.reset(
        profile="azure", rate_limits=True, scenario={**DEPLOYMENTS, "rate_limits": {"query": 2, "window": "1m"}}
    )
    headers = {"api-key": "sk-busy"}
    answers = [httpx.get(azure.url + "/openai/files", params=VERSION, headers=headers) for _ in range(3)]
    refused = [r for r in answers if r.status_code == 429]
    assert refused
    error = refused[0].json()["error"]
    assert error["code"] == "429" and "exceeded call rate limit" in error["message"]
    assert int(refused[0].headers["retry-after-ms"]) > 0
    assert "x-ratelimit-remaining-requests" in answers[0].headers


async def test_async_azure_openai(azure: MockFilesServer) -> None:
    client = azure.async_azure_client()
    f = await client.files.create(file=("in.jsonl", batch_line("z")), purpose="batch")
    f = await client.files.wait_for_processing(f.id, poll_interval=0.01)
    batch = await client.batches.create(input_file_id=f.id, endpoint="/chat/completions", completion_window="24h")
    azure.advance(3600)
    done = await client.batches.retrieve(batch.id)
    assert done.status == "completed"
    assert [b.id async for b in client.batches.list()] == [batch.id]
    await client.close()


def test_curl_as_azures_documentation_shows_it(azure: MockFilesServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "training.jsonl"
    path.write_bytes(batch_line("c"))
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "-X",
            "POST",
            f"{azure.url}/openai/files?api-version=2024-10-21",
            "-H",
            "api-key: sk-curl",
            "-F",
            "purpose=batch",
            "-F",
            f"file=@{path}",
            "-w",
            "\n%{http_code}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    body, status = out.rsplit("\n", 1)
    assert status == "201" and json.loads(body)["purpose"] == "batch"


@requires_node
def test_the_node_sdks_azure_openai(azure: MockFilesServer) -> None:
    assert NODE is not None
    spec = {"endpoint": azure.url, "api_key": "sk-node", "jsonl": (batch_line("n1") + batch_line("n2")).decode()}
    done = subprocess.run(
        [NODE, str(HERE / "azure.mjs"), json.dumps(spec)], capture_output=True, text=True, timeout=120, cwd=HERE
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["input"]["id"].startswith("file-") and seen["ready"]["status"] == "processed"
    assert seen["batch"]["status"] == "completed" and [line["custom_id"] for line in seen["lines"]] == ["n1", "n2"]
    assert seen["refused"] == {"status": 404, "error": {"code": "404", "message": "Resource not found"}}
