"""One request of one account cannot break anything for another: what the journal keeps it can
always write, a batch line's bad text is a line error of that batch, deep nesting is refused. Each
probe is what a hostile client sends (a header, a form part, a JSONL line), over real HTTP."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.helpers import jsonl

CHAT = "/v1/chat/completions"
VICTIM = {"Authorization": "Bearer sk-victim"}
HOSTILE = {"Authorization": "Bearer sk-hostile"}


def journal_readable(mockfiles: MockFilesServer) -> list[dict[str, Any]]:
    """The journal and the calls answer, as JSON, to the admin routes and to Python."""
    with httpx.Client(base_url=mockfiles.url, timeout=30) as admin:
        for path in ("/_mockfiles/requests", "/_mockfiles/calls", "/_mockfiles/batches", "/_mockfiles/uploads"):
            answer = admin.get(path)
            assert answer.status_code == 200, (path, answer.text[:300])
            answer.json()
        entries: list[dict[str, Any]] = admin.get("/_mockfiles/requests").json()["data"]
    json.dumps(mockfiles.requests())
    json.dumps(mockfiles.calls())
    return entries


# --- 1. the journal --------------------------------------------------------------------------------


def test_a_retry_count_beyond_64_bits_is_kept_as_no_count(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    answer = http.get("/v1/files", headers={"x-stainless-retry-count": "18446744073709551616"})
    assert answer.status_code == 200
    assert http.get("/v1/files", headers={"x-stainless-retry-count": "3"}).status_code == 200
    entries = journal_readable(mockfiles)
    assert [e["retry_count"] for e in entries] == [None, 3]


def test_a_retry_count_of_5000_digits_is_answered_in_json(mockfiles: MockFilesServer) -> None:
    """The header scan runs before the application's error handling: Python's int() refuses 4,301
    digits, which gave a plain-text 500 with a traceback."""
    request = (
        b"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test\r\n"
        b"x-stainless-retry-count: " + b"7" * 5000 + b"\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", mockfiles.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert json.loads(body)["object"] == "list"
    assert journal_readable(mockfiles)[0]["retry_count"] is None


@pytest.mark.parametrize(
    "part",
    [
        '{"anchor":"\\ud800","seconds":3600}',  # a lone surrogate, escaped as JSON writes it
        '{"anchor":"created_at","seconds":3600,"\\udfff":1}',
        "[" * 50_000,  # deeper than Python's json can read
        '{"anchor":"' + "\\ud800" * 20_000 + '","seconds":3600}',
    ],
    ids=["surrogate-value", "surrogate-key", "nested-50000", "long-surrogates"],
)
def test_an_expires_after_part_that_is_no_json_is_400(
    mockfiles: MockFilesServer, http: httpx.Client, part: str
) -> None:
    answer = http.post(
        "/v1/files",
        files={"file": ("a.txt", b"hello"), "expires_after": (None, part.encode())},
        data={"purpose": "assistants"},
    )
    assert answer.status_code == 400, answer.text[:300]
    error = answer.json()["error"]
    assert error["param"] == "expires_after" and len(error["message"]) < 300
    assert [e["status"] for e in journal_readable(mockfiles)] == [400]


def test_a_lone_surrogate_in_an_error_echo_is_written_as_its_escape(mockfiles: MockFilesServer) -> None:
    """A form field decoded from bytes that are not UTF-8 can reach an error's echo: the answer and
    the journal carry it escaped, never a 500."""
    body = (
        b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n\xed\xa0\x80bad\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--b--\r\n'
    )
    with httpx.Client(base_url=mockfiles.url, headers=HOSTILE) as http:
        answer = http.post("/v1/files", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert answer.status_code == 400
    answer.json()
    assert [e["status"] for e in journal_readable(mockfiles)] == [400]


# --- 2. batch lines with text no service can write back -------------------------------------------


def line(custom_id: str, **override: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "custom_id": custom_id,
        "method": "POST",
        "url": CHAT,
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    }
    return {**base, **override}


SURROGATE = "\udc00"
BAD_LINES = {
    "content": line("x", body={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": SURROGATE}]}),
    "method": line("x", method="POST" + SURROGATE),
    "url": line("x", url=CHAT + SURROGATE),
    "model": line("x", body={"model": "gpt" + SURROGATE, "messages": [{"role": "user", "content": "hi"}]}),
    "custom_id": line(SURROGATE),
}


def as_jsonl(*lines: dict[str, Any]) -> bytes:
    """JSONL as json.dumps writes it: a lone surrogate as its \\u escape (valid JSON syntax)."""
    return b"".join(json.dumps(one).encode() + b"\n" for one in lines)


@pytest.mark.parametrize("where", sorted(BAD_LINES))
def test_a_lone_surrogate_in_a_batch_line_is_a_line_error_of_that_batch(mockfiles: MockFilesServer, where: str) -> None:
    content = as_jsonl(line("ok-1"), BAD_LINES[where], line("ok-2"))
    with (
        mockfiles.client(api_key="sk-hostile", max_retries=0) as hostile,
        mockfiles.client(api_key="sk-victim", max_retries=0) as victim,
    ):
        kept = victim.files.create(file=("v.txt", b"victim's bytes"), purpose="assistants")
        source = hostile.files.create(file=("in.jsonl", content), purpose="batch")
        batch = hostile.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
        assert victim.files.list().data[0].id == kept.id  # the victim's request while the batch is due
        assert victim.files.content(kept.id).content == b"victim's bytes"
        done = hostile.batches.retrieve(batch.id)
        assert done.status == "failed" and done.errors is not None and done.errors.data
        error = done.errors.data[0]
        assert (error.code, error.line) == ("invalid_json_line", 2)
        assert hostile.batches.list().data[0].id == batch.id
    journal_readable(mockfiles)


def test_ended_batches_are_written_with_no_request_at_all(mockfiles: MockFilesServer) -> None:
    """The emulator's scheduler writes an ended batch's results itself: nobody has to ask."""
    mockfiles.use_scenario({"batches": {"timing": {"in_progress": "1h"}}})
    with mockfiles.client(max_retries=0) as client:
        source = client.files.create(file=("in.jsonl", as_jsonl(line("a"), line("b"))), purpose="batch")
        batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    stored = mockfiles.emulator.batches.store.find(batch.id)
    assert stored is not None and not stored.settled
    mockfiles.advance(3600)
    assert mockfiles.emulator.scheduler.settle(timeout=60)  # waits for the work: does none of it
    assert stored.settled and stored.output_file_id is not None


# --- 3. deep nesting -------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100_000, 1_100, 200])
def test_a_deeply_nested_batch_line_is_a_line_error(mockfiles: MockFilesServer, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "deep": ' + nested + "}"
    deep = '{"custom_id": "deep", "method": "POST", "url": "' + CHAT + '", "body": ' + body + "}\n"
    content = as_jsonl(line("ok")) + deep.encode()
    with mockfiles.client(max_retries=0) as client:
        source = client.files.create(file=("in.jsonl", content), purpose="batch")
        batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
        done = client.batches.retrieve(batch.id)
    assert done.status == "failed" and done.errors is not None
    assert [(e.code, e.line) for e in done.errors.data] == [("invalid_json_line", 2)]


def test_a_batch_line_of_100000_brackets_is_a_line_error(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    source = http.post(
        "/v1/files", files={"file": ("in.jsonl", b"[" * 100_000 + b"\n")}, data={"purpose": "batch"}
    ).json()["id"]
    created = http.post("/v1/batches", json={"input_file_id": source, "endpoint": CHAT, "completion_window": "24h"})
    assert created.status_code == 200, created.text[:300]
    done = http.get(f"/v1/batches/{created.json()['id']}").json()
    assert done["status"] == "failed" and done["errors"]["data"][0]["code"] == "invalid_json_line"


def test_a_batch_line_nested_within_the_limit_runs(mockfiles: MockFilesServer) -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(55):  # 110 levels, and the line's own 5: within MAX_DEPTH (128)
        schema = {"anyOf": [schema]}
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    }
    with mockfiles.client(max_retries=0) as client:
        source = client.files.create(file=("in.jsonl", jsonl(line("a", body=body))), purpose="batch")
        batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
        done = client.batches.retrieve(batch.id)
        assert done.status == "completed" and done.output_file_id is not None
        (result,) = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
    assert result["response"]["status_code"] == 200


def test_the_openai_sdk_sees_a_clean_400_for_a_nested_expires_after(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(max_retries=0) as client, pytest.raises(openai.BadRequestError) as refused:
        client.files.create(
            file=("a.txt", b"x"),
            purpose="assistants",
            extra_body={"expires_after": "[" * 50_000},
        )
    assert refused.value.status_code == 400
