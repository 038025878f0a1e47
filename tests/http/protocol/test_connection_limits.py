"""What the connection itself refuses, with raw sockets: a request head that never ends (431 while
it arrives, other clients unaffected), a head or a body that stops coming (408 after the header or
body timeout), a silent connection (closed), a slow but live upload (never cut), and an answer
whose client has already left (journaled as unsent)."""

from __future__ import annotations

import select
import shutil
import socket
import subprocess
import threading
import time
import tracemalloc

import httpx
import orjson
import pytest

from mockfiles import MockFilesServer

SHORT = {"server": {"header_timeout": "500ms", "body_timeout": "500ms"}}

pytestmark = pytest.mark.mockfiles(rate_limits=False, scenario=SHORT)


def connect(server: MockFilesServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def envelope(response: bytes) -> dict[str, object]:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    error: dict[str, object] = orjson.loads(body)["error"]
    return error


def last_entry(server: MockFilesServer) -> dict[str, object]:
    return server.requests()[-1]


# --- a head that never ends --------------------------------------------------------------------


def test_an_endless_header_is_refused_while_it_arrives_and_others_are_served(mockfiles: MockFilesServer) -> None:
    answer = b""
    sent = 0

    def bomb() -> None:
        nonlocal answer, sent
        with connect(mockfiles) as sock:
            sock.sendall(b"GET /v1/files HTTP/1.1\r\nHost: x\r\nX-Endless: ")
            piece = b"a" * 65536
            while sent < 64 * 1024 * 1024:  # far beyond any head, unless the server answers first
                readable, writable, _ = select.select([sock], [sock], [], 5)
                if readable:
                    answer = read_all(sock)
                    return
                if writable:
                    sent += sock.send(piece)

    tracemalloc.start()
    try:
        thread = threading.Thread(target=bomb)
        thread.start()
        served = 0
        with httpx.Client(base_url=mockfiles.base_url, headers={"Authorization": "Bearer k"}, timeout=5) as http:
            while thread.is_alive() or served < 5:
                assert http.get("/files").status_code == 200  # a stalled server times out here
                served += 1
        thread.join()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.startswith(b"HTTP/1.1 431 ")
    error = envelope(answer)
    assert error["type"] == "invalid_request_error" and "too large" in str(error["message"])
    assert peak < 16 * 1024 * 1024, f"{peak} bytes traced while the client sent {sent} bytes of header"
    entry = [e for e in mockfiles.requests() if e["status"] == 431][-1]
    assert (entry["path"], entry["action"], entry["method"]) == ("/v1/files", "headers_too_large", "GET")


LONG_TARGET = b"/v1/files?purpose=" + b"x" * 66_000


@pytest.mark.parametrize("arrival", ["one_piece", "slowly"])
@pytest.mark.parametrize("prefix", [b"/v1", b"/compatible-mode/v1"])
def test_a_request_line_over_64k_is_431_in_the_envelope_however_it_arrives(
    mockfiles: MockFilesServer, arrival: str, prefix: bytes
) -> None:
    target = prefix + LONG_TARGET.removeprefix(b"/v1")
    request = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"
    with connect(mockfiles) as sock:
        if arrival == "one_piece":
            sock.sendall(request)
        else:
            for start in range(0, len(request), 1000):
                sock.sendall(request[start : start + 1000])
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    error = envelope(answer)
    assert error["message"] == (
        "Request header fields too large: the request line and headers must end within 65536 bytes."
    )
    entry = last_entry(mockfiles)
    assert (entry["status"], entry["action"], entry["method"]) == (431, "headers_too_large", "GET")
    assert len(str(entry["path"])) <= 1024  # the journal keeps the start of the target only
    with httpx.Client(base_url=mockfiles.base_url, headers={"Authorization": "Bearer k"}) as http:
        assert http.get("/files").status_code == 200  # nothing else is affected


def test_curl_with_a_100k_query_gets_the_431(mockfiles: MockFilesServer) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("no curl")
    url = f"{mockfiles.base_url}/files?purpose={'x' * 100_000}"
    done = subprocess.run(
        [curl, "-sS", "-H", "Authorization: Bearer k", "-w", "\n%{http_code}", url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    body, _, status = done.stdout.rpartition("\n")
    assert status == "431", done.stdout[:300] + done.stderr
    assert orjson.loads(body)["error"]["type"] == "invalid_request_error"
    assert last_entry(mockfiles)["action"] == "headers_too_large"


# --- timeouts ----------------------------------------------------------------------------------


def test_a_body_shorter_than_its_content_length_is_answered_408(mockfiles: MockFilesServer) -> None:
    with connect(mockfiles) as sock:
        sock.sendall(
            b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
            b"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000\r\n\r\n--B\r\n"
        )
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert "no part of the request body arrived for 0.5s" in str(envelope(answer)["message"])
    entry = last_entry(mockfiles)
    assert (entry["endpoint"], entry["status"], entry["action"]) == ("files.create", 408, "body_timeout")
    assert len(mockfiles.emulator.files.store) == 0


def test_a_head_that_stops_coming_is_answered_408(mockfiles: MockFilesServer) -> None:
    with connect(mockfiles) as sock:
        sock.sendall(b"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthori")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert "did not arrive within 0.5s" in str(envelope(answer)["message"])
    entry = last_entry(mockfiles)
    assert (entry["path"], entry["status"], entry["action"]) == ("/v1/files", 408, "header_timeout")


def test_a_silent_connection_is_closed_without_an_answer(mockfiles: MockFilesServer) -> None:
    before = len(mockfiles.requests())
    with connect(mockfiles) as sock:
        assert read_all(sock) == b""
    assert len(mockfiles.requests()) == before  # nothing was asked: nothing is journaled


def test_a_kept_connection_is_not_cut_by_the_header_timeout(mockfiles: MockFilesServer) -> None:
    """The header timeout counts until a head has arrived; between requests, the keep-alive
    timeout (5 s) applies instead."""
    mockfiles.use_scenario({"server": {"header_timeout": "1s"}})
    with connect(mockfiles) as sock:
        for pause in (0, 0.4, 0.4, 0.4):  # 1.2 s in all, longer than the header timeout
            time.sleep(pause)
            sock.sendall(b"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_a_slow_but_steady_upload_is_never_cut(mockfiles: MockFilesServer) -> None:
    parts = (
        b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="slow.txt"\r\n\r\n'
        + b"s" * 40
        + b"\r\n--B--\r\n"
    )
    mockfiles.use_scenario({"server": {"body_timeout": "1s"}})
    with connect(mockfiles) as sock:
        sock.sendall(
            b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
            b"Content-Type: multipart/form-data; boundary=B\r\n" + f"Content-Length: {len(parts)}\r\n\r\n".encode()
        )
        pieces = [parts[i : i + 25] for i in range(0, len(parts), 25)]
        for piece in pieces:  # 1.75 s in all, longer than the 1 s body timeout
            time.sleep(0.25)
            sock.sendall(piece)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b'"filename":"slow.txt"' in answer.replace(b" ", b"")


def test_a_refused_body_that_stalls_is_closed_within_the_body_timeout(mockfiles: MockFilesServer) -> None:
    """The drain after an early refusal waits for the rest of the body no longer than the body
    timeout (nor than 5 s) without a byte."""
    mockfiles.reset(api_keys=["sk-good"], scenario=SHORT, rate_limits=False)
    with connect(mockfiles) as sock:
        sock.settimeout(3)  # shorter than the 5 s a drain may otherwise stay idle
        sock.sendall(
            b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-wrong\r\n"
            b"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000000\r\n\r\n--B\r\n"
        )
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 401 ")


# --- the client left before its answer ----------------------------------------------------------


def test_an_answer_whose_client_left_is_journaled_unsent(mockfiles: MockFilesServer) -> None:
    mockfiles.use_scenario({**SHORT, "faults": [{"match": {"endpoint": "files.list"}, "delay": "1500ms"}]})
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(mockfiles.base_url + "/files", headers={"Authorization": "Bearer k"}, timeout=0.2)
    deadline = time.monotonic() + 5
    while not mockfiles.requests("files.list") and time.monotonic() < deadline:
        time.sleep(0.05)
    entry = mockfiles.requests("files.list")[-1]
    assert (entry["status"], entry["action"], entry["unsent_status"]) == (None, "client_disconnected", 200)
    assert entry["rule"] == "faults[0]"
