"""JSON request bodies with integers of any length: exact, and refused as out of range rather
than as a wrong type or as "not JSON", by every route that reads a JSON body."""

from __future__ import annotations

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from mockfiles.web.json_body import HugeInteger, NotJson, loads

pytestmark = pytest.mark.mockfiles(rate_limits=False)

LONG = "9" * 26
HUGE = "9" * 5000
UPLOAD = {"filename": "a.jsonl", "mime_type": "text/jsonl", "purpose": "batch"}


def post(server: MockFilesServer, path: str, body: str) -> httpx.Response:
    headers = {"Authorization": "Bearer sk-json", "Content-Type": "application/json"}
    return httpx.post(server.url + path, content=body, headers=headers)


@pytest.mark.parametrize(("digits", "shown"), [(LONG, LONG), (HUGE, "9" * 64 + "…")])
def test_an_uploads_bytes_beyond_any_integer_is_above_the_maximum(
    mockfiles: MockFilesServer, digits: str, shown: str
) -> None:
    body = '{"bytes": ' + digits + ', "filename": "a.jsonl", "mime_type": "text/jsonl", "purpose": "batch"}'
    r = post(mockfiles, "/v1/uploads", body)
    assert r.status_code == 400
    assert r.json()["error"] == {
        "message": f"Invalid 'bytes': integer above maximum value. Expected a value <= 8589934592, but got {shown} instead.",
        "type": "invalid_request_error",
        "param": "bytes",
        "code": "integer_above_max_value",
    }


def test_the_sdk_sees_the_same_refusal(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client(max_retries=0)
    with pytest.raises(openai.BadRequestError, match="integer above maximum value") as caught:
        client.uploads.create(bytes=int(LONG), **UPLOAD)  # type: ignore[arg-type]
    assert caught.value.code == "integer_above_max_value"


def test_a_huge_integer_elsewhere_is_a_clear_refusal_not_a_parse_error(mockfiles: MockFilesServer) -> None:
    batch = post(
        mockfiles,
        "/v1/batches",
        '{"input_file_id": "file-x", "endpoint": "/v1/chat/completions", "completion_window": ' + HUGE + "}",
    )
    assert batch.status_code == 400 and "completion_window" in batch.text
    clock = post(mockfiles, "/_mockfiles/clock", '{"advance": ' + HUGE + "}")
    assert clock.status_code == 400 and "9" * 64 + "…" in clock.text and len(clock.text) < 1000
    retry = post(mockfiles, "/_mockfiles/retry-tests", '{"instructions": ' + HUGE + "}")
    assert retry.status_code == 400 and "not JSON" not in retry.text
    for r in (batch, clock, retry):
        assert "could not parse" not in r.text and "must be a JSON object" not in r.text


def test_loads_is_exact_and_refuses_what_is_not_json() -> None:
    assert loads(b'{"a": 18446744073709551615, "b": 1.5}') == {"a": 18446744073709551615, "b": 1.5}
    assert loads(("[" + LONG + "]").encode()) == [int(LONG)]
    huge = loads(("[-" + HUGE + "]").encode())
    assert isinstance(huge, list) and isinstance(huge[0], HugeInteger) and huge[0] < -(2**64)
    for bad in (b"", b"{", b"NaN", b'["\\ud800", 12345678901234567890]', b"[Infinity, 12345678901234567890]"):
        with pytest.raises(NotJson):
            loads(bad)
