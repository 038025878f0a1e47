"""Where a downstream test's time goes, step by step, in this process: what the ``mockfiles``
fixture's reset, ``client()`` and the test's two requests each cost, apart from pytest
(``python -m bench.suite --steps``). CPU time of this process (every thread: the server's too),
the best of five passes, so that the machine's other work weighs as little as it can."""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable
from typing import Any

BODY = b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\n'


def cost(step: Callable[[], object], n: int) -> float:
    """Milliseconds of CPU per call, the best of five passes of ``n`` calls (after a warm-up)."""
    for _ in range(max(1, n // 10)):
        step()
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(n):
            step()
        best = min(best, (time.process_time() - started) / n * 1000)
    return best


def two_requests(client: Any) -> None:
    created = client.files.create(file=("data.jsonl", BODY), purpose="batch")
    assert client.files.retrieve(created.id).id == created.id


async def two_async_requests(client: Any) -> None:
    created = await client.files.create(file=("data.jsonl", BODY), purpose="batch")
    assert (await client.files.retrieve(created.id)).id == created.id


def steps(quick: bool = False) -> list[str]:
    import openai

    from mockfiles import MockFilesServer
    from mockfiles.clients import library_of

    n = 5 if quick else 200
    library = importlib.import_module(library_of(openai.DefaultHttpxClient))
    lines = [f"# openai {openai.__version__} on {library.__name__}: ms of CPU per step, best of five passes of {n}"]
    rows = [
        ("the HTTP library's TLS context (create_ssl_context)", cost(library.create_ssl_context, max(1, n // 10))),
        ("the SDK's own client: OpenAI(base_url=...), a TLS context each", cost(
            lambda: openai.OpenAI(api_key="sk-x", base_url="http://127.0.0.1:9/v1"), max(1, n // 10))),
    ]  # fmt: skip
    with MockFilesServer() as server:
        fresh = cost(lambda: server.client(fresh=True), n)
        rows.append(("server.client(fresh=True): one TLS context per process", fresh))
        rows.append(("server.client(): the kept one", cost(server.client, n * 10)))
        rows.append(("server.reset() (the fixture's, each test)", cost(server.reset, n * 10)))
        for in_process in (False, True):
            way = "in process" if in_process else "over a socket"
            server.in_process = in_process
            client = server.client()

            def sync_test() -> None:
                server.reset()
                two_requests(server.client())

            async def async_body() -> None:
                await two_async_requests(server.async_client())

            def async_test() -> None:
                server.reset()
                asyncio.run(async_body())  # a loop per test, as pytest-asyncio's

            server.reset(rate_limits=False)  # n uploads in a row: not paced by the per-second limit
            rows.append((f"{way}: upload and retrieve, sync", cost(lambda c=client: two_requests(c), n)))
            rows.append((f"{way}: a sync test's body (reset, client(), the two requests)", cost(sync_test, n)))
            rows.append((f"{way}: an async test's body, on a loop of its own", cost(async_test, n)))
        rows.append(("asyncio.run() of nothing (a loop per test)", cost(lambda: asyncio.run(asyncio.sleep(0)), n)))
    width = max(len(name) for name, _ in rows)
    return lines + [f"{name:{width}s} {ms:8.3f}" for name, ms in rows]
