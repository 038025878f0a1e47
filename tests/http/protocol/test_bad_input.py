"""Bad input of every kind gets a clearly shaped 4xx (never a 500 or a traceback), and
nothing is stored; admin routes can be protected; keys never reach the logs."""

from __future__ import annotations

import gc
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import tracemalloc

import httpx
import pytest

from mockfiles import MockFilesServer

pytestmark = pytest.mark.mockfiles(rate_limits=False)


def envelope(r: httpx.Response) -> dict[str, object]:
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    assert "Traceback" not in r.text
    return body["error"]


def stored(server: MockFilesServer) -> int:
    return len(server.emulator.files.store)


@pytest.mark.parametrize(
    ("filename", "fragment"),
    [
        ("../../etc/passwd", "path separator"),
        ("dir/file.txt", "path separator"),
        ("a\\b.txt", "path separator"),
        ("nul\x00byte.txt", "control character"),
        ("tab\there.txt", "control character"),
        ("x" * 1000 + ".txt", "longer than 512"),
        ("   ", "is empty"),
    ],
)
def test_bad_filenames_are_400(mockfiles: MockFilesServer, http: httpx.Client, filename: str, fragment: str) -> None:
    body = (  # by hand: clients escape some of these, and the test is about what reaches the server
        b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B\r\n'
        b'Content-Disposition: form-data; name="file"; filename="' + filename.encode() + b'"\r\n\r\nx\r\n--B--\r\n'
    )
    r = http.post("/v1/files", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert r.status_code == 400, r.text
    error = envelope(r)
    assert fragment in str(error["message"]) and error["param"] == "file" and error["code"] == "invalid_filename"
    assert stored(mockfiles) == 0


def test_unicode_filenames_are_kept(http: httpx.Client) -> None:
    r = http.post("/v1/files", files={"file": ("données 📄.txt", b"x")}, data={"purpose": "assistants"})
    assert r.status_code == 200 and r.json()["filename"] == "données 📄.txt"


@pytest.mark.parametrize(
    ("raw_path", "status"),
    [
        (b"/v1/files/", 404),
        (b"/v1/files/" + b"f" * 20_000, 404),
        (b"/v1/files/..%2F..%2Fetc%2Fpasswd", 404),
        (b"/v1/files/%2E%2E", 404),
        (b"/v1/files/file-%00abc", 404),
        (b"/v1/files/file-%00abc/content", 404),
        (b"/v1/files/%ff%fe", 404),
        (b"/v1/files?limit=%00", 400),
    ],
)
def test_odd_file_ids_and_paths(mockfiles: MockFilesServer, raw_path: bytes, status: int) -> None:
    with socket.create_connection(("127.0.0.1", mockfiles.port), timeout=5) as sock:
        sock.sendall(
            b"GET " + raw_path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nConnection: close\r\n\r\n"
        )
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status}".encode()), head[:100]
    assert b'"error"' in body and b"Traceback" not in body


def test_huge_header_line_is_refused(mockfiles: MockFilesServer) -> None:
    with socket.create_connection(("127.0.0.1", mockfiles.port), timeout=5) as sock:
        sock.sendall(
            b"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
        )
        response = sock.recv(65536)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), head[:100]
    assert b"Request header fields too large" in body
    assert httpx.get(mockfiles.base_url + "/files", headers={"Authorization": "Bearer k"}).status_code == 200


def test_huge_multipart_part_header_is_400(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="purpose"\r\nX-Pad: '
        + b"p" * 20_000
        + b"\r\n\r\nassistants\r\n--B--\r\n"
    )
    r = http.post("/v1/files", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert r.status_code == 400 and "header" in str(envelope(r)["message"]).lower()


SMALL_FORM_HEAD = b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B\r\n'
FILE_HEAD = b'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (SMALL_FORM_HEAD + FILE_HEAD + b"\r\nx\r\n", "closing boundary is missing"),  # read whole, then refused
        (SMALL_FORM_HEAD + FILE_HEAD + b"X-A: 1\r\n" * 8 + b"\r\nx\r\n--B--\r\n", "Maximum header count"),
        (SMALL_FORM_HEAD + b"Bad Name: 1\r\n" + FILE_HEAD + b"\r\nx\r\n--B--\r\n", "invalid character"),
        (SMALL_FORM_HEAD + FILE_HEAD + b"X-Pad: " + b"p" * 4300 + b"\r\n" * 2 + b"x\r\n--B--\r\n", "header size"),
        (SMALL_FORM_HEAD + FILE_HEAD + (b"X-Pad: " + b"p" * 4200 + b"\r\n") * 2 + b"\r\nx\r\n--B--\r\n", "8192"),
        (
            b"".join(b'--B\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i for i in range(70)),
            "Too many",
        ),
        (SMALL_FORM_HEAD.replace(b"assistants", b"\xfe") + FILE_HEAD + b"\r\nx\r\n--B--\r\n", "not valid UTF-8"),
    ],
    ids=[
        "no closing boundary",
        "nine part headers",
        "a bad header name",
        "a part header line too long",
        "part headers too long",
        "70 parts",
        "utf-8",
    ],
)
def test_small_malformed_forms_are_400(mockfiles: MockFilesServer, http: httpx.Client, body: bytes, words: str) -> None:
    """Small bodies (read whole and split in one pass when they have the usual shape) are refused
    as the streaming parser refuses them."""
    r = http.post("/v1/files", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert r.status_code == 400, r.text
    assert words in str(envelope(r)["message"])
    assert stored(mockfiles) == 0


def test_a_small_upload_keeps_its_bytes_exactly(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    content = b"line\r\n\r\n--\r\n-B\r\nB--\r\n"  # blank lines and dashes inside the data
    body = SMALL_FORM_HEAD + FILE_HEAD + b"Content-Type: text/plain\r\n\r\n" + content + b"\r\n--B--\r\nepilogue"
    r = http.post("/v1/files", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert r.status_code == 200, r.text
    assert http.get(f"/v1/files/{r.json()['id']}/content").content == content
    entry = mockfiles.requests("files.create")[-1]
    assert (entry["size"], entry["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())


def test_long_form_field_is_400(http: httpx.Client) -> None:
    r = http.post("/v1/files", files={"purpose": (None, "a" * 100_000), "file": ("a.txt", b"x")})
    assert r.status_code == 400 and envelope(r)["param"] == "purpose"


def test_non_bearer_schemes_are_401(mockfiles: MockFilesServer) -> None:
    for value in ("Basic c2stdGVzdDo=", "Digest username=x", "bearer", "Bearer\tk"):
        r = httpx.get(mockfiles.base_url + "/files", headers={"Authorization": value})
        assert r.status_code == 401 or value == "Bearer\tk", value


def test_admin_json_routes_refuse_non_json(mockfiles: MockFilesServer) -> None:
    for body in (b"advance=5", b"[1, 2]", b"\xff\xfe", b'{"advance": "soon"}'):
        r = httpx.post(mockfiles.url + "/_mockfiles/clock", content=body)
        assert r.status_code == 400 and envelope(r)["type"] == "invalid_request_error"


def test_aborted_uploads_leave_nothing_behind(mockfiles: MockFilesServer) -> None:
    body = b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n' + os.urandom(1 << 20)
    head = (
        b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        b"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 9999999\r\n\r\n"
    )

    def abort_one() -> None:
        with socket.create_connection(("127.0.0.1", mockfiles.port), timeout=5) as sock:
            sock.sendall(head + body)
        time.sleep(0.05)

    abort_one()  # warm up allocator pools
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(10):
            abort_one()
        time.sleep(0.3)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored(mockfiles) == 0
    assert after - before < 2 * (1 << 20), (
        f"{(after - before) / 2**20:.1f} MiB still held after 10 aborted 1 MiB uploads"
    )
    statuses = [e["status"] for e in mockfiles.requests()]
    assert statuses == [None] * 11 and {e["action"] for e in mockfiles.requests()} == {"client_disconnected"}


# --- admin protection and logs -----------------------------------------------------------------


def test_admin_token_protects_admin_routes() -> None:
    with MockFilesServer(admin_token="s3cret") as server:
        for method, path in [
            ("GET", "/health"),
            ("POST", "/reset"),
            ("GET", "/requests"),
            ("GET", "/files"),
            ("GET", "/clock"),
            ("GET", "/scenario"),
            ("GET", "/openapi.json"),
        ]:
            r = httpx.request(method, server.url + "/_mockfiles" + path)
            assert r.status_code == 401, path
            assert (
                httpx.request(
                    method, server.url + "/_mockfiles" + path, headers={"Authorization": "Bearer wrong"}
                ).status_code
                == 401
            )
            assert (
                httpx.request(
                    method, server.url + "/_mockfiles" + path, headers={"Authorization": "Bearer s3cret"}
                ).status_code
                == 200
            )
        server.reset()  # the Python handle needs no token
        assert server.client().files.list().data == []


@pytest.mark.mockfiles(scenario={"admin": {"token": "from-scenario"}})
def test_admin_token_from_a_scenario(mockfiles: MockFilesServer) -> None:
    assert httpx.get(mockfiles.url + "/_mockfiles/health").status_code == 401
    ok = httpx.get(mockfiles.url + "/_mockfiles/health", headers={"Authorization": "Bearer from-scenario"})
    assert ok.status_code == 200


def run_serve(*args: str) -> tuple[str, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockfiles", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    url = line.split("serving on ")[1].split()[0].replace("0.0.0.0", "127.0.0.1")
    key = "sk-proj-VERYSECRETKEY1234567890abcdefXYZW"
    httpx.get(url + "/v1/files", headers={"Authorization": f"Bearer {key}"})
    httpx.get(url + "/v1/files/file-x", headers={"Authorization": f"Bearer {key}"})
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert "VERYSECRETKEY" not in out + err + line
    return line + out, err


def test_serve_on_all_interfaces_without_a_token_warns() -> None:
    _, err = run_serve("--host", "0.0.0.0")
    assert "warning: listening on 0.0.0.0" in err and "--admin-token" in err


def test_serve_with_a_token_or_on_loopback_does_not_warn() -> None:
    assert "warning" not in run_serve("--host", "0.0.0.0", "--admin-token", "t")[1]
    assert "warning" not in run_serve()[1]


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/v1/files", "Invalid 'after': no file with id '"),
        ("/compatible-mode/v1/files", "Invalid 'after': no file with id '"),
        ("/v1/batches", "Invalid 'after': no batch with id '"),
    ],
)
def test_a_long_value_is_echoed_capped(mockfiles: MockFilesServer, path: str, words: str) -> None:
    after = "file-" + "x" * 30_000
    r = httpx.get(mockfiles.url + path, params={"after": after}, headers={"Authorization": "Bearer sk-echo"})
    assert r.status_code == 400
    message = r.json()["error"]["message"]
    assert message == words + after[:64] + "…'.", message


def test_a_long_integer_is_echoed_capped(mockfiles: MockFilesServer) -> None:
    r = httpx.get(mockfiles.url + "/v1/files", params={"limit": "9" * 4000}, headers={"Authorization": "Bearer sk-e"})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == (
        "Invalid 'limit': integer above maximum value. Expected a value <= 10000, but got " + "9" * 64 + "… instead."
    )
