"""Baseline (a): a bare Starlette app answering the same routes with canned bodies, served
by the same uvicorn settings as mockfiles. Uploads are read and discarded (a raw ASGI body
read), or with ``?keep=1`` kept as the pieces they came in (as a store must keep them) until
the next DELETE; content is canned bytes, or ``?size=N`` bytes streamed in 64 KiB chunks.

    python -m bench.tools.baseline --port 0      # prints "baseline serving on http://..."
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mockfiles.server import bind, serve_app

FILE = {
    "id": "file-4wDz5b167pAf72nx1h9eiN",
    "object": "file",
    "bytes": 120,
    "created_at": 1764499365,
    "expires_at": None,
    "filename": "data.jsonl",
    "purpose": "batch",
    "status": "processed",
    "status_details": None,
}
FILE_BODY = json.dumps(FILE).encode()
FILE_ID = str(FILE["id"]).encode()
MADE = itertools.count(1)
LIST_BODY = json.dumps(
    {"object": "list", "data": [FILE], "first_id": FILE["id"], "last_id": FILE["id"], "has_more": False}
).encode()
DELETED_BODY = json.dumps({"id": FILE["id"], "object": "file", "deleted": True}).encode()
CHUNK = b"\0" * 65536
HELD: list[list[bytes]] = []  # uploads kept with ?keep=1, let go by any DELETE


def created() -> bytes:
    """A created file's answer, with an id of its own, as any server gives: a client then builds
    each later URL (retrieve, content, delete) afresh. With one id for all, the HTTP library's URL
    cache (its 128 latest URLs) answered those, and a baseline skipped a cost every real answer
    has (bench/README.md)."""
    return FILE_BODY.replace(FILE_ID, b"file-%022d" % next(MADE))


def canned_transport(httpx: Any, content: bytes) -> Any:
    """The same canned answers without a socket: an httpx (or httpx2) ``MockTransport``, on which
    the SDK measures its own cost (the floor); ``content`` is what a file's content is."""

    def handler(request: Any) -> Any:
        path = request.url.path
        if path.endswith("/content"):
            return httpx.Response(200, content=content)
        if path.endswith("/files"):
            return httpx.Response(200, content=created() if request.method == "POST" else LIST_BODY)
        return httpx.Response(200, content=DELETED_BODY if request.method == "DELETE" else FILE_BODY)

    return httpx.MockTransport(handler)


def canned(body: bytes) -> Response:
    return Response(body, media_type="application/json")


async def files(request: Request) -> Response:
    if request.method == "POST":
        if request.query_params.get("keep"):
            HELD.append([piece async for piece in request.stream()])
        else:
            async for _ in request.stream():
                pass
        return canned(created())
    return canned(LIST_BODY)


async def one_file(request: Request) -> Response:
    if request.method == "DELETE":
        HELD.clear()
    return canned(DELETED_BODY if request.method == "DELETE" else FILE_BODY)


class Streamed:
    def __init__(self, size: int) -> None:
        self.size = size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/octet-stream"), (b"content-length", str(self.size).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        left = self.size
        while left > 0:
            piece = CHUNK if left >= len(CHUNK) else CHUNK[:left]
            left -= len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": left > 0})


async def content(request: Request) -> Response | Streamed:
    size = int(request.query_params.get("size", "0"))
    return Streamed(size) if size else Response(b'{"custom_id": "1"}\n', media_type="application/octet-stream")


app = Starlette(
    routes=[
        Route("/v1/files", files, methods=["GET", "POST"]),
        Route("/v1/files/{file_id}", one_file, methods=["GET", "DELETE"]),
        Route("/v1/files/{file_id}/content", content, methods=["GET"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    sock = bind("127.0.0.1", args.port)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with contextlib.suppress(KeyboardInterrupt):
        serve_app(app, sock, lambda: print(f"baseline serving on {url}", flush=True), quiet=True)


if __name__ == "__main__":
    main()
