"""What the emulator used to take that the real service would not: integers in form fields and
queries written as Python's ``int()`` reads them (``٣٦٠٠``, ``3_600``, ``+3600``, `` 3600 ``), a
filename cut short by an injected CRLF (kept with a leading quote), filenames with line breaks or
bidirectional overrides, and an ``Expect`` other than ``100-continue`` (answered 200). Each is now
refused as docs/wire.md says, through curl, the openai SDK (sync and async) and raw bodies."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import openai
import orjson
import pytest

from mockfiles import MockFilesServer

pytestmark = pytest.mark.mockfiles(rate_limits=False)

CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="no curl")


def stored(server: MockFilesServer) -> int:
    return len(server.emulator.files.store)


# --- integers written as text --------------------------------------------------------------------

NOT_INTEGERS = ["٣٦٠٠", "3_600", "+3600", " 3600 ", "3600 ", "\t3600", "3600.0", "0x3600", "３６００", "1e4"]


@pytest.mark.parametrize("seconds", NOT_INTEGERS)
def test_expires_after_seconds_must_be_ascii_digits(mockfiles: MockFilesServer, seconds: str) -> None:
    with httpx.Client(base_url=mockfiles.base_url, headers={"Authorization": "Bearer sk-a"}) as http:
        r = http.post(
            "/files",
            files={"file": ("a.txt", b"x")},
            data={"purpose": "assistants", "expires_after[anchor]": "created_at", "expires_after[seconds]": seconds},
        )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == {
        "message": f"Invalid 'expires_after.seconds': expected an integer, but got '{seconds}' instead.",
        "type": "invalid_request_error",
        "param": "expires_after.seconds",
        "code": "invalid_type",
    }
    assert stored(mockfiles) == 0


@pytest.mark.parametrize(("seconds", "expires_in"), [("3600", 3600), ("0003600", 3600), ("2592000", 2592000)])
def test_digits_are_read_as_before(client: openai.OpenAI, seconds: str, expires_in: int) -> None:
    created = client.files.create(
        file=("a.txt", b"x"),
        purpose="assistants",
        expires_after={"anchor": "created_at", "seconds": seconds},  # type: ignore[typeddict-item]
    )
    assert created.expires_at == created.created_at + expires_in


def test_the_sdk_gets_the_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(
            file=("a.txt", b"x"),
            purpose="assistants",
            expires_after={"anchor": "created_at", "seconds": "3_600"},  # type: ignore[typeddict-item]
        )
    assert info.value.param == "expires_after.seconds" and info.value.code == "invalid_type"


@needs_curl
def test_curl_with_arabic_indic_digits(mockfiles: MockFilesServer, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("x")
    assert CURL is not None
    done = subprocess.run(
        [CURL, "-sS", "-H", "Authorization: Bearer sk-a", "-F", "purpose=assistants", "-F", f"file=@{path}"]
        + ["-F", "expires_after[anchor]=created_at", "-F", "expires_after[seconds]=٣٦٠٠"]
        + ["-w", "\n%{http_code}", mockfiles.base_url + "/files"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    body, _, status = done.stdout.rpartition("\n")
    assert status == "400" and orjson.loads(body)["error"]["param"] == "expires_after.seconds", done.stdout


@pytest.mark.parametrize("limit", ["+5", " 5", "5 ", "1_0", "٥", "５"])
def test_query_integers_are_ascii_digits_too(http: httpx.Client, limit: str) -> None:
    r = http.get("/v1/files", params={"limit": limit})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"] == f"Invalid 'limit': expected an integer, but got '{limit}' instead."


def test_a_query_integer_of_5000_digits_is_above_the_maximum(http: httpx.Client) -> None:
    r = http.get("/v1/files", params={"limit": "9" * 5000})
    assert r.status_code == 400 and r.json()["error"]["code"] == "integer_above_max_value"
    assert r.json()["error"]["message"].endswith(f"but got {'9' * 64}… instead.")


# --- filenames -------------------------------------------------------------------------------------

INJECTED = (
    b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B\r\n'
    b'Content-Disposition: form-data; name="file"; filename="evil\r\nContent-Type: text/html"\r\n\r\n'
)


@pytest.mark.parametrize("size", [10, 200_000], ids=["small-body", "streamed-body"])
def test_a_filename_cut_by_an_injected_crlf_is_malformed(mockfiles: MockFilesServer, size: int) -> None:
    body = INJECTED + b"x" * size + b"\r\n--B--\r\n"
    with httpx.Client(base_url=mockfiles.base_url, headers={"Authorization": "Bearer sk-a"}) as http:
        r = http.post("/files", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"] == (
        "Malformed multipart body: a quoted value in a part's Content-Disposition is not closed on its line."
    )
    assert stored(mockfiles) == 0


@pytest.mark.parametrize(
    "filename",
    ['a"b.txt', 'say "hi".txt', "back\\\\slash"],
    ids=["escaped-quote", "escaped-quotes", "escaped-backslash"],
)
def test_escaped_quotes_still_close(http: httpx.Client, filename: str) -> None:
    raw = filename.replace('"', '\\"').encode()
    body = (
        b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B\r\n'
        b'Content-Disposition: form-data; name="file"; filename="' + raw + b'"\r\n\r\nx\r\n--B--\r\n'
    )
    r = http.post("/v1/files", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"})
    if "\\" in filename:  # a backslash is a path separator once read
        assert r.json()["error"]["code"] == "invalid_filename"
    else:
        assert r.status_code == 200 and r.json()["filename"] == filename, r.text


FORGING = {
    "right-to-left-override": "invoice\u202etxt.exe",
    "left-to-right-override": "a\u202db.txt",
    "embedding": "a\u202ab.txt",
    "pop-directional": "a\u202cb.txt",
    "isolate": "a\u2066b\u2069.txt",
    "first-strong-isolate": "a\u2068b.txt",
    "next-line-u0085": "a\u0085b.txt",
    "c1-control": "a\u009bb.txt",
    "line-separator": "a\u2028b.txt",
    "paragraph-separator": "a\u2029b.txt",
}


@pytest.mark.parametrize("filename", FORGING.values(), ids=FORGING.keys())
def test_line_breaks_and_bidi_overrides_in_a_filename_are_refused(
    client: openai.OpenAI, mockfiles: MockFilesServer, filename: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=(filename, b"x"), purpose="assistants")
    assert info.value.code == "invalid_filename" and info.value.param == "file"
    assert "control character" in info.value.message
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.create(filename=filename, purpose="assistants", bytes=1, mime_type="text/plain")
    assert info.value.code == "invalid_filename"
    assert stored(mockfiles) == 0


async def test_the_async_sdk_gets_the_same_refusal(aclient: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await aclient.files.create(file=("invoice\u202etxt.exe", b"x"), purpose="assistants")
    assert info.value.code == "invalid_filename"


@pytest.mark.parametrize(
    "filename",
    ["قائمة.txt", "רשימה.txt", "👩\u200d💻.txt", "e\u0301.txt", "a\u200eb.txt", "データ.txt"],
    ids=["arabic", "hebrew", "zwj-emoji", "combining", "lrm-mark", "japanese"],
)
def test_other_unicode_names_are_kept(client: openai.OpenAI, filename: str) -> None:
    assert client.files.create(file=(filename, b"x"), purpose="assistants").filename == filename


# --- Expect ------------------------------------------------------------------------------------------


def test_an_expectation_other_than_100_continue_is_417(mockfiles: MockFilesServer) -> None:
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": "Bearer sk-a"}) as http:
        r = http.get("/v1/files", headers={"Expect": "200-ok"})
        assert r.status_code == 417
        assert r.json()["error"] == {
            "message": "Expectation Failed: only 'Expect: 100-continue' is supported, not 'Expect: 200-ok'.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
        native = http.get("/api/v1/files", headers={"Expect": "200-ok"})
        assert native.status_code == 417 and native.json()["code"] == "InvalidParameter"
        upload = http.post(
            "/v1/files", files={"file": ("a.txt", b"x" * 5000)}, data={"purpose": "assistants"}, headers={"Expect": "x"}
        )
        assert upload.status_code == 417
        assert http.get("/v1/files", headers={"Expect": "100-Continue"}).status_code == 200  # case does not matter
    assert stored(mockfiles) == 0
    assert [e["status"] for e in mockfiles.requests()] == [417, 417, 417, 200]


@needs_curl
def test_curl_with_expect_200_ok(mockfiles: MockFilesServer) -> None:
    assert CURL is not None
    done = subprocess.run(
        [CURL, "-sS", "-H", "Authorization: Bearer sk-a", "-H", "Expect: 200-ok", "-w", "\n%{http_code}"]
        + [mockfiles.base_url + "/files"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    body, _, status = done.stdout.rpartition("\n")
    assert status == "417" and "Expect: 200-ok" in orjson.loads(body)["error"]["message"], done.stdout


def test_a_refused_expectation_keeps_the_connection(mockfiles: MockFilesServer) -> None:
    """The body is read and discarded as for any answer given before it (docs/wire.md#connections)."""
    with socket.create_connection(("127.0.0.1", mockfiles.port), timeout=10) as sock:
        body = b"{}" * 1000
        sock.sendall(
            b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-a\r\nExpect: 200-ok\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        sock.sendall(b"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-a\r\n\r\n")
        answer = b""
        while answer.count(b"HTTP/1.1 ") < 2 or not answer.endswith(b"}"):
            answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 417 ") and b"HTTP/1.1 200 " in answer
