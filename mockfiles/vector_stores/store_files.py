"""The files in a vector store and their batches: attach, list, retrieve, update attributes, detach,
read their chunks; file batches made, retrieved, cancelled and listed. On the state of
``service.VectorStores``; knows nothing about HTTP.

Attaching a file the store already holds answers it as it is (a retried attach does no harm), unless
it failed or was cancelled: then it is ingested again. A batch's files are the ones it named that
are still in the store; it is ``in_progress`` while one of them is, then ``cancelled`` if it was
cancelled, ``failed`` if every one failed, else ``completed``. Cancelling stops the ones still in
progress (``cancelled``), and a cancelled batch answers its cancel again; a finished one is a 400.
"""

from __future__ import annotations

from typing import Any

from mockfiles.core import ids
from mockfiles.core.errors import InvalidRequest, NotFound
from mockfiles.vector_stores import params
from mockfiles.vector_stores.ingest import text_of
from mockfiles.vector_stores.model import FileBatch, StoreFile, VectorStore
from mockfiles.vector_stores.params import Attach, Paging, page_of
from mockfiles.vector_stores.requests import AttachFile, CreateFileBatch, UpdateFile
from mockfiles.vector_stores.service import VectorStores, listing


class StoreFiles:
    def __init__(self, service: VectorStores) -> None:
        self.service = service

    # --- files --------------------------------------------------------------------------

    def attach(self, account: str, vector_store_id: str, request: AttachFile) -> dict[str, Any]:
        """``POST /vector_stores/{id}/files``: the file, ``in_progress`` (or as the store holds it)."""
        return self._attach(account, vector_store_id, [request.file], batch=False)

    def page(self, account: str, vector_store_id: str, paging: Paging) -> dict[str, Any]:
        service = self.service
        with service.at_now() as now:
            store = service.store(account, vector_store_id)
            return self._listing(store, list(store.files), paging, now)

    def retrieve(self, account: str, vector_store_id: str, file_id: str) -> tuple[dict[str, Any], float | None]:
        """The store file, and how long a poller should wait (None when it is done)."""
        with self.service.at_now() as now:
            f = self._file(account, vector_store_id, file_id)
            return f.as_dict(now), self.service.poll_after(f.ready_at, now) if f.status(now) == "in_progress" else None

    def update(self, account: str, vector_store_id: str, file_id: str, request: UpdateFile) -> dict[str, Any]:
        """New attributes for a store file."""
        service = self.service
        with service.at_now() as now:
            store = service.writable(account, vector_store_id, now)
            f = self._file(account, vector_store_id, file_id)
            service.count_write(store)
            f.attributes = request.attributes
            service.mark_file(store, f)
            service.touch(store, now)
            return f.as_dict(now)

    def detach(self, account: str, vector_store_id: str, file_id: str) -> dict[str, Any]:
        """The file leaves the store; the File stays."""
        service = self.service
        with service.at_now():
            store = service.store(account, vector_store_id)
            f = self._file(account, vector_store_id, file_id)
            service.count_write(store)
            service.leave(store, f)
        return {"id": f.file_id, "object": "vector_store.file.deleted", "deleted": True}

    def content(self, account: str, vector_store_id: str, file_id: str) -> dict[str, Any]:
        """The file's chunks as parsed: their texts once it is completed, none before."""
        with self.service.at_now() as now:
            f = self._file(account, vector_store_id, file_id)
            completed = f.status(now) == "completed"
        texts = f.ingestion.spans.texts(text_of(f.stored)) if completed else []
        data = [{"type": "text", "text": t} for t in texts]
        return {"object": "vector_store.file_content.page", "data": data, "has_more": False, "next_page": None}

    # --- file batches --------------------------------------------------------------------

    def create_batch(self, account: str, vector_store_id: str, request: CreateFileBatch) -> dict[str, Any]:
        return self._attach(account, vector_store_id, list(request.files), batch=True)

    def retrieve_batch(self, account: str, vector_store_id: str, batch_id: str) -> tuple[dict[str, Any], float | None]:
        with self.service.at_now() as now:
            store, batch = self._batch(account, vector_store_id, batch_id)
            members = self._members(store, batch)
            shown = batch.as_dict(members, now)
            pending = [f.ready_at for f in members if f.status(now) == "in_progress"]
            return shown, self.service.poll_after(min(pending), now) if pending else None

    def cancel_batch(self, account: str, vector_store_id: str, batch_id: str) -> dict[str, Any]:
        service = self.service
        with service.at_now() as now:
            store, batch = self._batch(account, vector_store_id, batch_id)
            members = self._members(store, batch)
            shown = batch.as_dict(members, now)
            if batch.cancelled_at is not None:
                return shown
            if shown["status"] != "in_progress":
                raise InvalidRequest("vector_store_batch_not_cancellable", status=shown["status"])
            service.count_write(store)
            batch.cancelled_at = now
            service.mark_batch(store, batch)
            for f in members:
                if f.status(now) == "in_progress":
                    f.cancelled_at = now
                    service.mark_file(store, f)
            return batch.as_dict(members, now)

    def batch_files(self, account: str, vector_store_id: str, batch_id: str, paging: Paging) -> dict[str, Any]:
        with self.service.at_now() as now:
            store, batch = self._batch(account, vector_store_id, batch_id)
            named = [f.file_id for f in self._members(store, batch)]
            return self._listing(store, named, paging, now)

    # --- helpers -------------------------------------------------------------------------

    def _attach(self, account: str, vector_store_id: str, items: list[Attach], *, batch: bool) -> dict[str, Any]:
        """Attach files (as one file, or as a batch): checked, read without the lock, then joined."""
        service = self.service
        unique = list({item.file_id: item for item in reversed(items)}.values())[::-1]  # the first of each id
        with service.at_now() as now:
            store = service.writable(account, vector_store_id, now)
            service.count_write(store)
            found = service.check_files(account, unique)
            name = store.name
        planned = service.plan(found, name, store)
        with service.at_now() as now:
            store = service.writable(account, vector_store_id, now)
            joined = service.commit(store, planned, now)
            if not batch:
                return joined[0].as_dict(now)
            made = FileBatch(self._new_batch_id(store), store.id, int(now), [f.file_id for f in joined])
            store.batches[made.id] = made
            service.mark_batch(store, made)
            return made.as_dict(self._members(store, made), now)

    def _listing(self, store: VectorStore, named: list[str], paging: Paging, now: float) -> dict[str, Any]:
        def keep(file_id: str) -> bool:
            return paging.status is None or store.files[file_id].status(now) == paging.status

        found, more = page_of(named, paging, "file", keep)
        return listing([store.files[i].as_dict(now) for i in found], more)

    def _file(self, account: str, vector_store_id: str, file_id: str) -> StoreFile:
        store = self.service.store(account, vector_store_id)
        f = store.files.get(file_id)
        if f is None:
            raise NotFound("no_such_vector_store_file", file_id=file_id, vector_store_id=vector_store_id)
        return f

    def _batch(self, account: str, vector_store_id: str, batch_id: str) -> tuple[VectorStore, FileBatch]:
        params.batch_id(batch_id)
        store = self.service.store(account, vector_store_id)
        batch = store.batches.get(batch_id)
        if batch is None:
            raise NotFound("no_such_vector_store_file_batch", batch_id=batch_id, vector_store_id=vector_store_id)
        return store, batch

    @staticmethod
    def _members(store: VectorStore, batch: FileBatch) -> list[StoreFile]:
        return [store.files[i] for i in batch.file_ids if i in store.files]

    def _new_batch_id(self, store: VectorStore) -> str:
        while True:
            candidate = params.BATCH_PREFIX + ids.random_token(self.service.files.rng, ids.HEX, 32)
            if candidate not in store.batches:
                return candidate
