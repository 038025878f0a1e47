"""How the Vector Stores service joins a data directory (persistence/): stores, store files and file
batches, each a record of its own (a store's record holds neither its files nor its batches).

A store file is kept without its File, which is the Files store's record: ``restore`` links it again
to the ``StoredFile`` the Files store restored (the cascade compares them with ``is``). A store file
whose File is gone and that leaves its store later (``cascade_lag``) keeps a copy of the File
instead (the same bytes, the same blob), since its text is still searched until it leaves. The
search index is not kept: every restored file is indexed again, from its File's text, when its
store is first searched (the ranks are those of before: they rest on the files' sequence numbers,
which are kept). The write limit's recent writes are not kept (they are on the rate limits' clock).
"""

from __future__ import annotations

import heapq
from dataclasses import replace
from typing import Any, cast

from mockfiles.files.store import FILE_KINDS, StoredFile
from mockfiles.persistence.changes import Changes, Kind, Loaded
from mockfiles.scenarios.vector_stores import Failure
from mockfiles.vector_stores.chunks import Chunking, Spans
from mockfiles.vector_stores.model import (
    BATCH_KIND,
    FILE_KIND,
    STORE_KIND,
    FileBatch,
    Ingestion,
    StoreFile,
    VectorStore,
)
from mockfiles.vector_stores.service import VectorStores

_FILE_FORM = FILE_KINDS[0].dump  # a File as the Files store keeps it (without its caches)


def _stored_store(store: VectorStore) -> VectorStore:
    """A store as a data directory keeps it: its files and batches are records of their own."""
    return replace(store, files={}, batches={}, writes=[])


def _stored_file(f: StoreFile) -> StoreFile:
    """A store file as a data directory keeps it: not indexed, and its File left to the Files store
    (None, linked again by ``restore``) unless the File is gone and the store file still stays."""
    kept = _FILE_FORM(f.stored) if f.leaves_at is not None else None
    return replace(f, stored=cast(StoredFile, kept), indexed=False)


FILE_CLASSES = (StoreFile, Ingestion, Failure, Chunking, Spans, StoredFile)  # a leaving one holds its File


class SavedVectorStores:
    kinds: tuple[Kind, ...] = (
        Kind(STORE_KIND, (VectorStore,), _stored_store),
        Kind(FILE_KIND, FILE_CLASSES, _stored_file),
        Kind(BATCH_KIND, (FileBatch,)),
    )

    def __init__(self, vector_stores: VectorStores) -> None:
        self.vector_stores = vector_stores

    def track(self, changes: Changes) -> None:
        self.vector_stores.changes = changes

    def counters(self) -> dict[str, Any]:
        return {"seq": self.vector_stores._seq}

    def restore(self, loaded: Loaded, counters: dict[str, Any]) -> None:
        """Back to the stores, their files and batches a data directory holds (after the Files:
        each store file is linked to its File again). Files that expired while the server was
        stopped leave their stores at the next request, as their cascade would have had them."""
        service = self.vector_stores
        stores = service._stores
        for _, _, store in sorted(loaded[STORE_KIND], key=lambda row: row[2].seq):
            stores[store.id] = store
            service._order.setdefault(store.account, []).append(store.id)
        for _, _, f in sorted(loaded[FILE_KIND], key=lambda row: row[2].seq):
            store = stores.get(f.vector_store_id)
            stored = f.stored if f.stored is not None else service.files.store.find(f.file_id)
            if store is None or stored is None:
                continue  # not written apart from its store or its File (never: one transaction)
            f.stored = stored
            store.files[f.file_id] = f
            service.by_seq[f.seq] = f
            service._holders.setdefault(f.file_id, set()).add(store.id)
            if f.leaves_at is not None:
                heapq.heappush(service._leaving, (f.leaves_at, f.seq, store.id, f.file_id))
        for _, _, batch in sorted(loaded[BATCH_KIND], key=lambda row: (row[2].created_at, row[2].id)):
            store = stores.get(batch.vector_store_id)
            if store is not None:
                store.batches[batch.id] = batch
        service._seq = counters["seq"]
