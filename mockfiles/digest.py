"""The sha256 of an upload's bytes, computed while they stream in.

The journal shows each upload's digest, so it is computed as the bytes arrive rather
than from the stored chunks afterwards (which would read 200 MiB again once the upload
is over). Hashing runs at about 1.7 GB/s here (SHA extensions), so a 200 MiB file
costs about 0.12 s of CPU: on the event loop that is a fifth of the upload's time. So
the first ``INLINE_BYTES`` are hashed inline (a small upload pays a few microseconds
and starts no thread), and the rest on a thread of the upload's own, fed in order
through a queue: ``hashlib`` releases the GIL while it hashes, so the event loop keeps
parsing meanwhile, and at the end of the part the digest is at most a chunk or two
behind. The queue is bounded (``MAX_QUEUED`` pieces, a few MiB): a thread starved of CPU
makes the upload wait rather than pin the pieces of a file that is not being kept.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import queue
import threading

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
