"""What a request leaves behind: nothing for the cyclic garbage collector.

A request whose objects refer to each other in a cycle is freed only when the
collector runs, which under load costs more than the request itself. The app is
driven here through its ASGI interface, with the collector off, and the collector
then counts what it would have had to find.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from mockfiles.emulator import Emulator, Settings
from mockfiles.web.app import build_app

BODY = (
    b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--b--\r\n'
)


def request(method: str, path: str, body: bytes = b"") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    headers = [(b"host", b"x"), (b"authorization", b"Bearer k")]
    if body:
        headers += [(b"content-type", b"multipart/form-data; boundary=b"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }
    return scope, [{"type": "http.request", "body": body, "more_body": False}]


async def drive(app: Any, count: int, file_id: str) -> list[int]:
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for _ in range(count):
        for scope, incoming in [
            request("POST", "/v1/files", BODY),
            request("GET", f"/v1/files/{file_id}"),
            request("GET", "/v1/files"),
            request("GET", f"/v1/files/{file_id}/content"),
            request("GET", "/v1/files/file-missing"),  # an error response
            request("PUT", "/v1/files"),  # a routing error
            request("GET", f"/compatible-mode/v1/files/{file_id}"),
            request("GET", f"/api/v1/files/{file_id}"),
        ]:

            async def receive(incoming: list[dict[str, Any]] = incoming) -> dict[str, Any]:
                return incoming.pop(0) if incoming else {"type": "http.disconnect"}

            await app(scope, receive, send)
    return statuses


def garbage_after(count: int) -> tuple[int, list[int]]:
    # A journal of one entry: the requests' contexts leave it at once, so what they hold is garbage.
    emulator = Emulator(Settings(scenario={"journal": {"cap": 1}}, rate_limits=False, profile="openai"))
    f = emulator.files.create("k", purpose="assistants", filename="a.txt", chunks=(b"x",), size=1)
    app = build_app(emulator)
    gc.collect()
    gc.disable()
    try:
        statuses = asyncio.run(drive(app, count, f.id))
        return gc.collect(), statuses
    finally:
        gc.enable()


@pytest.mark.parametrize("count", [50])
def test_requests_leave_no_reference_cycles(count: int) -> None:
    floor, _ = garbage_after(0)  # what asyncio.run and the set-up leave, whatever the requests
    found, statuses = garbage_after(count)
    assert statuses.count(200) == 6 * count and statuses.count(404) == count and statuses.count(405) == count
    assert found - floor < count  # not one cycle per request (an error's traceback is freed too)
