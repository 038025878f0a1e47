"""The Files service's rules over the store: purposes, file types, sizes, quotas,
processing states and expiry. Knows nothing about HTTP; every dialect calls this.

An upload takes one path whatever its dialect: ``budget`` (what the account can take, from one
look at its usage, before any of the body is read), the form streamed against it (the edge),
``accept`` (the file's name, type and size for its purpose) and ``commit`` (stored under the
lock, the quotas checked again against whatever happened meanwhile). Dialects keep only their
field names and shapes: OpenAI's refuses a full account before reading the body, DashScope's
native API reports each file's refusal in its answer.

File content is not checked here: OpenAI accepts a ``.jsonl`` batch or fine-tune file
whose lines are bad (``processed``) and reports the problems where the file is used (a
batch's ``errors``, a fine-tuning job's ``error``). Only a scenario's processing rule
(``Outcome``) makes an upload end in ``error``.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mockfiles.core import ids
from mockfiles.core.clock import Clock
from mockfiles.core.errors import InvalidRequest, InvalidValue, MissingParameter, PayloadTooLarge, QuotaExceeded
from mockfiles.core.profiles import IdShape, Profile, PurposeRules
from mockfiles.files.digest import KeptDigest
from mockfiles.files.store import FileStore, Page, StoredFile

FILENAME_MAX = 512  # characters
UNLIMITED = 2**63  # the room of an account without a storage limit
IMPLIED_PURPOSES = ("file-extract", "user_data")  # for a file sent without purpose that is not .jsonl
# Controls (C0, DEL, C1 with U+0085 NEL), the line and paragraph separators, and the bidirectional
# overrides and isolates that make "txt.exe" show as "exe.txt" (U+202A-U+202E, U+2066-U+2069)
CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Outcome:
    """How processing ends for one upload, when a scenario decides it instead of the content."""

    status: str = "processed"
    status_details: str | None = None
    delay: float | None = None


def storage_exceeded(used: int, limit: int, size: int) -> QuotaExceeded:
    return QuotaExceeded("storage_limit", which="storage", limit=limit, used=used, size=size)


class Incoming(Protocol):
    """One uploaded file as the form reader kept it (form_reader.FilePart)."""

    filename: str
    chunks: list[bytes]
    size: int
    room_left: int | None  # the room its account had when the file outgrew it (its bytes were dropped)
    kept: KeptDigest | None  # the digest of its kept bytes, computed when asked for (the stored file settles it)


class UploadBudget:
    """What one upload may take, worked out before its body is read from one look at the
    account's usage: the file count now, and the room for bytes (asked afresh only when a file
    outgrows it: other uploads may have freed or taken room meanwhile)."""

    def __init__(self, files: Files, account: str) -> None:
        self.files = files
        self.account = account
        with files.lock:
            self.count, self.used = files.store.usage(account, files.now())
        limit = files.profile.max_total_bytes
        self._room: int | None = UNLIMITED if limit is None else max(0, limit - self.used)

    def check_count(self) -> None:
        """Refuse at once when the account already holds its most files."""
        limit = self.files.profile.max_files
        if limit is not None and self.count + 1 > limit:
            raise QuotaExceeded("file_count_limit", which="file_count", limit=limit, used=self.count)

    @property
    def max_file_bytes(self) -> int:
        return self.files.profile.max_file_bytes

    def file_limit(self, purpose: str | None) -> int:
        return self.files.max_upload_bytes(purpose)

    def room(self) -> int:
        """Bytes the account can still store: the budget's own figure first, then afresh."""
        room, self._room = self._room, None
        return room if room is not None else self.files.room_for(self.account)

    def storage_refusal(self, size: int, room_left: int) -> QuotaExceeded:
        return self.files.storage_refusal(size, room_left)


class Files:
    """One account-partitioned Files service, as one profile describes it."""

    def __init__(self, profile: Profile, clock: Clock, rng: random.Random) -> None:
        self.profile = profile
        self.clock = clock
        self.rng = rng
        self.store = FileStore()
        self.lock = threading.RLock()

    def now(self) -> float:
        """The emulator clock."""
        return self.clock.now()

    # --- checks made before and while the body streams in ------------------------

    def purposes(self, dialect: str = "openai") -> list[str]:
        """The upload purposes a dialect accepts under this profile."""
        return [p for p, r in self.profile.purposes.items() if r.dialects is None or dialect in r.dialects]

    def rules(self, purpose: str | None, dialect: str = "openai") -> PurposeRules:
        if purpose is None:
            raise MissingParameter("purpose")
        rules = self.profile.purposes.get(purpose)
        if rules is None or (rules.dialects is not None and dialect not in rules.dialects):  # not in purposes()
            raise InvalidValue("purpose", purpose, self.purposes(dialect), reason="invalid_purpose")
        return rules

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
        """A file's name is a name, not a path: no separators, no control characters (line breaks
        and bidirectional overrides included: they would forge another name where it is shown)."""
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
            return UNLIMITED
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

    def check_not_full(self, account: str, param: str) -> None:
        """Refuse work that writes files into an account that can take no more (a batch's results):
        its file count or its storage is at its limit (call with the lock held)."""
        count, used = self.store.usage(account, self.now())
        profile = self.profile
        if profile.max_files is not None and count >= profile.max_files:
            raise QuotaExceeded(
                "file_count_limit", which="file_count", limit=profile.max_files, used=count, param=param
            )
        if profile.max_total_bytes is not None and used >= profile.max_total_bytes:
            raise QuotaExceeded("account_full", which="storage", limit=profile.max_total_bytes, used=used, param=param)

    def storage_refusal(self, size: int, room_left: int) -> QuotaExceeded:
        """The refusal of a file whose bytes were dropped while it streamed in, because it
        outgrew the ``room_left`` in its account: told as things stood then (another upload
        may have freed room since, but the bytes are gone)."""
        limit = self.profile.max_total_bytes
        limit = room_left if limit is None else limit
        return storage_exceeded(max(0, limit - room_left), limit, size)

    # --- one upload -------------------------------------------------------------------

    def budget(self, account: str) -> UploadBudget:
        return UploadBudget(self, account)

    def implied_purpose(self, filename: str) -> str:
        """The purpose of a file sent without one (DashScope's native form): ``fine-tune`` for JSONL
        (the SDK's default purpose, whose lines the SDK checks before sending), else the profile's
        any-document purpose."""
        if filename.lower().endswith(".jsonl") and "fine-tune" in self.profile.purposes:
            return "fine-tune"
        return next((p for p in IMPLIED_PURPOSES if p in self.profile.purposes), "fine-tune")

    def accept(self, part: Incoming, purpose: str, *, implied: bool = False) -> None:
        """A file's name, and its type for its purpose; a purpose the client did not name (``implied``)
        accepts any type but holds the file to its size (the stream was held to the largest)."""
        self.check_filename(part.filename)
        if not implied:
            self.check_file_type(purpose, part.filename)
        else:
            limit = self.profile.purposes[purpose].max_bytes
            if part.size > limit:
                raise PayloadTooLarge(
                    "implied_purpose_size", limit=limit, read=part.size, filename=part.filename, purpose=purpose
                )
        if part.room_left is not None:
            raise self.storage_refusal(part.size, part.room_left)

    def commit(
        self,
        budget: UploadBudget,
        part: Incoming,
        purpose: str,
        *,
        expires_after: int | None = None,
        outcome: Outcome | None = None,
        dialect: str = "openai",
        description: str | None = None,
        id_shape: IdShape | None = None,
    ) -> StoredFile:
        """Store an accepted file: its quotas are checked again under the lock (``create``)."""
        return self.create(
            budget.account,
            purpose=purpose,
            filename=part.filename,
            chunks=part.chunks,
            size=part.size,
            digest=part.kept,
            expires_after=expires_after,
            outcome=outcome,
            dialect=dialect,
            description=description,
            id_shape=id_shape,
        )

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
        digest: KeptDigest | None = None,
    ) -> StoredFile:
        rules = self.rules(purpose, dialect)
        if size == 0:
            raise InvalidRequest("empty_file", param="file")
        self.check_size(purpose, size)
        least = self.profile.expires_after_min
        if expires_after is not None and expires_after < least:
            raise InvalidRequest(
                "expires_after_too_short", param="expires_after.seconds", least=least, value=expires_after
            )
        with self.lock:
            self.check_room(account, size)
            now = self.now()
            created_at = int(now)
            lifetime = expires_after if expires_after is not None else rules.expires_after
            cap = self.profile.max_files_without_expiry
            if lifetime is None and cap is not None and (used := self.store.never_expiring(account, now)) >= cap:
                raise QuotaExceeded("files_without_expiry", which="file_count", limit=cap, used=used)
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
                digest=digest,
            )
            if digest is not None:
                digest.adopted = True
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
        """A file the service writes itself (a batch's output or errors): processed at once and
        counted in the account's quotas; its writer keeps it within the room the account had
        (batch_run.building), so only the small error lines of what did not fit can go past it."""
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

    def get_at(self, account: str, file_id: str) -> tuple[StoredFile, float]:
        """``get``, and the emulator time it was found at (one clock read for both)."""
        with self.lock:
            now = self.now()
            return self.store.get(account, file_id, now), now

    def removed(self, account: str, file_id: str) -> bool:
        """Whether the account had this file and it was deleted or expired since."""
        with self.lock:
            return self.store.removed(account, file_id, self.now())

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
