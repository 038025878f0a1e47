"""The Vector Stores routes, at OpenAI's ``/v1`` only (DashScope's compatible mode has none: its
paths answer 404 there): stores, their files, file batches and search. The service
(``mockfiles/vector_stores``) does the work and shapes OpenAI's objects; this module reads requests
and notes what the journal shows (``vector_store_id``, ``file_id``, ``batch_id``).

Attaching files reads their text, and indexing them for search (started as soon as they are
attached, finished by a search that comes first) is slow for many or large files (bench/README.md):
both run in worker threads, as does a store's deletion (its index is dropped), so that the event
loop keeps serving other clients. A
retrieve of a file or a batch still in progress carries ``openai-poll-after-ms``, which the SDKs'
polling helpers wait for (docs/vector_stores.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from mockfiles.core.registry import Endpoint
from mockfiles.vector_stores import params
from mockfiles.vector_stores.query import Search
from mockfiles.vector_stores.requests import AttachFile, CreateFileBatch, CreateStore, UpdateFile, UpdateStore
from mockfiles.vector_stores.search import Searching
from mockfiles.vector_stores.service import VectorStores
from mockfiles.vector_stores.store_files import StoreFiles
from mockfiles.web.api import Api
from mockfiles.web.dialects.openai import OpenAIDialect
from mockfiles.web.exchange import Exchange
from mockfiles.web.json_body import JsonBody
from mockfiles.web.params import query_of
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Handler

log = logging.getLogger("mockfiles")
BODY = JsonBody(1024 * 1024)  # a store's create (500 ids), a search, attributes
BATCH_BODY = JsonBody(16 * 1024 * 1024)  # a file batch: 2,000 files, each with its attributes


def handlers(api: Api, dialect: OpenAIDialect) -> dict[Endpoint, Handler]:
    return VectorStoresAPI(api).handlers()


class VectorStoresAPI:
    def __init__(self, api: Api) -> None:
        self.api = api

    @property
    def service(self) -> VectorStores:
        return self.api.emulator.vector_stores  # a reset makes a new one

    def handlers(self) -> dict[Endpoint, Handler]:
        return {
            Endpoint.VECTOR_STORES_CREATE: self.create,
            Endpoint.VECTOR_STORES_LIST: self.list,
            Endpoint.VECTOR_STORES_RETRIEVE: self.retrieve,
            Endpoint.VECTOR_STORES_UPDATE: self.update,
            Endpoint.VECTOR_STORES_DELETE: self.delete,
            Endpoint.VECTOR_STORES_SEARCH: self.search,
            Endpoint.VECTOR_STORES_FILES_CREATE: self.attach,
            Endpoint.VECTOR_STORES_FILES_LIST: self.files,
            Endpoint.VECTOR_STORES_FILES_RETRIEVE: self.file,
            Endpoint.VECTOR_STORES_FILES_UPDATE: self.update_file,
            Endpoint.VECTOR_STORES_FILES_DELETE: self.detach,
            Endpoint.VECTOR_STORES_FILES_CONTENT: self.content,
            Endpoint.VECTOR_STORES_FILE_BATCHES_CREATE: self.create_batch,
            Endpoint.VECTOR_STORES_FILE_BATCHES_RETRIEVE: self.batch,
            Endpoint.VECTOR_STORES_FILE_BATCHES_CANCEL: self.cancel_batch,
            Endpoint.VECTOR_STORES_FILE_BATCHES_LIST_FILES: self.batch_files,
        }

    # --- stores -----------------------------------------------------------------------

    async def create(self, request: Request, ex: Exchange) -> JSONResponse:
        body = await BODY.read(request, ex.record)
        given = body.get("file_ids")
        ex.record.details.update(vector_store_id=None, file_ids=len(given) if isinstance(given, list) else None)
        create = CreateStore.parse(body)
        store = await self._in_thread(ex, self.service.create, account(ex), create)
        ex.record.details["vector_store_id"] = store["id"]
        if store["file_counts"]["total"]:
            self._index_soon(store["id"])
        return JSONResponse(store)

    async def list(self, request: Request, ex: Exchange) -> JSONResponse:
        return JSONResponse(self.service.page(account(ex), params.paging(query_of(request))))

    async def retrieve(self, request: Request, ex: Exchange) -> JSONResponse:
        return JSONResponse(self.service.retrieve(account(ex), store_of(request, ex)))

    async def update(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id = store_of(request, ex)
        update = UpdateStore.parse(await BODY.read(request, ex.record))
        return JSONResponse(self.service.update(account(ex), store_id, update))

    async def delete(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id = store_of(request, ex)
        return JSONResponse(await self._in_thread(ex, self.service.delete, account(ex), store_id))

    async def search(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id = store_of(request, ex)
        search = Search.parse(await BODY.read(request, ex.record))
        page = await self._in_thread(ex, Searching(self.service).search_page, account(ex), store_id, search)
        ex.record.details["results"] = len(page["data"])
        return JSONResponse(page)

    # --- files ------------------------------------------------------------------------

    async def attach(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id = store_of(request, ex)
        body = await BODY.read(request, ex.record)
        given = body.get("file_id")
        ex.record.details["file_id"] = given if isinstance(given, str) else None
        attach = AttachFile.parse(body)
        attached = await self._in_thread(ex, StoreFiles(self.service).attach, account(ex), store_id, attach)
        self._index_soon(store_id)
        return JSONResponse(attached)

    async def files(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id = store_of(request, ex)
        paging = params.paging(query_of(request), with_filter=True)
        return JSONResponse(StoreFiles(self.service).page(account(ex), store_id, paging))

    async def file(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id, file_id = store_of(request, ex), file_of(request, ex)
        shown, wait = StoreFiles(self.service).retrieve(account(ex), store_id, file_id)
        return JSONResponse(shown, headers=poll_header(wait))

    async def update_file(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id, file_id = store_of(request, ex), file_of(request, ex)
        update = UpdateFile.parse(await BODY.read(request, ex.record))
        return JSONResponse(StoreFiles(self.service).update(account(ex), store_id, file_id, update))

    async def detach(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id, file_id = store_of(request, ex), file_of(request, ex)
        return JSONResponse(StoreFiles(self.service).detach(account(ex), store_id, file_id))

    async def content(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id, file_id = store_of(request, ex), file_of(request, ex)
        return JSONResponse(await self._in_thread(ex, StoreFiles(self.service).content, account(ex), store_id, file_id))

    # --- file batches -----------------------------------------------------------------

    async def create_batch(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id = store_of(request, ex)
        body = await BATCH_BODY.read(request, ex.record)
        ex.record.details["batch_id"] = None
        # up to 2,000 files with their attributes: checked in the worker thread too
        files, key = StoreFiles(self.service), account(ex)
        batch = await self._in_thread(ex, lambda: files.create_batch(key, store_id, CreateFileBatch.parse(body)))
        ex.record.details["batch_id"] = batch["id"]
        self._index_soon(store_id)
        return JSONResponse(batch)

    async def batch(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id, batch_id = store_of(request, ex), batch_of(request, ex)
        shown, wait = StoreFiles(self.service).retrieve_batch(account(ex), store_id, batch_id)
        return JSONResponse(shown, headers=poll_header(wait))

    async def cancel_batch(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id, batch_id = store_of(request, ex), batch_of(request, ex)
        return JSONResponse(StoreFiles(self.service).cancel_batch(account(ex), store_id, batch_id))

    async def batch_files(self, request: Request, ex: Exchange) -> JSONResponse:
        store_id, batch_id = store_of(request, ex), batch_of(request, ex)
        paging = params.paging(query_of(request), with_filter=True)
        return JSONResponse(StoreFiles(self.service).batch_files(account(ex), store_id, batch_id, paging))

    def _index_soon(self, store_id: str) -> None:
        """The store's new files indexed in a worker thread, ahead of its searches."""
        indexing = asyncio.get_running_loop().run_in_executor(None, Searching(self.service).index_store, store_id)
        indexing.add_done_callback(_report)

    async def _in_thread(self, ex: Exchange, work: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        """``work`` in a worker thread, unless the emulator was reset since the request arrived."""
        await ex.drop_if_stale()
        return await asyncio.to_thread(work, *args)


def _report(indexing: asyncio.Future[None]) -> None:
    if not indexing.cancelled() and indexing.exception() is not None:
        log.error("mockfiles: indexing a vector store failed", exc_info=indexing.exception())


def account(ex: Exchange) -> str:
    return ex.record.key or ""


def store_of(request: Request, ex: Exchange) -> str:
    store_id: str = request.path_params["vector_store_id"]
    ex.record.details["vector_store_id"] = store_id
    return store_id


def file_of(request: Request, ex: Exchange) -> str:
    file_id: str = request.path_params["file_id"]
    ex.record.details["file_id"] = file_id
    return file_id


def batch_of(request: Request, ex: Exchange) -> str:
    batch_id: str = request.path_params["batch_id"]
    ex.record.details["batch_id"] = batch_id
    return batch_id


def poll_header(wait: float | None) -> dict[str, str] | None:
    """``openai-poll-after-ms`` while the file or batch is in progress."""
    return None if wait is None else {"openai-poll-after-ms": str(max(1, round(wait * 1000)))}
