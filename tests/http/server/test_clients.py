"""The clients a server hands out: one per server and options, handed out again while it can be
used, made afresh when asked (``fresh=True``) or when the one kept cannot be (closed, changed, the
server stopped, another event loop for an async client over a socket); and what reuse must not
change: a kept connection is as fresh as a new one at each test (``idle_reset``)."""

from __future__ import annotations

import asyncio
import time

import httpx2
import openai
import pytest

from mockfiles import MockFilesServer
from mockfiles.clients import KEPT, shared_tls

pytest_plugins = ["pytester"]


@pytest.fixture
def server() -> MockFilesServer:
    with MockFilesServer(rate_limits=False) as s:
        yield s


def test_the_same_options_give_the_same_client(server: MockFilesServer) -> None:
    client = server.client()
    assert server.client() is client
    assert server.client(max_retries=0) is not client
    assert server.client(max_retries=0) is server.client(max_retries=0)
    assert server.client(default_headers={"x-a": "1"}) is server.client(default_headers={"x-a": "1"})
    assert server.client(default_headers={"x-a": "1"}) is not server.client(default_headers={"x-a": "2"})
    assert server.client() is client  # the others did not replace it
    assert client.files.create(file=b"x", purpose="assistants").bytes == 1


def test_fresh_gives_a_new_client_each_time(server: MockFilesServer) -> None:
    kept = server.client()
    fresh = server.client(fresh=True)
    assert fresh is not kept and server.client(fresh=True) is not fresh
    assert server.client() is kept  # a fresh one is kept by no one but its caller
    assert fresh.files.create(file=b"x", purpose="assistants").bytes == 1


def test_a_closed_client_is_not_handed_out_again(server: MockFilesServer) -> None:
    with server.client() as client:
        client.files.list()
    again = server.client()
    assert again is not client and not again.is_closed()
    assert list(again.files.list()) == []


def test_a_client_changed_since_is_not_handed_out_again(server: MockFilesServer) -> None:
    server.reset(api_keys=["sk-right", "sk-other"], rate_limits=False)
    client = server.client(api_key="sk-right")
    client.api_key = "sk-wrong"  # a test checking a 401
    with pytest.raises(openai.AuthenticationError):
        client.files.list()
    again = server.client(api_key="sk-right")
    assert again is not client
    assert list(again.files.list()) == []
    for change in ("max_retries", "timeout", "webhook_secret", "admin_api_key", "websocket_base_url"):
        client = server.client(api_key="sk-right")
        setattr(client, change, 1)
        replaced = server.client(api_key="sk-right")
        assert replaced is not client and getattr(replaced, change) != 1, change
    client = server.client(api_key="sk-right")
    client._client.headers["X-Tenant"] = "a"  # the HTTP client's own headers: sent with every request
    replaced = server.client(api_key="sk-right")
    assert replaced is not client and "x-tenant" not in replaced._client.headers


def test_the_servers_key_and_connection_are_part_of_the_options(server: MockFilesServer) -> None:
    first = server.client()
    server.reset(api_keys=["sk-marker"], rate_limits=False)  # as a test's marker does
    second = server.client()
    assert second is not first and second.api_key == "sk-marker"
    assert list(second.files.list()) == []
    in_process = server.client(in_process=True)
    assert in_process is not second and in_process is server.client(in_process=True)
    server.in_process = True  # the marker's in_process=True
    assert server.client() is in_process


def test_a_stopped_server_hands_out_new_clients() -> None:
    server = MockFilesServer(rate_limits=False).start()
    socket_client, in_process = server.client(max_retries=0), server.client(in_process=True, max_retries=0)
    server.stop()
    with pytest.raises(openai.APIConnectionError):
        in_process.files.list()  # the server of that run is gone
    server.start()
    try:
        assert server.client(max_retries=0) is not socket_client
        assert server.client(in_process=True, max_retries=0) is not in_process
        assert list(server.client(in_process=True, max_retries=0).files.list()) == []
    finally:
        server.stop()


def test_kept_clients_are_bounded(server: MockFilesServer) -> None:
    first = server.client(default_headers={"x-n": "0"})
    for n in range(1, KEPT + 1):
        server.client(default_headers={"x-n": str(n)})
    assert server.client(default_headers={"x-n": "0"}) is not first  # the least recently handed out went


async def upload_and_list(client: openai.AsyncOpenAI) -> int:
    await client.files.create(file=b"x", purpose="assistants")
    return len((await client.files.list()).data)


def test_an_async_client_over_a_socket_is_kept_within_its_loop(server: MockFilesServer) -> None:
    async def twice() -> tuple[openai.AsyncOpenAI, int]:
        client = server.async_client(max_retries=0)
        assert server.async_client(max_retries=0) is client
        return client, await upload_and_list(client)

    first, _ = asyncio.run(twice())
    second, count = asyncio.run(twice())  # a loop per test, as pytest-asyncio's
    assert second is not first and count == 2  # its connections are its loop's: no "Event loop is closed"
    outside = server.async_client(max_retries=0)
    assert server.async_client(max_retries=0) is not outside  # no loop to keep it for


def test_an_async_client_over_a_socket_is_closed_when_its_loop_ends(server: MockFilesServer) -> None:
    """Its connections end on their own loop when the loop shuts down (asyncio.run, pytest-asyncio):
    no socket is left open for the garbage collector (a ResourceWarning, an error under
    ``filterwarnings = error``), though the test never closed the client."""
    import gc
    import warnings

    async def use() -> openai.AsyncOpenAI:
        client = server.async_client(max_retries=0)
        await upload_and_list(client)
        client.max_retries = 1  # changed: the next call makes another, which is closed too
        await upload_and_list(server.async_client(max_retries=0))
        return client

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = asyncio.run(use())
        gc.collect()
    assert first.is_closed()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_an_async_client_in_process_serves_every_loop(server: MockFilesServer) -> None:
    client = server.async_client(in_process=True, max_retries=0)
    counts = [asyncio.run(upload_and_list(client)) for _ in range(3)]
    assert counts == [1, 2, 3]
    assert server.async_client(in_process=True, max_retries=0) is client


def test_new_clients_share_one_tls_context(server: MockFilesServer) -> None:
    contexts = {
        id(c._client._transport._pool._ssl_context)
        for c in (server.client(fresh=True), server.client(fresh=True, max_retries=1))
    }
    assert contexts == {id(shared_tls("httpx2"))}
    assert isinstance(server.client()._client, httpx2.Client)


SUITE = """
import time

import openai
import pytest

seen = []


def test_a(mockfiles):
    client = mockfiles.client(max_retries=0)
    seen.append(client)
    client.files.create(file=b"x", purpose="assistants")
    time.sleep(0.7)  # the kept connection idles past the next test's idle_reset


@pytest.mark.mockfiles(scenario={"server": {"idle_reset": "500ms"}})
def test_b_a_kept_connection_is_fresh_at_each_test(mockfiles):
    client = mockfiles.client(max_retries=0)
    assert client is seen[0]
    assert list(client.files.list()) == []  # the state was reset; the connection was not reset
    client.files.list()
    time.sleep(0.7)
    with pytest.raises(openai.APIConnectionError):
        client.files.list()  # idle past idle_reset within the test: reset as before


@pytest.mark.mockfiles(api_keys=["sk-marker"])
def test_c_a_markers_key_gets_its_own_client(mockfiles):
    client = mockfiles.client(max_retries=0)
    assert client is not seen[0] and client.api_key == "sk-marker"
    assert list(client.files.list()) == []


def test_d_back_to_the_sessions_client(mockfiles):
    assert mockfiles.client(max_retries=0) is seen[0]
    assert mockfiles.client(max_retries=0, fresh=True) is not seen[0]
"""


def test_a_suite_gets_one_client_per_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=4)


def test_an_idle_reset_after_a_reset_counts_from_the_reset(server: MockFilesServer) -> None:
    client = server.client(max_retries=0)
    client.files.list()
    time.sleep(0.7)
    server.reset(scenario={"server": {"idle_reset": "500ms"}})
    client.files.list()  # idle 0.7 s, but only just since the reset
    time.sleep(0.7)
    server.use_scenario({"server": {"idle_reset": "500ms"}})  # a scenario change is not a reset
    with pytest.raises(openai.APIConnectionError):
        client.files.list()
