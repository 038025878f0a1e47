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
from mockfiles.scenarios.scenario import scenario_from_text
from mockfiles.web.api import Api
from mockfiles.web.exchange import Exchange
from mockfiles.web.json_body import NotJson
from mockfiles.web.json_body import loads as json_body_value
from mockfiles.web.params import bounded_body
from mockfiles.web.responses import ContentResponse, JSONResponse
from mockfiles.web.routing import Handler, Operation, Route, route

PREFIX = "/_mockfiles"
MAX_SCENARIO_BYTES = 4 * 1024 * 1024  # 50,000 fault rules take 1.4 MB; a real scenario a few KB
MAX_JSON_BYTES = 64 * 1024  # the other bodies: {"advance": 3600}
SCENARIO_SOURCE = "<PUT /_mockfiles/scenario>"
MAX_SEQ = 2**63 - 1


def routes(api: Api) -> list[Route]:
    emulator = api.emulator

    async def health(request: Request, ex: Exchange) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "profile": emulator.profile.name,
                "files": len(emulator.files.store),
            }
        )

    async def reset(request: Request, ex: Exchange) -> JSONResponse:
        emulator.reset()
        return JSONResponse({"reset": True})

    async def clock(request: Request, ex: Exchange) -> JSONResponse:
        if request.method == "POST":
            body = await json_body(request)
            seconds = body.get("advance")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise InvalidRequest("advance_not_a_number", param="advance")
            try:
                emulator.clock.advance(seconds)
            except ValueError as exc:  # NaN, infinite, negative, more than 100 years, or too far in all
                raise InvalidRequest("advance_refused", param="advance", detail=str(exc)) from None
        return JSONResponse({"now": emulator.clock.now(), "offset": emulator.clock.offset})

    async def requests(request: Request, ex: Exchange) -> Response:
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
        journal = {"generation": emulator.generation, "last_seq": emulator.journal.last_seq}
        return JSONResponse({"object": "list", "data": data, **journal})

    async def files(request: Request, ex: Exchange) -> JSONResponse:
        now = emulator.clock.now()
        view = api.openai
        data = [
            {
                **view.file_object(f, now),
                "account": account_id(f.account),
                "key": key_hint(f.account),
                "dialect": f.dialect,
            }
            for f in emulator.files.all_files()
        ]
        return JSONResponse({"object": "list", "data": data})

    async def uploads(request: Request, ex: Exchange) -> JSONResponse:
        service = emulator.uploads
        now = emulator.clock.now()
        data = [
            {
                **api.openai.upload_object(u, now),
                "mime_type": u.mime_type,
                "parts": len(u.parts),
                "held_bytes": u.held,
                "file_id": u.file_id,
                "account": account_id(u.account),
                "key": key_hint(u.account),
            }
            for u in service.all_uploads()
        ]
        return JSONResponse({"object": "list", "data": data})

    async def batches(request: Request, ex: Exchange) -> JSONResponse:
        """Every account's batches, oldest first, each with its account masked as files are."""
        data = [
            {**api.openai.batch_object(batch), "account": account_id(batch.account), "key": key_hint(batch.account)}
            for batch in emulator.batches.everyone()
        ]
        return JSONResponse({"object": "list", "data": data})

    async def vector_stores(request: Request, ex: Exchange) -> JSONResponse:
        """Every account's vector stores, oldest first, each with its files and their statuses."""
        data = [
            {
                **shown,
                "description": store.description,
                "account": account_id(store.account),
                "key": key_hint(store.account),
                "files": files,
            }
            for store, shown, files in await asyncio.to_thread(emulator.vector_stores.everyone)
        ]
        return JSONResponse({"object": "list", "data": data})

    async def models(request: Request, ex: Exchange) -> JSONResponse:
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
            for account, model in emulator.models.everyone()
        ]
        return JSONResponse({"object": "list", "data": data})

    async def fine_tuning(request: Request, ex: Exchange) -> JSONResponse:
        """Every account's fine-tuning jobs, oldest first, each with its account masked as files are."""
        data = [
            {**job, "account": account_id(account), "key": key_hint(account)}
            for account, job in emulator.fine_tuning.everyone()
        ]
        return JSONResponse({"object": "list", "data": data})

    async def fine_tuning_events(request: Request, ex: Exchange) -> JSONResponse:
        """A job's newest events (at most ``limit``, 1-1000, default 200), whatever its account."""
        limit = parse_int(request.query_params.get("limit", "200"), "limit")
        check_range(limit, "limit", 1, 1000)
        account, page = emulator.fine_tuning.event_log(request.path_params["job_id"], limit)
        return JSONResponse({**page, "account": account_id(account), "key": key_hint(account)})

    async def scenario(request: Request, ex: Exchange) -> JSONResponse:
        if request.method == "PUT":
            raw = await bounded_body(request, MAX_SCENARIO_BYTES, "scenario")
            text = raw.decode("utf-8", errors="replace")
            try:
                parsed = await asyncio.to_thread(scenario_from_text, text, SCENARIO_SOURCE)
            except ScenarioError as exc:
                raise InvalidRequest("scenario_refused", param="scenario", detail=every_problem(exc)) from None
            emulator.use_scenario(parsed)
        elif request.method == "DELETE":
            emulator.use_scenario(None)
        active = emulator.scenario
        answer = {"source": active.source, "scenario": active.document, "ignored": emulator.ignored}
        if request.method == "GET":  # as text to edit; in a thread, as the parse: 50,000 rules take seconds
            answer["yaml"] = await asyncio.to_thread(scenario_yaml, active.document)
        return JSONResponse(answer)

    async def scenario_check(request: Request, ex: Exchange) -> JSONResponse:
        raw = await bounded_body(request, MAX_SCENARIO_BYTES, "scenario")
        try:
            await asyncio.to_thread(scenario_from_text, raw.decode("utf-8", errors="replace"), SCENARIO_SOURCE)
        except ScenarioError as exc:
            raise InvalidRequest("scenario_refused", param="scenario", detail=every_problem(exc)) from None
        return JSONResponse({"valid": True})

    def stored(file_id: str) -> StoredFile:
        for f in emulator.files.all_files():
            if f.id == file_id:
                return f
        raise NotFound("no_such_file", param="id", id=file_id)

    async def file_content(request: Request, ex: Exchange) -> ContentResponse:
        f = emulator.files.get(stored(request.path_params["file_id"]).account, request.path_params["file_id"])
        return ContentResponse(f.chunks, f.size)

    async def file_delete(request: Request, ex: Exchange) -> JSONResponse:
        f = emulator.files.delete(stored(request.path_params["file_id"]).account, request.path_params["file_id"])
        return JSONResponse({"id": f.id, "object": "file", "deleted": True})

    async def openapi(request: Request, ex: Exchange) -> JSONResponse:
        return JSONResponse(openapi_document())

    def guarded(endpoint: Handler) -> Handler:
        async def check_token(request: Request, ex: Exchange) -> Response:
            require_admin_token(emulator, request)
            return await endpoint(request, ex)

        return check_token

    return [
        route(PREFIX + "/health", GET=guarded(health)),
        route(PREFIX + "/reset", POST=guarded(reset)),
        route(PREFIX + "/clock", GET=guarded(clock), POST=guarded(clock)),
        route(PREFIX + "/requests", GET=guarded(requests)),
        # the views of every account's state wait for every account's work due (scheduler.py)
        route(PREFIX + "/files", GET=Operation(guarded(files), everyone=True)),
        route(PREFIX + "/uploads", GET=Operation(guarded(uploads), everyone=True)),
        route(PREFIX + "/batches", GET=Operation(guarded(batches), everyone=True)),
        route(PREFIX + "/models", GET=guarded(models)),
        route(PREFIX + "/vector-stores", GET=guarded(vector_stores)),
        route(PREFIX + "/fine-tuning", GET=guarded(fine_tuning)),
        route(PREFIX + "/fine-tuning/{job_id}/events", GET=guarded(fine_tuning_events)),
        route(PREFIX + "/scenario", GET=guarded(scenario), PUT=guarded(scenario), DELETE=guarded(scenario)),
        route(PREFIX + "/openapi.json", GET=guarded(openapi)),
        route(PREFIX + "/scenario/check", POST=guarded(scenario_check)),
        route(PREFIX + "/files/{file_id}/content", GET=guarded(file_content)),
        route(PREFIX + "/files/{file_id}", DELETE=guarded(file_delete)),
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


async def json_body(request: Request) -> dict[str, Any]:
    raw = await bounded_body(request, MAX_JSON_BYTES, "body")
    try:
        body = json_body_value(raw or b"{}", constants=True)
    except NotJson:
        raise InvalidRequest("body_not_object") from None
    if not isinstance(body, dict):
        raise InvalidRequest("body_not_object")
    return body
