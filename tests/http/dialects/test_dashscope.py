"""DashScope / Qwen Cloud: compatible mode and the native API, with the docs' examples taken
literally (openai SDK, curl) and the official ``dashscope`` SDK."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dashscope
import httpx
import openai
import pytest
from dashscope.client.base_api import FileUploadMixin

from mockfiles import MockFilesServer
from tests.support.helpers import batch_file

pytestmark = pytest.mark.mockfiles(profile="dashscope", rate_limits=False)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FT_LINE = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})


@pytest.fixture
def compat(mockfiles: MockFilesServer) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-qwen", base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0)


@pytest.fixture
def raw(mockfiles: MockFilesServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": "Bearer sk-qwen"}) as c:
        yield c


@pytest.fixture
def sdk(mockfiles: MockFilesServer, monkeypatch: pytest.MonkeyPatch) -> type[dashscope.Files]:
    monkeypatch.setattr(dashscope, "base_http_api_url", mockfiles.url + "/api/v1")
    monkeypatch.setattr(dashscope, "api_key", "sk-qwen")
    return dashscope.Files


def jsonl_file(tmp_path: Path, name: str = "train.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(FT_LINE + "\n" + FT_LINE + "\n")
    return path


# --- compatible mode ----------------------------------------------------------------------------


def test_docs_python_example(compat: openai.OpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("test.txt").write_text("This is a test file for Qwen-Long.")
    file_object = compat.files.create(file=Path("test.txt"), purpose="file-extract")  # type: ignore[arg-type]
    printed = json.loads(file_object.model_dump_json())
    assert printed["object"] == "file" and printed["status"] == "processed" and printed["status_details"] is None
    assert printed["filename"] == "test.txt" and printed["purpose"] == "file-extract" and printed["bytes"] == 34
    assert re.fullmatch(r"file-fe-[0-9a-f]{24}", printed["id"])


def test_compatible_wire_shapes(raw: httpx.Client) -> None:
    created = raw.post("/compatible-mode/v1/files", files={"file": ("a.txt", b"abc")}, data={"purpose": "file-extract"})
    assert created.status_code == 200
    body = created.json()
    assert set(body) == {"id", "object", "bytes", "created_at", "filename", "purpose", "status", "status_details"}
    assert UUID.fullmatch(created.headers["x-request-id"])
    assert created.headers["req-cost-time"].isdigit()
    assert not any(h.startswith(("openai-", "x-ratelimit")) for h in created.headers)
    listed = raw.get("/compatible-mode/v1/files").json()
    assert listed == {"object": "list", "data": [body], "has_more": False}
    assert raw.get(f"/compatible-mode/v1/files/{body['id']}").json() == body
    refused = raw.get(f"/compatible-mode/v1/files/{body['id']}/content")  # only batch results are downloadable
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "file_id"
    assert raw.delete(f"/compatible-mode/v1/files/{body['id']}").json() == {
        "id": body["id"],
        "object": "file",
        "deleted": True,
    }


def test_batch_ids_and_purposes(compat: openai.OpenAI) -> None:
    batch = compat.files.create(file=("in.jsonl", batch_file()), purpose="batch")
    assert re.fullmatch(r"file-batch-[0-9a-f]{24}", batch.id)
    with pytest.raises(openai.BadRequestError) as info:
        compat.files.create(file=("t.jsonl", FT_LINE.encode()), purpose="fine-tune")
    assert info.value.message.endswith("'purpose' must be one of 'file-extract', 'batch'")
    assert info.value.body["param"] == "purpose"  # type: ignore[index]


def test_create_after_and_before_filters(mockfiles: MockFilesServer, compat: openai.OpenAI) -> None:
    mockfiles.use_scenario({"profile": "dashscope", "rate_limits": False})
    first = compat.files.create(file=("a.txt", b"1"), purpose="file-extract")  # type: ignore[arg-type]
    mockfiles.advance(3 * 86400)
    second = compat.files.create(file=("b.txt", b"2"), purpose="file-extract")  # type: ignore[arg-type]
    from datetime import datetime, timedelta, timezone

    day = datetime.fromtimestamp(second.created_at, timezone(timedelta(hours=8))).strftime("%Y%m%d")
    after = compat.files.list(extra_query={"create_after": day})
    assert [f.id for f in after] == [second.id]
    before = compat.files.list(extra_query={"create_before": day + "000000"})
    assert [f.id for f in before] == [first.id]
    with pytest.raises(openai.BadRequestError) as info:
        compat.files.list(extra_query={"create_after": "yesterday"})
    assert info.value.body["param"] == "create_after"  # type: ignore[index]


def test_compatible_errors_carry_request_id_and_dashscope_wording(mockfiles: MockFilesServer) -> None:
    no_key = httpx.get(mockfiles.url + "/compatible-mode/v1/files")
    body = no_key.json()
    assert no_key.status_code == 401
    assert body["error"] == {
        "message": "Incorrect API key provided. For details, see: "
        "https://help.aliyun.com/zh/model-studio/error-code#apikey-error",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
    assert body["request_id"] == no_key.headers["x-request-id"] and UUID.fullmatch(body["request_id"])
    missing = httpx.get(mockfiles.url + "/compatible-mode/v1/files/file-fe-0", headers={"Authorization": "Bearer k"})
    assert missing.status_code == 404 and set(missing.json()) == {"error", "request_id"}


@pytest.mark.mockfiles(profile="dashscope", rate_limits=True)
def test_compatible_rate_limit_429(raw: httpx.Client) -> None:
    responses = [
        raw.post("/compatible-mode/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "file-extract"})
        for _ in range(4)
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    refused = responses[-1]
    assert refused.json()["error"] == {
        "message": "You have exceeded your current request limit. For details, see: "
        "https://help.aliyun.com/zh/model-studio/error-code#rate-limit",
        "type": "limit_requests",
        "param": None,
        "code": "limit_requests",
    }
    assert int(refused.headers["retry-after-ms"]) <= 1000
    assert "x-ratelimit-limit-requests" not in refused.headers


@pytest.mark.mockfiles(profile="dashscope", scenario={"limits": {"max_file_bytes": {"file-extract": "1KiB"}}})
def test_compatible_size_limit_and_types(compat: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        compat.files.create(file=("big.txt", b"x" * 2000), purpose="file-extract")  # type: ignore[arg-type]
    assert info.value.status_code == 413
    with pytest.raises(openai.BadRequestError) as info:
        compat.files.create(file=("tool.exe", b"MZ"), purpose="file-extract")  # type: ignore[arg-type]
    assert info.value.body["code"] == "invalid_file_format"  # type: ignore[index]


# --- native: curl, and other clients' `file` field ----------------------------------------------------


def test_sdk_form_with_curl(mockfiles: MockFilesServer, tmp_path: Path) -> None:
    """The form of DashScope's own upload docs (``files`` parts, ``purpose``, ``descriptions``), by curl."""
    path = tmp_path / "file.txt"
    path.write_text("Qwen reads this.")
    assert shutil.which("curl"), "curl is required for these tests (.ci/run installs it)"
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "--location",
            "--request",
            "POST",
            f"{mockfiles.url}/api/v1/files",
            "--header",
            "Authorization: Bearer sk-qwen",
            "--header",
            "Content-Type: multipart/form-data",
            "--form",
            f'files=@"{path}"',
            "--form",
            'purpose="file-extract"',
            "--form",
            'descriptions="a document for Qwen-Long"',
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    body = json.loads(out.stdout)
    # The live service's answer (recorded: cnblogs/dashscope-sdk RawHttpData/upload-file-nosse)
    assert set(body) == {"data", "request_id"} and UUID.fullmatch(body["request_id"])
    assert body["data"]["failed_uploads"] == []
    [entry] = body["data"]["uploaded_files"]
    assert entry["name"] == "file.txt" and UUID.fullmatch(entry["file_id"])
    got = httpx.get(f"{mockfiles.url}/api/v1/files/{entry['file_id']}", headers={"Authorization": "Bearer sk-qwen"})
    assert (got.json()["data"]["purpose"], got.json()["data"]["size"]) == ("file-extract", 16)


def test_several_file_parts_with_a_description_each(raw: httpx.Client) -> None:
    files = [("file", ("a.txt", b"first")), ("file", ("b.txt", b"second"))]
    body = raw.post(
        "/api/v1/files", files=files, data={"purpose": "file-extract", "description": ["one", "two"]}
    ).json()
    assert [u["name"] for u in body["data"]["uploaded_files"]] == ["a.txt", "b.txt"]
    listed = {f["name"]: f["description"] for f in raw.get("/api/v1/files").json()["data"]["files"]}
    assert listed == {"a.txt": "one", "b.txt": "two"}


def test_native_errors_use_the_envelope(mockfiles: MockFilesServer, raw: httpx.Client) -> None:
    bad_purpose = raw.post("/api/v1/files", files={"files": ("a.txt", b"x")}, data={"purpose": "nope"})
    assert bad_purpose.status_code == 400
    body = bad_purpose.json()
    # As recorded live (RawHttpData/auth-error-nosse): code, message, request_id, and nothing else
    assert set(body) == {"code", "message", "request_id"}
    assert body["code"] == "InvalidParameter" and "nope" in body["message"]
    assert body["request_id"] == bad_purpose.headers["x-request-id"]
    no_key = httpx.post(mockfiles.url + "/api/v1/files", files={"file": ("a.txt", b"x")})
    assert no_key.status_code == 401
    assert no_key.json() | {"request_id": None} == {
        "code": "InvalidApiKey",
        "message": "Invalid API-key provided.",
        "request_id": None,
    }
    gone = raw.get("/api/v1/files/file-fe-000")
    assert gone.status_code == 404 and set(gone.json()) == {"code", "message", "request_id"}
    assert gone.json()["code"] == "NotFound"
    assert raw.put("/api/v1/files").json()["code"] == "MethodNotAllowed"


# --- native: the dashscope SDK -----------------------------------------------------------------------


def test_sdk_upload_list_get_delete(sdk: type[dashscope.Files], tmp_path: Path) -> None:
    uploaded = sdk.upload(file_path=str(jsonl_file(tmp_path)), purpose="fine-tune", description="training data")
    assert uploaded.status_code == 200
    assert UUID.fullmatch(uploaded.request_id)
    assert uploaded.output["failed_uploads"] == []
    [entry] = uploaded.output["uploaded_files"]
    assert entry["name"] == "train.jsonl" and UUID.fullmatch(entry["file_id"])
    file_id = entry["file_id"]

    listed = sdk.list(page=1, page_size=10)
    assert listed.status_code == 200
    assert (listed.output["total"], listed.output["page_no"], listed.output["page_size"]) == (1, 1, 10)
    [item] = listed.output["files"]
    assert set(item) == {
        "id",
        "name",
        "description",
        "size",
        "md5",
        "region",
        "file_id",
        "url",
        "user_id",
        "api_key_id",
        "gmt_create",
    }
    assert (item["file_id"], item["name"], item["description"]) == (file_id, "train.jsonl", "training data")
    assert item["md5"] == __import__("hashlib").md5(jsonl_file(tmp_path).read_bytes()).hexdigest()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", item["gmt_create"])

    got = sdk.get(file_id)
    assert got.status_code == 200 and got.output["purpose"] == "fine-tune" and got.output["size"] == item["size"]
    assert (
        httpx.get(got.output["url"], headers={"Authorization": "Bearer sk-qwen"}).content
        == jsonl_file(tmp_path).read_bytes()
    )

    deleted = sdk.delete(file_id)
    assert deleted.status_code == 200 and deleted.output == {}
    missing = sdk.get(file_id)
    assert (missing.status_code, missing.code) == (404, "NotFound")
    assert missing.message == f"No such File object: {file_id}"


def test_sdk_list_pages(sdk: type[dashscope.Files], tmp_path: Path) -> None:
    path = jsonl_file(tmp_path)
    ids = [sdk.upload(file_path=str(path)).output["uploaded_files"][0]["file_id"] for _ in range(5)]
    pages = [sdk.list(page=n, page_size=2).output for n in (1, 2, 3, 4)]
    assert [[f["file_id"] for f in p["files"]] for p in pages] == [ids[4:2:-1], ids[2:0:-1], ids[:1], []]
    assert {p["total"] for p in pages} == {5}
    bad = sdk.list(page=0, page_size=2)
    assert (bad.status_code, bad.code) == (400, "InvalidParameter")


@pytest.mark.mockfiles(profile="dashscope", scenario={"auth": {"keys": ["sk-right"]}})
def test_sdk_bad_key(sdk: type[dashscope.Files]) -> None:
    response = sdk.list()
    assert (response.status_code, response.code, response.message) == (
        401,
        "InvalidApiKey",
        "Invalid API-key provided.",
    )
    assert UUID.fullmatch(response.request_id)


def upload_many(names: list[str], content: bytes = FT_LINE.encode()) -> dict:
    files = [("files", (name, content, None)) for name in names]
    return FileUploadMixin.upload.__func__(dashscope.Files, files=files, descriptions=[f"d-{n}" for n in names]).output  # type: ignore[attr-defined]


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False, scenario={"limits": {"max_files": 3}})
def test_sdk_repeated_files_and_too_many(sdk: type[dashscope.Files]) -> None:
    output = upload_many(["a.jsonl", "b.jsonl", "c.jsonl", "d.jsonl"])
    assert [u["name"] for u in output["uploaded_files"]] == ["a.jsonl", "b.jsonl", "c.jsonl"]
    assert output["failed_uploads"] == [
        {
            "name": "d.jsonl",
            "code": "BadRequest.TooMany",
            "message": "Out of number, <3> of <3> files has been uploaded.",
        }
    ]
    descriptions = {f["name"]: f["description"] for f in sdk.list().output["files"]}
    assert descriptions == {"a.jsonl": "d-a.jsonl", "b.jsonl": "d-b.jsonl", "c.jsonl": "d-c.jsonl"}


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False, scenario={"limits": {"max_total_bytes": 200}})
def test_sdk_too_large_for_the_account(sdk: type[dashscope.Files]) -> None:
    output = upload_many(["a.jsonl", "b.jsonl", "c.jsonl"])
    assert len(output["uploaded_files"]) == 2
    [failed] = output["failed_uploads"]
    assert failed["code"] == "BadRequest.TooLarge"
    assert re.fullmatch(r"Out of space, <\d+> B of <200> B storage space has been used\.", failed["message"])


def test_sdk_per_file_failure(sdk: type[dashscope.Files]) -> None:
    output = upload_many(["ok.jsonl", "empty.txt"], content=b"")
    assert output["uploaded_files"] == []
    assert [(f["name"], f["code"]) for f in output["failed_uploads"]] == [
        ("ok.jsonl", "InvalidParameter"),
        ("empty.txt", "InvalidParameter"),
    ]


def test_sdk_uploads_a_document_for_file_extract(sdk: type[dashscope.Files], tmp_path: Path) -> None:
    """The SDK sends no purpose: a document goes through (as it does on the live service) as file-extract."""
    doc = tmp_path / "doc.txt"
    doc.write_text("Qwen-Long reads this.")
    uploaded = sdk.upload(file_path=str(doc), purpose="file-extract")
    assert uploaded.status_code == 200 and uploaded.output["failed_uploads"] == []
    file_id = uploaded.output["uploaded_files"][0]["file_id"]
    got = sdk.get(file_id).output
    assert (got["name"], got["purpose"], got["size"]) == ("doc.txt", "file-extract", 21)


def test_sdk_without_purpose_takes_any_file_type_each_as_its_purpose(sdk: type[dashscope.Files], compat) -> None:
    output = upload_many(["train.jsonl", "talk.mp3", "scan.pdf"])
    assert output["failed_uploads"] == []
    ids = {u["name"]: u["file_id"] for u in output["uploaded_files"]}
    purposes = {name: compat.files.retrieve(fid).purpose for name, fid in ids.items()}
    assert purposes == {"train.jsonl": "fine-tune", "talk.mp3": "file-extract", "scan.pdf": "file-extract"}
    # nothing the service was not told is checked: no content check, so every file is processed
    assert {compat.files.retrieve(fid).status for fid in ids.values()} == {"processed"}


@pytest.mark.mockfiles(
    profile="dashscope", rate_limits=False, scenario={"limits": {"max_file_bytes": {"file-extract": 10}}}
)
def test_sdk_without_purpose_keeps_the_implied_purposes_size_limit(sdk: type[dashscope.Files]) -> None:
    output = upload_many(["small.txt", "big.txt"], content=b"x" * 11)
    assert output["uploaded_files"] == []
    assert {f["code"] for f in output["failed_uploads"]} == {"BadRequest.FileTooLarge"}
    assert upload_many(["small.txt"], content=b"x" * 10)["uploaded_files"][0]["name"] == "small.txt"


@pytest.mark.mockfiles(profile="openai", rate_limits=False)
def test_sdk_without_purpose_under_the_openai_profile(sdk: type[dashscope.Files], compat) -> None:
    ids = {u["name"]: u["file_id"] for u in upload_many(["train.jsonl", "doc.txt"])["uploaded_files"]}
    assert {name: compat.files.retrieve(fid).purpose for name, fid in ids.items()} == {
        "train.jsonl": "fine-tune",
        "doc.txt": "user_data",  # the openai profile has no file-extract
    }


def test_sdk_with_a_purpose_checks_its_types(raw: httpx.Client) -> None:
    files = [("files", ("ok.jsonl", FT_LINE.encode())), ("files", ("notes.txt", b"words"))]
    body = raw.post("/api/v1/files", files=files, data={"purpose": "fine-tune"}).json()
    assert [u["name"] for u in body["data"]["uploaded_files"]] == ["ok.jsonl"]
    assert [(f["name"], f["code"]) for f in body["data"]["failed_uploads"]] == [("notes.txt", "InvalidParameter")]


@pytest.mark.mockfiles(profile="dashscope", rate_limits=True)
def test_native_rate_limit(sdk: type[dashscope.Files]) -> None:
    codes = [sdk.list().code for _ in range(11)]
    assert codes[:10] == [None] * 10
    assert codes[10] == "Throttling.RateQuota"
    assert sdk.list().message == "Requests rate limit exceeded, please try again later."


# --- one store behind every dialect ------------------------------------------------------------------


def test_one_store_behind_every_dialect(mockfiles: MockFilesServer, compat: openai.OpenAI, sdk, tmp_path: Path) -> None:
    via_compat = compat.files.create(file=("doc.txt", b"shared"), purpose="file-extract")  # type: ignore[arg-type]
    via_openai = openai.OpenAI(api_key="sk-qwen", base_url=mockfiles.base_url).files.retrieve(via_compat.id)
    assert via_openai.id == via_compat.id
    assert sdk.get(via_compat.id).output["file_id"] == via_compat.id
    native_id = sdk.upload(file_path=str(jsonl_file(tmp_path))).output["uploaded_files"][0]["file_id"]
    assert compat.files.retrieve(native_id).purpose == "fine-tune"
    assert via_openai_client(mockfiles).files.content(native_id).read() == jsonl_file(tmp_path).read_bytes()
    assert {f.id for f in compat.files.list()} == {via_compat.id, native_id}
    compat.files.delete(native_id)
    assert sdk.get(native_id).status_code == 404
    dialects = {e["dialect"] for e in mockfiles.requests()}
    assert dialects == {"openai", "dashscope-compatible", "dashscope-native"}


def via_openai_client(mockfiles: MockFilesServer) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-qwen", base_url=mockfiles.base_url, max_retries=0)


def test_isolation_in_every_dialect(mockfiles: MockFilesServer, compat: openai.OpenAI, raw: httpx.Client) -> None:
    mine = compat.files.create(file=("doc.txt", b"mine"), purpose="file-extract")  # type: ignore[arg-type]
    other = {"Authorization": "Bearer sk-other"}
    for path in (
        f"/v1/files/{mine.id}",
        f"/compatible-mode/v1/files/{mine.id}",
        f"/api/v1/files/{mine.id}",
        f"/compatible-mode/v1/files/{mine.id}/content",
    ):
        assert httpx.get(mockfiles.url + path, headers=other).status_code == 404, path
    assert httpx.get(mockfiles.url + "/api/v1/files", headers=other).json()["data"]["total"] == 0


@pytest.mark.mockfiles(profile="dashscope", rate_limits=True)
def test_rate_limits_are_shared_across_dialects(raw: httpx.Client) -> None:
    statuses = [
        raw.post("/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "file-extract"}).status_code,
        raw.post(
            "/compatible-mode/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "file-extract"}
        ).status_code,
        raw.post("/api/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "file-extract"}).status_code,
        raw.post(
            "/compatible-mode/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "file-extract"}
        ).status_code,
    ]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.mockfiles(
    profile="dashscope",
    rate_limits=False,
    scenario={"faults": [{"match": {"dialect": "dashscope-native"}, "status": 503}]},
)
def test_faults_can_select_a_dialect(mockfiles: MockFilesServer, sdk, compat: openai.OpenAI) -> None:
    assert list(compat.files.list()) == []
    response = sdk.list()
    assert (response.status_code, response.code) == (503, "ServiceUnavailable")
    entry = mockfiles.requests()[-1]
    assert (entry["dialect"], entry["status"], entry["action"]) == ("dashscope-native", 503, "status 503")
