"""Control routes under ``/_mockfiles``: health, reset, clock, journal, files, scenario."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import __version__
from .dialects.openai import OpenAIDialect
from .emulator import Emulator
from .errors import InvalidRequest
from .located import ScenarioError
from .scenario import scenario_from_text

PREFIX = "/_mockfiles"


def routes(emulator: Emulator) -> list[Route]:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {"status": "ok", "version": __version__, "profile": emulator.profile.name, "files": len(emulator.files.store)}
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
            {**view.file_object(f, now), "account": f.account, "dialect": f.dialect}
            for f in emulator.files.all_files()
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

    return [
        Route(PREFIX + "/health", health, methods=["GET"]),
        Route(PREFIX + "/reset", reset, methods=["POST"]),
        Route(PREFIX + "/clock", clock, methods=["GET", "POST"]),
        Route(PREFIX + "/requests", requests, methods=["GET"]),
        Route(PREFIX + "/files", files, methods=["GET"]),
        Route(PREFIX + "/scenario", scenario, methods=["GET", "PUT", "DELETE"]),
    ]


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise InvalidRequest("The request body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body
