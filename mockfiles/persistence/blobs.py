"""Content-addressed files: each byte sequence stored once, named by its sha256, under
``blobs/<first two hex digits>/<sha256>``.

A blob is written to a temporary name in the same directory and renamed into place, so a name
that exists always holds the whole content it names; a process killed mid-write leaves only a
``.tmp`` file, removed at the next start. Blobs are written before the transaction that refers
to them commits, and removed only after the transaction that stops referring to them has
committed: a crash at any point leaves at worst an unreferenced blob (``sweep`` removes those).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

TMP_SUFFIX = ".tmp"


class BlobDir:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def write(self, pieces: Sequence[bytes]) -> str:
        """Store the pieces laid end to end; returns their sha256 (hashed as they are written)."""
        digest = hashlib.sha256()
        tmp = self.root / f"{os.getpid()}-{id(pieces):x}{TMP_SUFFIX}"
        with open(tmp, "wb") as out:
            for piece in pieces:
                digest.update(piece)
                out.write(piece)
        sha = digest.hexdigest()
        final = self.path(sha)
        if final.exists():
            tmp.unlink()
        else:
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
        return sha

    def read(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()

    def remove(self, shas: Iterable[str]) -> None:
        for sha in shas:
            self.path(sha).unlink(missing_ok=True)

    def sweep(self, keep: set[str]) -> int:
        """Remove every blob not in ``keep`` and every temporary file; returns how many went."""
        removed = 0
        for sub in self.root.iterdir():
            if sub.is_file() and sub.name.endswith(TMP_SUFFIX):
                sub.unlink()
                removed += 1
            elif sub.is_dir():
                for blob in sub.iterdir():
                    if blob.name not in keep:
                        blob.unlink()
                        removed += 1
        return removed

    def clear(self) -> None:
        self.sweep(set())
