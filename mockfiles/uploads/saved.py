"""How the Uploads service joins a data directory (persistence/): Uploads and their Parts."""

from __future__ import annotations

import heapq
from dataclasses import replace
from typing import Any

from mockfiles.persistence.changes import Changes, Kind, Loaded
from mockfiles.uploads.service import Part, Upload, Uploads


def _stored_form(upload: Upload) -> Upload:
    """An Upload as a data directory keeps it: its Parts are records of their own."""
    return replace(upload, parts={}, held=0, completing=False)


class SavedUploads:
    kinds: tuple[Kind, ...] = (Kind("upload", (Upload,), _stored_form), Kind("upload_part", (Part,)))

    def __init__(self, uploads: Uploads) -> None:
        self.uploads = uploads

    def track(self, changes: Changes) -> None:
        self.uploads.changes = changes

    def counters(self) -> dict[str, Any]:
        return {"seq": self.uploads._seq}

    def restore(self, loaded: Loaded, counters: dict[str, Any]) -> None:
        """Back to the Uploads and Parts a data directory holds (after the files: a pending
        Upload's Parts count toward its account's storage again)."""
        uploads = self.uploads
        parts: dict[str, list[Part]] = {}
        for _, _, part in sorted(loaded["upload_part"], key=lambda row: (row[2].created_at, row[0])):
            parts.setdefault(part.upload_id, []).append(part)
        for _, _, upload in sorted(loaded["upload"], key=lambda row: row[2].seq):
            uploads._uploads[upload.id] = upload
            if upload.state != "pending":  # ended before it expired at the latest: forgotten an hour after that
                uploads._ended(upload, upload.expires_at)
                continue
            heapq.heappush(uploads._expiry, (upload.expires_at, upload.seq, upload.id))
            for part in parts.get(upload.id, ()):
                upload.parts[part.id] = part
                upload.held += part.size
                uploads.files.store.hold(upload.id, upload.account, part.size, upload.expires_at)
        uploads._seq = counters["seq"]
