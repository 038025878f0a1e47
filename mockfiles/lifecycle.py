"""The Files service's rules over the store: purposes, file types, sizes, quotas,
processing states and expiry. Knows nothing about HTTP; every dialect calls this.

File content is not checked here: OpenAI accepts a ``.jsonl`` batch or fine-tune file
whose lines are bad (``processed``) and reports the problems where the file is used (a
batch's ``errors``, a fine-tuning job's ``error``). Only a scenario's processing rule
(``Outcome``) makes an upload end in ``error``.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import ids
from .clock import Clock
from .errors import InvalidRequest, InvalidValue, MissingParameter, PayloadTooLarge, QuotaExceeded
from .profiles import IdShape, Profile, PurposeRules
from .store import FileStore, Page, StoredFile

FILENAME_MAX = 512  # characters
CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Outcome:
    """How processing ends for one upload, when a scenario decides it instead of the content."""

    status: str = "processed"
    status_details: str | None = None
    delay: float | None = None


def storage_exceeded(used: int, limit: int, size: int) -> QuotaExceeded:
    return QuotaExceeded("storage_limit", which="storage", limit=limit, used=used, size=size)


class Files:
    """One account-partitioned Files service, as one profile describes it."""

    def __init__(self, profile: Profile, clock: Clock, rng: random.Random) -> None:
        self.profile = profile
        self.clock = clock
        self.rng = rng
        self.store = FileStore()
        self.lock = threading.RLock()
        self._hooks: list[Callable[[float], None]] = []
        self._in_hook = False

    def on_read(self, hook: Callable[[float], None]) -> None:
        """Call ``hook(now)`` before every operation: batches write their output files lazily,
        once the clock has passed their end, and must have done so before anyone lists,
        reads or counts files."""
        self._hooks.append(hook)

    def now(self) -> float:
        """The clock, after the hooks have caught up with it (call with the lock held)."""
        now = self.clock.now()
        if self._hooks and not self._in_hook:
            self._in_hook = True
            try:
                for hook in self._hooks:
                    hook(now)
            finally:
                self._in_hook = False
        return now

    # --- checks made before and while the body streams in ------------------------

    def purposes(self, dialect: str = "openai") -> list[str]:
        """The upload purposes a dialect accepts under this profile."""
        return [p for p, r in self.profile.purposes.items() if r.dialects is None or dialect in r.dialects]

    def rules(self, purpose: str | None, dialect: str = "openai") -> PurposeRules:
        if purpose is None:
            raise MissingParameter("purpose")
        accepted = self.purposes(dialect)
        if purpose not in accepted:
            raise InvalidValue("purpose", purpose, accepted, reason="invalid_purpose")
        return self.profile.purposes[purpose]

    def max_upload_bytes(self, purpose: str | None) -> int:
        """The per-file limit while streaming; before the purpose is known (or when it is not
        one of this profile's), the largest one."""
        if purpose is not None and purpose in self.profile.purposes:
            return self.profile.purposes[purpose].max_bytes
        return self.profile.max_file_bytes

    def check_size(self, purpose: str, size: int) -> None:
        """The purpose's per-file limit, whatever order the form's parts came in."""
        limit = self.profile.purposes[purpose].max_bytes
        if size > limit:
            raise PayloadTooLarge("size_limit_read", limit=limit, read=size)

    @staticmethod
    def check_filename(filename: str) -> None:
        """A file's name is a name, not a path: no separators, no control characters."""
        problem = None
        if not filename.strip():
            problem = "filename_empty"
        elif len(filename) > FILENAME_MAX:
            problem = "filename_too_long"
        elif "/" in filename or "\\" in filename:
            problem = "filename_separator"
        elif CONTROL_CHARACTER.search(filename):
            problem = "filename_control"
        if problem:
            raise InvalidRequest(problem, param="file", limit=FILENAME_MAX, length=len(filename))

    def check_file_type(self, purpose: str, filename: str) -> None:
        allowed = self.profile.purposes[purpose].extensions
        if allowed is None:
            return
        dot = filename.rfind(".")
        extension = filename[dot:].lower() if dot >= 0 else ""
        if extension not in allowed:
            raise InvalidRequest(
                "invalid_file_format", param="file", purpose=purpose, filename=filename, formats=allowed
            )

    def room_for(self, account: str) -> int:
        """Bytes the account can still store (a very large number when unlimited)."""
        limit = self.profile.max_total_bytes
        if limit is None:
            return 2**63
        with self.lock:
            _, used = self.store.usage(account, self.now())
        return max(0, limit - used)

    def check_room(self, account: str, incoming: int = 0) -> None:
        """Refuse an upload that would take the account past its file count or storage limit
        (``incoming``: the file's size; 0 checks the file count only)."""
        with self.lock:
            count, used = self.store.usage(account, self.now())
        limit_files = self.profile.max_files
        if limit_files is not None and count + 1 > limit_files:
            raise QuotaExceeded("file_count_limit", which="file_count", limit=limit_files, used=count)
        limit_bytes = self.profile.max_total_bytes
        if limit_bytes is not None and incoming and used + incoming > limit_bytes:
            raise storage_exceeded(used, limit_bytes, incoming)

    def storage_refusal(self, size: int, room_left: int) -> QuotaExceeded:
        """The refusal of a file whose bytes were dropped while it streamed in, because it
        outgrew the ``room_left`` in its account: told as things stood then (another upload
        may have freed room since, but the bytes are gone)."""
        limit = self.profile.max_total_bytes
        limit = room_left if limit is None else limit
        return storage_exceeded(max(0, limit - room_left), limit, size)

    # --- operations ---------------------------------------------------------------

    def create(
        self,
        account: str,
        *,
        purpose: str,
        filename: str,
        chunks: Sequence[bytes],
        size: int,
        expires_after: int | None = None,
        outcome: Outcome | None = None,
        dialect: str = "openai",
        description: str | None = None,
        id_shape: IdShape | None = None,
    ) -> StoredFile:
        rules = self.rules(purpose, dialect)
        if size == 0:
            raise InvalidRequest("empty_file", param="file")
        self.check_size(purpose, size)
        with self.lock:
            self.check_room(account, size)
            now = self.now()
            created_at = int(now)
            lifetime = expires_after if expires_after is not None else rules.expires_after
            status, final_details, delay = "processed", None, rules.processing_delay
            if outcome is not None:
                status, final_details = outcome.status, outcome.status_details
                delay = outcome.delay if outcome.delay is not None else rules.processing_delay
            f = StoredFile(
                id=self._new_id(id_shape or rules.id_shape),
                account=account,
                filename=filename,
                purpose=purpose,
                size=size,
                created_at=created_at,
                expires_at=None if lifetime is None else created_at + lifetime,
                ready_at=now + delay,
                final_status=status,
                final_details=final_details,
                chunks=tuple(chunks),
                seq=self.store.next_seq(),
                dialect=dialect,
                description=description,
            )
            return self.store.add(f)

    def add_generated(
        self,
        account: str,
        *,
        purpose: str,
        filename: str,
        chunks: tuple[bytes, ...],
        size: int,
        created_at: int,
        expires_after: int | None,
        id_shape: IdShape,
        dialect: str = "openai",
    ) -> StoredFile:
        """A file the service writes itself (a batch's output or errors): processed at once,
        counted in the account's quotas but never refused by them (a choice: the batch has
        run; the account is over its limit until files are deleted)."""
        with self.lock:
            f = StoredFile(
                id=self._new_id(id_shape),
                account=account,
                filename=filename,
                purpose=purpose,
                size=size,
                created_at=created_at,
                expires_at=None if expires_after is None else created_at + expires_after,
                ready_at=created_at,
                final_status="processed",
                final_details=None,
                chunks=chunks,
                seq=self.store.next_seq(),
                dialect=dialect,
            )
            return self.store.add(f)

    def get(self, account: str, file_id: str) -> StoredFile:
        with self.lock:
            return self.store.get(account, file_id, self.now())

    def delete(self, account: str, file_id: str) -> StoredFile:
        with self.lock:
            return self.store.delete(account, file_id, self.now())

    def page(self, account: str, **query: Any) -> Page:
        """A cursor page: limit, order, after, purpose, created_from, created_to."""
        with self.lock:
            return self.store.page(account, self.now(), **query)

    def page_at(self, account: str, *, offset: int, limit: int) -> tuple[list[StoredFile], int]:
        with self.lock:
            return self.store.page_at(account, self.now(), offset=offset, limit=limit)

    def all_files(self) -> list[StoredFile]:
        with self.lock:
            return self.store.all_files(self.now())

    def clear(self) -> None:
        with self.lock:
            self.store.clear()

    def _new_id(self, shape: IdShape) -> str:
        while True:
            candidate = shape.make(ids.random_token(self.rng, shape.alphabet, shape.length))
            if not self.store.contains_id(candidate):
                return candidate
