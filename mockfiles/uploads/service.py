"""The Uploads API's rules: one file sent as Parts, then assembled into a File.

Knows nothing about HTTP. An Upload is created with its declared size, takes Parts in any
order (concurrently too), and is completed into a normal File through the Files service,
cancelled, or left to expire an hour after it was created. A Part keeps the chunk list the
multipart reader filled, and the completed File's chunks are those lists laid end to end:
no byte is copied. Until then a pending Upload's Parts count toward the account's storage
(held in the store under the Upload's id), and they are freed when it completes, is
cancelled or expires. Expiry is lazy, as the store's: a heap drained at each operation.
Nothing an Upload keeps grows without bound: a ``mime_type`` of at most 255 characters, at most
``max_parts`` Parts (10,000, as S3's), and once it has ended it is remembered one lifetime more (a
retried complete or cancel is still answered), then forgotten, as S3 forgets a finished upload.

Every refusal is worded in the one error table (``error_table.py``); the request bodies are read
in ``upload_requests``. docs/uploads.md describes the whole API.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from mockfiles.core import ids
from mockfiles.core.errors import InvalidRequest, MockFilesError, NotFound, PayloadTooLarge, QuotaExceeded
from mockfiles.core.profiles import UploadRules
from mockfiles.files.digest import md5_of as md5_of
from mockfiles.files.service import Files, Outcome
from mockfiles.files.store import StoredFile
from mockfiles.persistence.changes import NO_CHANGES, Changes
from mockfiles.uploads.requests import CompleteRequest, CreateRequest


@dataclass(slots=True, eq=False)
class Part:
    """Bytes for one Upload, in the order the client decides only at completion."""

    id: str
    upload_id: str
    created_at: int
    chunks: Sequence[bytes]  # the multipart reader's own list, kept as it is
    size: int


@dataclass(slots=True, eq=False)
class Upload:
    """One file on its way in. ``state`` changes only under the Files service's lock; a pending
    Upload past ``expires_at`` shows ``expired`` even before the heap has caught up with it."""

    id: str
    account: str
    filename: str
    purpose: str
    bytes: int
    mime_type: str
    created_at: int
    expires_at: int
    expires_after: int | None  # the completed File's lifetime, as for POST /files
    dialect: str
    seq: int
    state: str = "pending"  # pending, completed, cancelled, expired
    completing: bool = False  # between the checks of a completion and its File
    held: int = 0  # bytes in parts
    parts: dict[str, Part] = field(default_factory=dict)
    file_id: str | None = None  # the File it became (an id: a deleted File's bytes must not live on here)

    def status(self, now: float) -> str:
        if self.state == "pending" and now >= self.expires_at:
            return "expired"
        return self.state


@dataclass(frozen=True)
class PartBudget:
    """What the reader of one Part's body needs before its first byte, computed once: read at
    most ``limit`` bytes, and when the Part crosses it, answer with ``refusal(bytes_read)``.
    ``add_part`` checks again (other Parts may have taken the room meanwhile)."""

    upload_id: str
    part_max: int  # the profile's Part maximum: 413 beyond
    upload_max: int  # the most an Upload's Parts may hold together: 400 beyond
    upload_held: int  # what its Parts held when the budget was made
    storage_limit: int | None  # the account's storage: 400 (quota) beyond
    storage_used: int

    @property
    def upload_room(self) -> int:
        return max(0, self.upload_max - self.upload_held)

    @property
    def account_room(self) -> int:
        return 2**63 if self.storage_limit is None else max(0, self.storage_limit - self.storage_used)

    @property
    def limit(self) -> int:
        return min(self.part_max, self.upload_room, self.account_room)

    def refusal(self, read: int) -> MockFilesError:
        """The error for a Part refused after ``read`` bytes (more than ``limit``): the quota's,
        the Upload maximum's, or else the Part maximum's 413."""
        if self.storage_limit is not None and read > self.account_room:
            return part_over_storage(read, self.storage_limit, self.storage_used)
        if read > self.upload_room:
            return parts_over_max(self.upload_id, self.upload_held, read, self.upload_max)
        return part_too_large(self.part_max, read)


def part_too_large(limit: int, read: int) -> PayloadTooLarge:
    """A Part over its maximum: a 413 worded as POST /files words an oversized file."""
    return PayloadTooLarge("size_limit_read", limit=limit, read=read)


def part_over_storage(size: int, limit: int, used: int) -> QuotaExceeded:
    return QuotaExceeded("part_over_storage", which="storage", limit=limit, used=used, size=size, param="data")


def parts_over_max(upload_id: str, held: int, size: int, limit: int) -> InvalidRequest:
    return InvalidRequest("parts_over_max", param="data", id=upload_id, held=held, size=size, limit=limit)


class Uploads:
    """Every account's Uploads, over one Files service (its lock, clock, store and rules)."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self._uploads: dict[str, Upload] = {}
        self._expiry: list[tuple[int, int, str]] = []
        self._forget: list[tuple[float, int, str]] = []  # (when an ended Upload is forgotten, seq, id): a heap
        self._seq = 0
        self.changes: Changes = NO_CHANGES  # a data directory's marks (persistence/changes.py)

    @property
    def rules(self) -> UploadRules:
        return self.files.profile.uploads

    def max_bytes(self, purpose: str) -> int:
        """The most an Upload of this purpose may declare."""
        rules = self.rules
        capped = rules.capped_purposes
        if capped is not None and purpose not in capped:
            return rules.max_bytes
        return min(rules.max_bytes, self.files.profile.purposes[purpose].max_bytes)

    # --- operations ---------------------------------------------------------------

    def create(self, account: str, request: CreateRequest, *, dialect: str = "openai") -> Upload:
        files, rules = self.files, self.rules
        purpose, size = request.purpose, request.bytes
        purpose_rules = files.rules(purpose, dialect)
        try:
            files.check_filename(request.filename)
            files.check_file_type(purpose, purpose_rules, request.filename)
        except InvalidRequest as err:
            err.param = "filename"
            raise
        if size > rules.max_bytes:
            raise InvalidRequest("upload_too_large", param="bytes", limit=rules.max_bytes, bytes=size)
        limit = self.max_bytes(purpose)
        if size > limit:
            raise InvalidRequest("upload_purpose_too_large", param="bytes", purpose=purpose, limit=limit, bytes=size)
        with files.lock:
            now = self._now()
            try:
                files.check_room(account, size, now)  # the File it becomes must fit, by count and by bytes
            except QuotaExceeded as err:
                err.param = "bytes"
                raise
            created_at = int(now)
            self._seq += 1
            upload = Upload(
                id=self._new_id(),
                account=account,
                filename=request.filename,
                purpose=purpose,
                bytes=size,
                mime_type=request.mime_type,
                created_at=created_at,
                expires_at=created_at + rules.lifetime,
                expires_after=request.expires_after,
                dialect=dialect,
                seq=self._seq,
            )
            self._uploads[upload.id] = upload
            self.changes.put("upload", upload.id, account, upload)
            heapq.heappush(self._expiry, (upload.expires_at, upload.seq, upload.id))
            return upload

    def get(self, account: str, upload_id: str) -> Upload:
        with self.files.lock:
            self._now()
            return self._find(account, upload_id)

    def all_uploads(self) -> list[Upload]:
        """Every account's Uploads, oldest first (for the control routes)."""
        with self.files.lock:
            self._now()
            return sorted(self._uploads.values(), key=lambda u: u.seq)

    def file_of(self, upload: Upload) -> StoredFile | None:
        """The File a completed Upload became, while it exists (deleted or expired: None)."""
        if upload.file_id is None:
            return None
        try:
            return self.files.get(upload.account, upload.file_id)
        except NotFound:
            return None

    def part_budget(self, account: str, upload_id: str) -> PartBudget:
        """Refuses at once (404, or 400 when the Upload takes no more Parts); else the limits."""
        with self.files.lock:
            now = self._now()
            upload = self._open(account, upload_id, "add a Part to")
            self._check_parts(upload)
            _, used = self.files.store.usage(account, now)
            return PartBudget(
                upload_id=upload.id,
                part_max=self.rules.max_part_bytes,
                upload_max=self.rules.max_bytes,
                upload_held=upload.held,
                storage_limit=self.files.profile.max_total_bytes,
                storage_used=used,
            )

    def add_part(self, account: str, upload_id: str, chunks: Sequence[bytes], size: int) -> Part:
        """Keep one Part (``chunks`` as they are, not copied); safe to call from many threads."""
        files, rules = self.files, self.rules
        with files.lock:
            now = self._now()
            upload = self._open(account, upload_id, "add a Part to")
            self._check_parts(upload)
            if size > rules.max_part_bytes:
                raise part_too_large(rules.max_part_bytes, size)
            if upload.held + size > rules.max_bytes:
                raise parts_over_max(upload.id, upload.held, size, rules.max_bytes)
            storage = files.profile.max_total_bytes
            _, used = files.store.usage(account, now)
            if storage is not None and used + size > storage:
                raise part_over_storage(size, storage, used)
            part = Part(self._new_part_id(upload), upload.id, int(now), chunks, size)
            upload.parts[part.id] = part
            upload.held += size
            self.changes.put("upload_part", part.id, account, part)
            files.store.hold(upload.id, account, size, upload.expires_at)
            return part

    def complete(
        self, account: str, upload_id: str, request: CompleteRequest, *, outcome: Outcome | None = None
    ) -> Upload:
        """Assemble the listed Parts into a File. Every check comes before anything changes: a
        refused completion leaves the Upload pending, to be completed again or cancelled. The
        md5 (1.4 s per GiB, docs/uploads.md) is computed outside the lock, so call this off the event loop
        when ``request.md5`` is given."""
        files = self.files
        with files.lock:
            self._now()
            upload = self._open(account, upload_id, "complete")
            parts = self._listed_parts(upload, request.part_ids)
            total = sum(p.size for p in parts)
            if total != upload.bytes:
                raise InvalidRequest("bytes_mismatch", param="part_ids", total=total, id=upload.id, bytes=upload.bytes)
            upload.completing = True
        try:
            chunks = [chunk for p in parts for chunk in p.chunks]  # references, one per chunk
            if request.md5 is not None:
                actual = md5_of(chunks)
                if actual != request.md5:
                    raise InvalidRequest("md5_mismatch", param="md5", actual=actual, given=request.md5)
        except BaseException:
            with files.lock:
                upload.completing = False
            raise
        with files.lock:
            upload.completing = False
            if upload.status(self._now()) != "pending":  # it expired while its md5 was computed
                raise self._state_error(upload, "complete")
            held = files.store.release(upload.id)  # the File takes the held bytes' place
            try:
                f = files.create(
                    account,
                    purpose=upload.purpose,
                    filename=upload.filename,
                    chunks=chunks,
                    size=total,
                    expires_after=upload.expires_after,
                    outcome=outcome,
                    dialect=upload.dialect,
                )
            except BaseException:
                files.store.hold(upload.id, account, held, upload.expires_at)
                raise
            upload.file_id = f.id
            upload.state = "completed"
            self._forget_parts(upload)  # the listed Parts live on in the File; the others are freed
            self._ended(upload, files.clock.now())
            return upload

    def cancel(self, account: str, upload_id: str) -> Upload:
        """Cancelling a cancelled Upload answers it again (a retried cancel must not fail)."""
        with self.files.lock:
            now = self._now()
            upload = self._find(account, upload_id)
            if upload.state == "cancelled":
                return upload
            if upload.status(now) != "pending" or upload.completing:
                raise self._state_error(upload, "cancel")
            upload.state = "cancelled"
            self._free(upload)
            self._ended(upload, now)
            return upload

    # --- inside the lock ----------------------------------------------------------------

    def _now(self) -> float:
        """The clock, after every Upload whose hour is over has expired and been freed."""
        now = self.files.now()  # batches that ended meanwhile have written their files first
        heap = self._expiry
        while heap and heap[0][0] <= now:
            _, _, upload_id = heapq.heappop(heap)
            upload = self._uploads.get(upload_id)
            if upload is not None and upload.state == "pending":
                upload.state = "expired"
                self._free(upload)
                self._ended(upload, upload.expires_at)
        forget = self._forget
        while forget and forget[0][0] <= now:
            _, _, upload_id = heapq.heappop(forget)
            if self._uploads.pop(upload_id, None) is not None:
                self.changes.drop("upload", upload_id)
        return now

    def _ended(self, upload: Upload, at: float) -> None:
        """An Upload has ended at ``at``: it is forgotten one lifetime later."""
        heapq.heappush(self._forget, (at + self.rules.lifetime, upload.seq, upload.id))

    def _check_parts(self, upload: Upload) -> None:
        limit = self.rules.max_parts
        if len(upload.parts) >= limit:
            raise InvalidRequest("upload_part_limit", param="data", id=upload.id, limit=limit)

    def _free(self, upload: Upload) -> None:
        self._forget_parts(upload)
        self.files.store.release(upload.id)

    def _forget_parts(self, upload: Upload) -> None:
        """The Upload has ended: its Parts go (marked, with its new state)."""
        for part_id in upload.parts:
            self.changes.drop("upload_part", part_id)
        upload.parts = {}
        upload.held = 0
        self.changes.put("upload", upload.id, upload.account, upload)

    def _find(self, account: str, upload_id: str) -> Upload:
        upload = self._uploads.get(upload_id)
        if upload is None or upload.account != account:
            raise NotFound("no_such_upload", param="id", id=upload_id)
        return upload

    def _open(self, account: str, upload_id: str, action: str) -> Upload:
        """A pending Upload that no completion is under way for."""
        upload = self._find(account, upload_id)
        if upload.state != "pending" or upload.completing:
            raise self._state_error(upload, action)
        return upload

    def _state_error(self, upload: Upload, action: str) -> MockFilesError:
        if upload.state == "pending" and upload.completing:
            return InvalidRequest("upload_completing", action=action, id=upload.id)
        state = "expired" if upload.state == "pending" else upload.state
        return InvalidRequest(
            f"upload_{state}", action=action, id=upload.id, file_id=upload.file_id, expires_at=upload.expires_at
        )

    def _listed_parts(self, upload: Upload, part_ids: Sequence[str]) -> list[Part]:
        seen: set[str] = set()
        parts = []
        for part_id in part_ids:
            if part_id in seen:
                raise InvalidRequest("duplicate_part", param="part_ids", part_id=part_id)
            seen.add(part_id)
            part = upload.parts.get(part_id)
            if part is None:
                raise InvalidRequest("unknown_part", param="part_ids", part_id=part_id, id=upload.id)
            parts.append(part)
        return parts

    def _new_id(self) -> str:
        shape = self.rules.id_shape
        while True:
            candidate = shape.make(ids.random_token(self.files.rng, shape.alphabet, shape.length))
            if candidate not in self._uploads:
                return candidate

    def _new_part_id(self, upload: Upload) -> str:
        shape = self.rules.part_id_shape
        while True:
            candidate = shape.make(ids.random_token(self.files.rng, shape.alphabet, shape.length))
            if candidate not in upload.parts:
                return candidate
