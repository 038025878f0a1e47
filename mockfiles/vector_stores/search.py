"""Search over vector stores: ``POST /vector_stores/{id}/search``, and the domain function the
``file_search`` tool of the Responses API calls (``search``, over several stores at once).

Before a store is searched, its index catches up with the clock: files completed since its last
search are indexed, files that left it are taken out (both read their text again from the File,
without the Files lock). Then its chunks are ranked by BM25 (index.py: scores 0-1) over the query's
words (query.py), and
the best ``max_num_results`` are kept among those whose file is still in the store, completed, and
matches ``filters``, and scores at least ``ranking_options.score_threshold``. Several
stores' results are merged by score (ties: the stores in the order given, then attach order).
Every search counts as activity of its stores (``expires_after``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockfiles.vector_stores.index import split_row
from mockfiles.vector_stores.ingest import text_of
from mockfiles.vector_stores.model import StoreFile, VectorStore
from mockfiles.vector_stores.query import Search, parse_search
from mockfiles.vector_stores.service import VectorStores

INDEX_BATCH = 64  # files indexed in one transaction (their texts read at once)


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

    def search_page(self, account: str, vector_store_id: str, body: Mapping[str, object]) -> dict[str, Any]:
        """``POST /vector_stores/{id}/search``: a ``vector_store.search_results.page``."""
        request = parse_search(dict(body))
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
            work = [self._claim(store, now) for store in stores]
            for store in stores:
                store.touch(now)
        found: list[tuple[float, int, int, int]] = []  # (-score, store's place, row id...) for a stable merge
        with service.index.lock:
            for place, (store, (todo, gone)) in enumerate(zip(stores, work, strict=True)):
                self._catch_up(store, todo, gone)
                found += [(-s, place, seq, chunk) for seq, chunk, s in self._ranked(store, request, now)]
        found.sort()
        hits = found[: request.max_num_results]
        texts: dict[int, str] = {}
        out = []
        for neg, _, seq, chunk in hits:
            f = service.by_seq[seq] if seq in service.by_seq else None
            if f is None:
                continue
            if seq not in texts:
                texts[seq] = text_of(f.stored)
            start, end = f.ingestion.spans[chunk]
            out.append(Hit(f, chunk, -neg, texts[seq][start:end]))
        return out

    def _claim(self, store: VectorStore, now: float) -> tuple[list[StoreFile], list[StoreFile]]:
        """The store's files to index (completed, not indexed yet) and to take out (left it since), claimed."""
        todo = [f for f in store.files.values() if not f.indexed and f.status(now) == "completed"]
        for f in todo:
            f.indexed = True
        gone = self.service.unindex.pop(store.id, [])
        return todo, gone

    def _catch_up(self, store: VectorStore, todo: list[StoreFile], gone: list[StoreFile]) -> None:
        index = self.service.index
        if gone:
            index.remove(store.seq, [(f.seq, f.ingestion.spans.texts(text_of(f.stored))) for f in gone])
        for start in range(0, len(todo), INDEX_BATCH):
            files = todo[start : start + INDEX_BATCH]
            index.add(store.seq, [(f.seq, f.ingestion.spans.texts(text_of(f.stored))) for f in files])

    def _ranked(self, store: VectorStore, request: Search, now: float) -> list[tuple[int, int, float]]:
        """(file seq, chunk, score) of the store's best chunks that pass, at most ``max_num_results``."""
        out: list[tuple[int, int, float]] = []
        service = self.service
        for score, rowid in service.index.rank(store.seq, list(request.terms)):
            if score < request.score_threshold:
                break  # best first: the rest score lower
            seq, chunk = split_row(rowid)
            with service.files.lock:
                f = service.by_seq.get(seq)
                ok = f is not None and store.files.get(f.file_id) is f and f.status(now) == "completed"
                if ok and f is not None and request.filters is not None:
                    ok = request.filters.matches(f.attributes)
            if ok:
                out.append((seq, chunk, score))
                if len(out) == request.max_num_results:
                    break
        return out
