"""The Vector Stores service: every account's vector stores and the files in them, on the Files
service (same lock, clock and seeded ids). Knows nothing about HTTP.

Every file a store takes passes the one file-use check (``files/use.py``: another account's, deleted,
still processing or failed Files are refused; an extension file search does not read is a 400
``unsupported_file``), then is ingested on the emulator clock (``ingest.py``). A File that goes,
deleted or expired, leaves every store of its account (the *cascade*), ``cascade_lag`` later
(scenario): its counts, usage and search results go with it. Stores with ``expires_after`` expire
once idle that long (``VectorStore.touch`` on create, update, writes and searches).

This module holds the state and the stores themselves; ``store_files.py`` the files in a store and
their batches, ``search.py`` the search. Every refusal is worded in the error table.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from mockfiles.core import ids
from mockfiles.core.errors import InvalidRequest, RateLimited
from mockfiles.files.service import Files
from mockfiles.files.store import StoredFile
from mockfiles.files.use import Use, check_use
from mockfiles.persistence.changes import NO_CHANGES, Changes
from mockfiles.scenarios.vector_stores import VectorStoreSettings
from mockfiles.vector_stores import params
from mockfiles.vector_stores.index import SearchIndex
from mockfiles.vector_stores.ingest import duration, ingest
from mockfiles.vector_stores.model import (
    BATCH_KIND,
    FILE_KIND,
    STORE_KIND,
    FileBatch,
    Ingestion,
    StoreFile,
    VectorStore,
)
from mockfiles.vector_stores.params import Attach, Paging, no_such_store, page_of
from mockfiles.vector_stores.requests import CreateStore, UpdateStore
from mockfiles.vector_stores.text import SUPPORTED

DEFAULT_SEED = 0
POLL_MIN, POLL_MAX = 0.1, 1.0  # openai-poll-after-ms: the time left, within these (seconds)

# What a vector store accepts of a File: any purpose; a type file search reads.
STORE_FILE = Use(
    "file_id",
    extensions=frozenset(SUPPORTED),
    reasons={"missing": "no_such_file", "type": "vector_store_unsupported_file"},
)


class WritesLimited(RateLimited):
    """429: the store's writes (its files and file batches) reached the scenario's ``write_limit``."""

    def __init__(self, vector_store_id: str, limit: int, window: float, retry_after: float) -> None:
        super().__init__(retry_after=retry_after, limit=limit, kind="vector_store_writes")
        self.reason = "vector_store_writes_limited"
        per = "minute" if window == 60 else f"{window:g} seconds"
        self.fields.update(vector_store_id=vector_store_id, per=per)


@dataclass(frozen=True)
class Planned:
    """A file ready to join a store: the File, what the request said, how its ingestion ends."""

    item: Attach
    stored: StoredFile
    ingestion: Ingestion | None  # None: the store holds it already (in progress or completed)
    delay: float


class VectorStores:
    def __init__(self, files: Files, settings: VectorStoreSettings | None = None, seed: int | None = None) -> None:
        self.files = files
        self.settings = VectorStoreSettings()
        self.seed = DEFAULT_SEED
        self.configure(settings or VectorStoreSettings(), seed)
        self.index = SearchIndex()
        self._stores: dict[str, VectorStore] = {}
        self._order: dict[str, list[str]] = {}  # per account: its stores' ids, oldest first
        self._holders: dict[str, set[str]] = {}  # a File's id -> the stores that hold it
        self.by_seq: dict[int, StoreFile] = {}  # every store file, by its attach sequence number
        self._leaving: list[tuple[float, int, str, str]] = []  # (when, file seq, store id, file id): a heap
        self.unindex: dict[str, list[StoreFile]] = {}  # per store: indexed files that left it
        self._seq = 0
        self.changes: Changes = NO_CHANGES  # a data directory's marks (persistence/changes.py, saved.py)
        files.store.on_remove.append(self._file_removed)  # every read of the stores settles first (at_now)

    def configure(self, settings: VectorStoreSettings, seed: int | None) -> None:
        """The scenario's settings, for files attached from now on."""
        self.settings = settings
        self.seed = DEFAULT_SEED if seed is None else seed

    @contextmanager
    def at_now(self) -> Iterator[float]:
        """The Files lock held, and the emulator time with everything due by then done: Files expired
        and deleted leave their stores when their cascade is due."""
        with self.files.lock:
            now = self.files.now()
            self.files.store.expire(now)
            self.settle(now)
            yield now

    # --- stores -------------------------------------------------------------------------

    def create(self, account: str, request: CreateStore) -> dict[str, Any]:
        items = list(request.files)
        with self.files.lock:
            found = self.check_files(account, items)
        planned = self.plan(found, request.name, None)
        with self.at_now() as now:
            self.check_files(account, items)  # again: one deleted meanwhile refuses the store, not half of it
            self._seq += 1
            store = VectorStore(
                id=self._new_id("vs_"),
                account=account,
                seq=self._seq,
                created_at=int(now),
                name=request.name,
                description=request.description,
                metadata=request.metadata,
                expires_days=request.expires_days,
                last_active_at=now,
            )
            self._stores[store.id] = store
            self._order.setdefault(account, []).append(store.id)
            self.commit(store, planned, now)
            return store.as_dict(now)

    def retrieve(self, account: str, vector_store_id: str) -> dict[str, Any]:
        with self.at_now() as now:
            return self.store(account, vector_store_id).as_dict(now)

    def page(self, account: str, paging: Paging) -> dict[str, Any]:
        with self.at_now() as now:
            found, more = page_of(self._order.get(account, []), paging, "vector store")
            return listing([self._stores[i].as_dict(now) for i in found], more)

    def update(self, account: str, vector_store_id: str, request: UpdateStore) -> dict[str, Any]:
        with self.at_now() as now:
            store = self.writable(account, vector_store_id, now)
            if request.name is not None:
                store.name = request.name
            if request.metadata is not None:
                store.metadata = request.metadata
            if request.expires_given:
                store.expires_days = request.expires_days
            self.touch(store, now)
            return store.as_dict(now)

    def delete(self, account: str, vector_store_id: str) -> dict[str, Any]:
        """The store and its files go (the Files stay); its search index is dropped."""
        with self.at_now():
            store = self.store(account, vector_store_id)
            held = [f.seq for f in store.files.values()] + [f.seq for f in self.unindex.pop(store.id, [])]
            for f in list(store.files.values()):
                self.leave(store, f)
            for batch_id in store.batches:
                self.changes.drop(BATCH_KIND, record_id(store.id, batch_id))
            self.changes.drop(STORE_KIND, store.id)
            self.unindex.pop(store.id, None)
            del self._stores[store.id]
            self._order[account].remove(store.id)
        self.index.drop(store.seq, held)
        return {"id": store.id, "object": "vector_store.deleted", "deleted": True}

    def everyone(self) -> list[tuple[VectorStore, dict[str, Any], list[dict[str, Any]]]]:
        """Every account's stores, oldest first, each with its files (for the control routes)."""
        with self.at_now() as now:
            stores = sorted(self._stores.values(), key=lambda s: s.seq)
            return [(s, s.as_dict(now), [self.file_view(f, now) for f in s.files.values()]) for s in stores]

    def file_view(self, f: StoreFile, now: float) -> dict[str, Any]:
        """A store file as the control routes show it: with its File's name and when it leaves."""
        return {**f.as_dict(now), "filename": f.stored.filename, "leaves_at": f.leaves_at, "ready_at": f.ready_at}

    def __len__(self) -> int:
        return len(self._stores)

    # --- what the other modules use ------------------------------------------------------

    def store(self, account: str, vector_store_id: str) -> VectorStore:
        """The account's store (lock held); another account's is a missing one."""
        params.store_id(vector_store_id)
        store = self._stores.get(vector_store_id)
        if store is None or store.account != account:
            raise no_such_store(vector_store_id)
        return store

    def find(self, vector_store_id: str) -> VectorStore | None:
        """A store by id, whoever's (lock held)."""
        return self._stores.get(vector_store_id)

    def holds(self, store: VectorStore) -> bool:
        """Whether the store is still there (not deleted, no reset since; lock held)."""
        return self._stores.get(store.id) is store

    def writable(self, account: str, vector_store_id: str, now: float) -> VectorStore:
        """The store, if it has not expired (an expired one can be read and deleted, not used)."""
        store = self.store(account, vector_store_id)
        if store.expired(now):
            raise InvalidRequest("vector_store_expired", vector_store_id=store.id)
        return store

    def count_write(self, store: VectorStore) -> None:
        """A write to the store's files or file batches, against the scenario's ``write_limit``
        (per store, on the rate limits' clock: real time plus the advances)."""
        limit = self.settings.write_limit
        if limit is None:
            return
        window, at = self.settings.write_window, self.files.clock.pacing()
        store.writes = [t for t in store.writes if at - t < window]
        if len(store.writes) >= limit:
            raise WritesLimited(store.id, limit, window, store.writes[-limit] + window - at)
        store.writes.append(at)

    def check_files(self, account: str, items: list[Attach]) -> list[tuple[Attach, StoredFile]]:
        """Each file through the one file-use check, as its request named it (lock held)."""
        return [
            (item, check_use(self.files, account, item.file_id, replace(STORE_FILE, param=item.param)))
            for item in items
        ]

    def plan(self, found: list[tuple[Attach, StoredFile]], store_name: str, store: VectorStore | None) -> list[Planned]:
        """How each file's ingestion ends and how long it takes (the slow part: no lock held). A file
        the store holds in progress or completed is left as it is; a failed or cancelled one again."""
        planned = []
        for item, stored in found:
            held = store.files.get(item.file_id) if store is not None else None
            if held is not None and held.stored is stored and held.cancelled_at is None and not held.ingestion.failure:
                planned.append(Planned(item, stored, None, 0.0))
                continue
            rule = self.settings.rule_for(self.seed, stored.id, stored.filename, store_name, stored.purpose)
            planned.append(
                Planned(item, stored, ingest(stored, item.chunking, rule), duration(self.settings, stored, rule))
            )
        return planned

    def commit(self, store: VectorStore, planned: list[Planned], now: float) -> list[StoreFile]:
        """The planned files join the store (lock held); the store files, in the order planned. Each
        File is checked again first: one deleted while it was read is refused, and nothing joins."""
        self.check_files(store.account, [p.item for p in planned])
        out = []
        for p in planned:
            held = store.files.get(p.item.file_id)
            if p.ingestion is None and held is not None:
                out.append(held)
                continue
            if held is not None:
                self.leave(store, held)
            self._seq += 1
            f = StoreFile(
                file_id=p.stored.id,
                vector_store_id=store.id,
                created_at=int(now),
                seq=self._seq,
                stored=p.stored,
                attributes=p.item.attributes,
                chunking=p.item.chunking,
                ingestion=p.ingestion or ingest(p.stored, p.item.chunking, None),
                ready_at=now + p.delay,
            )
            store.files[f.file_id] = f
            self.by_seq[f.seq] = f
            self._holders.setdefault(f.file_id, set()).add(store.id)
            self.mark_file(store, f)
            out.append(f)
        self.touch(store, now)
        return out

    def leave(self, store: VectorStore, f: StoreFile) -> None:
        """A file leaves its store (detached, its File gone, the store deleted); lock held."""
        if store.files.get(f.file_id) is not f:
            return
        del store.files[f.file_id]
        self.changes.drop(FILE_KIND, record_id(store.id, f.file_id))
        self.by_seq.pop(f.seq, None)
        holders = self._holders.get(f.file_id)
        if holders is not None:
            holders.discard(store.id)
            if not holders:
                del self._holders[f.file_id]
        if f.indexed:
            self.unindex.setdefault(store.id, []).append(f)

    # --- a data directory's marks (saved.py): every change is made under the Files lock ----

    def touch(self, store: VectorStore, now: float) -> None:
        """The store was used (``VectorStore.touch``): its ``last_active_at`` is kept."""
        store.touch(now)
        self.changes.put(STORE_KIND, store.id, store.account, store)

    def mark_file(self, store: VectorStore, f: StoreFile) -> None:
        self.changes.put(FILE_KIND, record_id(store.id, f.file_id), store.account, f)

    def mark_batch(self, store: VectorStore, batch: FileBatch) -> None:
        self.changes.put(BATCH_KIND, record_id(store.id, batch.id), store.account, batch)

    def poll_after(self, ready_at: float, now: float) -> float | None:
        """Seconds a poller is told to wait (``openai-poll-after-ms``) while something is in
        progress: the scenario's ``poll_after``, else the time left, 100 ms to 1 s."""
        if ready_at <= now:
            return None
        if self.settings.poll_after is not None:
            return self.settings.poll_after
        return min(POLL_MAX, max(POLL_MIN, ready_at - now))

    # --- the cascade -------------------------------------------------------------------

    def _file_removed(self, stored: StoredFile, at: float) -> None:
        """A File went (deleted, or expired at ``at``): it leaves every store that holds it,
        ``cascade_lag`` later. Called by the Files store, lock held."""
        lag = self.settings.cascade_lag
        for store_id in list(self._holders.get(stored.id, ())):
            store = self._stores.get(store_id)
            f = store.files.get(stored.id) if store is not None else None
            if store is None or f is None or f.stored is not stored:
                continue
            if lag <= 0:
                self.leave(store, f)
            else:
                f.leaves_at = at + lag
                self.mark_file(store, f)  # kept with its File's bytes from now on (saved.py)
                heapq.heappush(self._leaving, (f.leaves_at, f.seq, store_id, stored.id))

    def settle(self, now: float) -> None:
        """The cascades due by ``now`` happen (lock held; every read of the stores calls it first: ``at_now``)."""
        heap = self._leaving
        while heap and heap[0][0] <= now:
            _, seq, store_id, file_id = heapq.heappop(heap)
            store = self._stores.get(store_id)
            f = store.files.get(file_id) if store is not None else None
            if store is not None and f is not None and f.seq == seq:
                self.leave(store, f)

    def close(self) -> None:
        """The emulator was reset: the index goes."""
        self.index.close()

    def _new_id(self, prefix: str) -> str:
        while True:
            candidate = prefix + ids.random_token(self.files.rng, ids.HEX, 32)
            if candidate not in self._stores:
                return candidate


def record_id(vector_store_id: str, item_id: str) -> str:
    """A store file's or file batch's record id: their ids are unique within their store only."""
    return f"{vector_store_id}/{item_id}"


def listing(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """OpenAI's list object."""
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }
