"""The sha256 of an upload's bytes, for the journal.

Hashing a large file costs more CPU than everything else the server does with its body, and on
a 2-core machine with the client on the other core no thread can hide it: hashed while it
streamed in, it slowed a large upload well below the raw read's pace (bench/README.md has the
figures). So the bytes a file keeps are hashed when
the digest is first asked for (``KeptDigest``: the journal reads it when its entry is read;
most entries never are), from the chunks the store keeps, or when those chunks are about to
go (the file is deleted or expires, or the upload is refused): the journal shows the same
digest, and the bytes are never held for it alone.

The bytes of a file that outgrew its account's room are dropped as they arrive, so they are
hashed as they stream in (``StreamDigest``): the first ``INLINE_BYTES`` inline, the rest on a
thread of the upload's own, fed in order through a queue bounded to ``MAX_QUEUED`` pieces
(``hashlib`` releases the GIL while it hashes).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import queue
import threading
from collections.abc import Iterable, Sequence

INLINE_BYTES = 1024 * 1024
MAX_QUEUED = 16  # pieces waiting for the thread (each at most the server's read size, 64-256 KiB)

Data = bytes | memoryview
_END: Data = b""  # the queue's end marker (an empty piece is never queued)


class StreamDigest:
    """sha256 over pieces given in order; ``hexdigest()`` once they are all given."""

    __slots__ = ("_hash", "_inline", "_queue", "_result", "_cancelled", "_finished")

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._inline = 0
        self._queue: queue.Queue[Data] | None = None
        self._result: concurrent.futures.Future[str] | None = None
        self._cancelled = False
        self._finished = False

    def update(self, data: Data) -> None:
        """Add the next piece. It must not change afterwards (bytes, or a view of bytes)."""
        if not data:
            return
        if self._queue is not None:
            self._queue.put(data)
            return
        self._hash.update(data)
        self._inline += len(data)
        if self._inline >= INLINE_BYTES:
            self._queue = queue.Queue(MAX_QUEUED)
            self._result = concurrent.futures.Future()
            threading.Thread(target=self._run, name="mockfiles-sha256", daemon=True).start()

    def finish(self) -> None:
        """Every piece has been given: the thread can finish its work and end (it does not
        wait for ``hexdigest()``, so a form of many large files holds no idle threads)."""
        if self._queue is not None and not self._finished:
            self._finished = True
            self._queue.put(_END)

    async def hexdigest(self) -> str:
        """The digest of every piece given; waits (without blocking the loop) for the thread to catch up."""
        if self._queue is None or self._result is None:
            return self._hash.hexdigest()
        self.finish()
        return await asyncio.wrap_future(self._result)

    def cancel(self) -> None:
        """No digest is wanted any more (the upload was refused or broken): stop the thread."""
        if self._queue is not None and not self._cancelled:
            self._cancelled = True
            if self._finished:
                return  # the thread ends by itself
            try:
                self._queue.put_nowait(_END)
            except queue.Full:  # the thread is busy: it sees the flag at its next piece
                pass

    def _run(self) -> None:
        assert self._queue is not None and self._result is not None
        pieces, digest = self._queue, self._hash
        while True:
            data = pieces.get()
            if data is _END or self._cancelled:
                break
            digest.update(data)
        if self._cancelled:
            self._result.cancel()
        else:
            self._result.set_result(digest.hexdigest())


class KeptDigest:
    """The sha256 of bytes that are kept in chunks, computed once, when first asked for
    (``value``) or when the bytes are about to go (``settle``); then the chunks are let go.
    Safe from any thread: a second caller waits for the first one's result."""

    __slots__ = ("_chunks", "_value", "_lock", "adopted")

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks: Sequence[bytes] = chunks  # not copied, and never changed once given
        self._value: str | None = None
        self._lock = threading.Lock()
        self.adopted = False  # a stored file keeps the chunks (and settles this when they go)

    def value(self) -> str:
        with self._lock:
            if self._value is None:
                digest = hashlib.sha256()
                for chunk in self._chunks:
                    digest.update(chunk)
                self._value, self._chunks = digest.hexdigest(), ()
            return self._value

    def make_now(self) -> None:
        """The chunks are about to go: hash them now, inline when they are few, else on a
        thread of their own (which holds them until it is done)."""
        if self._value is not None:
            return
        if sum(len(chunk) for chunk in self._chunks) <= INLINE_BYTES:
            self.value()
        else:
            threading.Thread(target=self.value, name="mockfiles-sha256", daemon=True).start()

    async def made(self) -> None:
        """Wait, off the event loop, until the digest is known."""
        if self._value is None:
            await asyncio.to_thread(self.value)


def md5_of(chunks: Iterable[bytes]) -> str:
    """The hex md5 of chunks, fed one by one, never joined: what an Upload's completion checks (1 GiB
    in 64 KiB chunks: see docs/uploads.md)."""
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()
