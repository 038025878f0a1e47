"""In-process clients behave as clients over a socket: each test runs both ways (``way``), with
the real openai SDK (sync and async) and httpx, and asserts the same outcome, down to the
exception class a fault gives and the journal's entries."""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest
from freezegun import freeze_time

from mockfiles import MockFilesServer
from mockfiles.inprocess.transports import AsyncInProcessTransport, InProcessTransport, sdk_library

pytest_plugins = ["pytester"]

WAYS = ["socket", "in_process"]
VOLATILE = {
    "seq",
    "time",
    "wall_time",
    "received_at",
    "received_wall_time",
    "request_id",
    "monotonic_arrived",
    "monotonic_ended",
    "duration_ms",
    "path",
    "file_id",
}


@pytest.fixture(params=WAYS)
def way(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def sdk(server: MockFilesServer, way: str, **options: Any) -> openai.OpenAI:
    client: openai.OpenAI = server.client(in_process=way == "in_process", **options)
    return client


def asdk(server: MockFilesServer, way: str, **options: Any) -> openai.AsyncOpenAI:
    client: openai.AsyncOpenAI = server.async_client(in_process=way == "in_process", **options)
    return client


def raw(server: MockFilesServer, way: str, key: str | None = None, **options: Any) -> httpx.Client:
    transport = server.transport("httpx") if way == "in_process" else None
    headers = {"Authorization": f"Bearer {key or server.api_key}"}
    return httpx.Client(base_url=server.url, headers=headers, transport=transport, **options)


def rules(*faults: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"rate_limits": False, "faults": list(faults), **top}


def upload(client: openai.OpenAI, content: bytes = b"x") -> Any:
    return client.files.create(file=("a.txt", content), purpose="assistants")


def shape(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in VOLATILE}


def cause(exc: BaseException) -> str:
    """The class of what the SDK's error wraps (the transport's exception), by name."""
    return type(exc.__cause__).__name__


# --- the files API ----------------------------------------------------------------------------


@pytest.mark.mockfiles(rate_limits=False)
def test_files_crud_sync(mockfiles: MockFilesServer, way: str) -> None:
    with sdk(mockfiles, way, max_retries=0) as client:
        created = upload(client, b"hello")
        assert client.files.retrieve(created.id).bytes == 5
        assert [f.id for f in client.files.list()] == [created.id]
        assert client.files.content(created.id).read() == b"hello"
        assert client.files.delete(created.id).deleted
        with pytest.raises(openai.NotFoundError):
            client.files.retrieve(created.id)
    assert [e["endpoint"] for e in mockfiles.requests()] == [
        "files.create",
        "files.retrieve",
        "files.list",
        "files.content",
        "files.delete",
        "files.retrieve",
    ]


@pytest.mark.mockfiles(rate_limits=False)
async def test_files_crud_async(mockfiles: MockFilesServer, way: str) -> None:
    async with asdk(mockfiles, way, max_retries=0) as client:
        created = await client.files.create(file=("a.txt", b"hello"), purpose="assistants")
        assert (await client.files.retrieve(created.id)).bytes == 5
        assert [f.id async for f in await client.files.list()] == [created.id]
        assert (await client.files.content(created.id)).read() == b"hello"
        assert (await client.files.delete(created.id)).deleted
    assert [e["status"] for e in mockfiles.requests()] == [200] * 5


def test_the_fixtures_clients_use_a_socket_by_default(mockfiles: MockFilesServer) -> None:
    assert not mockfiles.in_process  # the session's default
    assert not isinstance(mockfiles.client()._client._transport, InProcessTransport)


@pytest.mark.mockfiles(in_process=True)
def test_the_marker_in_process(mockfiles: MockFilesServer) -> None:
    assert isinstance(mockfiles.client()._client._transport, InProcessTransport)
    assert isinstance(mockfiles.async_client()._client._transport, AsyncInProcessTransport)
    assert not isinstance(mockfiles.client(in_process=False)._client._transport, InProcessTransport)
    assert upload(mockfiles.client()).bytes == 1


def test_an_in_process_client_needs_a_running_server() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        MockFilesServer().client(in_process=True)


# --- errors, headers, the journal ------------------------------------------------------------------


def test_errors_have_the_same_shape_and_headers(mockfiles: MockFilesServer) -> None:
    mockfiles.reset(api_keys=["sk-good"])
    answers = {}
    for way in WAYS:
        with raw(mockfiles, way, key="sk-good") as http:
            missing = http.get("/v1/files/file-nope")
        with raw(mockfiles, way, key="sk-bad") as http:
            unauthorized = http.get("/v1/files")
        answers[way] = [(r.status_code, r.json(), sorted(r.headers)) for r in (missing, unauthorized)]
    assert answers["socket"] == answers["in_process"]
    assert [status for status, _, _ in answers["in_process"]] == [404, 401]


def test_the_journal_has_the_same_entries(mockfiles: MockFilesServer) -> None:
    entries = {}
    for way in WAYS:
        mockfiles.reset(
            rate_limits=False, scenario=rules({"match": {"endpoint": "files.list"}, "times": 1, "status": 503})
        )
        with sdk(mockfiles, way, max_retries=1) as client:
            created = upload(client)
            client.files.list()
            client.files.retrieve(created.id)
            client.files.content(created.id).read()
            with pytest.raises(openai.NotFoundError):
                client.files.delete("file-nope")
        entries[way] = [shape(e) for e in mockfiles.requests()]
    assert entries["socket"] == entries["in_process"]
    assert [e["status"] for e in entries["in_process"]] == [200, 503, 200, 200, 200, 404]
    assert {e["dialect"] for e in entries["in_process"]} == {"openai"}


# --- rate limits and the SDK's retries ----------------------------------------------------------


@pytest.mark.mockfiles(scenario={"rate_limits": {"upload": 3, "window": "1s"}})
def test_rate_limits_paced_by_the_sdks_retries(mockfiles: MockFilesServer, way: str) -> None:
    with sdk(mockfiles, way, max_retries=5) as client:
        ids = {upload(client, b"%d" % i).id for i in range(5)}
    statuses = [e["status"] for e in mockfiles.requests("files.create")]
    assert len(ids) == 5 and statuses.count(200) == 5 and 429 in statuses


@pytest.mark.mockfiles(
    scenario=rules({"match": {"endpoint": "files.list"}, "times": 1, "status": 429, "headers": {"retry-after-ms": 300}})
)
def test_retry_after_ms_paces_the_sdk(mockfiles: MockFilesServer, way: str) -> None:
    started = time.monotonic()
    sdk(mockfiles, way).files.list()
    assert time.monotonic() - started > 0.28
    assert [e["status"] for e in mockfiles.requests()] == [429, 200]
    assert mockfiles.requests()[0]["advice"]["retry-after-ms"] == "300"


# --- faults: the same exception either way ----------------------------------------------------------

FAULTS = {  # action -> (the SDK's exception, the transport's exception it wraps)
    "reset": (openai.APIConnectionError, "ReadError"),
    "truncate": (openai.APIConnectionError, "RemoteProtocolError"),
    "timeout": (openai.APITimeoutError, "ReadTimeout"),
}


@pytest.mark.parametrize("action", FAULTS)
def test_each_fault_gives_the_sockets_exception_sync(mockfiles: MockFilesServer, way: str, action: str) -> None:
    file_id = upload(mockfiles.client()).id
    mockfiles.use_scenario(rules({"match": {"endpoint": "files.retrieve"}, "action": action, "hold": "20s"}))
    error, wrapped = FAULTS[action]
    with pytest.raises(openai.APIConnectionError) as info:
        sdk(mockfiles, way, max_retries=1, timeout=0.3).files.retrieve(file_id)
    assert type(info.value) is error and cause(info.value) == wrapped
    assert [e["action"] for e in mockfiles.requests("files.retrieve")] == [action, action]


@pytest.mark.parametrize("action", FAULTS)
async def test_each_fault_gives_the_sockets_exception_async(mockfiles: MockFilesServer, way: str, action: str) -> None:
    file_id = upload(mockfiles.client()).id
    mockfiles.use_scenario(rules({"match": {"endpoint": "files.retrieve"}, "action": action, "hold": "20s"}))
    error, wrapped = FAULTS[action]
    async with asdk(mockfiles, way, max_retries=1, timeout=0.3) as client:
        with pytest.raises(openai.APIConnectionError) as info:
            await client.files.retrieve(file_id)
    assert type(info.value) is error and cause(info.value) == wrapped
    assert [e["action"] for e in mockfiles.requests("files.retrieve")] == [action, action]


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "action": "timeout", "hold": "300ms"}))
def test_a_bounded_hold_ends_in_a_closed_connection(mockfiles: MockFilesServer, way: str) -> None:
    with pytest.raises(openai.APIConnectionError) as info:
        sdk(mockfiles, way, max_retries=0, timeout=10).files.list()
    assert type(info.value) is openai.APIConnectionError and cause(info.value) == "RemoteProtocolError"


def test_raw_httpx_gets_the_same_transport_errors(mockfiles: MockFilesServer, way: str) -> None:
    mockfiles.use_scenario(rules({"match": {"endpoint": "files.list"}, "action": "reset"}))
    with raw(mockfiles, way) as http, pytest.raises(httpx.ReadError):
        http.get("/v1/files")
    mockfiles.use_scenario(rules({"match": {"endpoint": "files.list"}, "action": "truncate"}))
    with raw(mockfiles, way) as http, http.stream("GET", "/v1/files") as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError, match="received 37 bytes, expected 75"):
            r.read()


@pytest.mark.mockfiles(
    scenario=rules({"match": {"endpoint": "files.create"}, "times": 1, "action": "reset_after_commit"})
)
def test_reset_after_commit_makes_a_retrying_client_upload_twice(mockfiles: MockFilesServer, way: str) -> None:
    with sdk(mockfiles, way) as client:
        upload(client, b"payload")
        assert len(list(client.files.list())) == 2
    first = mockfiles.requests("files.create")[0]
    assert (first["status"], first["action"], first["committed_status"]) == (None, "reset_after_commit", 200)


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "delay": "300ms"}))
def test_a_delay_is_real_time_and_journaled(mockfiles: MockFilesServer, way: str) -> None:
    started = time.monotonic()
    sdk(mockfiles, way).files.list()
    assert time.monotonic() - started >= 0.3
    entry = mockfiles.requests()[-1]
    assert (entry["action"], entry["delay_ms"], entry["status"]) == ("delay", 300.0, 200)


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "action": "timeout"}))
def test_a_reset_of_the_emulator_releases_a_held_request(mockfiles: MockFilesServer, way: str) -> None:
    outcome: list[BaseException] = []

    def held() -> None:
        try:
            sdk(mockfiles, way, max_retries=0, timeout=30).files.list()
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    thread = threading.Thread(target=held)
    thread.start()
    time.sleep(0.3)
    mockfiles.reset()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert type(outcome[0]) is openai.APIConnectionError


def test_stopping_the_server_releases_an_in_process_request() -> None:
    server = MockFilesServer(scenario=rules({"action": "timeout"})).start()
    errors: list[BaseException] = []
    client = server.client(in_process=True, max_retries=0, timeout=30)
    thread = threading.Thread(target=lambda: errors.append(pytest.raises(openai.APIError, client.files.list).value))
    thread.start()
    time.sleep(0.3)
    server.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and errors
    with pytest.raises(openai.APIConnectionError) as info:
        client.files.list()  # the server is gone
    assert cause(info.value) == "ConnectError"


# --- bodies: early refusals, streaming both ways -------------------------------------------------------


def counted_body(pieces: int, piece: bytes, sent: list[int]) -> Iterator[bytes]:
    for _ in range(pieces):
        sent.append(len(piece))
        yield piece


def test_an_early_refusal_does_not_read_the_body(mockfiles: MockFilesServer, way: str) -> None:
    mockfiles.reset(api_keys=["sk-good"])
    sent: list[int] = []
    with raw(mockfiles, way, key="sk-wrong", timeout=30) as http:
        r = http.post(
            "/v1/files",
            content=counted_body(256, b"\xab" * 65536, sent),
            headers={"Content-Type": "multipart/form-data; boundary=B"},
        )
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    if way == "in_process":
        assert len(sent) < 4, "the refused body was read"
    else:
        assert len(sent) == 256  # over a socket the client writes it all; the server discards it


class Generated:
    """A file of ``size`` bytes made as it is read: never whole in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return b"\xcd" * n


@pytest.mark.mockfiles(rate_limits=False)
def test_a_big_upload_streams_in_flat_memory(mockfiles: MockFilesServer) -> None:
    """16 MiB from a generator: stored once, never held whole on the way."""
    body = Generated(16 * 1024 * 1024)
    tracemalloc.start()
    try:
        with mockfiles.client(in_process=True, max_retries=0) as client:
            created = client.files.create(file=("big.bin", body), purpose="assistants")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert created.bytes == 16 * 1024 * 1024
    assert peak < 16 * 1024 * 1024 + 6 * 1024 * 1024, f"{peak} bytes traced for a 16 MiB upload"


@pytest.mark.mockfiles(rate_limits=False)
def test_a_big_download_streams(mockfiles: MockFilesServer, way: str) -> None:
    content = bytes(range(256)) * (12 * 4096)  # 12 MiB
    with sdk(mockfiles, way, max_retries=0) as client:
        created = upload(client, content)
        with client.files.with_streaming_response.content(created.id) as response:
            chunks = list(response.iter_bytes())
    assert b"".join(chunks) == content
    assert len(chunks) > 1


@pytest.mark.mockfiles(rate_limits=False)
async def test_a_big_upload_and_download_async(mockfiles: MockFilesServer, way: str) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield (
            b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
            b'--B\r\nContent-Disposition: form-data; name="file"; filename="b.bin"\r\n\r\n'
        )
        for _ in range(64):
            yield b"\xef" * 65536
        yield b"\r\n--B--\r\n"

    async with asdk(mockfiles, way, max_retries=0) as client:
        created = await client.files.create(file=("a.bin", b"\xef" * 4 * 1024 * 1024), purpose="assistants")
        async with client.files.with_streaming_response.content(created.id) as response:
            got = b"".join([chunk async for chunk in response.iter_bytes()])
    assert got == b"\xef" * 4 * 1024 * 1024
    async with httpx.AsyncClient(
        base_url=mockfiles.url,
        headers={"Authorization": f"Bearer {mockfiles.api_key}", "Content-Type": "multipart/form-data; boundary=B"},
        transport=mockfiles.async_transport("httpx") if way == "in_process" else None,
    ) as http:
        r = await http.post("/v1/files", content=body())
    assert r.status_code == 200 and r.json()["bytes"] == 4 * 1024 * 1024


# --- freezegun ------------------------------------------------------------------------------------------


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "delay": "200ms"}))
def test_frozen_time_sync(mockfiles: MockFilesServer, way: str) -> None:
    with freeze_time("2030-01-01"), sdk(mockfiles, way) as client:
        created = upload(client)
        assert created.created_at == 1893456000  # the emulator's clock follows the test's
        client.files.list()  # the delay runs on the server's loop, on real time
    assert mockfiles.requests()[-1]["delay_ms"] == 200.0


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "delay": "200ms"}))
async def test_frozen_time_async(mockfiles: MockFilesServer, way: str) -> None:
    with freeze_time("2030-01-01", real_asyncio=True):
        async with asdk(mockfiles, way) as client:
            created = await client.files.create(file=("a.txt", b"x"), purpose="assistants")
            await client.files.list()
    assert created.created_at == 1893456000


async def test_async_clients_run_concurrently(mockfiles: MockFilesServer, way: str) -> None:
    mockfiles.reset(rate_limits=False, scenario=rules({"match": {"endpoint": "files.list"}, "delay": "300ms"}))
    async with asdk(mockfiles, way) as client:
        await asyncio.gather(*(client.files.list() for _ in range(5)))
    entries = mockfiles.requests()
    assert max(e["received_at"] for e in entries) < min(e["time"] for e in entries)  # all five held at once


def test_stopping_the_server_ends_a_delayed_in_process_request() -> None:
    server = MockFilesServer(scenario=rules({"delay": "20s"})).start()
    errors: list[BaseException] = []
    client = server.client(in_process=True, max_retries=0, timeout=30)
    thread = threading.Thread(target=lambda: errors.append(pytest.raises(openai.APIError, client.files.list).value))
    thread.start()
    time.sleep(0.3)
    server.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    # as over a socket once the grace period is over (docs/wire.md#connections): a 503, not a hang
    assert type(errors[0]) is openai.InternalServerError and errors[0].status_code == 503


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "delay": "600ms"}))
def test_a_client_gone_during_a_delay_is_journaled(mockfiles: MockFilesServer, way: str) -> None:
    with pytest.raises(openai.APITimeoutError):
        sdk(mockfiles, way, max_retries=0, timeout=0.2).files.list()
    time.sleep(0.8)  # the delay ends; the answer finds the client gone
    entry = mockfiles.requests()[-1]
    assert (entry["status"], entry["action"], entry["unsent_status"]) == (None, "client_disconnected", 200)


def test_an_oversized_head_is_refused(mockfiles: MockFilesServer, way: str) -> None:
    with raw(mockfiles, way) as http:
        r = http.get("/v1/files", headers={"x-big": "a" * 40_000})
    assert r.status_code == 431


def test_a_suite_in_process_by_its_session_options(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest

@pytest.fixture(scope="session")
def mockfiles_options():
    return {"in_process": True, "rate_limits": False}
"""
    )
    pytester.makepyfile(
        test_suite="""
import pytest
from mockfiles.inprocess.transports import InProcessTransport


def test_in_process_by_default(mockfiles):
    client = mockfiles.client()
    assert isinstance(client._client._transport, InProcessTransport)
    assert client.files.create(file=b"x", purpose="assistants").bytes == 1


@pytest.mark.mockfiles(in_process=False)
def test_a_marker_goes_over_it(mockfiles):
    assert not isinstance(mockfiles.client()._client._transport, InProcessTransport)


def test_the_next_test_is_back_to_it(mockfiles):
    assert mockfiles.in_process
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_pieces_gather_small_chunks_and_cut_large_ones() -> None:
    from mockfiles.inprocess.caller import GATHER, PIECE, pieces

    small = [b"a" * 1000] * 100  # 100,000 bytes: one message of 66,000, then the rest
    got = list(pieces(iter(small)))
    assert [len(b) for b, _ in got] == [GATHER // 1000 * 1000 + 1000, 100_000 - (GATHER // 1000 * 1000 + 1000)]
    assert [more for _, more in got] == [True, False]
    big = list(pieces(iter([b"x" * 10, b"y" * (2 * PIECE + 5)])))
    assert [len(b) for b, _ in big] == [10, PIECE, PIECE, 5, 0]
    assert big[-1] == (b"", False)
    assert list(pieces(iter([]))) == [(b"", False)]
    assert list(pieces(iter([b"one"]))) == [(b"one", False)]


async def test_an_early_refusal_reaches_the_async_sdk_as_its_status(mockfiles: MockFilesServer, way: str) -> None:
    mockfiles.reset(api_keys=["sk-good"])
    async with asdk(mockfiles, way, api_key="sk-wrong", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError) as info:
            await client.files.create(file=("big.bin", b"\0" * 5_000_000), purpose="assistants")
    assert info.value.status_code == 401
    assert [e["status"] for e in mockfiles.requests()] == [401]


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "action": "timeout", "hold": "20s"}))
async def test_a_cancelled_async_request_leaves_the_server(mockfiles: MockFilesServer, way: str) -> None:
    async with asdk(mockfiles, way, max_retries=0, timeout=30) as client:
        task = asyncio.ensure_future(client.files.list())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        durations: list[float] = []
        for _ in range(50):  # a request's duration stops growing once the server has let it go
            await asyncio.sleep(0.1)
            durations.append(mockfiles.requests()[-1]["duration_ms"])
            if len(durations) > 1 and durations[-1] == durations[-2]:
                break
    assert durations[-1] == durations[-2] and mockfiles.requests()[-1]["action"] == "timeout"


def test_concurrent_threads_get_exactly_the_limit(mockfiles: MockFilesServer, way: str) -> None:
    mockfiles.reset(scenario={"rate_limits": {"upload": 3, "window": "1m"}})  # the window cannot roll mid-burst
    barrier = threading.Barrier(8)
    statuses: list[int] = []
    with raw(mockfiles, way, key="shared") as shared:  # one client (one transport) for every thread

        def one() -> None:
            barrier.wait()
            r = shared.post("/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "assistants"})
            statuses.append(r.status_code)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(statuses) == [200] * 3 + [429] * 5


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False)
def test_the_dialects_by_path(mockfiles: MockFilesServer) -> None:
    answers = {}
    for way in WAYS:
        with raw(mockfiles, way, key="sk-qwen") as http:
            compatible = http.post(
                "/compatible-mode/v1/files", files={"file": ("a.txt", b"abc")}, data={"purpose": "file-extract"}
            )
            native = http.get("/api/v1/files")
            missing = http.get("/api/v1/files/nope")
        answers[way] = [(r.status_code, sorted(r.json()), sorted(r.headers)) for r in (compatible, native, missing)]
    assert answers["socket"] == answers["in_process"]
    assert [e["dialect"] for e in mockfiles.requests()] == [
        "dashscope-compatible",
        "dashscope-native",
        "dashscope-native",
    ] * 2


# --- which library a transport is built on ----------------------------------------------------------


def test_a_transport_defaults_to_the_library_the_sdk_uses(mockfiles: MockFilesServer) -> None:
    library = importlib.import_module(sdk_library())
    assert library.__name__ == ("httpx2" if int(openai.__version__.split(".")[0]) >= 3 else "httpx")
    headers = {"Authorization": f"Bearer {mockfiles.api_key}"}
    with library.Client(transport=mockfiles.transport(), base_url=mockfiles.url, headers=headers) as http:
        assert http.get("/v1/files").json()["object"] == "list"


MISSING_LIBRARY = """
import sys
sys.modules["httpx"] = None  # as if it were not installed
from mockfiles import MockFilesServer
with MockFilesServer() as server:
    server.transport()  # the SDK's library is there: fine
    try:
        server.transport("httpx")
    except ModuleNotFoundError as exc:
        print(exc)
"""


def test_a_missing_library_is_said_with_what_to_install_or_pass() -> None:
    if sdk_library() != "httpx2":
        pytest.skip("the installed openai SDK is built on httpx")
    done = subprocess.run([sys.executable, "-c", MISSING_LIBRARY], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pip install httpx, or ask for the library you use, transport('httpx2')" in done.stdout


# --- retry tests, both ways ----------------------------------------------------------------------

RETRY_CASES = [  # endpoint, instructions, the SDK's max_retries, what it raises, each attempt's (outcome, status)
    ("files.list", ["return-503"], 1, None, [("status", 503), ("status", 200)]),
    ("files.list", ["reset"], 0, openai.APIConnectionError, [("reset", None)]),
    ("files.list", ["reset"], 1, None, [("reset", None), ("status", 200)]),
    ("files.list", ["return-429-retry-after-200ms"], 0, openai.RateLimitError, [("status", 429)]),
    ("files.list", ["return-429-retry-after-200ms"], 1, None, [("status", 429), ("status", 200)]),
    ("files.content", ["broken-stream-after-1K"], 0, openai.APIConnectionError, [("truncated", 200)]),
    ("files.content", ["broken-stream-after-1K"], 1, None, [("truncated", 200), ("status", 200)]),
]


def retry_call(client: openai.OpenAI, endpoint: str, file_id: str) -> object:
    if endpoint == "files.content":
        return client.files.content(file_id).read()
    return client.files.list().data


@pytest.mark.parametrize(("endpoint", "instructions", "retries", "raised", "attempts"), RETRY_CASES)
def test_retry_tests_act_the_same_both_ways(
    mockfiles: MockFilesServer,
    way: str,
    endpoint: str,
    instructions: list[str],
    retries: int,
    raised: type[Exception] | None,
    attempts: list[tuple[str, int | None]],
) -> None:
    with sdk(mockfiles, way, max_retries=0) as plain:
        file_id = plain.files.create(file=("a.bin", b"z" * 4096), purpose="assistants").id
    test = mockfiles.retry_test({endpoint: instructions})
    with sdk(mockfiles, way, default_headers=test.headers, max_retries=retries, timeout=5) as client:
        if raised is None:
            retry_call(client, endpoint, file_id)
        else:
            with pytest.raises(raised):
                retry_call(client, endpoint, file_id)
    assert test.completed
    [call] = test.calls
    assert [(a["outcome"], a["status"]) for a in call["attempts"]] == attempts
    assert [a["instruction"] for a in call["attempts"]] == [*instructions, *[None] * (len(attempts) - 1)]
    assert [a["retry_count"] for a in call["attempts"]] == list(range(len(attempts)))
    assert call["verdict"] == {"ok": True, "problems": []}
    test.assert_conforms()


@pytest.mark.parametrize("instruction", ["return-503", "reset"])
async def test_retry_tests_act_the_same_both_ways_async(mockfiles: MockFilesServer, way: str, instruction: str) -> None:
    test = mockfiles.retry_test({"files.list": [instruction]})
    async with asdk(mockfiles, way, default_headers=test.headers, max_retries=1, timeout=5) as client:
        assert (await client.files.list()).data == []
    [call] = test.calls
    assert [a["status"] for a in call["attempts"]][-1] == 200 and call["verdict"]["problems"] == []
