"""Four clients run against the retry conformance cases (mockfiles/retry_cases.json): the official
openai SDK, sync and async, with its default retry policy; the official Node SDK (tests/node); and
a naive wrapper as people write them with tenacity — retries any exception three times with a
fixed wait, ignores Retry-After, and sends ``x-stainless-retry-count: 0`` on every attempt."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from typing import Any

import tenacity

from mockfiles.retries.cases import SUCCESS, ClientResult
from mockfiles.retries.run import CaseRun
from tests.support.node_clients import HERE, NODE

NAIVE_WAIT = 0.2  # seconds between the naive wrapper's attempts


def operate(client: Any, run: CaseRun) -> object:
    """The case's operation with an openai SDK client (sync)."""
    if run.operation == "upload":
        return client.files.create(file=(run.filename, run.content), purpose=run.purpose)
    if run.operation == "list":
        return client.files.list()
    if run.operation == "retrieve":
        return client.files.retrieve(run.file_id)
    if run.operation == "download":
        return client.files.content(run.file_id).content
    return client.files.delete(run.file_id)


async def operate_async(client: Any, run: CaseRun) -> object:
    if run.operation == "upload":
        return await client.files.create(file=(run.filename, run.content), purpose=run.purpose)
    if run.operation == "list":
        return await client.files.list()
    if run.operation == "retrieve":
        return await client.files.retrieve(run.file_id)
    if run.operation == "download":
        return (await client.files.content(run.file_id)).content
    return await client.files.delete(run.file_id)


def sync_sdk(run: CaseRun) -> ClientResult:
    client = run.server.client(default_headers=run.headers, timeout=run.timeout)
    with client, run.capture():
        operate(client, run)
    return run.result or SUCCESS


def async_sdk(run: CaseRun) -> ClientResult:
    async def main() -> None:
        async with run.server.async_client(default_headers=run.headers, timeout=run.timeout) as client:
            with run.capture():
                await operate_async(client, run)

    asyncio.run(main())
    return run.result or SUCCESS


def naive_tenacity(run: CaseRun) -> ClientResult:
    """What people write: the SDK's own retries off, three attempts on any exception, a fixed wait."""
    headers = {**run.headers, "x-stainless-retry-count": "0"}
    client = run.server.client(default_headers=headers, timeout=run.timeout, max_retries=0)

    @tenacity.retry(
        stop=tenacity.stop_after_attempt(3),
        wait=tenacity.wait_fixed(NAIVE_WAIT),
        retry=tenacity.retry_if_exception_type(Exception),
        reraise=True,
    )
    def call() -> object:
        return operate(client, run)

    with client, run.capture():
        call()
    return run.result or SUCCESS


def node_sdk(run: CaseRun) -> ClientResult:
    spec = {
        "base_url": run.server.base_url,
        "api_key": run.server.api_key,
        "headers": run.headers,
        "timeout_ms": int(run.timeout * 1000),
        "operation": run.operation,
        "file_id": run.file_id,
        "bytes": len(run.content),
        "filename": run.filename,
        "purpose": run.purpose,
    }
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HERE / "retry_case.mjs"), json.dumps(spec)], capture_output=True, text=True, timeout=120, cwd=HERE
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    run.result = node_result(out)
    return run.result


def node_result(out: dict[str, Any]) -> ClientResult:
    """The Node client's outcome classified as ClientResult.from_exception classifies Python's."""
    if out["ok"]:
        return SUCCESS
    name, status = out["error"], out["status"]
    text = f"{name}: {out['message']}"
    if status is not None:
        return ClientResult(False, status, "status", text)
    lowered = name.lower()
    kind = "timeout" if "timeout" in lowered else "connection" if "connection" in lowered else "other"
    if name == "SyntaxError":
        kind = "decode"
    return ClientResult(False, None, kind, text)  # type: ignore[arg-type]


CLIENTS: dict[str, Callable[[CaseRun], ClientResult]] = {
    "openai-python (sync)": sync_sdk,
    "openai-python (async)": async_sdk,
    "openai-node": node_sdk,
    "naive tenacity wrapper": naive_tenacity,
}
