"""The file store: every account's files, their bytes, order and expiry.

Knows nothing about HTTP. Lookups are O(1), pagination is O(log n + page) through
per-account sorted indexes, and expiry is lazy: a heap of expiry times is drained
at the start of each operation, so nothing runs in the background.

Bytes that are not a file yet also count toward an account's storage: the parts of a
pending upload are *held* under the upload's id until it completes, is cancelled, or
expires (through the same heap), so the room left for new files shrinks as they arrive.

Whoever keeps a file's id elsewhere (a vector store) is told when the file goes, deleted or expired
(``on_remove``), with the emulator time it went at (an expired file: its ``expires_at``), under the
same lock as the removal.
"""

from __future__ import annotations

import hashlib
import heapq
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mockfiles.core.errors import InvalidRequest, NotFound
from mockfiles.files.digest import KeptDigest
from mockfiles.persistence.changes import NO_CHANGES, Changes, Kind, Loaded

SortKey = tuple[int, int]  # (created_at, seq): the order of listing, unique per file
CURSOR_MEMORY = 10_000  # deleted ids per account that still work as `after` cursors (oldest forgotten)


@dataclass(slots=True, eq=False)
class StoredFile:
    id: str
    account: str
    filename: str
    purpose: str
    size: int
    created_at: int
    expires_at: int | None
    ready_at: float  # emulator time at which processing ends
    final_status: str  # "processed" or "error"
    final_details: str | None
    chunks: tuple[bytes, ...]
    seq: int
    dialect: str = "openai"
    description: str | None = None
    digest: KeptDigest | None = None  # the sha256 the journal shows, made from the chunks before they go
    _md5: str | None = None
    shown: tuple[str, bytes] | None = None  # a dialect's name and its JSON of the file once processed (never changes)
    summary: object = None  # what a model reads of it (inference/documents.Summary), made on first use

    @property
    def key(self) -> SortKey:
        return (self.created_at, self.seq)

    def status(self, now: float) -> str:
        return "uploaded" if now < self.ready_at else self.final_status

    def phase(self, now: float) -> str:
        """Where processing stands, as services that show more than ``uploaded`` name it (Azure):
        ``pending`` for its first half, ``running`` for the rest, then the final status."""
        if now >= self.ready_at:
            return self.final_status
        return "pending" if now < (self.created_at + self.ready_at) / 2 else "running"

    def status_details(self, now: float) -> str | None:
        return None if now < self.ready_at else self.final_details

    def content(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def md5(self) -> str:
        """Computed on first use (only the DashScope native dialect shows it)."""
        if self._md5 is None:
            digest = hashlib.md5(usedforsecurity=False)
            for chunk in self.chunks:
                digest.update(chunk)
            self._md5 = digest.hexdigest()
        return self._md5


def _stored_form(f: StoredFile) -> StoredFile:
    """A file as a data directory keeps it: without its caches (the digest, the md5, its JSON, what a
    model read of it)."""
    return replace(f, digest=None, _md5=None, shown=None, summary=None)


FILE_KINDS = (
    Kind("file", (StoredFile,), _stored_form),
    Kind("file_cursor", ()),  # a deleted file's sort key: its id still works as ``after``
)


class _Index:
    """Sorted keys of one account's files (all of them, or one purpose's).

    Deleting leaves a dead entry behind that listing skips; the list is compacted
    when dead entries outnumber live ones, so every operation stays amortised O(log n).
    """

    __slots__ = ("keys", "dead")

    def __init__(self) -> None:
        self.keys: list[tuple[int, int, str]] = []
        self.dead = 0

    def add(self, f: StoredFile) -> None:
        entry = (f.created_at, f.seq, f.id)
        if not self.keys or entry > self.keys[-1]:
            self.keys.append(entry)
        else:
            self.keys.insert(bisect_right(self.keys, entry), entry)

    def discard(self, live: dict[str, StoredFile]) -> None:
        self.dead += 1
        if self.dead > 64 and self.dead * 2 > len(self.keys):
            self.compact(live)

    def compact(self, live: dict[str, StoredFile]) -> None:
        if self.dead:
            self.keys = [e for e in self.keys if e[2] in live]
            self.dead = 0


class _Account:
    __slots__ = ("files", "indexes", "cursors", "total_bytes", "grown")

    def __init__(self) -> None:
        self.files: dict[str, StoredFile] = {}
        self.indexes: dict[str | None, _Index] = {None: _Index()}
        # deleted ids keep working as `after` cursors; ordered, so that forgetting the oldest is O(1)
        # (a dict's first key is found by skipping every slot deleted before it)
        self.cursors: OrderedDict[str, SortKey] = OrderedDict()
        self.total_bytes = 0  # the files' bytes and the held bytes together
        self.grown = 0  # the store's growth count when its usage last grew (FileStore.growth)


@dataclass(slots=True, eq=False)
class _Hold:
    """Bytes an account holds under a key (a pending upload's id) that are not a file yet."""

    account: str
    size: int
    seq: int


@dataclass(frozen=True)
class Page:
    files: Sequence[StoredFile]
    has_more: bool


def unknown_cursor(after: str) -> InvalidRequest:
    """A 400: the API's description documents 400, not 404, for listing."""
    return InvalidRequest("unknown_file_cursor", param="after", after=after)


class FileStore:
    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self._by_id: dict[str, StoredFile] = {}
        self._expiry: list[tuple[int, int, str]] = []  # files' and holds' expiry times
        self._holds: dict[str, _Hold] = {}
        self._seq = 0
        self._growth = 0
        self.changes: Changes = NO_CHANGES  # a data directory's marks (persistence/changes.py)
        self.on_remove: list[Callable[[StoredFile, float], None]] = []  # called as a file goes (deleted or expired)

    # --- reads -----------------------------------------------------------------

    def get(self, account: str, file_id: str, now: float) -> StoredFile:
        if self._expiry and self._expiry[0][0] <= now:  # (what expire() asks first: most reads find nothing due)
            self.expire(now)
        f = self._by_id.get(file_id)
        if f is None or f.account != account:
            raise NotFound("no_such_file", param="id", id=file_id)
        return f

    def removed(self, account: str, file_id: str, now: float) -> bool:
        """Whether ``file_id`` was one of the account's files and was deleted or expired (the
        account's last 10,000 such ids are remembered, as cursors)."""
        self.expire(now)
        acct = self._accounts.get(account)
        return acct is not None and file_id in acct.cursors and file_id not in acct.files

    def page(
        self,
        account: str,
        now: float,
        *,
        limit: int,
        order: str = "desc",
        after: str | None = None,
        purpose: str | None = None,
        created_from: int | None = None,
        created_to: int | None = None,
    ) -> Page:
        """A cursor page, newest first by default; ``created_from``/``created_to`` bound
        ``created_at`` (inclusive) by bisection, so they cost no scan."""
        self.expire(now)
        acct = self._accounts.get(account)
        if acct is None:
            if after is not None:
                raise unknown_cursor(after)
            return Page((), False)
        index = acct.indexes.get(purpose) if purpose is not None else acct.indexes[None]
        keys = index.keys if index is not None else []
        cursor: SortKey | None = None
        if after is not None:
            known = acct.files.get(after)
            cursor = known.key if known is not None else acct.cursors.get(after)
            if cursor is None:
                raise unknown_cursor(after)
        files = acct.files
        found: list[StoredFile] = []
        low = 0 if created_from is None else bisect_left(keys, (created_from,))
        high = len(keys) if created_to is None else bisect_left(keys, (created_to + 1,))
        if order == "asc":
            start = low if cursor is None else max(low, bisect_right(keys, (cursor[0], cursor[1], "\uffff")))
            positions: Iterator[int] = iter(range(start, high))
        else:
            stop = high if cursor is None else min(high, bisect_left(keys, (cursor[0], cursor[1], "")))
            positions = iter(range(stop - 1, low - 1, -1))
        for i in positions:
            f = files.get(keys[i][2])
            if f is None:
                continue
            if len(found) == limit:
                return Page(found, True)
            found.append(f)
        return Page(found, False)

    def page_at(self, account: str, now: float, *, offset: int, limit: int) -> tuple[list[StoredFile], int]:
        """Page by position (newest first) and the total count: for page-numbered listings."""
        self.expire(now)
        acct = self._accounts.get(account)
        if acct is None:
            return [], 0
        index = acct.indexes[None]
        index.compact(acct.files)
        total = len(index.keys)
        stop = max(0, total - offset)
        entries = index.keys[max(0, stop - limit) : stop]
        return [acct.files[e[2]] for e in reversed(entries)], total

    def usage(self, account: str, now: float) -> tuple[int, int]:
        """(file count, total bytes) of an account; the bytes include those it holds."""
        self.expire(now)
        acct = self._accounts.get(account)
        return (0, 0) if acct is None else (len(acct.files), acct.total_bytes)

    def growth(self, account: str) -> int:
        """A number that changes whenever the account's usage grows (a file added, bytes held): while
        it stays the same, the account's usage can only have shrunk (files expire or are deleted)."""
        acct = self._accounts.get(account)
        return 0 if acct is None else acct.grown

    def never_expiring(self, account: str, now: float) -> int:
        """How many of an account's files have no expiry (Azure caps these apart from the rest)."""
        self.expire(now)
        acct = self._accounts.get(account)
        return 0 if acct is None else sum(1 for f in acct.files.values() if f.expires_at is None)

    def all_files(self, now: float) -> list[StoredFile]:
        self.expire(now)
        return sorted(self._by_id.values(), key=lambda f: f.key)

    def __len__(self) -> int:
        return len(self._by_id)

    def find(self, file_id: str) -> StoredFile | None:
        """Any account's file by id, as held now (no expiry runs: a restore links to it)."""
        return self._by_id.get(file_id)

    # --- writes ----------------------------------------------------------------

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def contains_id(self, file_id: str) -> bool:
        return file_id in self._by_id

    def add(self, f: StoredFile) -> StoredFile:
        acct = self._account(f.account)
        acct.files[f.id] = f
        acct.total_bytes += f.size
        self._growth += 1  # never reset, not even by clear: a stamp is never given twice
        acct.grown = self._growth
        acct.indexes[None].add(f)
        index = acct.indexes.get(f.purpose)
        if index is None:
            index = acct.indexes[f.purpose] = _Index()
        index.add(f)
        self._by_id[f.id] = f
        if f.expires_at is not None:
            heapq.heappush(self._expiry, (f.expires_at, f.seq, f.id))
        self.changes.put("file", f.id, f.account, f)
        return f

    def delete(self, account: str, file_id: str, now: float) -> StoredFile:
        f = self.get(account, file_id, now)
        self._remove(f, now)
        return f

    def hold(self, key: str, account: str, size: int, expires_at: int) -> None:
        """Count ``size`` more bytes toward the account's storage under ``key`` until
        ``release(key)`` or ``expires_at``, whichever comes first."""
        held = self._holds.get(key)
        if held is None:
            held = self._holds[key] = _Hold(account, 0, self.next_seq())
            heapq.heappush(self._expiry, (expires_at, held.seq, key))
        held.size += size
        acct = self._account(account)
        acct.total_bytes += size
        self._growth += 1
        acct.grown = self._growth

    def release(self, key: str) -> int:
        """Stop counting what ``key`` holds; returns the bytes freed (0 when nothing was held)."""
        held = self._holds.pop(key, None)
        if held is None:
            return 0
        self._accounts[held.account].total_bytes -= held.size
        return held.size

    def expire(self, now: float) -> None:
        heap = self._expiry
        while heap and heap[0][0] <= now:
            at, seq, key = heapq.heappop(heap)
            f = self._by_id.get(key)
            if f is not None and f.seq == seq:
                self._remove(f, at)  # it went when it expired, whenever that is noticed
                continue
            held = self._holds.get(key)
            if held is not None and held.seq == seq:
                self.release(key)

    # --- a data directory (persistence/changes.py: Joined) ----------------------------

    kinds: tuple[Kind, ...] = FILE_KINDS

    def track(self, changes: Changes) -> None:
        self.changes = changes

    def counters(self) -> dict[str, Any]:
        return {"seq": self._seq}

    def restore(self, loaded: Loaded, counters: dict[str, Any]) -> None:
        """Back to the files and cursors a data directory holds (into an empty store)."""
        for _, _, f in sorted(loaded["file"], key=lambda row: row[2].seq):
            self.add(f)
        for file_id, account, key in sorted(loaded["file_cursor"], key=lambda row: tuple(row[2])):
            self._account(account).cursors[file_id] = tuple(key)
        self._seq = counters["seq"]

    def clear(self) -> None:
        for f in self._by_id.values():
            if f.digest is not None:
                f.digest.make_now()
        self._accounts.clear()
        self._by_id.clear()
        self._expiry.clear()
        self._holds.clear()

    def _account(self, account: str) -> _Account:
        acct = self._accounts.get(account)
        if acct is None:
            acct = self._accounts[account] = _Account()
        return acct

    def _remove(self, f: StoredFile, now: float) -> None:
        if f.digest is not None:
            f.digest.make_now()
        acct = self._accounts[f.account]
        del acct.files[f.id]
        del self._by_id[f.id]
        acct.total_bytes -= f.size
        acct.cursors[f.id] = f.key
        self.changes.drop("file", f.id)
        self.changes.put("file_cursor", f.id, f.account, f.key)
        if len(acct.cursors) > CURSOR_MEMORY:
            oldest, _ = acct.cursors.popitem(last=False)
            self.changes.drop("file_cursor", oldest)
        acct.indexes[None].discard(acct.files)
        acct.indexes[f.purpose].discard(acct.files)
        for hook in self.on_remove:
            hook(f, now)
