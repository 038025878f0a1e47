"""Control routes under ``/_mockfiles``: health, reset, clock, journal, files, batches, uploads, models, vector
stores, fine-tuning jobs and their events, scenario (and the checking of one without applying it), a file's
content and deletion by id; the web console
(console.py) reads them all.

They never show an API key: accounts appear as ``acct_…`` ids with the key masked
(accounts.py). Bodies are bounded (a scenario at most 4 MiB, anything else 64 KiB), and a
scenario is parsed in a worker thread, so that even the largest one (4 MiB, some 140,000
rules, a few seconds of parsing) never holds up the requests being served meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson
import yaml
from starlette.requests import Request
from starlette.responses import Response

from mockfiles._version import __version__
from mockfiles.admission.auth import check_admin_token
from mockfiles.chat.models import model_object
from mockfiles.core.accounts import account_id, key_hint
from mockfiles.core.errors import InvalidRequest, InvalidValue, NotFound
from mockfiles.core.validation import check_range, parse_int
from mockfiles.emulator import Emulator
from mockfiles.exceptions import ScenarioError
from mockfiles.files.store import StoredFile
from mockfiles.scenarios.scenario import Scenario, scenario_from_text
from mockfiles.web.api import Api
from mockfiles.web.exchange import Exchange
from mockfiles.web.json_body import JsonBody, bounded_body
from mockfiles.web.responses import ContentResponse, JSONResponse
from mockfiles.web.routing import Handler, Operation, Route, route

PREFIX = "/_mockfiles"
MAX_SCENARIO_BYTES = 4 * 1024 * 1024  # 50,000 fault rules take 1.4 MB; a real scenario a few KB
MAX_JSON_BYTES = 64 * 1024  # the other bodies: {"advance": 3600}
SCENARIO_SOURCE = "<PUT /_mockfiles/scenario>"
MAX_SEQ = 2**63 - 1


ControlHandler = Callable[[Api, Request, Exchange], Awaitable[Response]]
ADMIN_BODY = JsonBody(MAX_JSON_BYTES, constants=True, keep=False)  # {"advance": 3600}


def guarded(api: Api, handler: ControlHandler) -> Handler:
    """A control route's handler given the ``Api``, behind the admin token check every control route makes."""
    return functools.partial(_checked, api, handler)


async def _checked(api: Api, handler: ControlHandler, request: Request, ex: Exchange) -> Response:
    require_admin_token(api.emulator, request)
    return await handler(api, request, ex)


async def health(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    emulator = api.emulator
    return JSONResponse(
        {"status": "ok", "version": __version__, "profile": emulator.profile.name, "files": len(emulator.files.store)}
    )


async def reset(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    api.emulator.reset()
    return JSONResponse({"reset": True})


@dataclass(frozen=True)
class Advance:
    """``POST /_mockfiles/clock``'s body: how far to move the emulator clock."""

    seconds: float

    @classmethod
    def parse(cls, body: dict[str, object]) -> Advance:
        seconds = body.get("advance")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise InvalidRequest("advance_not_a_number", param="advance")
        return cls(seconds)


async def clock(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    emulator = api.emulator
    if request.method == "POST":
        advance = Advance.parse(await ADMIN_BODY.read(request, ex.record))
        try:
            emulator.clock.advance(advance.seconds)
        except ValueError as exc:  # NaN, infinite, negative, more than 100 years, or too far in all
            raise InvalidRequest("advance_refused", param="advance", detail=str(exc)) from None
    return JSONResponse({"now": emulator.clock.now(), "offset": emulator.clock.offset})


async def journal(api: Api, request: Request, ex: Exchange) -> Response:
    emulator = api.emulator
    endpoint = request.query_params.get("endpoint")
    after = parse_int(request.query_params.get("after", "0"), "after")
    check_range(after, "after", 0, MAX_SEQ)
    # off the event loop: an upload's sha256 is made when its entry is first read (digest.py)
    data = await asyncio.to_thread(emulator.journal.entries, endpoint, after=after)
    form = request.query_params.get("format", "json")
    if form == "jsonl":  # JSON lines, one entry a line: to keep, grep or load (the console's export)
        lines = b"".join(orjson.dumps(entry) + b"\n" for entry in data)
        return Response(lines, media_type="application/x-ndjson")
    if form != "json":
        raise InvalidValue("format", form, ("json", "jsonl"))
    kept = {"generation": emulator.generation, "last_seq": emulator.journal.last_seq}
    return JSONResponse({"object": "list", "data": data, **kept})


def masked(shown: dict[str, Any], account: str) -> dict[str, Any]:
    """An object of one account's, with its account as the control views show it (the key masked)."""
    return {**shown, "account": account_id(account), "key": key_hint(account)}


async def files(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    now = api.emulator.clock.now()
    data = [
        {**masked(api.openai.file_object(f, now), f.account), "dialect": f.dialect}
        for f in api.emulator.files.all_files()
    ]
    return JSONResponse({"object": "list", "data": data})


async def uploads(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    now = api.emulator.clock.now()
    data = [
        masked(
            {
                **api.openai.upload_object(u, now),
                "mime_type": u.mime_type,
                "parts": len(u.parts),
                "held_bytes": u.held,
                "file_id": u.file_id,
            },
            u.account,
        )
        for u in api.emulator.uploads.all_uploads()
    ]
    return JSONResponse({"object": "list", "data": data})


async def batches(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    """Every account's batches, oldest first, each with its account masked as files are."""
    data = [masked(api.openai.batch_object(batch), batch.account) for batch in api.emulator.batches.everyone()]
    return JSONResponse({"object": "list", "data": data})


async def vector_stores(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    """Every account's vector stores, oldest first, each with its files and their statuses."""
    data = [
        {**shown, "description": store.description, **masked({}, store.account), "files": files}
        for store, shown, files in await asyncio.to_thread(api.emulator.vector_stores.everyone)
    ]
    return JSONResponse({"object": "list", "data": data})


async def models(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    """Every model the model routes answer for: each family's, and those registered for one account."""
    data = [
        {
            **model_object(model),
            "family": model.family,
            "reads": "files" if model.reads_files else "fileid" if model.reads_fileid else None,
            "base": model.base,
            "account": account_id(account) if account is not None else None,
            "key": key_hint(account) if account is not None else None,
        }
        for account, model in api.emulator.models.everyone()
    ]
    return JSONResponse({"object": "list", "data": data})


async def fine_tuning(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    """Every account's fine-tuning jobs, oldest first, each with its account masked as files are."""
    data = [masked(job, account) for account, job in api.emulator.fine_tuning.everyone()]
    return JSONResponse({"object": "list", "data": data})


async def fine_tuning_events(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    """A job's newest events (at most ``limit``, 1-1000, default 200), whatever its account."""
    limit = parse_int(request.query_params.get("limit", "200"), "limit")
    check_range(limit, "limit", 1, 1000)
    account, page = api.emulator.fine_tuning.event_log(request.path_params["job_id"], limit)
    return JSONResponse(masked(page, account))


async def scenario(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    emulator = api.emulator
    if request.method == "PUT":
        emulator.use_scenario(await scenario_of(request))
    elif request.method == "DELETE":
        emulator.use_scenario(None)
    active = emulator.scenario
    answer = {"source": active.source, "scenario": active.document, "ignored": emulator.ignored}
    if request.method == "GET":  # as text to edit; in a thread, as the parse: 50,000 rules take seconds
        answer["yaml"] = await asyncio.to_thread(scenario_yaml, active.document)
    return JSONResponse(answer)


async def scenario_check(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    await scenario_of(request)
    return JSONResponse({"valid": True})


async def scenario_of(request: Request) -> Scenario:
    """The scenario a request's body holds, parsed in a worker thread; every problem of a refused one."""
    raw = await bounded_body(request, MAX_SCENARIO_BYTES, "scenario")
    try:
        return await asyncio.to_thread(scenario_from_text, raw.decode("utf-8", errors="replace"), SCENARIO_SOURCE)
    except ScenarioError as exc:
        raise InvalidRequest("scenario_refused", param="scenario", detail=every_problem(exc)) from None


def stored(emulator: Emulator, file_id: str) -> StoredFile:
    """A file by its id alone, whatever its account."""
    for f in emulator.files.all_files():
        if f.id == file_id:
            return f
    raise NotFound("no_such_file", param="id", id=file_id)


async def file_content(api: Api, request: Request, ex: Exchange) -> ContentResponse:
    file_id = request.path_params["file_id"]
    f = api.emulator.files.get(stored(api.emulator, file_id).account, file_id)
    return ContentResponse(f.chunks, f.size)


async def file_delete(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    file_id = request.path_params["file_id"]
    f = api.emulator.files.delete(stored(api.emulator, file_id).account, file_id)
    return JSONResponse({"id": f.id, "object": "file", "deleted": True})


async def openapi(api: Api, request: Request, ex: Exchange) -> JSONResponse:
    return JSONResponse(openapi_document())


def routes(api: Api) -> list[Route]:
    return [
        route(PREFIX + "/health", GET=guarded(api, health)),
        route(PREFIX + "/reset", POST=guarded(api, reset)),
        route(PREFIX + "/clock", GET=guarded(api, clock), POST=guarded(api, clock)),
        route(PREFIX + "/requests", GET=guarded(api, journal)),
        # the views of every account's state wait for every account's work due (scheduler.py)
        route(PREFIX + "/files", GET=Operation(guarded(api, files), everyone=True)),
        route(PREFIX + "/uploads", GET=Operation(guarded(api, uploads), everyone=True)),
        route(PREFIX + "/batches", GET=Operation(guarded(api, batches), everyone=True)),
        route(PREFIX + "/models", GET=guarded(api, models)),
        route(PREFIX + "/vector-stores", GET=guarded(api, vector_stores)),
        route(PREFIX + "/fine-tuning", GET=guarded(api, fine_tuning)),
        route(PREFIX + "/fine-tuning/{job_id}/events", GET=guarded(api, fine_tuning_events)),
        route(
            PREFIX + "/scenario", GET=guarded(api, scenario), PUT=guarded(api, scenario), DELETE=guarded(api, scenario)
        ),
        route(PREFIX + "/openapi.json", GET=guarded(api, openapi)),
        route(PREFIX + "/scenario/check", POST=guarded(api, scenario_check)),
        route(PREFIX + "/files/{file_id}/content", GET=guarded(api, file_content)),
        route(PREFIX + "/files/{file_id}", DELETE=guarded(api, file_delete)),
    ]


def require_admin_token(emulator: Emulator, request: Request) -> None:
    """Refuse a request to the control routes without the admin token, when one is set."""
    check_admin_token(emulator.admin_token, request.headers.get("authorization"))


def every_problem(exc: ScenarioError) -> str:
    """A refused scenario's problems, one per line, in the order of their lines."""
    return "\n".join(str(problem) for problem in exc.problems)


def scenario_yaml(document: dict[str, Any]) -> str:
    """The scenario as YAML, for reading and editing (the console's editor)."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True) if document else ""


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI description of the routes served at /v1 (shipped with the package)."""
    document: dict[str, Any] = json.loads(resources.files("mockfiles.web").joinpath("openapi.json").read_text("utf-8"))
    return document
