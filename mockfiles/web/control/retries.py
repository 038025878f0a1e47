"""Control routes for retry conformance, under ``/_mockfiles`` like the others (token-guarded, not
journaled): retry tests (``/retry-tests``, ``/retry-tests/{id}``) and the journal's logical calls
with their verdicts (``/calls``). docs/retries.md describes the shapes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from mockfiles.admission.auth import check_admin_token
from mockfiles.emulator import Emulator
from mockfiles.retries.queues import RetryTestError
from mockfiles.web.api import Api
from mockfiles.web.control.admin import MAX_JSON_BYTES, PREFIX
from mockfiles.web.exchange import Exchange
from mockfiles.web.json_body import NotJson
from mockfiles.web.json_body import loads as json_body_value
from mockfiles.web.params import bounded_body
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Handler, Route, route


def routes(api: Api) -> list[Route]:
    emulator = api.emulator
    tests = emulator.retry_tests

    async def create_or_list(request: Request, ex: Exchange) -> JSONResponse:
        if request.method == "GET":  # the calls' digests of unread uploads are made off the event loop
            views = await asyncio.to_thread(lambda: [emulator.retry_test_view(v) for v in tests.list()])
            return JSONResponse({"object": "list", "data": views})
        raw = await bounded_body(request, MAX_JSON_BYTES, "body")
        try:
            document = json_body_value(raw or b"null", constants=True)
        except NotJson:
            raise RetryTestError("retry_test_not_object", got="text that is not JSON") from None
        return JSONResponse(tests.create(document))

    async def one(request: Request, ex: Exchange) -> JSONResponse:
        test_id = request.path_params["test_id"]
        view = tests.delete(test_id) if request.method == "DELETE" else tests.get(test_id)
        return JSONResponse(await asyncio.to_thread(emulator.retry_test_view, view))

    async def calls(request: Request, ex: Exchange) -> JSONResponse:
        retry_test = request.query_params.get("retry_test") or None
        # off the event loop: an upload's sha256 is made when its entry is first read (files/digest.py)
        data = await asyncio.to_thread(emulator.calls, retry_test)
        return JSONResponse({"object": "list", "data": data})

    guarded = guard(emulator)
    return [
        route(PREFIX + "/retry-tests", GET=guarded(create_or_list), POST=guarded(create_or_list)),
        route(PREFIX + "/retry-tests/{test_id}", GET=guarded(one), DELETE=guarded(one)),
        route(PREFIX + "/calls", GET=guarded(calls)),
    ]


def guard(emulator: Emulator) -> Callable[[Handler], Handler]:
    """The admin token check every control route makes (the same rule as handlers/admin.py)."""

    def guarded(endpoint: Handler) -> Handler:
        async def check_token(request: Request, ex: Exchange) -> Response:
            check_admin_token(emulator.admin_token, request.headers.get("authorization"))
            return await endpoint(request, ex)

        return check_token

    return guarded
