"""The Batches routes, served for every dialect that speaks OpenAI's shapes (OpenAI's ``/v1``,
DashScope's ``/compatible-mode/v1``): the Batches service (batches.py) does the work, the
dialect only decides how objects and errors look on the wire.

A batch's create reads its whole input file (validation: about 0.3 s for 50,000 requests): a
small input is validated at once, a larger one by the emulator's scheduler (scheduler.py), in
slices, while the event loop serves other clients. Ended batches' results are the scheduler's due
work: no handler writes them.
"""

from __future__ import annotations

from starlette.requests import Request

from mockfiles.batches.params import CreateRequest
from mockfiles.batches.service import Batches
from mockfiles.core.registry import Endpoint
from mockfiles.core.scheduler import Scheduler
from mockfiles.web.api import Api
from mockfiles.web.dialects.openai import OpenAIDialect
from mockfiles.web.exchange import Exchange
from mockfiles.web.json_body import JsonBody
from mockfiles.web.params import query_of
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Handler

BODY = JsonBody(64 * 1024)  # a create's body: ids, the endpoint and at most 16 x (64 + 512) chars of metadata
INLINE_BYTES = 64 * 1024  # an input this small is validated on the event loop (under a millisecond)


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
        body = await BODY.read(request, ex.record)
        given = body.get("input_file_id")  # journaled, even when the create is refused
        ex.record.details.update(batch_id=None, input_file_id=given if isinstance(given, str) else None)
        # as OpenAI, and as /v1/uploads: an unknown field is a 400 (DashScope ignores it)
        create = CreateRequest.parse(body, self.batches.files.profile.batches, strict=self.dialect.strict_bodies)
        await ex.drop_if_stale()  # not into a store reset meanwhile
        key = ex.record.key or ""
        job, size = self.batches.creating(key, create, dialect=self.dialect.name)
        # validation reads the whole input file: a large one in the account's turns on the scheduler
        batch = Scheduler.run(job) if size <= INLINE_BYTES else await self.api.work(ex, key, job)
        ex.record.details["batch_id"] = batch.id
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
