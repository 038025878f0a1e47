"""``mockfiles serve`` stopped by a real SIGTERM (or Ctrl-C) with requests in flight: a request held
by a ``timeout`` rule is let go at once (its connection closed, as the rule says), an upload is read
and answered, a download is sent whole; past the grace period (``--shutdown-timeout``) what is still
unanswered gets a 503 in its dialect's envelope and a download still going is cut. The ``--quiet``
log stays empty: no traceback, no "Task was destroyed but it is pending!"."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

KEY = "sk-stop"
AUTH = f"Authorization: Bearer {KEY}\r\n".encode()
# Time enough for the slow upload and download below (about 3 s each, longer than uvicorn's usual
# 2 s), however busy the machine: what is tested is that they finish, not how fast.
GRACE = ("--shutdown-timeout", "60s")


class Served:
    def __init__(self, tmp_path: Path, *args: str) -> None:
        ready = tmp_path / "ready.json"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockfiles", "serve", "--port", "0", "--quiet", "--no-rate-limits"]
            + ["--ready-file", str(ready), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert self.process.poll() is None, self.process.communicate()[1]
            assert time.monotonic() < deadline, "no ready file"
            time.sleep(0.02)
        self.url: str = json.loads(ready.read_text())["url"]
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self, how: signal.Signals = signal.SIGTERM) -> str:
        self.process.send_signal(how)
        _, stderr = self.process.communicate(timeout=60)  # a deadline: the stop is bounded
        assert self.process.returncode == 0, stderr
        return stderr

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = httpx.get(self.url + "/_mockfiles/requests").json()["data"]
        return entries


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def form(size: int) -> bytes:
    return (
        b'--BB\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        b'--BB\r\nContent-Disposition: form-data; name="file"; filename="u.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + b"u" * size + b"\r\n--BB--\r\n"
    )


def start_upload(sock: socket.socket, path: str, body: bytes) -> None:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=BB\r\n"
    sock.sendall(head.encode() + AUTH + b"Content-Length: %d\r\n\r\n" % len(body))


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def stored_file(served: Served, size: int) -> str:
    created = httpx.post(
        served.url + "/v1/files",
        headers={"Authorization": f"Bearer {KEY}"},
        files={"file": ("big.bin", b"d" * size)},
        data={"purpose": "assistants"},
        timeout=60,
    )
    file_id: str = created.json()["id"]
    return file_id


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_requests_in_flight_finish_and_held_ones_are_let_go(tmp_path: Path, how: signal.Signals) -> None:
    scenario = tmp_path / "hold.yaml"
    scenario.write_text("faults:\n  - match: {endpoint: files.list}\n    action: timeout\n")
    served = Served(tmp_path, "--scenario", str(scenario), *GRACE)
    size = 20 * 1024 * 1024
    file_id = stored_file(served, size)
    outcome: dict[str, Any] = {}

    def held() -> None:  # the openai SDK, as a user's code waits on a request the rule holds
        client = openai.OpenAI(base_url=served.url + "/v1", api_key=KEY, max_retries=0, timeout=60)
        try:
            client.files.list()
        except openai.APIError as exc:
            outcome["held"] = exc

    body = form(1024 * 1024)
    upload, download = served.connect(), served.connect()
    start_upload(upload, "/v1/files", body)
    upload.sendall(body[:1000])
    download.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    download.sendall(f"GET /v1/files/{file_id}/content HTTP/1.1\r\nHost: x\r\n".encode() + AUTH + b"\r\n")
    first = download.recv(65536)
    holder = threading.Thread(target=held)
    holder.start()
    wait_for(lambda: any(e["endpoint"] == "files.list" for e in served.journal()), "the held request is journaled")

    stopping = threading.Thread(target=lambda: outcome.update(stderr=served.stop(how)))
    stopping.start()
    for i in range(1000, len(body), 64 * 1024):  # the upload goes on after the signal, for ~3 s
        upload.sendall(body[i : i + 64 * 1024])
        time.sleep(0.2)
    answer = read_until_closed(upload)
    received = first
    while chunk := download.recv(65536):  # so does the download, read slowly (~3 s)
        received += chunk
        time.sleep(0.01)
    holder.join(60)
    stopping.join(60)

    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    created = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert (created["object"], created["bytes"], created["filename"]) == ("file", 1024 * 1024, "u.bin")
    head, _, content = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and f"content-length: {size}".encode() in head.lower()
    assert len(content) == size and content == b"d" * size
    # the held request's connection was closed without an answer: not a 500
    assert isinstance(outcome["held"], openai.APIConnectionError), repr(outcome["held"])
    assert outcome["stderr"] == ""


def test_past_the_grace_period_an_upload_gets_a_503_and_a_download_is_cut(tmp_path: Path) -> None:
    served = Served(tmp_path, "--shutdown-timeout", "500ms")
    size = 20 * 1024 * 1024
    file_id = stored_file(served, size)
    body = form(4 * 1024 * 1024)
    upload, download = served.connect(), served.connect()
    start_upload(upload, "/compatible-mode/v1/files", body)
    upload.sendall(body[:1000])
    download.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    download.sendall(f"GET /v1/files/{file_id}/content HTTP/1.1\r\nHost: x\r\n".encode() + AUTH + b"\r\n")
    received = download.recv(65536)
    stderr: list[str] = []
    stopping = threading.Thread(target=lambda: stderr.append(served.stop()))
    stopping.start()
    sent = 1000
    try:
        while stopping.is_alive() and sent < len(body) // 2:  # an upload too slow for the grace period
            upload.sendall(body[sent : sent + 4096])
            sent += 4096
            time.sleep(0.02)
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = read_until_closed(upload)
    try:
        while stopping.is_alive() and (chunk := download.recv(4096)):  # a download too slow for it
            received += chunk
            time.sleep(0.02)
        received += read_until_closed(download)
    except ConnectionResetError:
        pass
    stopping.join(60)

    head, _, error = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ") and b"connection: close" in head.lower(), answer[:300]
    request_id = json.loads(error)["request_id"]
    assert json.loads(error) == {  # DashScope compatible mode's envelope
        "error": {
            "message": "The server is overloaded or not ready yet.",
            "type": "server_error",
            "param": None,
            "code": None,
        },
        "request_id": request_id,
    }
    assert len(received.partition(b"\r\n\r\n")[2]) < size  # cut: the client can tell
    assert len(stderr) == 1 and "Traceback" not in stderr[0] and "Task was destroyed" not in stderr[0]
    lines = stderr[0].splitlines()  # uvicorn's one line: "Cancel 2 running task(s), timeout graceful shutdown exceeded"
    assert len(lines) == 1 and "2 running task(s)" in lines[0], stderr[0]


def test_a_stop_with_nothing_in_flight_is_immediate_and_silent(tmp_path: Path) -> None:
    served = Served(tmp_path)
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {KEY}"}) as http:
        assert http.get("/v1/files").status_code == 200  # a kept-alive connection, idle
        assert served.stop() == ""


def test_shutdown_timeout_takes_a_duration() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockfiles", "serve", "--shutdown-timeout", "soon"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        "argument --shutdown-timeout: expected a duration like 700ms, 30s, 2m, 1h, 30d or a number of seconds, got 'soon'"
        in done.stderr
    )


def test_stop_wakes_the_server_rather_than_waiting_for_its_next_look(monkeypatch: pytest.MonkeyPatch) -> None:
    """``MockFilesServer.stop()`` wakes the server's loop: with its look at ``should_exit`` an hour
    apart, a stop with a keep-alive connection open and a request just answered still ends."""
    from mockfiles import MockFilesServer
    from mockfiles.web import stopping

    monkeypatch.setattr(stopping, "TICK", 3600.0)
    server = MockFilesServer(rate_limits=False).start()
    with httpx.Client(base_url=server.url) as client:  # keeps its connection open
        assert client.get("/v1/files", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
        stopping_thread = threading.Thread(target=server.stop, daemon=True)
        stopping_thread.start()
        stopping_thread.join(60)
        assert not stopping_thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/v1/files")
