"""Per-file size limits whatever the order of the form's parts, and storage quota refusals
(always a 400 naming the limit and the file's size), in every dialect, alone and under
concurrency."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import tracemalloc
from collections.abc import Iterator

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.helpers import batch_line, jsonl

pytestmark = pytest.mark.mockfiles(rate_limits=False)

BOUNDARY = "5f0e7c1a9b3d4e2f8a6c0b1d3e5f7a9c"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
MB = 1_000_000
STORAGE = re.compile(
    r"Storage limit reached: this account stores (\d+) of (\d+) bytes, and this upload needs (\d+) more\. "
)


def text_part(name: str, value: str) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def file_head(filename: str, name: str = "file") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def file_part(filename: str, content: bytes, name: str = "file") -> bytes:
    return file_head(filename, name) + content + b"\r\n"


def batch_bytes(size: int) -> bytes:
    """A valid batch file of about ``size`` bytes."""
    line = jsonl(batch_line("0"))
    return jsonl(*(batch_line(str(i)) for i in range(size // len(line) + 1)))


def stored(server: MockFilesServer) -> int:
    return len(server.emulator.files.store)


def post(http: httpx.Client, body: bytes | Iterator[bytes], path: str = "/v1/files") -> httpx.Response:
    return http.post(path, content=body, headers={"Content-Type": CONTENT_TYPE})


def streamed(body: bytes, piece: int = 64 * 1024) -> Iterator[bytes]:
    """The body sent in pieces with no Content-Length (chunked): only what streams in can refuse it."""
    for i in range(0, len(body), piece):
        yield body[i : i + piece]


# --- per-file size limits and the order of the parts ---------------------------------------------------


BATCH_1MB = {"limits": {"max_file_bytes": {"batch": "1MB"}}}


@pytest.mark.mockfiles(scenario=BATCH_1MB)
@pytest.mark.parametrize("order", ["purpose first", "file first"])
@pytest.mark.parametrize("send", ["declared", "chunked"])
def test_the_purpose_limit_holds_whatever_the_part_order(
    mockfiles: MockFilesServer, http: httpx.Client, order: str, send: str
) -> None:
    content = batch_bytes(int(1.5 * MB))
    parts = [text_part("purpose", "batch"), file_part("big.jsonl", content)]
    body = form(*(parts if order == "purpose first" else reversed(parts)))
    r = post(http, body if send == "declared" else streamed(body))
    assert r.status_code == 413, r.text
    assert r.json()["error"]["message"].startswith(f"Maximum content size limit ({MB}) exceeded (")
    assert r.json()["error"]["type"] == "server_error"
    assert stored(mockfiles) == 0
    assert http.get("/v1/files").json()["data"] == []
    ok = form(file_part("small.jsonl", batch_bytes(MB // 2)), text_part("purpose", "batch"))
    assert post(http, streamed(ok)).status_code == 200  # under the limit, file first: stored


@pytest.mark.mockfiles(scenario=BATCH_1MB)
def test_a_purpose_after_the_file_refuses_it_at_once(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    sent = 0

    content = batch_bytes(int(1.5 * MB))

    def body() -> Iterator[bytes]:
        nonlocal sent
        pieces = [file_part("big.jsonl", content), text_part("purpose", "batch")]
        pieces.append(file_head("padding.bin", name="padding"))
        pieces += [b"\0" * (1024 * 1024)] * 8  # more body after the refusal: drained, never parsed
        for piece in pieces:
            sent += len(piece)
            yield piece

    r = post(http, body())
    assert r.status_code == 413
    # refused for the file already read, as soon as its purpose was (not for the part after it,
    # which the connection layer drains unparsed so that the client reads this answer)
    assert r.json()["error"]["message"] == f"Maximum content size limit ({MB}) exceeded ({len(content)} bytes read)"
    assert sent > len(content)
    assert stored(mockfiles) == 0


@pytest.mark.mockfiles(scenario=BATCH_1MB)
def test_the_sdk_gets_413_from_the_purpose_limit(mockfiles: MockFilesServer) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        mockfiles.client(max_retries=0).files.create(file=("big.jsonl", batch_bytes(int(1.5 * MB))), purpose="batch")
    assert info.value.status_code == 413
    assert stored(mockfiles) == 0


@pytest.mark.mockfiles(profile="dashscope", scenario={"limits": {"max_file_bytes": {"file-extract": "1MB"}}})
@pytest.mark.parametrize("order", ["purpose first", "file first"])
@pytest.mark.parametrize("send", ["declared", "chunked"])
@pytest.mark.parametrize("name", ["files", "file"])
def test_native_purpose_limit_holds_whatever_the_part_order(
    mockfiles: MockFilesServer, http: httpx.Client, order: str, send: str, name: str
) -> None:
    parts = [text_part("purpose", "file-extract"), file_part("doc.txt", b"x" * int(1.5 * MB), name)]
    body = form(*(parts if order == "purpose first" else reversed(parts)))
    r = post(http, body if send == "declared" else streamed(body), path="/api/v1/files")
    assert r.status_code == 413, r.text
    if name == "files":  # the live service's form: its native error
        assert r.json()["code"] == "BadRequest.FileTooLarge"
    else:  # one `file` part and a purpose: the /api/v1/files document's form, and its envelope
        assert (r.json()["success"], r.json()["code"]) == (False, "413")
    assert stored(mockfiles) == 0


@pytest.mark.mockfiles(profile="dashscope", scenario={"limits": {"max_file_bytes": {"fine-tune": "1MB"}}})
def test_native_file_first_is_not_held_to_another_purposes_limit(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    """Before its purpose is read, a file gets the largest limit, not the default purpose's (fine-tune)."""
    content = batch_bytes(int(1.5 * MB))
    body = form(file_part("in.jsonl", content, "files"), text_part("purpose", "batch"))
    r = post(http, streamed(body), path="/api/v1/files")
    assert r.status_code == 200, r.text
    (uploaded,) = r.json()["data"]["uploaded_files"]
    assert http.get(f"/api/v1/files/{uploaded['file_id']}").json()["data"]["size"] == len(content)


# --- storage quota ------------------------------------------------------------------------------------


@pytest.mark.mockfiles(scenario={"limits": {"max_total_bytes": "1MB"}})
@pytest.mark.parametrize("send", ["sdk", "chunked"])
def test_a_storage_refusal_names_the_files_size(mockfiles: MockFilesServer, http: httpx.Client, send: str) -> None:
    client = mockfiles.client(max_retries=0)
    client.files.create(file=b"a" * 600_000, purpose="assistants")
    content = b"b" * 700_000
    if send == "sdk":
        with pytest.raises(openai.BadRequestError) as info:
            client.files.create(file=content, purpose="assistants")
        status, error = info.value.status_code, info.value.body
    else:
        r = post(http, streamed(form(text_part("purpose", "assistants"), file_part("b.txt", content))))
        status, error = r.status_code, r.json()["error"]
    assert status == 400
    assert isinstance(error, dict) and (error["code"], error["param"]) == ("storage_limit_exceeded", "file")
    assert error["message"] == (
        "Storage limit reached: this account stores 600000 of 1000000 bytes, and this upload needs 700000 more. "
        "Delete files to make room."
    )
    assert stored(mockfiles) == 1


@pytest.mark.mockfiles(scenario={"limits": {"max_total_bytes": "1MB"}})
def test_a_full_account_refuses_with_the_files_size(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    client = mockfiles.client(max_retries=0)
    client.files.create(file=b"a" * MB, purpose="assistants")
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=b"b" * 300_000, purpose="assistants")
    assert "stores 1000000 of 1000000 bytes, and this upload needs 300000 more" in info.value.message


@pytest.mark.mockfiles(scenario={"limits": {"max_total_bytes": "1MB", "max_file_bytes": {"assistants": "2MB"}}})
def test_a_file_over_its_own_limit_is_413_even_when_over_the_quota(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    r = post(http, streamed(form(text_part("purpose", "assistants"), file_part("a.txt", b"x" * (3 * MB)))))
    assert r.status_code == 413
    r = post(http, form(text_part("purpose", "assistants"), file_part("a.txt", b"x" * (3 * MB))))  # declared
    assert r.status_code == 413
    assert stored(mockfiles) == 0


@pytest.mark.mockfiles(profile="dashscope", scenario={"limits": {"max_total_bytes": "1MB"}})
def test_native_storage_refusal_names_the_limit(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    body = form(text_part("purpose", "file-extract"), file_part("doc.txt", b"x" * 1_500_000, "files"))
    r = post(http, streamed(body), path="/api/v1/files")
    assert r.status_code == 200  # per-file failures are reported in the answer, as the live service does
    assert r.json()["data"]["failed_uploads"] == [
        {
            "name": "doc.txt",
            "code": "BadRequest.TooLarge",
            "message": "Out of space, <0> B of <1000000> B storage space has been used.",
        }
    ]
    assert stored(mockfiles) == 0


@pytest.mark.mockfiles(scenario={"limits": {"max_total_bytes": "1MB"}})
def test_a_file_refused_for_the_quota_is_not_kept_while_it_streams(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    size = 48 * 1024 * 1024
    pieces = [text_part("purpose", "assistants"), file_head("big.bin"), *[b"\xab" * 65536] * (size // 65536), b"\r\n"]
    tracemalloc.start()
    try:
        r = post(http, iter([*pieces, f"--{BOUNDARY}--\r\n".encode()]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 400 and f"needs {size} more" in r.json()["error"]["message"]
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while refusing a {size / 2**20:.0f} MiB upload"


# --- quotas under concurrency -------------------------------------------------------------------------

LIMIT = 2_000_000
QUOTA = {"limits": {"max_total_bytes": LIMIT}}


def check_refusal(status: int, error: dict[str, object], size: int, problems: list[str]) -> None:
    if status != 400 or error.get("code") != "storage_limit_exceeded":
        problems.append(f"{status} {error}")
        return
    m = STORAGE.match(str(error["message"]))
    if not m or int(m.group(2)) != LIMIT or int(m.group(3)) != size or int(m.group(1)) + size <= LIMIT:
        problems.append(f"message for a {size}-byte file: {error['message']}")


def sizes(seed: int, n: int) -> list[int]:
    """Files from a few KB to most of the quota: many cross the room left while they stream."""
    return [30_000 + (seed * 7919 + i * 104_729) % 900_000 for i in range(n)]


class Watch:
    """Reads the account's usage while uploads run (it must never exceed the limit), and
    deletes its files now and then over HTTP, so that the room left also grows while uploads
    stream in (once a cause of 413s instead of quota refusals)."""

    def __init__(self, server: MockFilesServer, account: str) -> None:
        self.server, self.account = server, account
        self.peak = 0
        self.deleted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        files = self.server.emulator.files
        with httpx.Client(base_url=self.server.url, headers={"Authorization": f"Bearer {self.account}"}) as http:
            while not self.stop.is_set():
                self.peak = max(self.peak, LIMIT - files.room_for(self.account))
                listed = http.get("/v1/files").json()["data"]
                if listed:
                    self.deleted += http.delete(f"/v1/files/{listed[-1]['id']}").status_code == 200
                time.sleep(0.002)

    def __enter__(self) -> Watch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


@pytest.mark.mockfiles(scenario=QUOTA)
def test_concurrent_threads_only_ever_see_400_quota_refusals(mockfiles: MockFilesServer) -> None:
    problems: list[str] = []
    refused = 0
    lock = threading.Lock()

    def worker(seed: int) -> None:
        nonlocal refused
        with httpx.Client(base_url=mockfiles.url, headers={"Authorization": "Bearer shared"}, timeout=30) as http:
            for size in sizes(seed, 30):
                body = form(text_part("purpose", "assistants"), file_part("f.bin", b"q" * size))
                r = post(http, streamed(body, 16 * 1024) if seed % 2 else body)
                if r.status_code == 200:
                    continue
                with lock:
                    refused += 1
                    check_refusal(r.status_code, r.json()["error"], size, problems)

    with Watch(mockfiles, "shared") as watch:
        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert problems == []
    assert refused > 10 and watch.deleted > 0  # the quota was reached again and again, and room made
    assert watch.peak <= LIMIT
    total = sum(f.size for f in mockfiles.emulator.files.all_files())
    assert total <= LIMIT


@pytest.mark.mockfiles(scenario=QUOTA)
async def test_concurrent_async_sdk_uploads_only_see_400_quota_refusals(mockfiles: MockFilesServer) -> None:
    problems: list[str] = []
    outcomes: list[int] = []

    async def worker(client: openai.AsyncOpenAI, seed: int) -> None:
        for size in sizes(seed, 10):
            try:
                created = await client.files.create(file=b"z" * size, purpose="assistants")
            except openai.APIStatusError as exc:
                outcomes.append(exc.status_code)
                body = exc.body if isinstance(exc.body, dict) else {}
                check_refusal(exc.status_code, body, size, problems)
            else:
                outcomes.append(200)
                assert created.bytes == size

    with Watch(mockfiles, mockfiles.api_key) as watch:
        async with mockfiles.async_client(max_retries=0, timeout=30) as client:
            await asyncio.gather(*(worker(client, seed) for seed in range(12)))
    assert problems == []
    assert outcomes.count(400) > 10 and set(outcomes) == {200, 400}
    assert watch.peak <= LIMIT
    assert sum(f.size for f in mockfiles.emulator.files.all_files()) <= LIMIT


def test_native_upload_without_purpose_is_held_to_its_implied_purposes_limit(mockfiles: MockFilesServer) -> None:
    """Sent without purpose, a .txt is stored as file-extract: that purpose's limit holds (a per-file failure)."""
    mockfiles.reset(
        profile="dashscope", rate_limits=False, scenario={"limits": {"max_file_bytes": {"file-extract": "1MB"}}}
    )
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": "Bearer sk-qwen"}) as http:
        r = post(http, streamed(form(file_part("doc.txt", b"x" * int(1.5 * MB)))), path="/api/v1/files")
    assert r.status_code == 200
    (failed,) = r.json()["data"]["failed_uploads"]
    assert failed["code"] == "BadRequest.FileTooLarge" and "file-extract" in failed["message"]
    assert stored(mockfiles) == 0
