"""DashScope's Qwen-Long reading uploaded files (``fileid://``) in compatible mode: the Qwen-Long
documentation's example as written (stream with usage), a file used too early, and every refusal in
DashScope's words (400, ``invalid_parameter_error``, ``param`` null, a top-level ``request_id``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import openai
import pytest

from mockfiles import MockFilesServer
from mockfiles.chat.models import Model
from mockfiles.core.profiles import MiB
from tests.support.chatting import docx, pdf

pytestmark = pytest.mark.mockfiles(profile="dashscope", rate_limits=False)
DOCS_URL = "https://dashscope.aliyuncs.com/compatible-mode/v1"

# The Qwen-Long documentation's example (help.aliyun.com/zh/model-studio/long-context-qwen-long):
# upload with purpose file-extract, name the file in a system message, stream the answer with usage.
DOCUMENTED = """
import os
from pathlib import Path
from openai import OpenAI

client = OpenAI(
    api_key=os.getenv("DASHSCOPE_API_KEY"),
    base_url="https://dashscope.aliyuncs.com/compatible-mode/v1",
)
file_object = client.files.create(file=Path("阿里云百炼系列手机产品介绍.docx"), purpose="file-extract")
print(file_object.id)

completion = client.chat.completions.create(
    model="qwen-long",
    messages=[
        {'role': 'system', 'content': 'You are a helpful assistant.'},
        {'role': 'system', 'content': f'fileid://{file_object.id}'},
        {'role': 'user', 'content': '这篇文章讲了什么？'}
    ],
    stream=True,
    stream_options={"include_usage": True}
)

full_content = ""
for chunk in completion:
    if chunk.choices and chunk.choices[0].delta.content:
        full_content += chunk.choices[0].delta.content
        print(chunk.model_dump())

print(full_content)
"""


@pytest.fixture
def ds(mockfiles: MockFilesServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=mockfiles.api_key, base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0) as c:
        yield c


def ask(c: openai.OpenAI, *file_ids: str, model: str = "qwen-long", **options: Any) -> Any:
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "system", "content": ",".join(f"fileid://{i}" for i in file_ids)},
        {"role": "user", "content": "What is this about?"},
    ]
    return c.chat.completions.create(model=model, messages=messages, **options)  # type: ignore[arg-type]


def dashscope_refusal(c: openai.OpenAI, *file_ids: str, **options: Any) -> tuple[int, str, dict[str, Any]]:
    with pytest.raises(openai.BadRequestError) as raised:
        ask(c, *file_ids, **options)
    body = raised.value.response.json()
    assert body["request_id"] == raised.value.response.headers["x-request-id"]
    error = body["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", None, "invalid_parameter_error")
    return raised.value.status_code, error["message"], body


def test_the_documented_example_runs_as_written(
    mockfiles: MockFilesServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DASHSCOPE_API_KEY", mockfiles.api_key)
    Path("阿里云百炼系列手机产品介绍.docx").write_bytes(docx("百炼手机产品介绍", "Bailian X1 phone"))
    exec(compile(DOCUMENTED.replace(DOCS_URL, mockfiles.url + "/compatible-mode/v1"), "qwen-long", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    file_id = lines[0]
    assert file_id.startswith("file-fe-")
    assert lines[-2:] == [
        f'File {file_id} "阿里云百炼系列手机产品介绍.docx": {os.path.getsize(tmp_path / "阿里云百炼系列手机产品介绍.docx"):,} bytes, 4 words, first line "百炼手机产品介绍".',
        "Echo: 这篇文章讲了什么？",
    ]
    (entry,) = mockfiles.requests("chat.completions.create")
    assert entry["dialect"] == "dashscope-compatible" and entry["files"] == [file_id] and entry["stream"] is True


def test_the_stream_is_dashscopes(ds: openai.OpenAI) -> None:
    f = ds.files.create(file=("a.md", b"# Alpha\nbeta gamma\n"), purpose="file-extract")
    chunks = list(ask(ds, f.id, stream=True, stream_options={"include_usage": True}))
    first, last = chunks[0].model_dump(exclude_unset=True), chunks[-1].model_dump(exclude_unset=True)
    assert first["id"].startswith("chatcmpl-") and len(first["id"]) == len("chatcmpl-") + 36  # a UUID
    assert first["system_fingerprint"] is None and "service_tier" not in first
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert last["choices"] == [] and last["usage"]["prompt_tokens_details"] == {"cached_tokens": 0}
    done = ask(ds, f.id)
    assert done.choices[0].message.content.startswith(f'File {f.id} "a.md": 19 bytes, 4 words, first line "# Alpha".')
    assert done.model_dump(exclude_unset=True)["choices"][0]["message"] == {
        "role": "assistant",
        "content": done.choices[0].message.content,
    }


def test_several_files_in_one_system_message(ds: openai.OpenAI) -> None:
    a = ds.files.create(file=("a.txt", b"one two\n"), purpose="file-extract")
    b = ds.files.create(file=("b.pdf", pdf("Three four five")), purpose="file-extract")
    lines = ask(ds, a.id, b.id).choices[0].message.content.splitlines()
    assert lines[0] == f'File {a.id} "a.txt": 8 bytes, 2 words, first line "one two".'
    assert lines[1].startswith(f'File {b.id} "b.pdf": ') and lines[1].endswith(
        ', 3 words, first line "Three four five".'
    )


@pytest.mark.mockfiles(scenario={"processing": {"file-extract": {"delay": "5s"}}})
def test_a_file_used_too_early_is_refused_until_it_is_parsed(mockfiles: MockFilesServer, ds: openai.OpenAI) -> None:
    f = ds.files.create(file=("a.txt", b"hello\n"), purpose="file-extract")
    assert f.status == "uploaded"
    assert dashscope_refusal(ds, f.id)[:2] == (400, "File parsing in progress, please try again later.")
    mockfiles.advance(5)
    assert ds.files.retrieve(f.id).status == "processed"
    assert ask(ds, f.id).choices[0].message.content.startswith(f"File {f.id} ")


def test_unknown_deleted_and_foreign_files(mockfiles: MockFilesServer, ds: openai.OpenAI) -> None:
    missing = "file-fe-000000000000000000000000"
    assert dashscope_refusal(ds, missing)[:2] == (400, f"Invalid file [id:{missing}].")
    f = ds.files.create(file=("a.txt", b"hello\n"), purpose="file-extract")
    ds.files.delete(f.id)
    assert dashscope_refusal(ds, f.id)[:2] == (400, f"File [id:{f.id}] cannot be found.")
    with openai.OpenAI(api_key="sk-other", base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0) as other:
        g = other.files.create(file=("b.txt", b"hi\n"), purpose="file-extract")
    assert dashscope_refusal(ds, g.id)[:2] == (400, f"Invalid file [id:{g.id}].")
    batch = ds.files.create(file=("in.jsonl", b'{"a": 1}\n'), purpose="batch")
    assert dashscope_refusal(ds, batch.id)[:2] == (400, f"Invalid file [id:{batch.id}].")  # not a document


def test_types_content_and_size(mockfiles: MockFilesServer, ds: openai.OpenAI) -> None:
    image = ds.files.create(file=("photo.png", b"\x89PNG\r\n\x1a\n"), purpose="file-extract")
    assert dashscope_refusal(ds, image.id)[:2] == (400, f"File [id:{image.id}] format is not supported.")
    blank = ds.files.create(file=("blank.txt", b"  \n\n\t\n"), purpose="file-extract")
    assert dashscope_refusal(ds, blank.id)[:2] == (400, f"File [id:{blank.id}] content blank.")
    scan = ds.files.create(file=("scan.pdf", b"%PDF-1.4\n% a picture, no text\n%%EOF\n"), purpose="file-extract")
    assert dashscope_refusal(ds, scan.id)[:2] == (400, f"File [id:{scan.id}] content blank.")
    mockfiles.use_scenario({"limits": {"max_file_bytes": {"file-extract": "200MB"}}})
    big = mockfiles.emulator.files.create(
        mockfiles.api_key, purpose="file-extract", filename="big.txt", chunks=[b"x"], size=151 * MiB
    )
    assert dashscope_refusal(ds, big.id)[:2] == (400, f"File [id:{big.id}] exceeds size limit.")


def test_too_many_files(ds: openai.OpenAI) -> None:
    f = ds.files.create(file=("a.txt", b"hello\n"), purpose="file-extract")
    assert dashscope_refusal(ds, *[f.id] * 100)[:2] == (400, "Too many files provided.")
    assert ask(ds, *[f.id] * 99).choices[0].message.content.count(f"File {f.id}") == 99


SCANS_FAIL = {
    "faults": [{"match": {"endpoint": "files.create", "filename": "failed*"}, "processing": {"status": "error"}}],
    "chat": {"answers": [{"match": {"model": "qwen-long", "filename": "flaky*"}, "parse_error": True}]},
}


@pytest.mark.mockfiles(scenario=SCANS_FAIL)
def test_parse_failures(ds: openai.OpenAI) -> None:
    failed = ds.files.create(file=("failed.pdf", pdf("x")), purpose="file-extract")
    assert dashscope_refusal(ds, failed.id)[:2] == (400, f"File：{failed.id} parsing error")
    flaky = ds.files.create(file=("flaky.docx", docx("x")), purpose="file-extract")
    assert dashscope_refusal(ds, flaky.id)[:2] == (400, f"File：{flaky.id} parsing error")
    assert ask(ds, flaky.id, model="qwen-long-latest").choices  # the rule names qwen-long only


def test_a_message_content_must_be_a_string(ds: openai.OpenAI) -> None:
    f = ds.files.create(file=("a.txt", b"hello\n"), purpose="file-extract")
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "system", "content": f"fileid://{f.id}"},
        {"role": "user", "content": [{"type": "text", "text": "What is this about?"}]},
    ]
    with pytest.raises(openai.BadRequestError) as raised:
        ds.chat.completions.create(model="qwen-long", messages=messages)  # type: ignore[arg-type]
    error = raised.value.response.json()["error"]
    assert error == {
        "message": "Input error. Input should be a valid string: input.messages.2.content",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_parameter_error",
    }
    plain = ds.chat.completions.create(model="qwen-plus", messages=messages)  # type: ignore[arg-type]
    assert plain.choices[0].message.content == "Echo: What is this about?"  # fileid:// is only text to it


def test_a_prompt_over_the_models_context(mockfiles: MockFilesServer, ds: openai.OpenAI) -> None:
    base = mockfiles.emulator.models.find(mockfiles.api_key, "qwen-long", "dashscope")
    assert isinstance(base, Model)
    mockfiles.emulator.models.add(replace(base, id="qwen-long-tiny", context=20), mockfiles.api_key)
    f = ds.files.create(file=("a.txt", b"lorem ipsum " * 40), purpose="file-extract")
    assert dashscope_refusal(ds, f.id, model="qwen-long-tiny")[:2] == (
        400,
        "Total message token length exceed model limit (20 tokens).",
    )
    assert "qwen-long-tiny" in [m.id for m in ds.models.list()]


def test_an_unknown_model(ds: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        ds.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    body = raised.value.response.json()
    assert body["error"] == {
        "message": "The model `gpt-4o` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
    assert {"qwen-long", "qwen-plus", "text-embedding-v4"} <= {m.id for m in ds.models.list()}


@pytest.mark.mockfiles(scenario="document_analysis")
def test_a_careful_client_survives_the_document_analysis_example(mockfiles: MockFilesServer, ds: openai.OpenAI) -> None:
    doc = ds.files.create(file=("report.txt", b"Quarterly report\nRevenue grew.\n"), purpose="file-extract")
    scan = ds.files.create(file=("scan-001.pdf", pdf("x")), purpose="file-extract")
    assert dashscope_refusal(ds, doc.id)[1] == "File parsing in progress, please try again later."
    while ds.files.retrieve(doc.id).status != "processed":  # waits as a client polls; the clock moves
        mockfiles.advance(1)
    answer = ""
    for _attempt in range(3):  # a dropped stream is asked again
        try:
            answer = "".join(c.choices[0].delta.content or "" for c in ask(ds, doc.id, stream=True) if c.choices)
            break
        except openai.APIConnectionError:
            continue
    assert answer.startswith(f'File {doc.id} "report.txt": ') and answer.endswith("Echo: What is this about?")
    assert [e["action"] for e in mockfiles.requests("chat.completions.create")][-2:] == [
        "broken_stream after 4 events",
        None,
    ]
    assert dashscope_refusal(ds, scan.id)[1] == f"File：{scan.id} parsing error"
