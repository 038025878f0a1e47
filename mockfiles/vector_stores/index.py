"""The search index: every store's chunks in SQLite's full-text search (FTS5, in Python's own
``sqlite3``), ranked by Okapi BM25 computed here from what FTS5 knows of each word.

One contentless FTS5 table per store (``content=''``: only the index is kept, not the text, which is
read again from the File when a result shows it), in one in-memory database per emulator, so that a
store's scores depend on its own chunks only. FTS5's tokenizer is ``unicode61`` with diacritics
kept: words are runs of letters and digits, lower-cased, as ``query.words`` reads a query. A chunk's
row id is its file's attach sequence number times 2**24 plus its place in the file (a file has at
most 100,001 chunks).

The score of a chunk for the query's words is BM25 with k1 = 1.2 and b = 0.75 and Lucene's idf,
``ln(1 + (N - df + 0.5) / (df + 0.5))``, which stays positive in a store of two chunks (FTS5's own
``bm25()`` floors it at 1e-6 there); ``N`` is the store's chunks, ``df`` how many hold the word
(FTS5's ``fts5vocab``), the word's count in the chunk from the same, a chunk's length FTS5's count of
its words (its ``docsize``). The score is then divided by the most any chunk could score for those words
(``sum(idf) x (k1 + 1)``): 0 to 1, and the same query scores alike in a small store and a large one.
Equal scores rank by row id: attach order, then place in the file.

The database is used from worker threads, one at a time (``lock``). Knows nothing about HTTP.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from array import array
from dataclasses import dataclass

from mockfiles.core.errors import ServerError

CHUNK_BITS = 24
CHUNK_MASK = (1 << CHUNK_BITS) - 1
K1, B = 1.2, 0.75
WORDS = re.compile(r"[^\W_]+")


def row_id(file_seq: int, chunk: int) -> int:
    return (file_seq << CHUNK_BITS) | chunk


def _varint(blob: bytes) -> int:
    """The first number of an FTS5 ``docsize`` blob (SQLite's varint: 7 bits a byte, high bit set
    while more follow)."""
    value = 0
    for byte in blob[:9]:
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            break
    return value


def split_row(rowid: int) -> tuple[int, int]:
    """(the file's attach sequence number, the chunk's place in the file)."""
    return rowid >> CHUNK_BITS, rowid & CHUNK_MASK


@dataclass(slots=True)
class _Table:
    name: str


class SearchIndex:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._tables: dict[int, _Table] = {}  # by store seq
        self._lengths: dict[int, array[int]] = {}  # by file seq: words of each of its chunks
        self._words: dict[int, int] = {}  # by file seq: its chunks' words together
        self.closed = False

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        return self._db

    def _table(self, store_seq: int) -> _Table:
        table = self._tables.get(store_seq)
        if table is None:
            name = f"store_{int(store_seq)}"
            db = self._connection()
            try:
                db.execute(
                    f"CREATE VIRTUAL TABLE {name} USING fts5(body, content='', "
                    "tokenize='unicode61 remove_diacritics 0')"
                )
                db.execute(f"CREATE VIRTUAL TABLE {name}_words USING fts5vocab({name}, 'instance')")
            except sqlite3.OperationalError as exc:  # a Python whose SQLite lacks FTS5
                raise ServerError(f"vector store search needs SQLite's FTS5, which this Python lacks ({exc})") from None
            table = self._tables[store_seq] = _Table(name)
        return table

    def add(self, store_seq: int, files: list[tuple[int, list[str]]]) -> None:
        """Index files' chunks, ``(file seq, its chunks' texts)``, in one transaction (``lock`` held).
        Each chunk's length is FTS5's own count of its words (its ``docsize`` row)."""
        files = [(seq, chunks) for seq, chunks in files if chunks]
        if self.closed or not files:
            return
        table = self._table(store_seq)
        db = self._connection()
        db.execute("BEGIN")
        for seq, chunks in files:
            rows = ((row_id(seq, i), text) for i, text in enumerate(chunks))
            db.executemany(f"INSERT INTO {table.name}(rowid, body) VALUES (?, ?)", rows)
        db.execute("COMMIT")
        for seq, chunks in files:
            found = db.execute(
                f"SELECT sz FROM {table.name}_docsize WHERE id BETWEEN ? AND ? ORDER BY id",
                (row_id(seq, 0), row_id(seq, len(chunks) - 1)),
            ).fetchall()
            lengths = array("L", (_varint(size) for (size,) in found))
            self._lengths[seq] = lengths
            self._words[seq] = sum(lengths)

    def remove(self, store_seq: int, files: list[tuple[int, list[str]]]) -> None:
        """Take files' chunks out (the same texts they were indexed with; ``lock`` held)."""
        table = self._tables.get(store_seq)
        gone = [(seq, chunks) for seq, chunks in files if self._lengths.pop(seq, None) is not None]
        for seq, _ in files:
            self._words.pop(seq, None)
        if self.closed or table is None or not gone:
            return
        db = self._connection()
        db.execute("BEGIN")
        for seq, chunks in gone:
            rows = ((row_id(seq, i), text) for i, text in enumerate(chunks))
            db.executemany(f"INSERT INTO {table.name}({table.name}, rowid, body) VALUES ('delete', ?, ?)", rows)
        db.execute("COMMIT")

    def drop(self, store_seq: int, file_seqs: list[int]) -> None:
        """Forget a store's chunks (the store is gone)."""
        with self.lock:
            table = self._tables.pop(store_seq, None)
            for seq in file_seqs:
                self._lengths.pop(seq, None)
                self._words.pop(seq, None)
            if self.closed or table is None:
                return
            self._connection().execute(f"DROP TABLE {table.name}_words")
            self._connection().execute(f"DROP TABLE {table.name}")

    def indexed(self, file_seq: int) -> bool:
        return file_seq in self._lengths

    def rank(self, store_seq: int, terms: list[str], counted: set[int]) -> list[tuple[float, int]]:
        """(score 0-1, row id) of every chunk of the files ``counted`` (file seqs: those a search may
        find, its statistics count) holding one of ``terms``, best first (``lock`` held)."""
        table = self._tables.get(store_seq)
        counted = {seq for seq in counted if seq in self._lengths}
        if self.closed or table is None or not counted or not terms:
            return []
        n = sum(len(self._lengths[seq]) for seq in counted)
        average = sum(self._words[seq] for seq in counted) / n or 1.0
        db = self._connection()
        scores: dict[int, float] = {}
        best = 0.0
        for term in terms:
            rows = db.execute(
                f"SELECT doc, COUNT(*) FROM {table.name}_words WHERE term = ? GROUP BY doc", (term,)
            ).fetchall()
            counts = [(rowid, tf) for rowid, tf in rows if rowid >> CHUNK_BITS in counted]
            idf = math.log(1 + (n - len(counts) + 0.5) / (len(counts) + 0.5))
            best += idf * (K1 + 1)
            for rowid, tf in counts:
                length = self._lengths[rowid >> CHUNK_BITS][rowid & CHUNK_MASK]
                weight = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
                scores[rowid] = scores.get(rowid, 0.0) + weight
        ranked = sorted((-s / best, rowid) for rowid, s in scores.items())
        return [(-neg, rowid) for neg, rowid in ranked]

    def close(self) -> None:
        """The emulator was reset: whoever indexes stops at its next file batch, then the database goes."""
        self.closed = True  # seen without the lock by an indexing that holds it
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self._tables.clear()
            self._lengths.clear()
            self._words.clear()
