"""Control routes under ``/_mockfiles``: health, reset, clock, journal, files, scenario."""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from starlette.requests import Request

from . import __version__
from .auth import bearer_key
from .dialects.openai import OpenAIDialect
from .emulator import Emulator
from .errors import AuthenticationFailed, InvalidRequest
from .located import ScenarioError
from .responses import JSONResponse
from .routes import Route, by_method
from .scenario import scenario_from_text

PREFIX = "/_mockfiles"


def routes(emulator: Emulator) -> list[Route]:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "profile": emulator.profile.name,
                "files": len(emulator.files.store),
            }
        )

    async def reset(request: Request) -> JSONResponse:
        emulator.reset()
        return JSONResponse({"reset": True})

    async def clock(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = await json_body(request)
            seconds = body.get("advance")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise InvalidRequest("'advance' must be a number of seconds >= 0.", param="advance")
            emulator.clock.advance(seconds)
        return JSONResponse({"now": emulator.clock.now(), "offset": emulator.clock.offset})

    async def requests(request: Request) -> JSONResponse:
        endpoint = request.query_params.get("endpoint")
        return JSONResponse({"object": "list", "data": emulator.journal.entries(endpoint)})

    async def files(request: Request) -> JSONResponse:
        now = emulator.clock.now()
        view = OpenAIDialect()
        data = [
            {**view.file_object(f, now), "account": f.account, "dialect": f.dialect} for f in emulator.files.all_files()
        ]
        return JSONResponse({"object": "list", "data": data})

    async def scenario(request: Request) -> JSONResponse:
        if request.method == "PUT":
            text = (await request.body()).decode("utf-8", errors="replace")
            try:
                emulator.use_scenario(scenario_from_text(text, "<PUT /_mockfiles/scenario>"))
            except ScenarioError as exc:
                raise InvalidRequest(str(exc), param="scenario") from None
        elif request.method == "DELETE":
            emulator.use_scenario(None)
        return JSONResponse({"source": emulator.scenario.source, "scenario": emulator.scenario.document})

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(openapi_document())

    def guarded(endpoint: Callable[[Request], Awaitable[JSONResponse]]) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def check_token(request: Request) -> JSONResponse:
            token = emulator.admin_token
            if token is not None:
                given = bearer_key(request.headers.get("authorization"))
                if not hmac.compare_digest(given.encode(), token.encode()):
                    raise AuthenticationFailed("Incorrect admin token.", missing=False, key=given)
            return await endpoint(request)

        return check_token

    return [
        by_method(PREFIX + "/health", GET=guarded(health)),
        by_method(PREFIX + "/reset", POST=guarded(reset)),
        by_method(PREFIX + "/clock", GET=guarded(clock), POST=guarded(clock)),
        by_method(PREFIX + "/requests", GET=guarded(requests)),
        by_method(PREFIX + "/files", GET=guarded(files)),
        by_method(PREFIX + "/scenario", GET=guarded(scenario), PUT=guarded(scenario), DELETE=guarded(scenario)),
        by_method(PREFIX + "/openapi.json", GET=guarded(openapi)),
    ]


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI description of the routes served at /v1 (shipped with the package)."""
    return json.loads(resources.files("mockfiles").joinpath("openapi.json").read_text(encoding="utf-8"))


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise InvalidRequest("The request body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body
