"""Batch input validation (at batch time): OpenAI's codes, one error per bad line with its line
and param, at most MAX_ERRORS, read line by line from the stored chunks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockfiles.batches.input import MAX_ERRORS, Limits, LineError, Validation, count_inputs, iter_lines, read_requests
from tests.support.helpers import batch_line, jsonl

CHAT = "/v1/chat/completions"


def validate(content: bytes | list[bytes], endpoint: str = CHAT, limits: Limits | None = None) -> Validation:
    validation = Validation(endpoint, limits or Limits())
    chunks = content if isinstance(content, list) else [content]
    list(validation.requests(chunks))
    return validation


def errors(content: bytes, endpoint: str = CHAT, limits: Limits | None = None) -> list[dict[str, Any]]:
    return [e.as_dict() for e in validate(content, endpoint, limits).errors]


def line(custom_id: str = "1", **fields: Any) -> dict[str, Any]:
    out = batch_line(custom_id)
    out.update(fields)
    return {k: v for k, v in out.items() if v is not ...}


def test_a_valid_file_gives_its_requests_and_model() -> None:
    content = jsonl(batch_line("a"), batch_line("b"), batch_line("c"))
    validation = Validation(CHAT)
    requests = list(validation.requests([content]))
    assert validation.errors == []
    assert [(r.index, r.line, r.custom_id, r.model) for r in requests] == [
        (0, 1, "a", "gpt-4o-mini"),
        (1, 2, "b", "gpt-4o-mini"),
        (2, 3, "c", "gpt-4o-mini"),
    ]
    assert (validation.count, validation.model) == (3, "gpt-4o-mini")


BAD_LINES = [
    (b"not json\n", "invalid_json_line", None, "This line is not parseable as valid JSON."),
    (b'{"custom_id": "1",\n', "invalid_json_line", None, "This line is not parseable as valid JSON."),
    (b"\xff\xfe{}\n", "invalid_json_line", None, "This line is not parseable as valid JSON."),
    (b"[1, 2]\n", "invalid_json_line", None, "This line is not a JSON object (got an array)."),
    (jsonl(line(custom_id=...)), "missing_required_parameter", "custom_id", "Missing required parameter: 'custom_id'."),
    (
        jsonl(line(custom_id=7)),
        "invalid_type",
        "custom_id",
        "Invalid type for 'custom_id': expected a non-empty string, but got an integer instead.",
    ),
    (
        jsonl(line(custom_id="")),
        "invalid_type",
        "custom_id",
        "Invalid type for 'custom_id': expected a non-empty string, but got an empty string instead.",
    ),
    (jsonl(line(method=...)), "missing_required_parameter", "method", "Missing required parameter: 'method'."),
    (jsonl(line(method="GET")), "invalid_value", "method", "Invalid value: 'GET'. Supported values are: 'POST'."),
    (jsonl(line(url=None)), "missing_required_parameter", "url", "Missing required parameter: 'url'."),
    (jsonl(line(body=...)), "missing_required_parameter", "body", "Missing required parameter: 'body'."),
    (
        jsonl(line(body="text")),
        "invalid_type",
        "body",
        "Invalid type for 'body': expected an object, but got a string instead.",
    ),
    (
        jsonl(line(body={"messages": []})),
        "missing_required_parameter",
        "body.model",
        "Missing required parameter: 'body.model'.",
    ),
    (
        jsonl(line(body={"model": 4})),
        "invalid_type",
        "body.model",
        "Invalid type for 'body.model': expected a non-empty string, but got an integer instead.",
    ),
    (
        jsonl(line(url="/v1/embeddings")),
        "url_mismatch",
        "url",
        "The URL provided for this request ('/v1/embeddings') does not match the batch endpoint "
        "('/v1/chat/completions').",
    ),
]


@pytest.mark.parametrize(("content", "code", "param", "message"), BAD_LINES)
def test_a_bad_line_is_reported_with_code_line_param_and_message(
    content: bytes, code: str, param: str | None, message: str
) -> None:
    assert errors(jsonl(batch_line("first")) + content) == [
        {"code": code, "line": 2, "message": message, "param": param}
    ]


def test_duplicate_custom_id_names_the_first_line() -> None:
    content = jsonl(batch_line("1"), batch_line("2"), batch_line("3"), batch_line("2"))
    assert errors(content) == [
        {
            "code": "duplicate_custom_id",
            "line": 4,
            "message": "The custom_id for this request is a duplicate of another request (line 2). "
            "The custom_id parameter must be unique for each request in a batch.",
            "param": "custom_id",
        }
    ]


def test_one_model_per_file() -> None:
    content = jsonl(batch_line("1"), batch_line("2", model="gpt-4o"), batch_line("3"))
    assert errors(content) == [
        {
            "code": "model_mismatch",
            "line": 2,
            "message": "The model provided for this request ('gpt-4o') does not match the model of the batch "
            "('gpt-4o-mini'). A batch input file can only use one model.",
            "param": "body.model",
        }
    ]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\r\n"])
def test_a_file_without_requests_is_an_empty_file(content: bytes) -> None:
    assert errors(content) == [
        {
            "code": "empty_file",
            "line": None,
            "message": "The batch input file is empty. Please ensure that it contains at least one request.",
            "param": None,
        }
    ]


def test_more_than_the_maximum_requests_is_too_many_tasks() -> None:
    content = jsonl(*(batch_line(str(i)) for i in range(4)))
    assert errors(content, limits=Limits(max_requests=4)) == []
    assert errors(content + jsonl(batch_line("x")), limits=Limits(max_requests=4)) == [
        {
            "code": "too_many_tasks",
            "line": None,
            "message": "The batch input file contains more than the maximum of 4 requests.",
            "param": None,
        }
    ]


def test_embedding_inputs_are_counted_across_requests() -> None:
    def embed(custom_id: str, given: object) -> dict[str, Any]:
        body = {"model": "text-embedding-3-small", "input": given}
        return {"custom_id": custom_id, "method": "POST", "url": "/v1/embeddings", "body": body}

    limits = Limits(max_embedding_inputs=5)
    fits = jsonl(embed("a", ["x", "y", "z"]), embed("b", "w"), embed("c", [1, 2, 3]))  # 3 + 1 + 1
    assert errors(fits, "/v1/embeddings", limits) == []
    assert errors(fits + jsonl(embed("d", ["v"])), "/v1/embeddings", limits) == [
        {
            "code": "too_many_tasks",
            "line": None,
            "message": "The batch contains more than the maximum of 5 embedding inputs across all requests.",
            "param": None,
        }
    ]
    assert [count_inputs(v) for v in ("a", [1, 2], [[1], [2]], ["a", "b"], None)] == [1, 1, 2, 2, 1]


def test_several_errors_are_reported_up_to_the_cap() -> None:
    content = jsonl(batch_line("ok")) + b"nope\n" * (MAX_ERRORS + 5)
    found = validate(content).errors
    assert len(found) == MAX_ERRORS == 10
    assert [e.line for e in found] == list(range(2, 2 + MAX_ERRORS))
    mixed = jsonl(batch_line("1"), line("2", method="GET"), batch_line("1"), line("4", url="/v1/responses"))
    assert [(e["line"], e["code"]) for e in errors(mixed)] == [
        (2, "invalid_value"),
        (3, "duplicate_custom_id"),
        (4, "url_mismatch"),
    ]


def test_blank_lines_crlf_a_bom_and_no_final_newline_are_fine() -> None:
    body = [json.dumps(batch_line(str(i))).encode() for i in range(3)]
    content = b"\xef\xbb\xbf" + body[0] + b"\r\n\r\n" + body[1] + b"\n   \n" + body[2]
    validation = Validation(CHAT)
    requests = list(validation.requests([content]))
    assert validation.errors == []
    assert [r.line for r in requests] == [1, 3, 5]


def test_lines_split_across_chunks_are_read_whole() -> None:
    content = jsonl(*(batch_line(f"id-{i}") for i in range(50)))
    for size in (1, 7, 64, 1000):
        chunks = [content[i : i + size] for i in range(0, len(content), size)]
        assert list(iter_lines(chunks)) == content.split(b"\n")[:-1]
        validation = validate(chunks)
        assert validation.errors == [] and validation.count == 50
        assert [r.custom_id for r in read_requests(chunks)] == [f"id-{i}" for i in range(50)]


def test_line_errors_are_plain_data() -> None:
    assert LineError("empty_file", "m").as_dict() == {"code": "empty_file", "line": None, "message": "m", "param": None}
