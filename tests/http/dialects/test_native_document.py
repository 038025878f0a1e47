"""The ``/api/v1/files`` document (purpose ``batch``): its curl example, run as written with its
JSONL file as written, gets the document's envelope; its refusals come in that envelope too; the
``dashscope`` SDK's form keeps the live service's shape (docs/dashscope.md)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import dashscope
import httpx
import openai
import pytest

from mockfiles import MockFilesServer

pytestmark = pytest.mark.mockfiles(profile="dashscope", rate_limits=False)

# The document's test_model.jsonl, byte for byte: its two lines, each ended by a newline.
TEST_MODEL_JSONL = (
    '{"custom_id":"1","method":"POST","url":"/v1/chat/completions","body":{"model":"batch-test-model",'
    '"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user",'
    '"content":"Hello! How can I help you?"}]}}\n'
    '{"custom_id":"2","method":"POST","url":"/v1/chat/completions","body":{"model":"batch-test-model",'
    '"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user",'
    '"content":"What is 2+2?"}]}}\n'
)
# The document's request, as written; {BASE_URL} and {token} are the placeholders it has.
CURL = (
    "curl --request POST '{BASE_URL}/api/v1/files' --header 'Authorization: Bearer {token}' \\\n"
    "  --header 'Content-Type: multipart/form-data' --form 'file=@\"test_model.jsonl\"' --form 'purpose=\"batch\"'"
)
ANSWER = re.compile(
    r'\{"success":true,"code":"200","message":"successful","data":\{"id":"(?P<id>[^"]+)","object":"file",'
    r'"bytes":(?P<bytes>\d+),"created_at":(?P<created>\d+),"filename":"test_model\.jsonl","purpose":"batch"\}\}'
)


def run_curl(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert shutil.which("curl"), "curl is required for these tests (.ci/run installs it)"
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=30)


def the_document(mockfiles: MockFilesServer, cwd: Path, token: str = "sk-qwen", purpose: str = "batch") -> str:
    """The document's curl example, run in ``cwd`` (where its test_model.jsonl is); its answer."""
    command = CURL.replace("{BASE_URL}", mockfiles.url).replace("{token}", token)
    command = command.replace('purpose="batch"', f'purpose="{purpose}"')
    done = run_curl(command + " --include", cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def split(answer: str) -> tuple[int, dict[str, str], str]:
    head, _, body = answer.replace("\r\n", "\n").partition("\n\n")
    status_line, *lines = head.splitlines()
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "test_model.jsonl").write_text(TEST_MODEL_JSONL, encoding="utf-8", newline="")
    return tmp_path


@pytest.mark.parametrize("profile", ["dashscope", "openai"])
def test_the_documents_example_gets_the_documents_answer(
    mockfiles: MockFilesServer, folder: Path, profile: str
) -> None:
    mockfiles.reset(profile=profile, rate_limits=False)
    status, headers, body = split(the_document(mockfiles, folder))
    assert status == 200 and headers["content-type"] == "application/json"
    found = ANSWER.fullmatch(body)
    assert found is not None, body
    assert int(found["bytes"]) == len(TEST_MODEL_JSONL.encode()) == 438
    file_id = found["id"]
    # an OpenAI File object, with the purpose's id: usable as a batch's input through compatible mode
    assert re.fullmatch(
        r"file-batch-[0-9a-f]{24}" if profile == "dashscope" else r"file-[1-9A-HJ-NP-Za-km-z]{22}", file_id
    )
    compat = openai.OpenAI(api_key="sk-qwen", base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0)
    stored = compat.files.retrieve(file_id)
    assert (stored.filename, stored.bytes, stored.purpose, stored.created_at) == (
        "test_model.jsonl",
        438,
        "batch",
        int(found["created"]),
    )
    entry = mockfiles.requests("files.create")[-1]
    assert (entry["dialect"], entry["purpose"], entry["file_id"], entry["size"]) == (
        "dashscope-native",
        "batch",
        file_id,
        438,
    )
    assert entry["sha256"] == __import__("hashlib").sha256(TEST_MODEL_JSONL.encode()).hexdigest()


def test_the_documents_file_runs_as_a_batch(mockfiles: MockFilesServer, folder: Path) -> None:
    file_id = json.loads(split(the_document(mockfiles, folder))[2])["data"]["id"]
    compat = openai.OpenAI(api_key="sk-qwen", base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0)
    batch = compat.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    assert batch.status == "validating" and compat.batches.retrieve(batch.id).request_counts.total == 2


def envelope_error(body: str) -> dict[str, object]:
    error = json.loads(body)
    assert list(error) == ["success", "code", "message", "data"], error
    assert error["success"] is False and error["data"] is None
    return error


def test_a_purpose_the_service_lacks_is_refused_in_the_envelope(mockfiles: MockFilesServer, folder: Path) -> None:
    status, headers, body = split(the_document(mockfiles, folder, purpose="nope"))
    error = envelope_error(body)
    assert status == 400 and error["code"] == "400"
    assert error["message"] == "Invalid value: 'nope'. Supported values are: 'file-extract', 'batch', and 'fine-tune'."
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-request-id"])  # the request id stays in its header
    assert mockfiles.requests("files.create")[-1]["file_id"] is None  # nothing stored


def test_a_wrong_file_type_is_refused_in_the_envelope(mockfiles: MockFilesServer, folder: Path) -> None:
    (folder / "notes.txt").write_text("not a batch")
    command = (
        CURL.replace("{BASE_URL}", mockfiles.url).replace("{token}", "sk-qwen").replace("test_model.jsonl", "notes.txt")
    )
    status, _, body = split(run_curl(command + " --include", folder).stdout)
    error = envelope_error(body)
    assert (status, error["code"]) == (400, "400") and "notes.txt" in str(error["message"])


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False, scenario={"limits": {"max_file_bytes": {"batch": 100}}})
def test_a_file_over_its_limit_is_refused_in_the_envelope_as_it_streams(
    mockfiles: MockFilesServer, folder: Path
) -> None:
    """The document's curl sends the file before the purpose: the refusal comes while the file streams."""
    status, _, body = split(the_document(mockfiles, folder))
    error = envelope_error(body)
    assert (status, error["code"]) == (413, "413")
    assert error["message"] == "Maximum content size limit (100) exceeded (438 bytes read)"


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False, scenario={"limits": {"max_files": 1}})
def test_a_full_account_is_refused_in_the_envelope(mockfiles: MockFilesServer, folder: Path) -> None:
    assert split(the_document(mockfiles, folder))[0] == 200
    status, _, body = split(the_document(mockfiles, folder))
    error = envelope_error(body)
    assert (status, error["code"]) == (400, "400")
    assert error["message"] == "Out of number, <1> of <1> files has been uploaded."


@pytest.mark.mockfiles(
    profile="dashscope",
    rate_limits=False,
    scenario={"faults": [{"match": {"endpoint": "files.create", "purpose": "batch"}, "status": 503, "times": 1}]},
)
def test_an_injected_fault_is_said_in_the_envelope(mockfiles: MockFilesServer, folder: Path) -> None:
    status, _, body = split(the_document(mockfiles, folder))
    error = envelope_error(body)
    assert (status, error["code"], error["message"]) == (503, "503", "The server is overloaded or not ready yet.")
    assert split(the_document(mockfiles, folder))[0] == 200


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False, scenario={"auth": {"keys": ["sk-right"]}})
def test_a_refusal_before_the_form_is_read_is_the_live_services(mockfiles: MockFilesServer, folder: Path) -> None:
    """A wrong key is refused before any of the form is read: in the live service's native shape."""
    status, _, body = split(the_document(mockfiles, folder, token="sk-wrong"))
    error = json.loads(body)
    assert status == 401 and list(error) == ["code", "message", "request_id"]
    assert (error["code"], error["message"]) == ("InvalidApiKey", "Invalid API-key provided.")


def test_the_dashscope_sdk_keeps_its_shape(
    mockfiles: MockFilesServer, monkeypatch: pytest.MonkeyPatch, folder: Path
) -> None:
    monkeypatch.setattr(dashscope, "base_http_api_url", mockfiles.url + "/api/v1")
    monkeypatch.setattr(dashscope, "api_key", "sk-qwen")
    uploaded = dashscope.Files.upload(file_path=str(folder / "test_model.jsonl"), purpose="fine-tune")
    assert uploaded.status_code == 200 and uploaded.output["failed_uploads"] == []
    [entry] = uploaded.output["uploaded_files"]
    assert entry["name"] == "test_model.jsonl"
    ids = [entry["file_id"]] + [
        dashscope.Files.upload(file_path=str(folder / "test_model.jsonl")).output["uploaded_files"][0]["file_id"]
        for _ in range(30)
    ]
    for file_id in ids:  # RFC 4122 version 4 UUIDs: version digit 4, variant digit 8, 9, a or b
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", file_id)
        assert (uuid.UUID(file_id).version, uuid.UUID(file_id).variant) == (4, uuid.RFC_4122)
    refused = dashscope.Files.get("nothing-here")
    assert (refused.status_code, refused.code) == (404, "NotFound")  # native errors: {code, message, request_id}


def test_other_forms_keep_the_live_services_shape(mockfiles: MockFilesServer) -> None:
    """Two ``file`` parts with a purpose (cnblogs' .NET SDK), or one with a description, are not the
    document's form: the live service's answer, per-file failures listed."""
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": "Bearer sk-qwen"}) as raw:
        two = raw.post(
            "/api/v1/files",
            files=[("file", ("a.jsonl", TEST_MODEL_JSONL.encode())), ("file", ("b.txt", b"x"))],
            data={"purpose": "batch"},
        ).json()
        described = raw.post(
            "/api/v1/files",
            files={"file": ("c.jsonl", TEST_MODEL_JSONL.encode())},
            data={"purpose": "batch", "description": "one"},
        ).json()
        without_purpose = raw.post("/api/v1/files", files={"file": ("d.txt", b"words")}).json()
    assert [u["name"] for u in two["data"]["uploaded_files"]] == ["a.jsonl"]
    assert [f["name"] for f in two["data"]["failed_uploads"]] == ["b.txt"]
    for body in (two, described, without_purpose):
        assert set(body) == {"data", "request_id"}
    assert uuid.UUID(described["data"]["uploaded_files"][0]["file_id"]).version == 4


def test_a_native_files_url_serves_its_bytes_without_the_api_key(mockfiles: MockFilesServer) -> None:
    """As the live service's storage URL (a signed OSS link) does; compatible mode's content route
    serves batch results only."""
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": "Bearer sk-qwen"}) as raw:
        file_id = raw.post("/api/v1/files", files={"files": ("doc.txt", b"the words")}).json()["data"]
        file_id = file_id["uploaded_files"][0]["file_id"]
        url = raw.get(f"/api/v1/files/{file_id}").json()["data"]["url"]
    assert url == f"{mockfiles.url}/_mockfiles/files/{file_id}/content"
    assert httpx.get(url).content == b"the words"
