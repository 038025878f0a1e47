"""Streaming uploads: early refusal, nothing stored on failure, bounded memory, bad multipart."""

from __future__ import annotations

import socket
import time
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from mockfiles import MockFilesServer

pytestmark = pytest.mark.mockfiles(rate_limits=False, scenario={"limits": {"max_file_bytes": "1MiB"}})

CHUNK = b"\xab" * 65536


def multipart(chunks: int, boundary: str = "XyZ", purpose: str = "assistants") -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    for _ in range(chunks):
        yield CHUNK
    yield f"\r\n--{boundary}--\r\n".encode()


def stored(server: MockFilesServer) -> int:
    return len(server.emulator.files.store)


def test_declared_length_over_the_limit_is_refused_before_reading(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    r = http.post("/v1/files", files={"file": ("big.bin", b"x" * (3 * 1024 * 1024))}, data={"purpose": "assistants"})
    assert r.status_code == 413
    assert r.json()["error"] == {
        "message": f"Maximum content size limit (1048576) exceeded ({int(r.request.headers['content-length'])} bytes declared)",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    assert stored(mockfiles) == 0


def test_streamed_upload_is_refused_as_soon_as_the_limit_is_crossed(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    """Chunked, so no declared length: the 413 comes when the stream crosses the limit; the rest is
    read and discarded (so that the client reads its answer), never stored."""
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        for piece in multipart(chunks=160):  # 10 MiB
            sent += len(piece)
            yield piece

    r = http.post("/v1/files", content=body(), headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert r.status_code == 413
    message = r.json()["error"]["message"]
    assert message.startswith("Maximum content size limit (1048576) exceeded (")
    read = int(message.split("(")[2].split(" ")[0])
    assert read < 2 * 1048576 < sent, f"refused after {read} bytes of {sent}: not as soon as the limit was crossed"
    assert stored(mockfiles) == 0
    assert http.get("/v1/files").json()["data"] == []  # and the connection and the server are fine


def test_a_file_exactly_at_the_limit_is_accepted(http: httpx.Client) -> None:
    r = http.post("/v1/files", files={"file": ("a.bin", b"y" * 1048576)}, data={"purpose": "assistants"})
    assert r.status_code == 200 and r.json()["bytes"] == 1048576
    r = http.post("/v1/files", files={"file": ("a.bin", b"y" * 1048577)}, data={"purpose": "assistants"})
    assert r.status_code == 413


def test_purpose_after_the_file_still_gets_its_limit(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        + b"z" * 2_000_000
        + b'\r\n--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B--\r\n'
    )
    r = http.post("/v1/files", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert r.status_code == 413 and stored(mockfiles) == 0


def raw_request(server: MockFilesServer, head: bytes, body: bytes, close_early: bool) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head + body)
        if close_early:
            return b""
        return sock.recv(65536)


def test_client_disconnect_mid_upload_stores_nothing(mockfiles: MockFilesServer) -> None:
    parts = b"".join(multipart(chunks=4))
    head = (
        b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        b"Content-Type: multipart/form-data; boundary=XyZ\r\n" + f"Content-Length: {len(parts)}\r\n\r\n".encode()
    )
    raw_request(mockfiles, head, parts[: len(parts) // 2], close_early=True)
    time.sleep(0.2)
    assert stored(mockfiles) == 0
    entry = mockfiles.requests()[-1]
    assert entry["endpoint"] == "files.create" and entry["status"] is None  # nobody left to answer
    r = httpx.get(mockfiles.base_url + "/files", headers={"Authorization": "Bearer k"})
    assert r.json()["data"] == []


@pytest.mark.parametrize(
    ("content_type", "body", "fragment"),
    [
        ("multipart/form-data", b"--B\r\n", "needs a boundary"),
        ("text/plain", b"purpose=assistants", "multipart/form-data"),
        (
            "multipart/form-data; boundary=B",
            b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B\r\n'
            b'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello',
            "closing boundary",
        ),
        ("multipart/form-data; boundary=B", b"this is not multipart at all", "Malformed multipart"),
        (
            "multipart/form-data; boundary=B",
            b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B\r\n'
            b'Content-Disposition: form-data; name="file"; filename="\xff\xfe.txt"\r\n\r\nhi\r\n--B--\r\n',
            "UTF-8",
        ),
    ],
)
def test_malformed_multipart_is_400_and_stores_nothing(
    mockfiles: MockFilesServer, http: httpx.Client, content_type: str, body: bytes, fragment: str
) -> None:
    r = http.post("/v1/files", content=body, headers={"Content-Type": content_type})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert fragment in error["message"] and error["type"] == "invalid_request_error"
    assert stored(mockfiles) == 0


def test_too_many_fields_is_400(http: httpx.Client) -> None:
    fields = [(f"f{i}", (None, "v")) for i in range(2000)] + [("purpose", (None, "assistants"))]
    r = http.post("/v1/files", files=fields + [("file", ("a.txt", b"x"))])
    assert r.status_code == 400 and "Too many form fields" in r.json()["error"]["message"]


def test_repeated_purpose_is_400(http: httpx.Client) -> None:
    r = http.post(
        "/v1/files", files=[("purpose", (None, "assistants")), ("purpose", (None, "batch")), ("file", ("a.txt", b"x"))]
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "purpose"


@pytest.mark.mockfiles(scenario={})
def test_upload_memory_is_about_one_copy_of_the_file(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    size = 48 * 1024 * 1024
    tracemalloc.start()
    try:
        r = http.post(
            "/v1/files",
            content=multipart(chunks=size // len(CHUNK)),
            headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 200 and r.json()["bytes"] == size
    assert peak < size * 1.25, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB upload"
