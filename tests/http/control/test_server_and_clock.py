"""The Python server handle, the admin routes and the one clock (advance + freezegun)."""

from __future__ import annotations

import asyncio
import calendar
import socket
import subprocess
import sys
import threading
import time

import httpx
import openai
import pytest
from freezegun import freeze_time

from mockfiles import MockFilesServer, StartupError

pytestmark = pytest.mark.mockfiles(rate_limits=False)


def test_server_handle_urls_and_key() -> None:
    with MockFilesServer() as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.base_url == server.url + "/v1"
        assert server.port > 0
        r = httpx.get(server.url + "/_mockfiles/health")
        assert r.status_code == 200 and r.json()["status"] == "ok"
        c = openai.OpenAI(base_url=server.base_url, api_key="anything")
        assert c.files.create(file=b"x", purpose="assistants").bytes == 1
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/_mockfiles/health", timeout=1)


def test_taken_port_fails_fast_with_a_clear_error() -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        started = time.perf_counter()
        with pytest.raises(StartupError, match=rf"cannot listen on 127.0.0.1:{port}"):
            MockFilesServer(port=port).start()
        assert time.perf_counter() - started < 2
    finally:
        holder.close()


def test_two_servers_in_one_process_share_nothing() -> None:
    with MockFilesServer() as one, MockFilesServer() as two:
        assert one.port != two.port
        a = one.client().files.create(file=b"1", purpose="assistants")
        assert list(two.client().files.list()) == []
        two.advance(500)
        assert one.emulator.clock.offset == 0 and two.emulator.clock.offset == 500
        assert len(one.requests()) == 1 and len(two.requests()) == 1
        with pytest.raises(openai.NotFoundError):
            two.client().files.retrieve(a.id)


def test_reset_clears_files_journal_and_clock(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    client.files.create(file=b"x", purpose="assistants")
    mockfiles.advance(100)
    assert mockfiles.requests()
    mockfiles.reset()
    assert list(client.files.list()) == []
    assert mockfiles.emulator.clock.offset == 0
    assert [e["endpoint"] for e in mockfiles.requests()] == ["files.list"]


def test_admin_reset_and_files_routes(mockfiles: MockFilesServer) -> None:
    for key in ("k1", "k2"):
        mockfiles.client(api_key=key).files.create(file=b"x", purpose="assistants")
    every = httpx.get(mockfiles.url + "/_mockfiles/files").json()["data"]
    assert sorted(f["account"] for f in every) == sorted(mockfiles.account_id(k) for k in ("k1", "k2"))
    assert httpx.post(mockfiles.url + "/_mockfiles/reset").json() == {"reset": True}
    assert httpx.get(mockfiles.url + "/_mockfiles/files").json()["data"] == []


def test_journal_records_each_request(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    f = client.files.create(file=b"x", purpose="assistants")
    client.files.retrieve(f.id)
    with pytest.raises(openai.NotFoundError):
        client.files.content("file-nope")
    client.files.list()
    client.files.delete(f.id)
    entries = mockfiles.requests()
    assert [(e["method"], e["endpoint"], e["status"]) for e in entries] == [
        ("POST", "files.create", 200),
        ("GET", "files.retrieve", 200),
        ("GET", "files.content", 404),
        ("GET", "files.list", 200),
        ("DELETE", "files.delete", 200),
    ]
    assert all(e["account"] == mockfiles.account_id(mockfiles.api_key) and e["dialect"] == "openai" for e in entries)
    assert entries[0]["path"] == "/v1/files" and entries[2]["path"] == "/v1/files/file-nope/content"
    assert entries[0]["retry_count"] == 0  # the SDK's x-stainless-retry-count
    assert all(isinstance(e["time"], float) and e["duration_ms"] >= 0 for e in entries)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    time.sleep(0.05)  # the server finishes the last request just after its last byte
    durations = [e["duration_ms"] for e in mockfiles.requests()]
    time.sleep(0.05)
    assert [e["duration_ms"] for e in mockfiles.requests()] == durations  # final once answered
    over_http = httpx.get(mockfiles.url + "/_mockfiles/requests", params={"endpoint": "files.content"}).json()
    assert [e["status"] for e in over_http["data"]] == [404]
    assert [e["endpoint"] for e in mockfiles.requests("files.create")] == ["files.create"]


def test_admin_routes_are_not_journaled_and_need_no_key(mockfiles: MockFilesServer) -> None:
    assert httpx.get(mockfiles.url + "/_mockfiles/health").status_code == 200
    assert httpx.get(mockfiles.url + "/_mockfiles/clock").status_code == 200
    assert mockfiles.requests() == []


def test_advance_moves_created_at(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    first = client.files.create(file=b"x", purpose="assistants")
    mockfiles.advance(3600)
    second = client.files.create(file=b"x", purpose="assistants")
    assert second.created_at - first.created_at >= 3600


def test_admin_clock_route(mockfiles: MockFilesServer) -> None:
    before = httpx.get(mockfiles.url + "/_mockfiles/clock").json()
    after = httpx.post(mockfiles.url + "/_mockfiles/clock", json={"advance": 86400}).json()
    assert after["offset"] == 86400
    assert after["now"] - before["now"] >= 86400
    bad = httpx.post(mockfiles.url + "/_mockfiles/clock", json={"advance": -5})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "advance"
    garbage = httpx.post(mockfiles.url + "/_mockfiles/clock", content=b"not json")
    assert garbage.status_code == 400 and "JSON" in garbage.json()["error"]["message"]


def test_freezegun_moves_the_emulator_clock_and_the_server_keeps_serving(client: openai.OpenAI) -> None:
    with freeze_time("2030-01-02 03:04:05") as frozen:
        created = client.files.create(file=b"x", purpose="assistants")
        start = calendar.timegm((2030, 1, 2, 3, 4, 5))
        assert created.created_at == start
        frozen.tick(120)
        assert client.files.create(file=b"y", purpose="assistants").created_at == start + 120
        frozen.move_to("2031-01-01")
        assert client.files.create(file=b"z", purpose="assistants").created_at == calendar.timegm((2031, 1, 1, 0, 0, 0))
        assert len(list(client.files.list())) == 3


async def test_freezegun_with_an_async_client(aclient: openai.AsyncOpenAI) -> None:
    with freeze_time("2030-01-01", real_asyncio=True):
        created = await aclient.files.create(file=b"x", purpose="assistants")
        assert created.created_at == calendar.timegm((2030, 1, 1, 0, 0, 0))


def test_server_started_while_time_is_frozen() -> None:
    with freeze_time("2029-05-05"):
        with MockFilesServer() as server:
            created = server.client().files.create(file=b"x", purpose="assistants")
            assert created.created_at == calendar.timegm((2029, 5, 5, 0, 0, 0))


def test_concurrent_clients_from_threads(mockfiles: MockFilesServer) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            c = mockfiles.client(api_key=f"thread-{n}")
            ids = [c.files.create(file=f"{n}-{i}".encode(), purpose="assistants").id for i in range(10)]
            assert [f.id for f in c.files.list(order="asc")] == ids
            for file_id in ids:
                assert c.files.content(file_id).read().startswith(f"{n}-".encode())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(httpx.get(mockfiles.url + "/_mockfiles/files").json()["data"]) == 80


def test_the_app_speaks_lifespan_and_refuses_websockets() -> None:
    """Under a server that sends lifespan events (uvicorn's default), start-up and shut-down
    are acknowledged; a websocket is closed at once."""
    from mockfiles.emulator import Emulator
    from mockfiles.web.app import build_app

    app = build_app(Emulator())

    async def drive(scope: dict[str, object], incoming: list[dict[str, object]]) -> list[dict[str, object]]:
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return incoming.pop(0)

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        await asyncio.wait_for(app(scope, receive, send), timeout=5)
        return sent

    lifespan = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    assert asyncio.run(drive({"type": "lifespan", "asgi": {"version": "3.0"}}, lifespan)) == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]
    websocket = {"type": "websocket", "path": "/v1/files", "headers": []}
    sent = asyncio.run(drive(websocket, [{"type": "websocket.connect"}]))
    assert [m["type"] for m in sent] == ["websocket.close"]


# --- the clock cannot be moved anywhere the emulator cannot follow --------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"advance": 1e20}',
        b'{"advance": NaN}',
        b'{"advance": Infinity}',
        b'{"advance": -Infinity}',
        b'{"advance": 1e400}',
    ],
    ids=["1e20", "nan", "inf", "-inf", "1e400"],
)
def test_absurd_advances_are_400_and_nothing_breaks(
    mockfiles: MockFilesServer, client: openai.OpenAI, body: bytes
) -> None:
    client.files.create(file=b"x", purpose="assistants")
    r = httpx.post(mockfiles.url + "/_mockfiles/clock", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == "advance" and "100 years" in error["message"]
    assert mockfiles.emulator.clock.offset == 0
    client.files.create(file=b"y", purpose="assistants")  # every upload and list still works
    assert len(client.files.list().data) == 2


def test_advance_from_python_refuses_what_the_route_refuses(mockfiles: MockFilesServer) -> None:
    for seconds in (1e20, float("nan"), float("inf"), -1):
        with pytest.raises(ValueError, match=r"advances by 0 to 3155760000 seconds \(100 years\) at a time"):
            mockfiles.advance(seconds)
    with pytest.raises(TypeError):
        mockfiles.advance("60")  # type: ignore[arg-type]
    assert mockfiles.emulator.clock.offset == 0


def test_the_clock_runs_at_most_1000_years_ahead(mockfiles: MockFilesServer) -> None:
    century = 100 * 365.25 * 86400
    for _ in range(10):
        mockfiles.advance(century)
    with pytest.raises(ValueError, match=r"at most 31557600000 seconds \(1000 years\) ahead"):
        mockfiles.advance(1)
    r = httpx.post(mockfiles.url + "/_mockfiles/clock", json={"advance": 1})
    assert r.status_code == 400 and "1000 years" in r.json()["error"]["message"]
    httpx.post(mockfiles.url + "/_mockfiles/reset")
    assert httpx.post(mockfiles.url + "/_mockfiles/clock", json={"advance": 1}).status_code == 200


def test_every_dialect_works_at_the_furthest_reachable_time(mockfiles: MockFilesServer) -> None:
    """freezegun at the calendar's last day, and the clock 1000 years beyond it."""
    headers = {"Authorization": "Bearer sk-far"}
    with freeze_time("9999-12-31 23:00:00"):
        for _ in range(10):
            mockfiles.advance(100 * 365.25 * 86400 - 1)
        up = [
            httpx.post(
                mockfiles.base_url + "/files",
                files={"file": ("a.txt", b"x")},
                data={"purpose": "assistants"},
                headers=headers,
            ),
            httpx.post(mockfiles.url + "/api/v1/files", files={"files": ("b.txt", b"y")}, headers=headers),
        ]
        assert [r.status_code for r in up] == [200, 200]
        for path in ("/v1/files", "/compatible-mode/v1/files", "/api/v1/files"):
            assert httpx.get(mockfiles.url + path, headers=headers).status_code == 200, path
        native = httpx.get(mockfiles.url + "/api/v1/files", headers=headers).json()["data"]["files"]
        assert {f["gmt_create"] for f in native} == {"9999-12-31 23:59:59"}
        assert httpx.get(mockfiles.url + "/_mockfiles/files").status_code == 200
        assert httpx.get(mockfiles.url + "/_mockfiles/requests").status_code == 200


def test_client_without_the_openai_package_says_how_to_install_it() -> None:
    code = """
import sys

class NoOpenAI:
    def find_spec(self, name, path=None, target=None):
        if name == "openai" or name.startswith("openai."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoOpenAI())
from mockfiles import MockFilesServer

with MockFilesServer() as server:
    for make in (server.client, server.async_client):
        try:
            make()
        except ModuleNotFoundError as exc:
            print(exc.name, "|", exc)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line.startswith("openai | ")
        assert "pip install openai" in line and "pip install 'mockfiles[openai]'" in line
