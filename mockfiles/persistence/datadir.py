"""A data directory: the records of every joined store in SQLite, their byte sequences in blobs.

Layout: ``state.sqlite3`` (tables ``meta``, ``records``, ``refs``) and ``blobs/``. SQLite runs in
WAL mode with ``synchronous=NORMAL``: a committed transaction survives the process being killed
(``kill -9``); a power cut may lose the last transactions but never leaves a torn one.

``flush`` takes the pending changes and pickles them under the stores' lock (quick: large bytes
are only put aside), then writes the blobs and commits one transaction outside it; flushes run one
at a time, so an answer whose changes another flush took waits until that flush has committed.
"""

from __future__ import annotations

import pickle
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

from mockfiles._version import __version__
from mockfiles.exceptions import DataDirError
from mockfiles.persistence import codec
from mockfiles.persistence.blobs import BlobDir
from mockfiles.persistence.changes import Changes, Kind, Loaded

if sys.platform != "win32":
    import fcntl
else:  # pragma: no cover (no advisory lock: one server per directory is the user's to keep)
    fcntl = None

FORMAT = 1  # raise it whenever the layout or the meaning of a record changes
DB_NAME = "state.sqlite3"
LOCK_NAME = "lock"
STATE_KIND = "emulator"  # the one record of what belongs to no store: clock, counters, rng

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (kind TEXT NOT NULL, id TEXT NOT NULL, account TEXT NOT NULL,
    payload BLOB NOT NULL, blobs TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID;
CREATE TABLE refs (sha TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL);
CREATE INDEX refs_by_sha ON refs (sha);
CREATE INDEX refs_by_record ON refs (kind, id);
"""


class DataDir:
    """Opened at start: refuses a directory it cannot read as its own (``DataDirError``)."""

    def __init__(self, path: str | Path, kinds: Sequence[Kind]) -> None:
        self.path = Path(path)
        self.kinds = {kind.name: kind for kind in kinds}
        classes = [c for kind in kinds for c in kind.classes]
        self.fingerprint = codec.fingerprint(classes, self.kinds)
        self.allowed = codec.class_names(classes)
        self.changes = Changes()
        self.committed = 0  # the mark count the last commit covers
        self._flushing = threading.Lock()
        self.closed = False
        self._lock_file = self._take(self.path)
        try:
            self.db = self._open()
        except BaseException:
            self._lock_file.close()
            raise
        self.blobs = BlobDir(self.path / "blobs")

    @staticmethod
    def _take(path: Path) -> IO[bytes]:
        """Hold the directory's lock file for as long as it is open: two servers on one directory
        would each overwrite what the other wrote."""
        if path.exists() and not path.is_dir():
            raise DataDirError(f"the data directory {path} is a file, not a directory")
        path.mkdir(parents=True, exist_ok=True)
        handle = open(path / LOCK_NAME, "a+b")  # held until close
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise DataDirError(f"the data directory {path} is in use by another mockfiles server") from None
        return handle

    def _open(self) -> sqlite3.Connection:
        path = self.path
        db_path = path / DB_NAME
        if not db_path.exists() and any(p.name != LOCK_NAME for p in path.iterdir()):
            raise DataDirError(
                f"{path} is not a mockfiles data directory (it has other files and no {DB_NAME}): "
                "give an empty or new directory"
            )
        if db_path.exists():
            self._check(self._read_meta(db_path))  # read-only: a refused directory is left as it was
        try:
            db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
                with _transaction(db):
                    for statement in filter(str.strip, SCHEMA.split(";")):
                        db.execute(statement)
                    meta = {"format": str(FORMAT), "fingerprint": self.fingerprint, "written_by": __version__}
                    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        except sqlite3.DatabaseError as exc:
            raise DataDirError(f"{db_path} cannot be read as a mockfiles state database: {exc}") from None
        return db

    @staticmethod
    def _read_meta(db_path: Path) -> dict[str, str]:
        try:
            db = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                return dict(db.execute("SELECT key, value FROM meta").fetchall())
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            raise DataDirError(f"{db_path} cannot be read as a mockfiles state database: {exc}") from None

    def _check(self, meta: dict[str, str]) -> None:
        written_by = meta.get("written_by", "an unknown version")
        advice = "start with another --data-dir, or delete this one to start afresh"
        if meta.get("format") != str(FORMAT):
            raise DataDirError(
                f"{self.path} holds state in format {meta.get('format', '?')} (written by mockfiles {written_by}); "
                f"mockfiles {__version__} reads format {FORMAT} only: {advice}"
            )
        if meta.get("fingerprint") != self.fingerprint:
            raise DataDirError(
                f"{self.path} was written by mockfiles {written_by}, whose stored records have other fields "
                f"than those of mockfiles {__version__} (format {FORMAT}, records {meta.get('fingerprint')} "
                f"against {self.fingerprint}): {advice}"
            )

    # --- start ------------------------------------------------------------------------

    def load(self) -> tuple[Loaded, Any]:
        """Every record, and the emulator's state record (None in a new directory). Removes the
        blobs no record refers to (left by a process killed between a blob and its commit)."""
        loaded: Loaded = {name: [] for name in self.kinds}
        state: Any = None
        cache: dict[str, bytes] = {}
        rows = self.db.execute("SELECT kind, id, account, payload, blobs FROM records").fetchall()
        for kind, record_id, account, payload, shas in rows:
            try:
                blobs = [cache[s] if s in cache else cache.setdefault(s, self.blobs.read(s)) for s in shas.split()]
                obj = codec.load(payload, blobs, self.allowed)
            except (pickle.UnpicklingError, AttributeError, TypeError, ImportError, OSError) as exc:
                raise DataDirError(f"{self.path}: the {kind} record {record_id} cannot be read: {exc}") from None
            if kind == STATE_KIND:
                state = obj
            elif kind in loaded:
                loaded[kind].append((record_id, account, obj))
            else:
                raise DataDirError(f"{self.path} holds records of kind {kind!r}, which this mockfiles does not know")
        self.blobs.sweep(set(cache))
        return loaded, state

    # --- as the state changes -----------------------------------------------------------

    def touch(self) -> None:
        """Something outside the records changed (the clock): the next flush writes the state."""
        self.changes.touch()

    @property
    def behind(self) -> bool:
        """Whether changes are marked that no commit covers yet (read without a lock)."""
        return self.changes.marked > self.committed

    def flush(self, lock: AbstractContextManager[Any], state: Callable[[], Any]) -> None:
        """Write every pending change and ``state()`` in one transaction."""
        with self._flushing:
            with lock:
                changes = self.changes
                pending, marked = changes.take()
                rows: list[tuple[str, str, str, bytes | None, codec.Sequences]] = []
                for (kind, record_id), change in pending.items():
                    if change is None:
                        rows.append((kind, record_id, "", None, []))
                    else:
                        account, obj = change
                        payload, sequences = codec.dump(self.kinds[kind].dump(obj))
                        rows.append((kind, record_id, account, payload, sequences))
                state_payload, _ = codec.dump(state())
            try:
                written = [(k, i, a, p, [self.blobs.write(s) for s in seqs]) for k, i, a, p, seqs in rows]
                freed = self._commit(written, state_payload)
            except BaseException:
                with lock:
                    changes.give_back(pending)  # the next flush tries them again
                raise
            self.blobs.remove(freed)
            if changes is self.changes:
                self.committed = max(self.committed, marked)

    def _commit(self, rows: Iterable[tuple[str, str, str, bytes | None, list[str]]], state: bytes) -> list[str]:
        db = self.db
        dropped: set[str] = set()
        with _transaction(db):
            for kind, record_id, account, payload, shas in rows:
                old = db.execute("SELECT sha FROM refs WHERE kind = ? AND id = ?", (kind, record_id)).fetchall()
                dropped.update(sha for (sha,) in old)
                db.execute("DELETE FROM refs WHERE kind = ? AND id = ?", (kind, record_id))
                if payload is None:
                    db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id))
                    continue
                db.execute(
                    "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)",
                    (kind, record_id, account, payload, " ".join(shas)),
                )
                db.executemany("INSERT INTO refs VALUES (?, ?, ?)", [(sha, kind, record_id) for sha in shas])
            db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, '', ?, '')", (STATE_KIND, "state", state))
        return [sha for sha in dropped if db.execute("SELECT 1 FROM refs WHERE sha = ?", (sha,)).fetchone() is None]

    def clear(self) -> Changes:
        """Forget every record and blob (a reset); returns the marks' new home, for the fresh stores
        (stores made before the reset keep marking the old one, which no flush reads again)."""
        with self._flushing:
            with _transaction(self.db):
                self.db.execute("DELETE FROM records")
                self.db.execute("DELETE FROM refs")
            self.blobs.clear()
            self.changes = Changes()
            self.committed = 0
            return self.changes

    def close(self) -> None:
        with self._flushing:
            if not self.closed:
                self.closed = True
                self.db.close()
                self._lock_file.close()


class _transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
