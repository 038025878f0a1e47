"""The Files service's rules over the store: purposes, file types, sizes, quotas,
processing states and expiry. Knows nothing about HTTP; every dialect calls this.

An upload takes one path whatever its dialect (upload.py): ``budget`` (what the account can take,
from one look at its usage at the request's arrival, before any of the body is read), the form
streamed against it (the edge; ``check_fits`` refuses a file that outgrew the room), ``accept``
(the file's name, type and size for its purpose, checked once by ``rules``) and
``commit`` (stored under the lock at one reading of the clock; the quotas looked at again only if
the account's usage grew since the budget). Dialects keep only their field names and shapes:
OpenAI's refuses a full account before reading the body, DashScope's native API reports each
file's refusal in its answer.

File content is not checked here: OpenAI accepts a ``.jsonl`` batch or fine-tune file
whose lines are bad (``processed``) and reports the problems where the file is used (a
batch's ``errors``, a fine-tuning job's ``error``). Only a scenario's processing rule
(``Outcome``) makes an upload end in ``error``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mockfiles.core import ids
from mockfiles.core.clock import Clock
from mockfiles.core.errors import InvalidRequest, InvalidValue, MissingParameter, PayloadTooLarge, QuotaExceeded
from mockfiles.core.profiles import IdShape, Profile, PurposeRules
from mockfiles.files.digest import KeptDigest
from mockfiles.files.store import FileStore, Page, StoredFile
from mockfiles.files.upload import UNLIMITED, Accepted, Incoming, UploadBudget, check_filename, storage_exceeded

IMPLIED_PURPOSES = ("file-extract", "user_data")  # for a file sent without purpose that is not .jsonl


@dataclass(frozen=True)
class Outcome:
    """How processing ends for one upload, when a scenario decides it instead of the content."""

    status: str = "processed"
    status_details: str | None = None
    delay: float | None = None


class Files:
    """One account-partitioned Files service, as one profile describes it."""

    check_filename = staticmethod(check_filename)

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

    @staticmethod
    def check_size(rules: PurposeRules, size: int) -> None:
        """The purpose's per-file limit, whatever order the form's parts came in."""
        if size > rules.max_bytes:
            raise PayloadTooLarge("size_limit_read", limit=rules.max_bytes, read=size)

    @staticmethod
    def check_file_type(purpose: str, rules: PurposeRules, filename: str) -> None:
        allowed = rules.extensions
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

    def check_room(self, account: str, incoming: int = 0, now: float | None = None) -> None:
        """Refuse an upload that would take the account past its file count or storage limit
        (``incoming``: the file's size; 0 checks the file count only)."""
        with self.lock:
            count, used = self.store.usage(account, self.now() if now is None else now)
        self.check_quota(count, used, incoming)

    def check_quota(self, count: int, used: int, incoming: int = 0) -> None:
        """The refusal of one more file of ``incoming`` bytes to an account of ``count`` files and
        ``used`` bytes: its file count first, then its storage."""
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

    # --- one upload -------------------------------------------------------------------

    def budget(self, account: str, now: float | None = None) -> UploadBudget:
        """What an upload may take, from the account's usage at ``now`` (its arrival; None: now)."""
        return UploadBudget(self, account, now)

    def implied_purpose(self, filename: str) -> str:
        """The purpose of a file sent without one (DashScope's native form): ``fine-tune`` for JSONL
        (the SDK's default purpose, whose lines the SDK checks before sending), else the profile's
        any-document purpose."""
        if filename.lower().endswith(".jsonl") and "fine-tune" in self.profile.purposes:
            return "fine-tune"
        return next((p for p in IMPLIED_PURPOSES if p in self.profile.purposes), "fine-tune")

    def accept(self, part: Incoming, purpose: str, rules: PurposeRules, *, implied: bool = False) -> Accepted:
        """A file for a purpose already checked (``rules``: the purpose's, from ``rules()``, the one
        check of a purpose as given): its name, and its type for its purpose. A purpose the client
        did not name (``implied``) accepts any type but holds the file to its size (the stream was
        held to the largest)."""
        self.check_filename(part.filename)
        if not implied:
            self.check_file_type(purpose, rules, part.filename)
        elif part.size > rules.max_bytes:
            raise PayloadTooLarge(
                "implied_purpose_size", limit=rules.max_bytes, read=part.size, filename=part.filename, purpose=purpose
            )
        return Accepted(part, purpose, rules)

    def commit(
        self,
        budget: UploadBudget,
        accepted: Accepted,
        *,
        expires_after: int | None = None,
        outcome: Outcome | None = None,
        dialect: str = "openai",
        description: str | None = None,
        id_shape: IdShape | None = None,
    ) -> tuple[StoredFile, float]:
        """Store an accepted file, and the emulator time it was stored at: its quotas are checked
        again under the lock if the account's usage grew since the budget was made."""
        part = accepted.part
        return self._store(
            budget.account,
            accepted.purpose,
            accepted.rules,
            filename=part.filename,
            chunks=part.chunks,
            size=part.size,
            digest=part.kept,
            expires_after=expires_after,
            outcome=outcome,
            dialect=dialect,
            description=description,
            id_shape=id_shape,
            budget=budget,
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
        """A file stored from code (its purpose checked here), not through an upload's budget."""
        rules = self.rules(purpose, dialect)
        return self._store(
            account,
            purpose,
            rules,
            filename=filename,
            chunks=chunks,
            size=size,
            expires_after=expires_after,
            outcome=outcome,
            dialect=dialect,
            description=description,
            id_shape=id_shape,
            digest=digest,
        )[0]

    def _store(
        self,
        account: str,
        purpose: str,
        rules: PurposeRules,
        *,
        filename: str,
        chunks: Sequence[bytes],
        size: int,
        expires_after: int | None,
        outcome: Outcome | None,
        dialect: str,
        description: str | None,
        id_shape: IdShape | None,
        digest: KeptDigest | None,
        budget: UploadBudget | None = None,
    ) -> tuple[StoredFile, float]:
        if size == 0:
            raise InvalidRequest("empty_file", param="file")
        self.check_size(rules, size)
        least = self.profile.expires_after_min
        if expires_after is not None and expires_after < least:
            raise InvalidRequest(
                "expires_after_too_short", param="expires_after.seconds", least=least, value=expires_after
            )
        with self.lock:
            now = self.clock.now()  # the instant it is stored at, and shown at
            if budget is None or not budget.holds():
                self.check_room(account, size, now)
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
            return self.store.add(f), now

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
            now = self.clock.now()
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
