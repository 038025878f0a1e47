"""``mockfiles serve`` / ``python -m mockfiles`` / ``mockfiles check`` as a person runs them, and curl."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from mockfiles.core.registry import NAMES
from mockfiles.server import MockFilesServer, bind

MOCKFILES = shutil.which("mockfiles") or str(Path(sys.executable).parent / "mockfiles")
URL_LINE = re.compile(r"mockfiles serving on (http://127\.0\.0\.1:\d+)")


class Running:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url


def start(*args: str, command: tuple[str, ...] = (MOCKFILES,)) -> Running:
    process = subprocess.Popen(
        [*command, "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = URL_LINE.search(line)
    if not match:
        process.kill()
        raise AssertionError(f"no URL line; got {line!r}; stderr: {process.communicate(timeout=5)[1]}")
    return Running(process, match.group(1))


@pytest.fixture
def served() -> Iterator[Running]:
    running = start("--no-rate-limits")
    yield running
    running.process.send_signal(signal.SIGINT)
    running.process.wait(timeout=10)


def test_serve_prints_the_url_and_works_with_the_sdk(served: Running) -> None:
    client = openai.OpenAI(base_url=served.url + "/v1", api_key="anything")
    created = client.files.create(file=b"hi", purpose="assistants")
    assert client.files.retrieve(created.id).bytes == 2


def test_ctrl_c_stops_cleanly() -> None:
    running = start()
    assert httpx.get(running.url + "/_mockfiles/health").status_code == 200
    running.process.send_signal(signal.SIGINT)
    _, stderr = running.process.communicate(timeout=10)
    assert running.process.returncode == 0
    assert "Traceback" not in stderr


def test_python_dash_m_serve() -> None:
    running = start(command=(sys.executable, "-m", "mockfiles"))
    try:
        assert httpx.get(running.url + "/_mockfiles/health").json()["status"] == "ok"
    finally:
        running.process.send_signal(signal.SIGINT)
        running.process.wait(timeout=10)


def test_serve_options_profile_seed_and_keys(tmp_path: Path) -> None:
    running = start("--profile", "openai", "--seed", "7", "--api-key", "sk-one", "--api-key", "sk-two")
    try:
        assert httpx.get(running.url + "/v1/files", headers={"Authorization": "Bearer sk-two"}).status_code == 200
        assert httpx.get(running.url + "/v1/files", headers={"Authorization": "Bearer sk-3"}).status_code == 401
    finally:
        running.process.send_signal(signal.SIGINT)
        running.process.wait(timeout=10)


def test_serve_refuses_a_taken_port() -> None:
    holder = bind("127.0.0.1", 0)
    port = holder.getsockname()[1]
    try:
        result = subprocess.run([MOCKFILES, "serve", "--port", str(port)], capture_output=True, text=True, timeout=30)
    finally:
        holder.close()
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_serve_refuses_a_port_out_of_range(port: str) -> None:
    result = subprocess.run([MOCKFILES, "serve", "--port", port], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"mockfiles: port must be 0–65535 (0 picks a free one), got {port}" in result.stderr
    assert "Traceback" not in result.stderr and "Servname" not in result.stderr


@pytest.mark.parametrize("port", [70_000, 65_536, -1])
def test_server_refuses_a_port_out_of_range(port: int) -> None:
    with pytest.raises(ValueError, match="port must be 0–65535"):
        MockFilesServer(port=port)


def test_serve_refuses_a_bad_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 1\nrate_limits:\n  uplaod: 3\n")
    result = subprocess.run([MOCKFILES, "serve", "--scenario", str(bad)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"{bad}:3: unknown key 'uplaod' in rate_limits; did you mean 'upload'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_validates_files(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("profile: openai\nseed: 3\nlimits:\n  max_files: 10\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("profile: openia\n")
    ok = subprocess.run([MOCKFILES, "check", str(good)], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0 and f"{good}: ok" in ok.stdout
    failed = subprocess.run([MOCKFILES, "check", str(good), str(bad)], capture_output=True, text=True, timeout=30)
    assert failed.returncode == 1
    assert f"{bad}:1: unknown profile 'openia'" in failed.stderr


EVERY_ERROR = """\
profil: openai
seed: -1
rate_limits:
  uplaod: 3
  query: zero
faults:
  - match: {endpoint: files.craete, dialect: openia}
    status: 503
  - match: {endpoint: files.create}
    statuz: 503
    times: 0
  - match: {endpoint: files.list}
    status: 200
batches:
  timing: {validating: soon, in_progres: 1s}
  requests:
    - match: {custom_id: x}
      status: 700
journal: {cap: 0}
server: {header_timeout: 0s}
"""


def test_check_reports_every_error_of_a_document_each_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EVERY_ERROR)
    other = tmp_path / "other.yaml"
    other.write_text("limits: {max_files: many}\n")
    good = tmp_path / "good.yaml"
    good.write_text("seed: 1\n")
    result = subprocess.run(
        [MOCKFILES, "check", str(bad), str(good), str(other)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert result.stdout == f"{good}: ok\n"
    endpoints = ", ".join(NAMES)
    assert result.stderr.splitlines() == [
        f"{bad}:1: unknown key 'profil'; did you mean 'profile'?",
        f"{bad}:2: seed must be at least 0, got -1",
        f"{bad}:4: unknown key 'uplaod' in rate_limits; did you mean 'upload'?",
        f"{bad}:5: rate_limits.query must be an integer, got 'zero'",
        f"{bad}:7: unknown endpoint 'files.craete' in faults[0].match.endpoint; choose one of {endpoints}",
        f"{bad}:7: unknown dialect 'openia' in faults[0].match.dialect; choose one of openai, dashscope-compatible, dashscope-native",
        f"{bad}:10: unknown key 'statuz' in faults[1]; did you mean 'status'?",
        f"{bad}:11: faults[1].times must be at least 1, got 0",
        f"{bad}:13: faults[2].status must be at least 400, got 200",
        f"{bad}:15: unknown key 'in_progres' in batches.timing; did you mean 'in_progress'?",
        f"{bad}:15: batches.timing.validating: expected a duration like 700ms, 30s, 2m, 1h, 30d or a number of seconds, got 'soon'",
        f"{bad}:18: batches.requests[0].status must be at most 599, got 700",
        f"{bad}:19: journal.cap must be at least 1, got 0",
        f"{bad}:20: server.header_timeout must be longer than 0",
        f"{bad}: 14 errors",
        f"{other}:1: limits.max_files must be an integer, got 'many'",
        f"{other}: 1 error",
    ]


def test_serve_names_every_error_of_its_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: x\nfaults:\n  - statuz: 503\n")
    result = subprocess.run([MOCKFILES, "serve", "--scenario", str(bad)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"mockfiles: {bad}:1: seed must be an integer, got 'x'",
        f"mockfiles: {bad}:3: unknown key 'statuz' in faults[0]; did you mean 'status'?",
    ]


# --- curl ----------------------------------------------------------------------------

CURL = shutil.which("curl")


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    assert CURL, "curl is required for these tests (.ci/run installs it)"
    return subprocess.run([CURL, "-sS", *args], capture_output=True, text=True, timeout=30)


def test_curl_upload_list_content_delete(served: Running, tmp_path: Path) -> None:
    path = tmp_path / "mydata.jsonl"
    line = {"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini"}}
    path.write_text(json.dumps(line) + "\n")
    auth = "Authorization: Bearer sk-curl"
    created = json.loads(
        curl(f"{served.url}/v1/files", "-H", auth, "-F", "purpose=batch", "-F", f"file=@{path}").stdout
    )
    assert created["filename"] == "mydata.jsonl" and created["purpose"] == "batch"
    listed = json.loads(curl(f"{served.url}/v1/files", "-H", auth).stdout)
    assert [f["id"] for f in listed["data"]] == [created["id"]]
    content = curl(f"{served.url}/v1/files/{created['id']}/content", "-H", auth)
    assert content.stdout == path.read_text()
    deleted = json.loads(curl("-X", "DELETE", f"{served.url}/v1/files/{created['id']}", "-H", auth).stdout)
    assert deleted == {"id": created["id"], "object": "file", "deleted": True}


def test_curl_with_expires_after_fields(served: Running, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    out = curl(
        f"{served.url}/v1/files",
        "-H",
        "Authorization: Bearer sk-curl",
        "-F",
        "purpose=user_data",
        "-F",
        f"file=@{path}",
        "-F",
        "expires_after[anchor]=created_at",
        "-F",
        "expires_after[seconds]=3600",
    )
    created = json.loads(out.stdout)
    assert created["expires_at"] == created["created_at"] + 3600


def test_curl_without_key_gets_401(served: Running) -> None:
    out = curl("-i", f"{served.url}/v1/files")
    assert out.stdout.startswith("HTTP/1.1 401")
    assert "x-request-id: req_" in out.stdout
