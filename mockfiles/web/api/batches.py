"""The Batches routes, served for every dialect that speaks OpenAI's shapes (OpenAI's ``/v1``,
DashScope's ``/compatible-mode/v1``): the Batches service (batches.py) does the work, the
dialect only decides how objects and errors look on the wire.

A batch's create reads its whole input file (validation: about 0.3 s for 50,000 requests), so it
runs in a worker thread; so does the writing of ended batches' results (``write_due_results``, which
the application awaits before every request that could read them): the event loop keeps serving
other clients meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mockfiles.batches.params import CREATE_FIELDS
from mockfiles.batches.service import Batches
from mockfiles.batches.store import StoredBatch
from mockfiles.core.errors import InvalidRequest, UnknownParameter
from mockfiles.core.record import Record
from mockfiles.core.registry import Endpoint
from mockfiles.web.api import Api
from mockfiles.web.dialects.openai import OpenAIDialect
from mockfiles.web.exchange import Exchange
from mockfiles.web.json_body import NotJson
from mockfiles.web.json_body import loads as json_body_value
from mockfiles.web.params import bounded_body, query_of
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Handler

log = logging.getLogger("mockfiles")
MAX_BODY_BYTES = 64 * 1024  # a create's body: ids, the endpoint and at most 16 x (64 + 512) chars of metadata


def handlers(api: Api, dialect: OpenAIDialect) -> dict[Endpoint, Handler]:
    return BatchesAPI(api, dialect).handlers()


class BatchesAPI:
    def __init__(self, api: Api, dialect: OpenAIDialect) -> None:
        self.api = api
        self.dialect = dialect

    @property
    def batches(self) -> Batches:
        return self.api.emulator.batches  # a reset makes a new one

    def handlers(self) -> dict[Endpoint, Handler]:
        return {
            Endpoint.BATCHES_CREATE: self.create,
            Endpoint.BATCHES_LIST: self.list,
            Endpoint.BATCHES_RETRIEVE: self.retrieve,
            Endpoint.BATCHES_CANCEL: self.cancel,
        }

    async def create(self, request: Request, ex: Exchange) -> JSONResponse:
        body = await json_body(request, record=ex.record)
        if self.dialect.strict_bodies:  # as OpenAI, and as /v1/uploads: an unknown field is a 400
            unknown = next((name for name in body if name not in CREATE_FIELDS), None)
            if unknown is not None:
                raise UnknownParameter(unknown)
        make = functools.partial(
            self.batches.create,
            ex.record.key or "",
            input_file_id=body.get("input_file_id"),
            endpoint=body.get("endpoint"),
            completion_window=body.get("completion_window"),
            metadata=body.get("metadata"),
            output_expires_after=body.get("output_expires_after"),
            dialect=self.dialect.name,
        )
        given = body.get("input_file_id")
        ex.record.details.update(batch_id=None, input_file_id=given if isinstance(given, str) else None)
        await ex.drop_if_stale()  # not into a store reset meanwhile
        batch = await run_in_threadpool(make)  # validation reads the whole input file
        ex.record.details["batch_id"] = batch["id"]
        return JSONResponse(self.dialect.batch_object(batch))

    async def list(self, request: Request, ex: Exchange) -> JSONResponse:
        query = query_of(request)
        where = self.dialect.batch_filters(query)
        page = self.batches.page(
            ex.record.key or "", limit=query.get("limit"), after=query.get("after") or None, where=where
        )
        return JSONResponse(self.dialect.batch_list_object(page))

    async def retrieve(self, request: Request, ex: Exchange) -> JSONResponse:
        batch_id = ex.record.details["batch_id"] = request.path_params["batch_id"]
        return JSONResponse(self.dialect.batch_object(self.batches.get(ex.record.key or "", batch_id)))

    async def cancel(self, request: Request, ex: Exchange) -> JSONResponse:
        batch_id = ex.record.details["batch_id"] = request.path_params["batch_id"]
        return JSONResponse(self.dialect.batch_object(self.batches.cancel(ex.record.key or "", batch_id)))


def _nothing() -> None:
    pass


def _write(batches: Batches, claimed: list[StoredBatch], stored: Callable[[], None]) -> None:
    batches.write_claimed(claimed)
    stored()


async def write_due_results(batches: Batches, account: str | None, stored: Callable[[], None] = _nothing) -> None:
    """Results of batches that have ended, written in a worker thread (docs/batches.md: about
    1.2 s for 50,000 requests) while the event loop serves other clients, then ``stored`` (a data
    directory's flush); a request of an account (None: of every account) whose results are being
    written waits for them, in a worker thread."""
    if batches.pending(batches.files.clock.now()):
        claimed = batches.claim()
        if claimed:
            writing = asyncio.get_running_loop().run_in_executor(None, _write, batches, claimed, stored)
            writing.add_done_callback(_report)
    if batches.owes(account):
        await run_in_threadpool(batches.wait_for, account)


def _report(writing: asyncio.Future[None]) -> None:
    if not writing.cancelled() and writing.exception() is not None:
        log.error("mockfiles: writing batch results failed", exc_info=writing.exception())


async def json_body(request: Request, limit: int = MAX_BODY_BYTES, record: Record | None = None) -> dict[str, object]:
    """A request's JSON object of at most ``limit`` bytes (no body is ``{}``): every JSON route of the
    OpenAI-shaped APIs reads its body so, and the journal keeps it (``record``)."""
    raw = await bounded_body(request, limit, "body")
    if record is not None:
        record.keep_body(raw)
    try:
        body = json_body_value(raw or b"{}")
    except NotJson:
        raise InvalidRequest("body_not_object") from None
    if not isinstance(body, dict):
        raise InvalidRequest("body_not_object")
    return body
