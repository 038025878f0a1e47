"""The Fine-tuning routes, at OpenAI's ``/v1`` only (DashScope's compatible mode has no
Fine-tuning API: its paths are 404s): the Fine-tuning service (fine_tuning/service.py) does the
work; these read the parameters and journal the job's id.

A job's create reads its training and validation files (bench/README.md: the time 100,000 examples
take) and builds its metrics file, so it runs in a worker thread: the event loop keeps serving
other clients.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from mockfiles.core.registry import Endpoint
from mockfiles.fine_tuning.params import CreateJob, metadata_filter
from mockfiles.fine_tuning.service import FineTuning
from mockfiles.web.api import Api
from mockfiles.web.dialects.openai import OpenAIDialect
from mockfiles.web.exchange import Exchange
from mockfiles.web.json_body import JsonBody
from mockfiles.web.params import query_of
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Handler

# a create's body: ids, metadata, and a reinforcement grader's source (unknown fields are refused)
BODY = JsonBody(1024 * 1024, keep=False)


def handlers(api: Api, dialect: OpenAIDialect) -> dict[Endpoint, Handler]:
    return FineTuningAPI(api).handlers()


class FineTuningAPI:
    def __init__(self, api: Api) -> None:
        self.api = api

    @property
    def service(self) -> FineTuning:
        return self.api.emulator.fine_tuning  # a reset makes a new one

    def handlers(self) -> dict[Endpoint, Handler]:
        return {
            Endpoint.FINE_TUNING_CREATE: self.create,
            Endpoint.FINE_TUNING_LIST: self.list,
            Endpoint.FINE_TUNING_RETRIEVE: self.retrieve,
            Endpoint.FINE_TUNING_CANCEL: self.cancel,
            Endpoint.FINE_TUNING_PAUSE: self.pause,
            Endpoint.FINE_TUNING_RESUME: self.resume,
            Endpoint.FINE_TUNING_EVENTS: self.events,
            Endpoint.FINE_TUNING_CHECKPOINTS: self.checkpoints,
            Endpoint.MODELS_DELETE: self.delete_model,
        }

    async def create(self, request: Request, ex: Exchange) -> JSONResponse:
        body = await BODY.read(request, ex.record)
        given = body.get("training_file")
        ex.record.details.update(fine_tuning_job_id=None, training_file=given if isinstance(given, str) else None)
        create = CreateJob.parse(body)
        await ex.drop_if_stale()  # not into a store reset meanwhile
        job = await asyncio.to_thread(self.service.create, ex.record.key or "", create)
        ex.record.details["fine_tuning_job_id"] = job["id"]
        return JSONResponse(job)

    async def list(self, request: Request, ex: Exchange) -> JSONResponse:
        query = query_of(request)
        page = self.service.page(
            ex.record.key or "",
            limit=query.get("limit"),
            after=query.get("after") or None,
            metadata=metadata_filter(query),
        )
        return JSONResponse(page)

    def _job_id(self, request: Request, ex: Exchange) -> str:
        job_id: str = request.path_params["fine_tuning_job_id"]
        ex.record.details["fine_tuning_job_id"] = job_id
        return job_id

    async def retrieve(self, request: Request, ex: Exchange) -> JSONResponse:
        return JSONResponse(self.service.get(ex.record.key or "", self._job_id(request, ex)))

    async def cancel(self, request: Request, ex: Exchange) -> JSONResponse:
        return JSONResponse(self.service.cancel(ex.record.key or "", self._job_id(request, ex)))

    async def pause(self, request: Request, ex: Exchange) -> JSONResponse:
        return JSONResponse(self.service.pause(ex.record.key or "", self._job_id(request, ex)))

    async def resume(self, request: Request, ex: Exchange) -> JSONResponse:
        return JSONResponse(self.service.resume(ex.record.key or "", self._job_id(request, ex)))

    async def events(self, request: Request, ex: Exchange) -> JSONResponse:
        query = query_of(request)
        job_id = self._job_id(request, ex)
        page = self.service.events(
            ex.record.key or "", job_id, limit=query.get("limit"), after=query.get("after") or None
        )
        return JSONResponse(page)

    async def checkpoints(self, request: Request, ex: Exchange) -> JSONResponse:
        query = query_of(request)
        job_id = self._job_id(request, ex)
        after = query.get("after") or None
        page = self.service.checkpoints(ex.record.key or "", job_id, limit=query.get("limit"), after=after)
        return JSONResponse(page)

    async def delete_model(self, request: Request, ex: Exchange) -> JSONResponse:
        """``DELETE /v1/models/{model}``: one of the account's fine-tuned models (or checkpoints)."""
        name: str = request.path_params["model"]
        ex.record.details["model"] = name
        deleted = self.service.delete_model(ex.record.key or "", name)
        return JSONResponse({"id": deleted.id, "object": "model", "deleted": True})
