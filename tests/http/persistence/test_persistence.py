"""State that survives a restart: ``mockfiles serve --data-dir`` killed with SIGKILL and started
again on the same directory, over real HTTP with the openai SDK (sync and async), httpx and raw
sockets; ``MockFilesServer(data_dir=...)`` the same in process; directories of another format
refused."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockfiles.emulator import Emulator
from mockfiles.exceptions import DataDirError
from mockfiles.persistence.changes import NO_CHANGES
from mockfiles.persistence.datadir import DB_NAME
from mockfiles.server import MockFilesServer
from tests.support.batching import chat_line
from tests.support.chatting import REPORT, asking, file_part, named
from tests.support.helpers import batch_file, jsonl

SERVE = (sys.executable, "-m", "mockfiles", "serve", "--port", "0", "--quiet", "--no-rate-limits")
KEY = "sk-persist"


class Served:
    """One ``mockfiles serve`` process on a data directory."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        ready = data_dir.parent / f"ready-{time.monotonic_ns()}.json"
        self.process = subprocess.Popen(
            [*SERVE, "--data-dir", str(data_dir), "--ready-file", str(ready), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 60  # a test deadline, not a timing assertion
        while not ready.exists():
            assert self.process.poll() is None, self.process.communicate()[1]
            assert time.monotonic() < deadline, "no ready file"
            time.sleep(0.02)
        self.url: str = json.loads(ready.read_text())["url"]
        self.client = openai.OpenAI(base_url=self.url + "/v1", api_key=KEY, max_retries=0)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final flush."""
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=30)
        assert self.process.returncode == -signal.SIGKILL


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "state"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def view(client: openai.OpenAI) -> dict[str, Any]:
    """Everything a client can see of its account: files (with their bytes' sha256), pages
    walked by cursor, batches, in both orders."""
    files = [f.model_dump() for f in client.files.list(order="asc").data]
    return {
        "files": files,
        "content": {f["id"]: sha(client.files.content(f["id"]).read()) for f in files},
        "desc": [f.id for f in client.files.list(order="desc").data],
        "pages": [f.id for f in client.files.list(limit=2)],  # follows `after` cursors
        "batches": [b.model_dump() for b in client.batches.list().data],
    }


def blob_files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "blobs").rglob("*") if p.is_file()}


# --- the real process, killed -------------------------------------------------------------


def test_acknowledged_uploads_survive_kill_9_with_the_same_ids_bytes_lists_and_cursors(data_dir: Path) -> None:
    server = Served(data_dir)
    big = os.urandom(3 * 1024 * 1024 + 17)
    small = b"tiny"
    sent = {
        server.client.files.create(file=("big.bin", big), purpose="assistants").id: big,
        server.client.files.create(file=("small.txt", small), purpose="assistants").id: small,
    }

    async def async_upload() -> str:
        async with openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0) as client:
            made = await client.files.create(file=("async.jsonl", batch_file(3)), purpose="batch")
            return made.id

    async_id = asyncio.run(async_upload())
    sent[async_id] = batch_file(3)
    curl = subprocess.run(
        [
            "curl",
            "-sS",
            "-H",
            f"Authorization: Bearer {KEY}",
            "-F",
            "purpose=assistants",
            "-F",
            "file=@-;filename=c.txt",
        ]
        + [server.url + "/v1/files"],
        input=b"from curl",
        capture_output=True,
        check=True,
    )
    sent[json.loads(curl.stdout)["id"]] = b"from curl"
    server.client.batches.create(input_file_id=async_id, endpoint="/v1/chat/completions", completion_window="24h")
    gone = server.client.files.create(file=("gone.txt", b"deleted before the kill"), purpose="assistants")
    server.client.files.delete(gone.id)
    before = view(server.client)
    last = server.client.files.create(file=("last.txt", b"answered, then killed"), purpose="assistants")
    server.kill()  # right after the answer: no graceful shutdown

    again = Served(data_dir)
    try:
        assert again.process.stdout is not None
        said = [again.process.stdout.readline() for _ in range(11)]  # the start-up lines, then where the state is
        assert f"  state kept in {data_dir} ({len(before['files']) + 1} files)\n" in said
        after = view(again.client)
        assert after["files"][:-1] == before["files"]
        assert after["files"][-1]["id"] == last.id
        assert after["content"][last.id] == sha(b"answered, then killed")
        for file_id, data in sent.items():
            assert after["content"][file_id] == sha(data)
            assert again.client.files.retrieve(file_id).model_dump() == next(
                f for f in before["files"] if f["id"] == file_id
            )
        assert after["batches"] == before["batches"]
        assert [f.id for f in again.client.files.list(limit=2, after=gone.id, order="asc")] == [last.id]
        made = again.client.files.create(file=("new.txt", b"after the restart"), purpose="assistants")
        assert made.id not in sent and made.created_at >= last.created_at
        assert [f.id for f in again.client.files.list(order="asc")][-1] == made.id
    finally:
        again.kill()


def test_an_upload_killed_mid_body_leaves_nothing(data_dir: Path) -> None:
    server = Served(data_dir)
    kept = server.client.files.create(file=("kept.txt", os.urandom(100_000)), purpose="assistants")
    blobs = blob_files(data_dir)
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    boundary = "persistboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.bin"\r\n\r\n'
    ).encode()
    declared = len(head) + 8 * 1024 * 1024 + len(f"\r\n--{boundary}--\r\n")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            (
                f"POST /v1/files HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n"
            ).encode()
            + head
        )
        sock.sendall(os.urandom(4 * 1024 * 1024))  # half the file, then the server dies
        health = httpx.get(server.url + "/_mockfiles/health", timeout=30)  # the server is still reading it
        assert health.status_code == 200
        server.kill()

    again = Served(data_dir)
    try:
        assert [f.id for f in again.client.files.list()] == [kept.id]
        assert blob_files(data_dir) == blobs  # no blob of the half-sent file, no temporary file
        assert not list((data_dir / "blobs").glob("*.tmp"))
    finally:
        again.kill()


def test_uploads_parts_and_the_clock_survive_kill_9(data_dir: Path) -> None:
    server = Served(data_dir)
    upload = server.client.uploads.create(
        filename="parts.txt", bytes=10_000, purpose="assistants", mime_type="text/plain"
    )
    first = server.client.uploads.parts.create(upload_id=upload.id, data=b"a" * 6_000)
    moved = httpx.post(server.url + "/_mockfiles/clock", json={"advance": 600}).json()
    server.kill()

    again = Served(data_dir)
    try:
        clock = httpx.get(again.url + "/_mockfiles/clock").json()
        assert clock["offset"] == moved["offset"] == 600
        second = again.client.uploads.parts.create(upload_id=upload.id, data=b"b" * 4_000)
        done = again.client.uploads.complete(upload_id=upload.id, part_ids=[first.id, second.id])
        assert done.status == "completed" and done.file is not None
        assert again.client.files.content(done.file.id).read() == b"a" * 6_000 + b"b" * 4_000
    finally:
        again.kill()


def test_a_directory_of_another_format_is_refused_by_serve_with_exit_2(data_dir: Path) -> None:
    Served(data_dir).kill()
    with sqlite3.connect(data_dir / DB_NAME) as db:
        db.execute("UPDATE meta SET value = '999' WHERE key = 'format'")
    before = (data_dir / DB_NAME).read_bytes()
    done = subprocess.run([*SERVE, "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(f"mockfiles: {data_dir} holds state in format 999 ")
    assert "reads format 1 only" in done.stderr and "another --data-dir" in done.stderr
    assert (data_dir / DB_NAME).read_bytes() == before  # never written over


# --- in process -------------------------------------------------------------------------------


def test_the_in_memory_default_keeps_nothing_and_marks_nothing() -> None:
    emulator = Emulator()
    assert emulator.saved is None and not emulator.behind
    assert emulator.files.store.changes is NO_CHANGES and emulator.uploads.changes is NO_CHANGES


def test_ids_continue_as_if_the_server_had_never_stopped(tmp_path: Path) -> None:
    def upload(server: MockFilesServer, n: int) -> list[str]:
        client = server.client()
        return [client.files.create(file=(f"{i}.txt", b"x"), purpose="assistants").id for i in range(n)]

    with MockFilesServer(seed=7, rate_limits=False) as server:
        straight = upload(server, 3)
    with MockFilesServer(seed=7, rate_limits=False, data_dir=tmp_path / "d") as server:
        first = upload(server, 2)
    with MockFilesServer(seed=7, rate_limits=False, data_dir=tmp_path / "d") as server:
        assert first + upload(server, 1) == straight


def test_batches_finish_after_a_restart_with_their_result_files(tmp_path: Path) -> None:
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        client = server.client()
        source = client.files.create(file=("in.jsonl", batch_file(4)), purpose="batch")
        batch = client.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        server.advance(24 * 3600)
        done = server.client().batches.retrieve(batch.id)
        result = done.output_file_id or done.error_file_id
        assert done.status == "completed" and result is not None
        output = server.client().files.content(result).read()
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        again = server.client().batches.retrieve(batch.id)
        assert again.model_dump() == done.model_dump()
        assert server.client().files.content(result).read() == output


def test_a_batch_keeps_the_fates_validation_decided_across_a_restart(tmp_path: Path) -> None:
    """Validation decides every line: the endpoint refuses lines 0 and 2 (no messages), rules
    decide lines 1 and 3 (a 503, a fixed answer); the batch ends after a restart, and its files
    say what was decided."""
    rules = [
        {"match": {"custom_id": "1"}, "status": 503},
        {"match": {"custom_id": "3"}, "body": {"id": "chatcmpl-fixed"}},
    ]
    scenario = {"batches": {"timing": {"in_progress": "1h"}, "requests": rules}}
    with MockFilesServer(rate_limits=False, data_dir=tmp_path, scenario=scenario) as server:
        client = server.client()
        source = client.files.create(file=("in.jsonl", batch_file(4)), purpose="batch")
        batch = client.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        server.advance(2 * 3600)
        client = server.client()
        done = client.batches.retrieve(batch.id)
        assert done.status == "completed" and done.request_counts is not None
        assert (done.request_counts.completed, done.request_counts.failed) == (1, 3)
        assert done.output_file_id is not None and done.error_file_id is not None
        output = [json.loads(line) for line in client.files.content(done.output_file_id).read().splitlines()]
        errors = [json.loads(line) for line in client.files.content(done.error_file_id).read().splitlines()]
    assert [(line["custom_id"], line["response"]["body"]) for line in output] == [("3", {"id": "chatcmpl-fixed"})]
    assert [(line["custom_id"], line["response"]["status_code"]) for line in errors] == [
        ("0", 400),
        ("1", 503),
        ("2", 400),
    ]


def test_reset_empties_the_directory(tmp_path: Path) -> None:
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        server.client().files.create(file=("a.bin", os.urandom(50_000)), purpose="assistants")
        assert blob_files(tmp_path)
        assert httpx.post(server.url + "/_mockfiles/reset").status_code == 200
        assert not blob_files(tmp_path)
        server.client().files.create(file=("b.txt", b"after the reset"), purpose="assistants")
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        assert [f.filename for f in server.client().files.list()] == ["b.txt"]
        server.reset()
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        assert server.client().files.list().data == []


def test_deleted_files_give_their_blobs_back(tmp_path: Path) -> None:
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        client = server.client()
        a = client.files.create(file=("a.bin", b"same" * 5000), purpose="assistants")
        b = client.files.create(file=("b.bin", b"same" * 5000), purpose="assistants")
        assert blob_files(tmp_path) == {sha(b"same" * 5000)}  # content-addressed: stored once
        client.files.delete(a.id)
        assert blob_files(tmp_path) == {sha(b"same" * 5000)}  # b still refers to it
        client.files.delete(b.id)
        assert blob_files(tmp_path) == set()


def test_other_versions_busy_and_foreign_directories_raise(tmp_path: Path) -> None:
    with MockFilesServer(data_dir=tmp_path / "d"):
        with pytest.raises(DataDirError, match="in use by another mockfiles server"):
            MockFilesServer(data_dir=tmp_path / "d")
    with sqlite3.connect(tmp_path / "d" / DB_NAME) as db:
        db.execute("UPDATE meta SET value = 'abc' WHERE key = 'fingerprint'")
    with pytest.raises(DataDirError, match="whose stored records have other fields"):
        MockFilesServer(data_dir=tmp_path / "d")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("not mockfiles'")
    with pytest.raises(DataDirError, match="is not a mockfiles data directory"):
        MockFilesServer(data_dir=tmp_path / "mine")
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / DB_NAME).write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(DataDirError, match="cannot be read as a mockfiles state database"):
        MockFilesServer(data_dir=tmp_path / "garbage")


def test_every_class_a_record_holds_is_declared(tmp_path: Path) -> None:
    """The fingerprint covers the classes of every record: a rich state is stored and read back
    (the reader admits only declared classes), so a class added to a record without being
    declared fails here."""
    timing = {"validating": "1s", "in_progress": "10m", "finalizing": "1s"}
    scenario = {"batches": {"timing": timing, "requests": [{"match": {"custom_id": "1"}, "status": 500}]}}
    with MockFilesServer(rate_limits=False, data_dir=tmp_path, scenario=scenario) as server:
        client = server.client()
        source = client.files.create(file=("in.jsonl", batch_file(3) + b"not json\n"), purpose="batch")
        good = client.files.create(file=("ok.jsonl", batch_file(3)), purpose="batch")
        client.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
        ended = client.batches.create(input_file_id=good.id, endpoint="/v1/chat/completions", completion_window="24h")
        client.batches.create(input_file_id=good.id, endpoint="/v1/embeddings", completion_window="24h")  # fails
        cancelled = client.batches.create(
            input_file_id=good.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        client.batches.cancel(cancelled.id)
        server.advance(24 * 3600)
        client.batches.retrieve(ended.id)
        upload = client.uploads.create(filename="u.txt", bytes=5, purpose="assistants", mime_type="text/plain")
        client.uploads.parts.create(upload_id=upload.id, data=b"12345")
        shown = [b.model_dump() for b in client.batches.list()]
    with MockFilesServer(rate_limits=False, data_dir=tmp_path, scenario=scenario) as server:
        assert [b.model_dump() for b in server.client().batches.list()] == shown


def test_concurrent_uploads_are_each_kept_once_answered(data_dir: Path) -> None:
    """Answers whose changes another request's flush took wait for that flush: every upload
    answered before the kill is there after it."""
    server = Served(data_dir)
    contents = [os.urandom(1000 + 5000 * i) for i in range(24)]

    async def upload_all() -> list[str]:
        async with openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0) as client:
            made = await asyncio.gather(
                *(client.files.create(file=(f"{i}.bin", data), purpose="assistants") for i, data in enumerate(contents))
            )
            return [f.id for f in made]

    ids = asyncio.run(upload_all())
    server.kill()
    again = Served(data_dir)
    try:
        for file_id, data in zip(ids, contents, strict=True):
            assert sha(again.client.files.content(file_id).read()) == sha(data)
    finally:
        again.kill()


def test_a_missing_blob_is_refused_with_the_record_it_belongs_to(tmp_path: Path) -> None:
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        made = server.client().files.create(file=("a.bin", os.urandom(10_000)), purpose="assistants")
    for blob in (tmp_path / "blobs").rglob("*"):
        if blob.is_file():
            blob.unlink()
    with pytest.raises(DataDirError, match=f"the file record {made.id} cannot be read"):
        MockFilesServer(data_dir=tmp_path)


def test_expiry_runs_on_the_kept_clock_and_stays_done(tmp_path: Path) -> None:
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        client = server.client()
        brief = client.files.create(
            file=("brief.txt", b"x" * 5000),
            purpose="assistants",
            expires_after={"anchor": "created_at", "seconds": 3600},
        )
        lasting = client.files.create(file=("lasting.txt", b"kept"), purpose="assistants")
        server.advance(1800)
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        assert [f.id for f in server.client().files.list()] == [lasting.id, brief.id]
        server.advance(1801)  # 3,601 s on the emulator clock: the kept half hour and this one
        assert [f.id for f in server.client().files.list()] == [lasting.id]
        admin = httpx.get(server.url + "/_mockfiles/files").json()
        assert [f["id"] for f in admin["data"]] == [lasting.id]
    assert blob_files(tmp_path) == set()  # the expired file's bytes went with it
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        assert [f.id for f in server.client().files.list()] == [lasting.id]


def test_a_change_that_cannot_be_written_is_answered_500_and_written_at_the_next_flush(tmp_path: Path) -> None:
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        client = server.client(max_retries=0)
        (tmp_path / "blobs").rename(tmp_path / "elsewhere")
        (tmp_path / "blobs").write_text("not a directory: the blob cannot be written")
        with pytest.raises(openai.InternalServerError):
            client.files.create(file=("a.bin", b"a" * 10_000), purpose="assistants")
        (tmp_path / "blobs").unlink()
        (tmp_path / "elsewhere").rename(tmp_path / "blobs")
        second = client.files.create(file=("b.bin", b"b" * 10_000), purpose="assistants")
        listed = [f.id for f in client.files.list()]
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        assert [f.id for f in server.client().files.list()] == listed and listed[0] == second.id and len(listed) == 2


def test_a_batch_whose_lines_read_a_file_reads_it_again_after_a_restart(tmp_path: Path) -> None:
    line = chat_line("doc")
    scenario = {"batches": {"timing": {"in_progress": "1h"}}}
    with MockFilesServer(rate_limits=False, data_dir=tmp_path, scenario=scenario) as server:
        client = server.client()
        doc = client.files.create(file=("report.txt", REPORT), purpose="user_data")
        line["body"]["messages"] = asking(file_part(doc.id))
        source = client.files.create(file=("in.jsonl", jsonl(line)), purpose="batch")
        batch = client.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    with MockFilesServer(rate_limits=False, data_dir=tmp_path, scenario=scenario) as server:
        server.advance(3600)
        done = server.client().batches.retrieve(batch.id)
        assert done.request_counts is not None and done.request_counts.completed == 1 and done.output_file_id
        (answer,) = [json.loads(x) for x in server.client().files.content(done.output_file_id).read().splitlines()]
        content = answer["response"]["body"]["choices"][0]["message"]["content"]
        assert content == named(doc.id, "report.txt", REPORT, 8, "Quarterly report") + "\nEcho: What is the total?"
