"""Every refusal of OpenAI's model routes, with its status, type, code, param and message: the file
check (unknown, another account's, deleted, wrong purpose, still processing, failed, a type the
model does not read, a scenario's parse failure), inline data, the body and the model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from mockfiles.chat.reading import CONTEXT_TYPES, IMAGE_TYPES
from tests.support.chatting import REPORT, asking, data_url, error_of, file_part, pdf, refused

pytestmark = pytest.mark.mockfiles(rate_limits=False)
CONTEXT = ", ".join(CONTEXT_TYPES)
PART = "messages[0].content[0]"
EXAMPLE = "data:application/pdf;base64,SGVsbG8sIFdvcmxkIQ=="


@pytest.fixture
def c(mockfiles: MockFilesServer) -> Iterator[openai.OpenAI]:
    with mockfiles.client(max_retries=0) as client:
        yield client


def chat(c: openai.OpenAI, *parts: dict[str, Any], model: str = "gpt-4o-mini") -> Any:
    return lambda: c.chat.completions.create(model=model, messages=asking(*parts))


def respond(c: openai.OpenAI, *parts: dict[str, Any]) -> Any:
    content = [*parts, {"type": "input_text", "text": "?"}]
    return lambda: c.responses.create(model="gpt-4o-mini", input=[{"role": "user", "content": content}])


def test_an_unknown_file_is_a_404_naming_the_part(c: openai.OpenAI) -> None:
    assert refused(chat(c, file_part("file-nope"))) == error_of(
        404, "No such File object: file-nope", f"{PART}.file.file_id", None
    )
    assert refused(respond(c, {"type": "input_file", "file_id": "file-nope"})) == error_of(
        404, "No such File object: file-nope", "input[0].content[0].file_id", None
    )


def test_another_accounts_file_is_a_missing_one(mockfiles: MockFilesServer, c: openai.OpenAI) -> None:
    mockfiles.reset(api_keys=["sk-a", "sk-b"])
    with mockfiles.client(api_key="sk-a", max_retries=0) as a, mockfiles.client(api_key="sk-b", max_retries=0) as b:
        f = a.files.create(file=("report.txt", REPORT), purpose="user_data")
        assert refused(chat(b, file_part(f.id))) == error_of(
            404, f"No such File object: {f.id}", f"{PART}.file.file_id", None
        )
        assert a.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f.id))).choices


def test_a_deleted_file_is_a_missing_one(c: openai.OpenAI) -> None:
    f = c.files.create(file=("report.txt", REPORT), purpose="user_data")
    c.files.delete(f.id)
    assert refused(chat(c, file_part(f.id)))[0] == 404


def test_a_file_of_another_purpose_is_refused(mockfiles: MockFilesServer, c: openai.OpenAI) -> None:
    f = c.files.create(file=("in.jsonl", b'{"a": 1}\n'), purpose="batch")
    message = f"Invalid '{PART}.file.file_id': the file '{f.id}' has purpose 'batch', but this endpoint reads files with purpose 'assistants' and 'user_data'."
    assert refused(chat(c, file_part(f.id))) == error_of(400, message, f"{PART}.file.file_id", "invalid_value")


@pytest.mark.mockfiles(scenario={"processing": {"user_data": {"delay": "30s"}}})
def test_a_file_still_processing_is_refused_until_the_clock_moves(mockfiles: MockFilesServer, c: openai.OpenAI) -> None:
    f = c.files.create(file=("report.txt", REPORT), purpose="user_data")
    message = f"Invalid '{PART}.file.file_id': the file '{f.id}' is still being processed (status 'uploaded'). Wait until its status is 'processed'."
    assert refused(chat(c, file_part(f.id))) == error_of(400, message, f"{PART}.file.file_id", "file_not_ready")
    mockfiles.advance(30)
    assert c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f.id))).choices[0].message.content


SCAN_FAILS = {
    "faults": [
        {
            "match": {"endpoint": "files.create", "filename": "scan*"},
            "processing": {"status": "error", "status_details": "unreadable"},
        }
    ]
}


@pytest.mark.mockfiles(scenario=SCAN_FAILS)
def test_a_file_that_failed_processing_is_refused(c: openai.OpenAI) -> None:
    f = c.files.create(file=("scan.pdf", pdf("x")), purpose="user_data")
    assert c.files.retrieve(f.id).status == "error"
    message = f"Invalid '{PART}.file.file_id': the file '{f.id}' could not be processed (status 'error')."
    assert refused(chat(c, file_part(f.id))) == error_of(400, message, f"{PART}.file.file_id", "invalid_file")


@pytest.mark.mockfiles(scenario={"chat": {"answers": [{"match": {"filename": "broken*"}, "parse_error": True}]}})
def test_a_scenarios_parse_failure_is_refused_as_a_failed_file(c: openai.OpenAI) -> None:
    f = c.files.create(file=("broken.pdf", pdf("x")), purpose="user_data")
    g = c.files.create(file=("fine.pdf", pdf("x")), purpose="user_data")
    message = f"Invalid '{PART}.file.file_id': the file '{f.id}' could not be processed (status 'error')."
    assert refused(chat(c, file_part(f.id))) == error_of(400, message, f"{PART}.file.file_id", "invalid_file")
    assert c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(g.id))).choices


def test_a_type_the_model_does_not_read_is_refused_with_the_list(c: openai.OpenAI) -> None:
    f = c.files.create(file=("table.csv", b"a,b\n1,2\n"), purpose="user_data")
    message = f"Invalid input: Expected context stuffing file type to be a supported format: {CONTEXT} but got .csv."
    assert refused(respond(c, {"type": "input_file", "file_id": f.id})) == error_of(
        400, message, "input[0].content[0].file_id", "unsupported_file"
    )
    g = c.files.create(file=("README", b"no extension"), purpose="user_data")
    assert refused(chat(c, file_part(g.id)))[1]["message"].endswith(" but got none.")
    image = c.files.create(file=("cat.png", b"\x89PNG\r\n"), purpose="user_data")
    assert refused(chat(c, file_part(image.id)))[1]["message"].endswith(" but got .png.")
    url = {"type": "input_file", "file_url": "https://example.com/data.xlsx"}
    assert refused(respond(c, url)) == error_of(
        400, message.replace(".csv.", ".xlsx."), "input[0].content[0].file_url", "unsupported_file"
    )


def test_an_input_image_file_must_be_an_image(c: openai.OpenAI) -> None:
    f = c.files.create(file=("report.txt", REPORT), purpose="vision")
    message = f"Invalid input: Expected image type to be a supported format: {', '.join(IMAGE_TYPES)} but got .txt."
    assert refused(respond(c, {"type": "input_image", "file_id": f.id})) == error_of(
        400, message, "input[0].content[0].file_id", "unsupported_file"
    )
    png = c.files.create(file=("cat.png", b"\x89PNG\r\n"), purpose="vision")
    done = respond(c, {"type": "input_image", "file_id": png.id})()
    assert done.output_text == f'Image {png.id} "cat.png": 6 bytes.\nEcho: ?'
    assert done.usage.input_tokens == 3 + 1 + 85  # type: ignore[union-attr]


def test_chat_file_data_must_be_a_pdf_data_url(c: openai.OpenAI) -> None:
    param = f"{PART}.file.file_data"
    start = f"Invalid file data: '{param}'. Expected a base64-encoded data URL with an application/pdf MIME type (e.g. '{EXAMPLE}'), but got "

    def part(data: str) -> dict[str, Any]:
        return {"type": "file", "file": {"file_data": data, "filename": "a.pdf"}}

    markdown = data_url(b"# notes", "text/markdown")
    assert refused(chat(c, part(markdown))) == error_of(
        400, start + "unsupported MIME type 'text/markdown'.", param, "invalid_value"
    )
    assert refused(chat(c, part("JVBERi0xLjQK"))) == error_of(
        400, start + "a value that is not a data URL.", param, "invalid_value"
    )
    bad = "data:application/pdf;base64,%%%"
    assert refused(chat(c, part(bad))) == error_of(
        400, start + "data that is not valid base64.", param, "invalid_value"
    )


def test_responses_file_data_of_another_type_is_refused_as_the_service_words_it(c: openai.OpenAI) -> None:
    part = {"type": "input_file", "file_data": data_url(b"a,b", "text/csv"), "filename": "a.csv"}
    message = "The file type you uploaded is not supported. Please try again with a pdf"
    assert refused(respond(c, part)) == error_of(400, message, "input[0].content[0].file_data", "unsupported_file")


def test_a_file_part_must_name_a_file(c: openai.OpenAI) -> None:
    message = f"Invalid '{PART}.file': expected one of 'file_id' and 'file_data', but got none of them."
    assert refused(chat(c, {"type": "file", "file": {"filename": "a.pdf"}})) == error_of(
        400, message, f"{PART}.file", "invalid_value"
    )
    message = (
        "Invalid 'input[0].content[0]': expected one of 'file_id', 'file_data', and 'file_url', but got none of them."
    )
    assert refused(respond(c, {"type": "input_file"})) == error_of(400, message, "input[0].content[0]", "invalid_value")
    assert refused(chat(c, {"type": "file"})) == error_of(
        400, f"Missing required parameter: '{PART}.file'.", f"{PART}.file", "missing_required_parameter"
    )
    url = {"type": "input_file", "file_url": "ftp://example.com/a.pdf"}
    message = (
        "Invalid 'input[0].content[0].file_url': expected an http or https URL, but got 'ftp://example.com/a.pdf'."
    )
    assert refused(respond(c, url)) == error_of(400, message, "input[0].content[0].file_url", "invalid_value")


def test_a_model_that_reads_no_files_refuses_a_file_part(c: openai.OpenAI) -> None:
    f = c.files.create(file=("report.txt", REPORT), purpose="user_data")
    message = "Invalid Value: 'file'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', and 'audio'."
    assert refused(chat(c, file_part(f.id), model="gpt-3.5-turbo")) == error_of(
        400, message, f"{PART}.type", "invalid_value"
    )
    message = "Invalid value: 'file'. Supported values are: 'text'."
    system = [{"role": "system", "content": [file_part(f.id)]}]
    call = lambda: c.chat.completions.create(model="gpt-4o", messages=system)  # noqa: E731
    assert refused(call) == error_of(400, message, "messages[0].content[0].type", "invalid_value")


def test_unknown_and_non_chat_models(c: openai.OpenAI) -> None:
    call = lambda model: lambda: c.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])  # noqa: E731
    assert refused(call("gpt-9")) == error_of(
        404, "The model `gpt-9` does not exist or you do not have access to it.", "model", "model_not_found"
    )
    message = "This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you mean to use v1/completions?"
    assert refused(call("text-embedding-3-small")) == error_of(404, message, "model", None)
    assert refused(call("qwen-long"))[0] == 404  # DashScope's, not OpenAI's
    message = "The model `text-embedding-3-small` is not supported in the v1/responses endpoint."
    assert refused(lambda: c.responses.create(model="text-embedding-3-small", input="hi")) == error_of(
        404, message, "model", None
    )
    assert refused(lambda: c.models.retrieve("gpt-9")) == error_of(
        404, "The model `gpt-9` does not exist or you do not have access to it.", "model", "model_not_found"
    )


@pytest.mark.parametrize(
    ("body", "status", "message", "param", "code"),
    [
        (
            {"messages": [{"role": "user", "content": "x"}]},
            400,
            "Missing required parameter: 'model'.",
            "model",
            "missing_required_parameter",
        ),
        ({"model": "gpt-4o"}, 400, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"),
        (
            {"model": "gpt-4o", "messages": []},
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages",
            "empty_array",
        ),
        (
            {"model": "gpt-4o", "messages": [{"content": "x"}]},
            400,
            "Missing required parameter: 'messages[0].role'.",
            "messages[0].role",
            "missing_required_parameter",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]},
            400,
            "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": 7}]},
            400,
            "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an integer instead.",
            "messages[0].content",
            "invalid_type",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "video"}]}]},
            400,
            "Invalid value: 'video'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', 'audio', and 'file'.",
            "messages[0].content[0].type",
            "invalid_value",
        ),
        (
            {
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": "x"}],
                "stream_options": {"include_usage": True},
            },
            400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "n": 129},
            400,
            "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 129 instead.",
            "n",
            "integer_above_max_value",
        ),
        (
            {"model": 4, "messages": []},
            400,
            "Invalid type for 'model': expected a string, but got an integer instead.",
            "model",
            "invalid_type",
        ),
    ],
)
def test_chat_bodies_are_checked_as_openai_checks_them(
    http: httpx.Client, body: dict[str, Any], status: int, message: str, param: str, code: str
) -> None:
    answer = http.post("/v1/chat/completions", json=body)
    assert (answer.status_code, answer.json()) == (
        status,
        {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}},
    )


@pytest.mark.parametrize(
    ("body", "message", "param", "code"),
    [
        ({"model": "gpt-4o"}, "Missing required parameter: 'input'.", "input", "missing_required_parameter"),
        (
            {"model": "gpt-4o", "input": "x", "max_output_tokens": 8},
            "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 8 instead.",
            "max_output_tokens",
            "integer_below_min_value",
        ),
        (
            {"model": "gpt-4o", "input": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]},
            "Invalid value: 'text'. Supported values are: 'input_text', 'input_image', 'output_text', 'refusal', 'input_file', 'computer_screenshot', and 'summary_text'.",
            "input[0].content[0].type",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "input": "x", "tools": [{"type": "web_search"}]},
            "Invalid value: 'web_search'. Supported values are: 'function' and 'file_search'.",
            "tools[0].type",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "input": "x", "tools": [{"type": "function"}]},
            "Missing required parameter: 'tools[0].name'.",
            "tools[0].name",
            "missing_required_parameter",
        ),
    ],
)
def test_responses_bodies_are_checked(
    http: httpx.Client, body: dict[str, Any], message: str, param: str, code: str
) -> None:
    answer = http.post("/v1/responses", json=body)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}},
    )


def test_a_body_that_is_not_json(http: httpx.Client) -> None:
    answer = http.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["message"].startswith(
        "We could not parse the JSON body of your request."
    )
    answer = http.post("/v1/responses", json=[1, 2])
    assert answer.json()["error"]["message"] == "The request body must be a JSON object."


def test_function_tools_are_accepted_and_echoed(c: openai.OpenAI) -> None:
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
    done = c.responses.create(model="gpt-4o", input="hi", tools=[tool])  # type: ignore[list-item]
    assert done.output_text == "Echo: hi" and done.tools[0].type == "function"
