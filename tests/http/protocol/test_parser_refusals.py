"""Requests the HTTP parser refuses — framing that could smuggle a request (``Content-Length`` with
``Transfer-Encoding``), bad chunks, control characters in headers, a lowercase method, a target
beyond ASCII, garbage — answered 400 in the envelope of the dialect the path names, saying why,
and journaled; never uvicorn's ``text/plain``. An answer already under way is not cut by one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import httpx
import orjson
import pytest

from mockfiles import MockFilesServer

pytestmark = pytest.mark.mockfiles(rate_limits=False)

KEY = "sk-parser"
H = f"Host: x\r\nAuthorization: Bearer {KEY}\r\n".encode()
CHUNKED = b"Transfer-Encoding: chunked\r\n"


def get(
    target: bytes = b"/v1/files", extra: bytes = b"", method: bytes = b"GET", version: bytes = b"HTTP/1.1"
) -> bytes:
    return method + b" " + target + b" " + version + b"\r\n" + H + extra + b"\r\n"


def post(extra: bytes, body: bytes = b"", target: bytes = b"/v1/files") -> bytes:
    return b"POST " + target + b" HTTP/1.1\r\n" + H + extra + b"\r\n" + body


# (name, the request, the parser's reason as the message gives it)
CASES = [
    # framing: Content-Length and Transfer-Encoding
    (
        "cl-and-te",
        post(b"Content-Length: 5\r\n" + CHUNKED, b"0\r\n\r\n"),
        "Transfer-Encoding can't be present with Content-Length",
    ),
    (
        "te-and-cl",
        post(CHUNKED + b"Content-Length: 5\r\n", b"0\r\n\r\n"),
        "Content-Length can't be present with Transfer-Encoding",
    ),
    ("two-content-lengths", post(b"Content-Length: 5\r\nContent-Length: 6\r\n", b"abcdef"), "Duplicate Content-Length"),
    ("content-length-letters", post(b"Content-Length: abc\r\n"), "Invalid character in Content-Length"),
    ("content-length-negative", post(b"Content-Length: -1\r\n"), "Invalid character in Content-Length"),
    ("content-length-plus", post(b"Content-Length: +5\r\n", b"abcde"), "Invalid character in Content-Length"),
    ("content-length-hex", post(b"Content-Length: 0x10\r\n"), "Invalid character in Content-Length"),
    ("content-length-overflow", post(b"Content-Length: 99999999999999999999999\r\n"), "Content-Length overflow"),
    ("content-length-list", post(b"Content-Length: 5, 5\r\n", b"abcde"), "Invalid character in Content-Length"),
    ("te-gzip", post(b"Transfer-Encoding: gzip\r\n"), "Request has invalid `Transfer-Encoding`"),
    ("te-chunked-gzip", post(b"Transfer-Encoding: chunked, gzip\r\n"), "Invalid `Transfer-Encoding` header value"),
    ("te-identity", post(b"Transfer-Encoding: identity\r\n"), "Request has invalid `Transfer-Encoding`"),
    # chunks
    ("chunk-size-letters", post(CHUNKED, b"zz\r\nabc\r\n0\r\n\r\n"), "Invalid character in chunk size"),
    ("chunk-size-overflow", post(CHUNKED, b"ffffffffffffffffff\r\nabc\r\n0\r\n\r\n"), "Chunk size overflow"),
    ("chunk-size-negative", post(CHUNKED, b"-3\r\nabc\r\n0\r\n\r\n"), "Invalid character in chunk size"),
    ("chunk-size-empty", post(CHUNKED, b"\r\nabc\r\n0\r\n\r\n"), "Invalid character in chunk size"),
    ("chunk-size-space", post(CHUNKED, b"3 \r\nabc\r\n0\r\n\r\n"), "Invalid character in chunk size"),
    ("chunk-data-too-long", post(CHUNKED, b"3\r\nabcdef\r\n0\r\n\r\n"), "Expected LF after chunk data"),
    ("chunk-no-crlf", post(CHUNKED, b"3\r\nabcX\r\n0\r\n\r\n"), "Expected LF after chunk data"),
    ("chunk-size-bare-lf", post(CHUNKED, b"3\nabc\r\n0\r\n\r\n"), "Missing expected CR after chunk size"),
    (
        "chunk-extension-control",
        post(CHUNKED, b"3;a=\x01\r\nabc\r\n0\r\n\r\n"),
        "Invalid character in chunk extensions value",
    ),
    ("chunk-trailer-bad", post(CHUNKED, b"3\r\nabc\r\n0\r\nX A: b\r\n\r\n"), "Invalid header token"),
    ("chunk-later-bad", post(CHUNKED, b"3\r\nabc\r\n3\r\nabc\r\nzz\r\n"), "Invalid character in chunk size"),
    # header fields
    ("header-value-control", get(extra=b"X-A: a\x01b\r\n"), "Invalid header value char"),
    ("header-value-del", get(extra=b"X-A: a\x7fb\r\n"), "Invalid header value char"),
    ("header-value-nul", get(extra=b"X-A: a\x00b\r\n"), "Invalid header value char"),
    ("header-name-space", get(extra=b"X A: b\r\n"), "Invalid header token"),
    ("header-space-before-colon", get(extra=b"X-A : b\r\n"), "Invalid header token"),
    ("header-name-non-ascii", get(extra="Ä: b\r\n".encode()), "Invalid header token"),
    ("header-name-empty", get(extra=b": b\r\n"), "Invalid header token"),
    ("header-name-slash", get(extra=b"X/A: b\r\n"), "Invalid header token"),
    ("header-no-colon", get(extra=b"X-A\r\n"), "Invalid header token"),
    ("header-obs-fold", get(extra=b"X-A: a\r\n b\r\n"), "Unexpected whitespace after header value"),
    ("header-bare-cr", get(extra=b"X-A: a\rb\r\n"), "Missing expected LF after header value"),
    ("header-bare-lf", b"GET /v1/files HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", "Missing expected CR after header value"),
    ("head-end-bare-lf", b"GET /v1/files HTTP/1.1\r\nHost: x\r\n\n", "Invalid header field char"),
    # the request line
    ("method-lowercase", get(method=b"get"), "Invalid method encountered"),
    ("method-mixed-case", get(method=b"Get"), "Invalid method encountered"),
    ("method-unknown", get(method=b"FROB"), "Invalid method encountered"),
    ("method-with-digit", get(method=b"GET1"), "Expected space after method"),
    ("method-empty", get(method=b""), "Invalid method encountered"),
    ("target-non-ascii", get(target="/v1/files/é".encode()), "Invalid char in url path"),
    ("target-non-ascii-query", get(target="/v1/files?after=é".encode()), "Invalid char in url query"),
    ("target-nul", get(target=b"/v1/fi\x00les"), "Invalid char in url path"),
    ("target-control", get(target=b"/v1/fi\x01les"), "Invalid char in url path"),
    ("target-del", get(target=b"/v1/fi\x7fles"), "Invalid char in url path"),
    ("target-space", get(target=b"/v1/fi les"), "Expected HTTP/, RTSP/ or ICE/"),
    ("target-tab", get(target=b"/v1/fi\tles"), "Invalid characters in url"),
    ("target-bad-absolute", get(target=b"http://[::1"), "Invalid request target"),
    ("version-unknown", get(version=b"HTTP/9.9"), "Invalid HTTP version"),
    ("version-lowercase", get(version=b"http/1.1"), "Expected HTTP/, RTSP/ or ICE/"),
    ("version-no-minor", get(version=b"HTTP/1"), "Expected dot"),
    ("version-junk", get(version=b"HTXP/1.1"), "Expected HTTP/, RTSP/ or ICE/"),
    ("request-line-bare-lf", b"GET /v1/files HTTP/1.1\nHost: x\n\n", "Expected CRLF after version"),
    ("tls-handshake", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 40, "Invalid method encountered"),
    ("binary-garbage", b"\x00\x01\x02\r\n\r\n", "Invalid method encountered"),
]


def exchange(server: MockFilesServer, request: bytes) -> tuple[bytes, bytes]:
    """Send ``request``, read until the server closes: the response's head and body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


def headers_of(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}


@pytest.mark.parametrize(("request_bytes", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_refusal_is_a_400_in_the_envelope(mockfiles: MockFilesServer, request_bytes: bytes, reason: str) -> None:
    head, body = exchange(mockfiles, request_bytes)
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n"), head
    headers = headers_of(head)
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert headers["x-request-id"].startswith("req_")
    message = f"Invalid HTTP request: {reason}."
    assert orjson.loads(body) == {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    }
    entry = mockfiles.requests()[-1]
    assert (entry["status"], entry["action"], entry["error"]["message"]) == (400, "malformed_request", message)
    assert entry["request_id"] == headers["x-request-id"]
    with httpx.Client(base_url=mockfiles.base_url, headers={"Authorization": f"Bearer {KEY}"}) as http:
        assert http.get("/files").status_code == 200  # the server goes on


KINDS = ["cl-and-te", "chunk-size-letters", "header-value-control", "method-lowercase", "target-non-ascii"]


@pytest.mark.parametrize("kind", KINDS)
def test_dashscope_paths_get_their_dialects_envelope(mockfiles: MockFilesServer, kind: str) -> None:
    request, reason = next((c[1], c[2]) for c in CASES if c[0] == kind)
    message = f"Invalid HTTP request: {reason}."
    _, body = exchange(mockfiles, request.replace(b" /v1/", b" /compatible-mode/v1/", 1))
    compatible = orjson.loads(body)
    assert compatible["error"] == {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    assert len(compatible["request_id"]) == 36  # a UUID, as DashScope's
    _, body = exchange(mockfiles, request.replace(b" /v1/", b" /api/v1/", 1))
    native = orjson.loads(body)
    assert (native["code"], native["message"]) == ("InvalidParameter", message)
    assert mockfiles.requests()[-1]["path"].startswith("/api/v1/files")


def test_the_journal_shows_the_request_line_as_sent(mockfiles: MockFilesServer) -> None:
    exchange(mockfiles, get(method=b"get"))
    exchange(mockfiles, get(target="/v1/files/é".encode()))
    lowercase, non_ascii = mockfiles.requests()[-2:]
    assert (lowercase["method"], lowercase["path"]) == ("get", "/v1/files")
    assert (non_ascii["method"], non_ascii["path"]) == ("GET", "/v1/files/Ã©")  # its bytes, as Latin-1


def test_an_admin_path_is_answered_alike_and_not_journaled(mockfiles: MockFilesServer) -> None:
    before = len(mockfiles.requests())
    head, body = exchange(mockfiles, b"GET /_mockfiles/health HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and orjson.loads(body)["error"]["message"] == (
        "Invalid HTTP request: Invalid header value char."
    )
    assert len(mockfiles.requests()) == before


def test_curl_with_a_lowercase_method(mockfiles: MockFilesServer) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("no curl")
    done = subprocess.run(
        [curl, "-sS", "-X", "get", "-H", f"Authorization: Bearer {KEY}", "-w", "\n%{http_code} %{content_type}"]
        + [mockfiles.base_url + "/files"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    body, _, status = done.stdout.rpartition("\n")
    assert status == "400 application/json", done.stdout + done.stderr
    assert orjson.loads(body)["error"]["message"] == "Invalid HTTP request: Invalid method encountered."


def test_a_bad_chunk_while_the_handler_reads_is_that_requests_400(mockfiles: MockFilesServer) -> None:
    """The application had begun the upload: the refusal is its answer, journaled once."""
    part = (
        b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
    )
    head = b"POST /v1/files HTTP/1.1\r\n" + H + b"Content-Type: multipart/form-data; boundary=B\r\n" + CHUNKED + b"\r\n"
    with socket.create_connection(("127.0.0.1", mockfiles.port), timeout=10) as sock:
        sock.sendall(head + b"%x\r\n" % len(part) + part + b"\r\n")
        time.sleep(0.2)  # so that the handler is reading the form (the answer is the same if not)
        sock.sendall(b"zz\r\nbroken\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    entries = mockfiles.requests("files.create")
    assert len(entries) == 1 and (entries[0]["status"], entries[0]["action"]) == (400, "malformed_request")
    assert httpx.get(mockfiles.base_url + "/files", headers={"Authorization": f"Bearer {KEY}"}).json()["data"] == []


def test_an_answer_already_sent_is_not_followed_by_a_400(mockfiles: MockFilesServer) -> None:
    """An upload refused before its body is read (401) is drained; a bad chunk then only closes."""
    request = b"POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n" + CHUNKED
    with socket.create_connection(("127.0.0.1", mockfiles.port), timeout=10) as sock:
        sock.sendall(request + b"\r\n4\r\nabcd\r\n")
        answer = sock.recv(65536)
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < 10:
            answer += sock.recv(65536)
        sock.sendall(b"zz\r\n")
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 401 ") and answer.count(b"HTTP/1.1") == 1, answer


def test_a_bad_request_pipelined_behind_a_good_one_does_not_cut_its_answer(mockfiles: MockFilesServer) -> None:
    good = b"GET /v1/files HTTP/1.1\r\n" + H + b"\r\n"
    answer = b"".join(exchange(mockfiles, good + get(method=b"get")))
    assert answer.startswith(b"HTTP/1.1 200 ") and b'"object":"list"' in answer
