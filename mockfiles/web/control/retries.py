"""Control routes for retry conformance, under ``/_mockfiles`` like the others (token-guarded, not
journaled): retry tests (``/retry-tests``, ``/retry-tests/{id}``) and the journal's logical calls
with their verdicts (``/calls``). docs/retries.md describes the shapes."""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from mockfiles.retries.queues import RetryTestError
from mockfiles.scenarios.located import type_name
from mockfiles.web.api import Api
from mockfiles.web.control.admin import MAX_JSON_BYTES, PREFIX, guarded
from mockfiles.web.exchange import Exchange
from mockfiles.web.json_body import JsonBody
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Route, route

# a retry test's document: checked into its instructions by RetryTests.create, which words every refusal
RETRY_TEST_BODY = JsonBody(
    MAX_JSON_BYTES,
    empty=b"null",
    constants=True,
    keep=False,
    not_json=lambda: RetryTestError("retry_test_not_object", got="text that is not JSON"),
    not_object=lambda value: RetryTestError("retry_test_not_object", got=type_name(value)),
)


async def create_or_list(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    emulator = api.emulator
    if request.method == "GET":  # the calls' digests of unread uploads are made off the event loop
        views = await asyncio.to_thread(lambda: [emulator.retry_test_view(v) for v in emulator.retry_tests.list()])
        return JSONResponse({"object": "list", "data": views})
    return JSONResponse(emulator.retry_tests.create(await RETRY_TEST_BODY.read(request, ex.record)))


async def one(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    tests, test_id = api.emulator.retry_tests, request.path_params["test_id"]
    view = tests.delete(test_id) if request.method == "DELETE" else tests.get(test_id)
    return JSONResponse(await asyncio.to_thread(api.emulator.retry_test_view, view))


async def calls(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    retry_test = request.query_params.get("retry_test") or None
    # off the event loop: an upload's sha256 is made when its entry is first read (files/digest.py)
    data = await asyncio.to_thread(api.emulator.calls, retry_test)
    return JSONResponse({"object": "list", "data": data})


def routes(api: Api) -> list[Route]:
    return [
        route(PREFIX + "/retry-tests", GET=guarded(api, create_or_list), POST=guarded(api, create_or_list)),
        route(PREFIX + "/retry-tests/{test_id}", GET=guarded(api, one), DELETE=guarded(api, one)),
        route(PREFIX + "/calls", GET=guarded(api, calls)),
    ]
