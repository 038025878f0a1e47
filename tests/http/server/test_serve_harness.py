"""``mockfiles serve`` as another language's test runner starts it: the ready file (written
atomically once connections are accepted, removed on exit), and a quiet log under ``--quiet``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockfiles.announce import remove_ready_file, write_ready_file

SERVE = (sys.executable, "-m", "mockfiles", "serve", "--port", "0")


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SERVE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for(path: Path, process: subprocess.Popen[str]) -> dict[str, Any]:
    """What a harness in any language does: poll for the file (a test deadline, not a timing assertion)."""
    deadline = time.monotonic() + 30
    while not path.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "no ready file"
        time.sleep(0.02)
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def stop(process: subprocess.Popen[str], how: signal.Signals = signal.SIGINT) -> tuple[int, str]:
    process.send_signal(how)
    _, stderr = process.communicate(timeout=15)
    return process.returncode, stderr


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_ready_file_names_every_url_and_goes_away_on_exit(tmp_path: Path, how: signal.Signals) -> None:
    ready = tmp_path / "mockfiles.json"
    process = spawn("--quiet", "--ready-file", str(ready))
    try:
        doc = wait_for(ready, process)
        url = doc["url"]
        assert doc["base_urls"] == {
            "openai": url + "/v1",
            "dashscope-compatible": url + "/compatible-mode/v1",
            "dashscope-native": url + "/api/v1",
            "azure": url,
            "azure-v1": url + "/openai/v1",
        }
        assert doc["admin_url"] == url + "/_mockfiles"
        assert doc["console_url"] == url + "/_mockfiles/"
        assert doc["admin_open"] is True
        assert doc["pid"] == process.pid
        assert doc["profile"] == "openai" and doc["profile_dialects"] == ["openai"]
        # it already accepts connections: every base URL answers
        client = openai.OpenAI(base_url=doc["base_urls"]["openai"], api_key="sk-node")
        created = client.files.create(file=("a.jsonl", b"{}\n"), purpose="assistants")
        compatible = openai.OpenAI(base_url=doc["base_urls"]["dashscope-compatible"], api_key="sk-node")
        assert [f.id for f in compatible.files.list()] == [created.id]
        native = httpx.get(doc["base_urls"]["dashscope-native"] + "/files", headers={"Authorization": "Bearer sk-node"})
        assert native.status_code == 200
        assert httpx.get(doc["admin_url"] + "/health").json()["status"] == "ok"
        assert [p.name for p in tmp_path.iterdir()] == ["mockfiles.json"]  # no temporary file left
    finally:
        code, stderr = stop(process, how)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert not ready.exists()


def test_ready_file_says_when_admin_is_closed_and_the_profile(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    process = spawn("--quiet", "--ready-file", str(ready), "--admin-token", "s3cret", "--profile", "dashscope")
    try:
        doc = wait_for(ready, process)
        assert doc["admin_open"] is False
        assert doc["profile_dialects"] == ["dashscope-compatible", "dashscope-native"]
        assert "s3cret" not in ready.read_text()
    finally:
        stop(process)
    assert not ready.exists()


def test_a_stale_ready_file_is_replaced(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    stale = '{"url": "http://127.0.0.1:1"}'
    ready.write_text(stale)
    process = spawn("--quiet", "--ready-file", str(ready))
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() or ready.read_text() == stale:  # removed at start, then written
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.02)
        doc = wait_for(ready, process)
        assert httpx.get(doc["admin_url"] + "/health").status_code == 200
    finally:
        stop(process)


def test_a_ready_file_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SERVE, "--ready-file", str(tmp_path / "nowhere" / "ready.json")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "no such directory" in done.stderr


def test_a_ready_file_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    done = subprocess.run(
        [*SERVE, "--quiet", "--ready-file", str(tmp_path / "taken")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr == f"mockfiles: --ready-file {tmp_path / 'taken'}: is a directory\n"
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no file can be made")
def test_a_ready_file_that_cannot_be_written_stops_the_server() -> None:
    done = subprocess.run(
        [*SERVE, "--quiet", "--ready-file", "/proc/ready.json"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.startswith("mockfiles: cannot write the ready file /proc/ready.json: ")
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_the_ready_file_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "ready.json"
    write_ready_file(path, {"url": "http://127.0.0.1:9"})
    write_ready_file(path, {"url": "http://127.0.0.1:10"})
    assert json.loads(path.read_text()) == {"url": "http://127.0.0.1:10"}
    assert [p.name for p in tmp_path.iterdir()] == ["ready.json"]
    with pytest.raises(TypeError):
        write_ready_file(path, {"url": object()})  # not JSON: the old file stays, nothing else appears
    assert json.loads(path.read_text()) == {"url": "http://127.0.0.1:10"}
    remove_ready_file(path)
    remove_ready_file(path)
    assert list(tmp_path.iterdir()) == []


# --- malformed requests and the log ------------------------------------------------------------------


def send_garbage(url: str) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return answer


@pytest.mark.parametrize("quiet", [True, False])
def test_garbage_is_answered_400_and_only_logged_without_quiet(tmp_path: Path, quiet: bool) -> None:
    ready = tmp_path / "ready.json"
    process = spawn(*(["--quiet"] if quiet else []), "--ready-file", str(ready))
    try:
        url = wait_for(ready, process)["url"]
        assert send_garbage(url).startswith(b"HTTP/1.1 400 ")
        assert send_garbage(url).startswith(b"HTTP/1.1 400 ")
        assert httpx.get(url + "/_mockfiles/health").status_code == 200  # still serving
    finally:
        code, stderr = stop(process)
    assert code == 0
    if quiet:
        assert stderr == ""
    else:
        assert stderr.count("Invalid HTTP request received.") == 2


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("0.0.0.0", "http://127.0.0.1:"),
        pytest.param("::", "http://[::1]:", marks=pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6")),
    ],
)
def test_a_wildcard_host_announces_a_connectable_url(tmp_path: Path, host: str, loopback: str) -> None:
    ready = tmp_path / "ready.json"
    process = spawn("--host", host, "--admin-token", "t", "--ready-file", str(ready))
    try:
        doc = wait_for(ready, process)
        assert doc["url"].startswith(loopback) and doc["host"] == host
        assert doc["base_urls"]["openai"] == doc["url"] + "/v1"
        client = openai.OpenAI(base_url=doc["base_urls"]["openai"], api_key="sk-any")
        assert client.files.list().data == []
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"mockfiles serving on {doc['url']} (profile openai), listening on all interfaces")
        assert f"{host}:" not in process.stdout.readline()
    finally:
        stop(process)


def test_connectable_url_keeps_a_named_host_and_maps_wildcards_to_loopback() -> None:
    from mockfiles.announce import connectable_url

    assert connectable_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert connectable_url("localhost", 8000) == "http://localhost:8000"
    assert connectable_url("::1", 8000) == "http://[::1]:8000"
    assert connectable_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert connectable_url("::", 8000) == "http://[::1]:8000"
