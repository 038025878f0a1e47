"""Search over vector stores: ``POST /vector_stores/{id}/search``, and the domain function the
``file_search`` tool of the Responses API calls (``search``, over several stores at once).

A store's files are indexed as soon as they are attached (``index_store``, which the edge runs in a
worker thread), and whatever is not indexed yet when the store is searched is indexed first; files
that left it are taken out (both read their text again from the File, without the Files lock). Its
chunks are ranked by BM25 (index.py: scores 0-1) over the query's words (query.py), counting only
the files completed by then, and
the best ``max_num_results`` are kept among those whose file is still in the store, completed, and
matches ``filters``, and scores at least ``ranking_options.score_threshold``. Several
stores' results are merged by score (ties: the stores in the order given, then attach order).
Every search counts as activity of its stores (``expires_after``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockfiles.vector_stores.index import split_row
from mockfiles.vector_stores.ingest import text_of
from mockfiles.vector_stores.model import StoreFile, VectorStore
from mockfiles.vector_stores.query import Search
from mockfiles.vector_stores.service import VectorStores

INDEX_BATCH = 64  # files indexed in one transaction (their texts read at once)
INDEX_BATCH_BYTES = 4 * 1024 * 1024  # about this much is indexed at a time ahead of a search


@dataclass(frozen=True)
class Hit:
    """One chunk found: its file, its place in the file, its text, its score (0-1)."""

    file: StoreFile
    chunk: int
    score: float
    text: str

    def as_dict(self) -> dict[str, Any]:
        """A ``vector_store.search_results.page`` item."""
        return {
            "file_id": self.file.file_id,
            "filename": self.file.stored.filename,
            "score": self.score,
            "attributes": dict(self.file.attributes),
            "content": [{"type": "text", "text": self.text}],
        }


class Searching:
    def __init__(self, service: VectorStores) -> None:
        self.service = service

    def search_page(self, account: str, vector_store_id: str, request: Search) -> dict[str, Any]:
        """``POST /vector_stores/{id}/search``: a ``vector_store.search_results.page``."""
        hits = self.search(account, [vector_store_id], request)
        return {
            "object": "vector_store.search_results.page",
            "search_query": list(request.queries),
            "data": [hit.as_dict() for hit in hits],
            "has_more": False,
            "next_page": None,
        }

    def search(self, account: str, vector_store_ids: list[str], request: Search) -> list[Hit]:
        """The best chunks of these stores for ``request`` (every store must be the account's and
        not expired). Call it from a worker thread: indexing may take a while."""
        service = self.service
        with service.at_now() as now:
            stores = [service.writable(account, i, now) for i in dict.fromkeys(vector_store_ids)]
            for store in stores:
                service.touch(store, now)
        found: list[tuple[float, int, int, int]] = []  # (-score, store's place, file seq, chunk): a stable merge
        with service.index.lock:
            for place, store in enumerate(stores):
                if not self._catch_up(store, None):  # deleted meanwhile: its index is gone, and stays gone
                    continue
                found += [(-s, place, seq, chunk) for seq, chunk, s in self._ranked(store, request, now)]
        found.sort()
        texts: dict[int, str] = {}
        out = []
        for neg, _, seq, chunk in found[: request.max_num_results]:
            f = service.by_seq.get(seq)
            if f is None:
                continue
            if seq not in texts:
                texts[seq] = text_of(f.stored)
            start, end = f.ingestion.spans[chunk]
            out.append(Hit(f, chunk, -neg, texts[seq][start:end]))
        return out

    def index_store(self, vector_store_id: str) -> None:
        """Index the store's files not indexed yet, a few at a time, letting go of the index between
        them (so that other stores' searches go on): the edge runs it in a worker thread as soon as
        files are attached, so that a search once they are completed finds them indexed. Stops when
        the store is gone or the emulator was reset."""
        service = self.service
        while not service.index.closed:
            with service.index.lock:
                with service.files.lock:
                    store = service.find(vector_store_id)
                if store is None or not self._catch_up(store, INDEX_BATCH_BYTES):
                    return

    def _catch_up(self, store: VectorStore, budget: int | None) -> bool:
        """Index the store's files attached and not indexed yet (those whose ingestion did not fail,
        nor were cancelled), about ``budget`` bytes of them (None: all), and take out those that left
        it: False when there was nothing to do, or the store is gone (call with the index's lock)."""
        service, index = self.service, self.service.index
        with service.files.lock:
            if not service.holds(store):
                return False
            todo: list[StoreFile] = []
            size = 0
            for f in store.files.values():
                if f.indexed or f.ingestion.failure is not None or f.cancelled_at is not None:
                    continue
                f.indexed = True
                todo.append(f)
                size += f.stored.size
                if budget is not None and size >= budget:
                    break
            gone = service.unindex.pop(store.id, [])
        if gone:
            index.remove(store.seq, [(f.seq, f.ingestion.spans.texts(text_of(f.stored))) for f in gone])
        for start in range(0, len(todo), INDEX_BATCH):
            files = todo[start : start + INDEX_BATCH]
            index.add(store.seq, [(f.seq, f.ingestion.spans.texts(text_of(f.stored))) for f in files])
        return budget is None or bool(todo or gone)

    def _ranked(self, store: VectorStore, request: Search, now: float) -> list[tuple[int, int, float]]:
        """(file seq, chunk, score) of the store's best chunks that pass, at most ``max_num_results``:
        scored over the store's files completed by ``now`` (index.py), kept when their file matches
        ``filters`` (call with the index's lock)."""
        service = self.service
        with service.files.lock:
            completed = {f.seq: f for f in store.files.values() if f.status(now) == "completed"}
        out: list[tuple[int, int, float]] = []
        for score, rowid in service.index.rank(store.seq, list(request.terms), set(completed)):
            if score < request.score_threshold:
                break  # best first: the rest score lower
            seq, chunk = split_row(rowid)
            if request.filters is None or request.filters.matches(completed[seq].attributes):
                out.append((seq, chunk, score))
                if len(out) == request.max_num_results:
                    break
        return out
