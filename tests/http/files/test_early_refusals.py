"""Uploads refused before their body is read (401, 413 on the declared length, 429, a quota 400)
reach every client as their status, not as a connection error: the server reads and discards
the rest of the body before it closes or reuses the connection. Clients that write the whole
body before reading the answer (async httpx under ``AsyncOpenAI``, Node's fetch under the
``openai`` npm package) used to get a reset instead, and retried on their own backoff."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.node_clients import node_uploads, requires_node

pytestmark = pytest.mark.mockfiles(rate_limits=False)

# name -> how to set the server up, how many small files to upload first, the status expected
CASES: dict[str, dict[str, Any]] = {
    "401-wrong-key": {"setup": {"api_keys": ["sk-good"]}, "key": "sk-wrong", "status": 401},
    "413-declared-size": {"setup": {"scenario": {"limits": {"max_file_bytes": "10KB"}}}, "status": 413},
    "413-per-purpose": {"setup": {"scenario": {"limits": {"max_file_bytes": {"assistants": "10KB"}}}}, "status": 413},
    "400-quota": {"setup": {"scenario": {"limits": {"max_files": 1}}}, "first": 1, "status": 400},
    "429-rate-limit": {
        "setup": {"scenario": {"rate_limits": {"upload": 1, "window": "1m"}}, "rate_limits": True},
        "first": 1,
        "status": 429,
    },
}
SIZES = {"100KB": 100_000, "5MB": 5_000_000}


def arrange(server: MockFilesServer, case: dict[str, Any]) -> str:
    """Set the server up for the case; returns the key the client uses."""
    server.reset(**{"rate_limits": False, **case["setup"]})
    with server.client(max_retries=0) as client:
        for _ in range(case.get("first", 0)):
            client.files.create(file=("first.txt", b"x"), purpose="assistants")
    return str(case.get("key", server.api_key))


def refusals(server: MockFilesServer) -> list[Any]:
    return [e["status"] for e in server.requests("files.create")]


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("name", CASES)
async def test_async_sdk_reads_the_status(mockfiles: MockFilesServer, name: str, size: int) -> None:
    case = CASES[name]
    key = arrange(mockfiles, case)
    async with mockfiles.async_client(api_key=key, max_retries=0) as client:
        for _ in range(3):  # the first on a new connection, the next on the one kept after draining
            with pytest.raises(openai.APIStatusError) as caught:
                await client.files.create(file=("data.txt", b"x" * size), purpose="assistants")
            assert caught.value.status_code == case["status"]
            if case["status"] == 429:
                assert int(caught.value.response.headers["retry-after-ms"]) > 0
    assert refusals(mockfiles)[-3:] == [case["status"]] * 3


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("name", CASES)
def test_sync_sdk_reads_the_status(mockfiles: MockFilesServer, name: str, size: int) -> None:
    case = CASES[name]
    key = arrange(mockfiles, case)
    with mockfiles.client(api_key=key, max_retries=0) as client:
        for _ in range(2):
            with pytest.raises(openai.APIStatusError) as caught:
                client.files.create(file=("data.txt", b"x" * size), purpose="assistants")
            assert caught.value.status_code == case["status"]


@requires_node
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("name", [name for name in CASES if name != "413-per-purpose"])
def test_node_sdk_reads_the_status(mockfiles: MockFilesServer, name: str, size: int) -> None:
    case = CASES[name]
    key = arrange(mockfiles, case)
    seen = node_uploads(mockfiles.base_url, key, [{"bytes": size}] * 3)["uploads"]
    assert [(r["status"], r["error"]) for r in seen] == [(case["status"], seen[0]["error"])] * 3, seen
    assert seen[0]["error"] != "APIConnectionError"


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
async def test_async_sdk_retries_follow_retry_after_ms(
    mockfiles: MockFilesServer, size: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Under the default 3 uploads a second, the SDK's default retries get every upload through,
    each 429 read (so waited out as its ``retry-after-ms`` says, not on the SDK's own backoff for
    a lost connection)."""
    mockfiles.reset(rate_limits=True)
    caplog.set_level(logging.INFO)  # the SDK's HTTP client logs every response it reads
    async with mockfiles.async_client() as client:  # default retries
        for i in range(6):
            await client.files.create(file=(f"{i}.txt", b"x" * size), purpose="assistants")
    statuses = refusals(mockfiles)
    assert statuses.count(200) == 6 and 429 in statuses
    read = [r.getMessage() for r in caplog.records if r.getMessage().startswith("HTTP Request: POST")]
    assert sum(" 429 Too Many Requests" in line for line in read) == statuses.count(429), read


@requires_node
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_node_sdk_retries_follow_retry_after_ms(mockfiles: MockFilesServer, size: int) -> None:
    mockfiles.reset(rate_limits=True)
    seen = node_uploads(mockfiles.base_url, mockfiles.api_key, [{"bytes": size}] * 6, max_retries=2)
    assert all(r["ok"] for r in seen["uploads"]), seen
    statuses = refusals(mockfiles)
    assert statuses.count(200) == 6 and 429 in statuses
    assert seen["responses"] == statuses  # every answer, each 429 included, reached the client


CURL = shutil.which("curl")


@pytest.mark.skipif(CURL is None, reason="curl is not installed (.ci/run installs it)")
@pytest.mark.parametrize("name", ["401-wrong-key", "413-declared-size"])
def test_curl_reads_the_status(mockfiles: MockFilesServer, tmp_path: Path, name: str) -> None:
    """curl sends ``Expect: 100-continue`` before a large body, so it never sends the body of a
    refused upload: the answer says ``Connection: close`` and the connection ends after it."""
    case = CASES[name]
    key = arrange(mockfiles, case)
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 5_000_000)
    assert CURL is not None
    for _ in range(2):
        done = subprocess.run(
            [CURL, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", f"Authorization: Bearer {key}"]
            + ["-F", "purpose=assistants", "-F", f"file=@{path}", mockfiles.base_url + "/files"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert (done.returncode, done.stdout) == (0, str(case["status"])), done.stderr


# --- on the wire ----------------------------------------------------------------------------


def read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response with a Content-Length: its head and its body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


def upload_head(server: MockFilesServer, key: str, length: int, extra: bytes = b"") -> bytes:
    return (
        b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key.encode() + b"\r\n"
        b"Content-Type: multipart/form-data; boundary=B\r\n" + extra + f"Content-Length: {length}\r\n\r\n".encode()
    )


def test_the_connection_is_kept_once_the_refused_body_ends(mockfiles: MockFilesServer) -> None:
    """The answer comes while the body is still coming; the rest is discarded, and the same
    connection then serves the next request."""
    mockfiles.reset(api_keys=["sk-good"])
    body = b"\xab" * 3_000_000
    with socket.create_connection(("127.0.0.1", mockfiles.port), timeout=5) as sock:
        sock.sendall(upload_head(mockfiles, "sk-wrong", len(body)) + body[:100_000])
        head, answer = read_response(sock)
        assert head.startswith(b"HTTP/1.1 401") and b"connection: close" not in head.lower()
        assert b"Incorrect API key" in answer
        sock.sendall(body[100_000:])
        sock.sendall(b"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-good\r\n\r\n")
        head, answer = read_response(sock)
        assert head.startswith(b"HTTP/1.1 200") and b'"object":"list"' in answer.replace(b" ", b"")


def test_a_client_that_asked_to_close_gets_the_answer_then_a_clean_close(mockfiles: MockFilesServer) -> None:
    mockfiles.reset(api_keys=["sk-good"])
    body = b"\xab" * 3_000_000
    with socket.create_connection(("127.0.0.1", mockfiles.port), timeout=5) as sock:
        sock.sendall(upload_head(mockfiles, "sk-wrong", len(body), b"Connection: close\r\n") + body[:100_000])
        head, _ = read_response(sock)
        assert head.startswith(b"HTTP/1.1 401") and b"connection: close" in head.lower()
        sock.sendall(body[100_000:])  # still read (and discarded): no reset
        assert sock.recv(65536) == b""  # then the server's FIN


def test_a_refused_body_is_discarded_in_flat_memory(mockfiles: MockFilesServer) -> None:
    mockfiles.reset(api_keys=["sk-good"])
    piece = b"\xab" * 65536

    def body() -> Iterator[bytes]:
        for _ in range(1024):  # 64 MiB
            yield piece

    tracemalloc.start()
    try:
        with httpx.Client(timeout=30) as http:
            r = http.post(
                mockfiles.base_url + "/files",
                content=body(),
                headers={"Authorization": "Bearer sk-wrong", "Content-Type": "multipart/form-data; boundary=B"},
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 401
    assert peak < 8 * 1024 * 1024, f"{peak} bytes traced while 64 MiB were discarded"
