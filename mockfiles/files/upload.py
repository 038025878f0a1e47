"""One upload's budget and its accepted file: what the Files service (service.py) checks before and
while an upload's body streams in. Knows nothing about HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from mockfiles.core.errors import InvalidRequest, QuotaExceeded
from mockfiles.core.profiles import PurposeRules
from mockfiles.files.digest import KeptDigest

if TYPE_CHECKING:
    from mockfiles.files.service import Files

FILENAME_MAX = 512  # characters
UNLIMITED = 2**63  # the room of an account without a storage limit
# Controls (C0, DEL, C1 with U+0085 NEL), the line and paragraph separators, and the bidirectional
# overrides and isolates that make "txt.exe" show as "exe.txt" (U+202A-U+202E, U+2066-U+2069)
CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


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
    account's usage (at ``now``: the request's arrival): the file count now, and the room for bytes
    (asked afresh only when a file outgrows it: other uploads may have freed or taken room
    meanwhile). While the account's usage has not grown since, a file that fits the budget fits
    the account: ``commit`` looks at the usage again only if it has."""

    def __init__(self, files: Files, account: str, now: float | None = None) -> None:
        self.files = files
        self.account = account
        with files.lock:
            self.count, self.used = files.store.usage(account, files.now() if now is None else now)
            self.growth = files.store.growth(account)
        limit = files.profile.max_total_bytes
        self._room: int | None = UNLIMITED if limit is None else max(0, limit - self.used)

    def check_count(self) -> None:
        """Refuse at once when the account already holds its most files."""
        self.files.check_quota(self.count, self.used)

    def holds(self) -> bool:
        """Whether the budget still says what the account can take (call with the lock held): its
        usage has not grown since, and the budget had room for one more file."""
        files = self.files
        limit = files.profile.max_files
        return files.store.growth(self.account) == self.growth and (limit is None or self.count < limit)

    def check_fits(self, part: Incoming) -> None:
        """Refuse a file whose bytes were dropped while it streamed in, because it outgrew the
        ``room_left`` in its account: told as things stood then (another upload may have freed
        room since, but the bytes are gone)."""
        if part.room_left is not None:
            limit = self.files.profile.max_total_bytes
            limit = part.room_left if limit is None else limit
            raise storage_exceeded(max(0, limit - part.room_left), limit, part.size)

    @property
    def max_file_bytes(self) -> int:
        return self.files.profile.max_file_bytes

    def file_limit(self, purpose: str | None) -> int:
        return self.files.max_upload_bytes(purpose)

    def room(self) -> int:
        """Bytes the account can still store: the budget's own figure first, then afresh."""
        room, self._room = self._room, None
        return room if room is not None else self.files.room_for(self.account)


@dataclass(frozen=True)
class Accepted:
    """A file accepted for its purpose (``Files.accept``): what ``commit`` stores."""

    part: Incoming
    purpose: str
    rules: PurposeRules


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
