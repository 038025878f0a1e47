"""Files in a vector store over HTTP: attach, ingestion on the emulator clock, how it ends (completed,
or failed with the real last_error codes and messages), the refusals of the one file-use check,
attributes, detach, the parsed content, listing with a status filter."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.vectoring import CATS, DOGS, UNSUPPORTED, docx, pdf, pptx, refused, typed, upload

pytestmark = pytest.mark.mockfiles(rate_limits=False)
MiB = 1024 * 1024


def store(http: httpx.Client, **body: Any) -> str:
    made: str = http.post("/v1/vector_stores", json=body).json()["id"]
    return made


def attach(http: httpx.Client, store_id: str, file_id: str, **body: Any) -> httpx.Response:
    return http.post(f"/v1/vector_stores/{store_id}/files", json={"file_id": file_id, **body})


def test_a_file_is_in_progress_until_the_clock_passes_its_ingestion(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs = store(http)
    file_id = upload(client, "cats.txt", CATS)
    made = typed(attach(http, vs, file_id, attributes={"kind": "pet", "legs": 4, "cute": True}).json())
    assert made["status"] == "in_progress" and made["usage_bytes"] == 0 and made["last_error"] is None
    assert made["attributes"] == {"kind": "pet", "legs": 4, "cute": True}
    assert made["chunking_strategy"] == {
        "type": "static",
        "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
    }
    polled = http.get(f"/v1/vector_stores/{vs}/files/{file_id}")
    assert polled.json()["status"] == "in_progress"
    assert 1 <= int(polled.headers["openai-poll-after-ms"]) <= 1000  # the SDK's pollers wait for it
    mockfiles.advance(0.1 + len(CATS) / MiB)  # the default: 100 ms and 1 s per MiB
    done = typed(http.get(f"/v1/vector_stores/{vs}/files/{file_id}").json())
    assert done["status"] == "completed" and done["usage_bytes"] == len(CATS)
    assert "openai-poll-after-ms" not in http.get(f"/v1/vector_stores/{vs}/files/{file_id}").headers
    counts = http.get(f"/v1/vector_stores/{vs}").json()["file_counts"]
    assert counts == {"in_progress": 0, "completed": 1, "failed": 0, "cancelled": 0, "total": 1}


@pytest.mark.mockfiles(scenario={"vector_stores": {"ingestion": {"base": "10s", "per_mib": "60s"}}})
def test_the_ingestion_time_grows_with_the_size(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs = store(http)
    small, large = upload(client, "small.txt", b"a b c"), upload(client, "large.txt", b"word " * (MiB // 5))
    attach(http, vs, small)
    attach(http, vs, large)
    mockfiles.advance(11)
    statuses = {f["id"]: f["status"] for f in http.get(f"/v1/vector_stores/{vs}/files").json()["data"]}
    assert statuses == {small: "completed", large: "in_progress"}
    assert http.get(f"/v1/vector_stores/{vs}").json()["status"] == "in_progress"
    mockfiles.advance(60)
    assert http.get(f"/v1/vector_stores/{vs}").json()["status"] == "completed"


@pytest.mark.parametrize(
    ("name", "content", "code", "message"),
    [
        ("empty.txt", b"   \n\t ", "invalid_file", "The file could not be parsed because it is empty."),
        ("binary.txt", b"\x00\x01\x02text", "unsupported_file", "The file type is not supported."),
        ("latin1.md", "caf\xe9".encode("latin-1"), "unsupported_file", "The file type is not supported."),
        ("fake.pdf", b"not a pdf at all", "unsupported_file", "The file type is not supported."),
        ("fake.docx", b"PK not a zip", "unsupported_file", "The file type is not supported."),
        ("blank.pdf", pdf(), "invalid_file", "The file could not be parsed because it is empty."),
        ("huge.txt", b"x" * (20_000_004), "invalid_file", "The file could not be parsed because it is too large."),
    ],
)
@pytest.mark.mockfiles(scenario={"vector_stores": {"ingestion": "1s"}})
def test_files_that_fail_with_the_real_codes_and_messages(
    mockfiles: MockFilesServer,
    client: openai.OpenAI,
    http: httpx.Client,
    name: str,
    content: bytes,
    code: str,
    message: str,
) -> None:
    vs = store(http)
    file_id = upload(client, name, content)
    assert attach(http, vs, file_id).json()["status"] == "in_progress"  # accepted: it fails as it is ingested
    mockfiles.advance(1)
    failed = typed(http.get(f"/v1/vector_stores/{vs}/files/{file_id}").json())
    assert failed["status"] == "failed" and failed["usage_bytes"] == 0
    assert failed["last_error"] == {"code": code, "message": message}
    shown = http.get(f"/v1/vector_stores/{vs}").json()
    assert shown["file_counts"]["failed"] == 1 and shown["status"] == "completed" and shown["usage_bytes"] == 0


SCENARIO_FAILURES = {
    "vector_stores": {
        "files": [
            {"match": {"filename": "flaky-*"}, "fail": "server_error"},
            {"match": {"filename": "*.pdf", "store": "legal*"}, "fail": {"code": "invalid_file", "message": "Nope."}},
            {"match": {"filename": "slow-*"}, "delay": "1h"},
        ]
    }
}


@pytest.mark.mockfiles(scenario=SCENARIO_FAILURES)
def test_scenario_rules_fail_files_and_set_their_time(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    legal, other = store(http, name="legal-docs"), store(http, name="misc")
    flaky, contract, slow = (
        upload(client, "flaky-1.txt", CATS),
        upload(client, "contract.pdf", pdf("Terms and conditions")),
        upload(client, "slow-1.txt", DOGS),
    )
    for file_id in (flaky, contract, slow):
        attach(http, legal, file_id)
    attach(http, other, contract)
    mockfiles.advance(60)
    seen = {f["id"]: f for f in http.get(f"/v1/vector_stores/{legal}/files?limit=100").json()["data"]}
    assert seen[flaky]["last_error"] == {
        "code": "server_error",
        "message": "An internal error occurred while processing the file.",
    }
    assert seen[contract]["last_error"] == {"code": "invalid_file", "message": "Nope."}
    assert seen[slow]["status"] == "in_progress"
    assert http.get(f"/v1/vector_stores/{other}/files/{contract}").json()["status"] == "completed"  # not "legal*"
    mockfiles.advance(3600)
    assert http.get(f"/v1/vector_stores/{legal}/files/{slow}").json()["status"] == "completed"


def test_documents_are_read_as_text(mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client) -> None:
    vs = store(http)
    files = {
        "report.pdf": pdf("Quarterly revenue grew", "Costs fell (slightly)"),
        "plain.pdf": pdf("Uncompressed stream text", compress=False),
        "memo.docx": docx("First paragraph", "Second &amp; last"),
        "deck.pptx": pptx("Slide one", "Slide two"),
        "page.html": b"<html><script>var x = 1;</script><p>Visible &amp; kept</p></html>",
        "code.py": b"def hello():\n    return 'world'\n",
    }
    ids = {name: upload(client, name, content) for name, content in files.items()}
    for file_id in ids.values():
        attach(http, vs, file_id)
    mockfiles.advance(1)

    def text(name: str) -> str:
        page = http.get(f"/v1/vector_stores/{vs}/files/{ids[name]}/content").json()
        assert page["object"] == "vector_store.file_content.page" and page["has_more"] is False
        return " ".join(item["text"] for item in page["data"])

    assert text("report.pdf") == "Quarterly revenue grew\nCosts fell (slightly)"
    assert text("plain.pdf") == "Uncompressed stream text"
    assert text("memo.docx") == "First paragraph\nSecond & last"
    assert text("deck.pptx") == "Slide one\nSlide two"
    assert "Visible & kept" in text("page.html") and "var x" not in text("page.html")
    assert text("code.py") == files["code.py"].decode()


def test_the_content_is_the_chunks(mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client) -> None:
    words = " ".join(f"w{i}" for i in range(1000))  # 4,889 characters: about 1,223 tokens
    file_id = upload(client, "long.txt", words.encode())
    vs = store(http)
    strategy = {"type": "static", "static": {"max_chunk_size_tokens": 400, "chunk_overlap_tokens": 100}}
    made = attach(http, vs, file_id, chunking_strategy=strategy).json()
    assert made["chunking_strategy"] == strategy
    assert http.get(f"/v1/vector_stores/{vs}/files/{file_id}/content").json()["data"] == []  # not parsed yet
    mockfiles.advance(1)
    chunks = [item["text"] for item in http.get(f"/v1/vector_stores/{vs}/files/{file_id}/content").json()["data"]]
    assert len(chunks) == 4 and all(len(c) <= 1600 for c in chunks)  # 400 tokens of 4 characters
    assert chunks[0].startswith("w0 ") and chunks[-1].endswith("w999")
    first, second = chunks[0].split(), chunks[1].split()
    assert 75 <= len(set(first) & set(second)) <= 85  # about 100 tokens of overlap: 400 characters, ~80 words
    for page in client.vector_stores.files.content(file_id=file_id, vector_store_id=vs):
        assert page.type == "text" and page.text in chunks


def test_the_one_file_use_check_refuses(mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client) -> None:
    vs = store(http)
    refused(attach(http, vs, "file-missing"), 404, "No such File object: file-missing", None, "file_id")
    with mockfiles.client(api_key="sk-other", max_retries=0) as other:
        theirs = upload(other, "cats.txt", CATS)
    refused(attach(http, vs, theirs), 404, f"No such File object: {theirs}", None, "file_id")  # another account's
    gone = upload(client, "cats.txt", CATS)
    client.files.delete(gone)
    refused(attach(http, vs, gone), 404, f"No such File object: {gone}", None, "file_id")
    image = upload(client, "photo.PNG", b"\x89PNG\r\n")
    refused(attach(http, vs, image), 400, UNSUPPORTED.format(".png"), "unsupported_file", "file_id")
    bare = upload(client, "README", b"read me")
    refused(attach(http, vs, bare), 400, UNSUPPORTED.format("none"), "unsupported_file", "file_id")
    refused(
        http.post("/v1/vector_stores", json={"file_ids": [image]}),
        400,
        UNSUPPORTED.format(".png"),
        "unsupported_file",
        "file_ids",
    )
    refused(
        attach(http, vs, ""),
        400,
        "Invalid 'file_id': empty string. Expected a string with minimum length 1, but got an empty string instead.",
        "empty_string",
        "file_id",
    )
    refused(
        http.post(f"/v1/vector_stores/{vs}/files", json={}),
        400,
        "Missing required parameter: 'file_id'.",
        "missing_required_parameter",
        "file_id",
    )
    assert http.get(f"/v1/vector_stores/{vs}").json()["file_counts"]["total"] == 0


@pytest.mark.mockfiles(scenario={"processing": {"assistants": {"delay": "1m"}}})
def test_a_file_still_processing_is_refused(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs = store(http)
    file_id = upload(client, "cats.txt", CATS)
    message = (
        f"Invalid 'file_id': the file '{file_id}' is still being processed (status 'uploaded'). "
        "Wait until its status is 'processed'."
    )
    refused(attach(http, vs, file_id), 400, message, "file_not_ready", "file_id")
    mockfiles.advance(60)
    assert attach(http, vs, file_id).status_code == 200


@pytest.mark.mockfiles(
    scenario={"faults": [{"match": {"endpoint": "files.create"}, "processing": {"status": "error"}}]}
)
def test_a_file_whose_processing_failed_is_refused(client: openai.OpenAI, http: httpx.Client) -> None:
    vs = store(http)
    file_id = upload(client, "cats.txt", CATS)
    message = f"Invalid 'file_id': the file '{file_id}' could not be processed (status 'error')."
    refused(attach(http, vs, file_id), 400, message, "invalid_file", "file_id")


@pytest.mark.parametrize(
    ("attributes", "param", "code", "message"),
    [
        (
            {str(i): i for i in range(17)},
            "attributes",
            "object_above_max_properties",
            "Invalid 'attributes': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
        ),
        (
            {"k" * 65: "v"},
            "attributes",
            "property_name_above_max_length",
            f"Invalid property name in 'attributes': '{'k' * 64}…' is too long. Expected a string with maximum length 64, but got a string with length 65 instead.",
        ),
        (
            {"k": "v" * 513},
            "attributes.k",
            "string_above_max_length",
            "Invalid 'attributes.k': string too long. Expected a string with maximum length 512, but got a string with length 513 instead.",
        ),
        (
            {"k": [1]},
            "attributes.k",
            "invalid_type",
            "Invalid type for 'attributes.k': expected a string, a number or a boolean, but got an array instead.",
        ),
        (
            {"k": None},
            "attributes.k",
            "invalid_type",
            "Invalid type for 'attributes.k': expected a string, a number or a boolean, but got null instead.",
        ),
        (
            {"k": 2**64},
            "attributes.k",
            "integer_above_max_value",
            "Invalid 'attributes.k': integer above maximum value. Expected a value <= 9223372036854775807, but got 18446744073709551616 instead.",
        ),
        (
            "x",
            "attributes",
            "invalid_type",
            "Invalid type for 'attributes': expected an object, but got a string instead.",
        ),
    ],
)
def test_attribute_limits(
    client: openai.OpenAI, http: httpx.Client, attributes: object, param: str, code: str, message: str
) -> None:
    vs = store(http)
    file_id = upload(client, "cats.txt", CATS)
    refused(attach(http, vs, file_id, attributes=attributes), 400, message, code, param)
    attach(http, vs, file_id)
    refused(
        http.post(f"/v1/vector_stores/{vs}/files/{file_id}", json={"attributes": attributes}), 400, message, code, param
    )


def test_update_detach_and_reattach(mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client) -> None:
    vs = store(http)
    file_id = upload(client, "cats.txt", CATS)
    client.vector_stores.files.create(vector_store_id=vs, file_id=file_id, attributes={"a": "1"})
    again = attach(http, vs, file_id, attributes={"a": "2"}).json()  # already held: answered as it is
    assert again["attributes"] == {"a": "1"} and http.get(f"/v1/vector_stores/{vs}").json()["file_counts"]["total"] == 1
    updated = client.vector_stores.files.update(file_id, vector_store_id=vs, attributes={"year": 2024, "draft": False})
    assert updated.attributes == {"year": 2024, "draft": False}
    cleared = http.post(f"/v1/vector_stores/{vs}/files/{file_id}", json={"attributes": None}).json()
    assert cleared["attributes"] == {}
    refused(
        http.post(f"/v1/vector_stores/{vs}/files/{file_id}", json={}),
        400,
        "Missing required parameter: 'attributes'.",
        "missing_required_parameter",
        "attributes",
    )
    deleted = typed(http.delete(f"/v1/vector_stores/{vs}/files/{file_id}").json())
    assert deleted == {"id": file_id, "object": "vector_store.file.deleted", "deleted": True}
    message = f"No file found with id '{file_id}' in vector store '{vs}'."
    refused(http.get(f"/v1/vector_stores/{vs}/files/{file_id}"), 404, message, None, None)
    refused(http.delete(f"/v1/vector_stores/{vs}/files/{file_id}"), 404, message, None, None)
    assert client.files.retrieve(file_id).status == "processed"  # the File stays
    assert http.get(f"/v1/vector_stores/{vs}").json()["file_counts"]["total"] == 0
    assert attach(http, vs, file_id).json()["status"] == "in_progress"  # attached afresh


@pytest.mark.mockfiles(scenario={"vector_stores": {"files": [{"match": {"filename": "bad*"}, "fail": "server_error"}]}})
def test_a_failed_file_is_ingested_again_when_attached_again(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs = store(http)
    file_id = upload(client, "bad.txt", CATS)
    attach(http, vs, file_id)
    mockfiles.advance(1)
    assert http.get(f"/v1/vector_stores/{vs}/files/{file_id}").json()["status"] == "failed"
    mockfiles.use_scenario(None)  # the service is healthy again
    assert attach(http, vs, file_id).json()["status"] == "in_progress"
    mockfiles.advance(1)
    assert http.get(f"/v1/vector_stores/{vs}/files/{file_id}").json()["status"] == "completed"


@pytest.mark.mockfiles(
    scenario={"vector_stores": {"files": [{"match": {"filename": "bad*"}, "fail": "unsupported_file"}]}}
)
def test_list_files_with_a_status_filter_and_cursors(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    vs = store(http)
    good = [upload(client, f"good{i}.txt", CATS) for i in range(3)]
    bad = upload(client, "bad.txt", CATS)
    for file_id in [*good, bad]:
        attach(http, vs, file_id)
    mockfiles.advance(1)
    listed = [f.id for f in client.vector_stores.files.list(vs, filter="completed", limit=1)]
    assert listed == good[::-1]
    assert [f.id for f in client.vector_stores.files.list(vs, filter="failed")] == [bad]
    assert [f["id"] for f in http.get(f"/v1/vector_stores/{vs}/files?order=asc&after={good[0]}").json()["data"]] == [
        *good[1:],
        bad,
    ]
    page = http.get(
        f"/v1/vector_stores/{vs}/files?filter=completed&after={bad}&limit=2"
    ).json()  # a cursor filtered out
    assert [f["id"] for f in page["data"]] == good[::-1][:2] and page["has_more"]
    refused(
        http.get(f"/v1/vector_stores/{vs}/files?filter=done"),
        400,
        "Invalid value: 'done'. Supported values are: 'in_progress', 'completed', 'failed', and 'cancelled'.",
        "invalid_value",
        "filter",
    )
    refused(
        http.get(f"/v1/vector_stores/{vs}/files?after=file-x"),
        400,
        "Invalid 'after': no file with id 'file-x'.",
        None,
        "after",
    )


async def test_the_async_client_attaches_and_lists(mockfiles: MockFilesServer, aclient: openai.AsyncOpenAI) -> None:
    made = await aclient.vector_stores.create(name="async files")
    source = await aclient.files.create(file=("cats.txt", CATS), purpose="assistants")
    attached = await aclient.vector_stores.files.create(vector_store_id=made.id, file_id=source.id)
    assert attached.status == "in_progress"
    mockfiles.advance(1)
    assert [f.status async for f in aclient.vector_stores.files.list(made.id)] == ["completed"]
    assert (await aclient.vector_stores.files.delete(source.id, vector_store_id=made.id)).deleted
