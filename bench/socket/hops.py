"""The hops of one upload: every call into mockfiles' own code while the openai SDK uploads a
file (``POST /v1/files``) over a socket, from the connection (web/protocol.py) to the store and
back, counted by a profile hook on the server's threads; or of one retrieve of that file.

    python -m bench.socket.hops            # the counts, then each function in the order first entered
    python -m bench.socket.hops retrieve   # the same for GET /v1/files/{file_id}

A hop is one function boundary crossed in our code (a call, a generator or coroutine resumed is
not counted again); comprehensions are left out, and so is the connection's work per socket read
(``PER_READ``: how many reads a request takes is the socket's choice), so that the figure is the
same from one run to the next for a given code base: it counts calls, not time.
"""

from __future__ import annotations

import inspect
import io
import sys
import threading
import time
import types
from collections import Counter
from pathlib import Path
from typing import Any

import openai

import mockfiles
from mockfiles.server import MockFilesServer

ROOT = str(Path(mockfiles.__file__).parent)
RESUMABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
PER_READ = frozenset(
    {
        "web/protocol.py:MockFilesProtocol.data_received",
        "web/protocol.py:MockFilesProtocol._idle_too_long",
        "web/protocol.py:MockFilesProtocol._head_arrived",
        "web/protocol.py:MockFilesProtocol._body_arrived",
        "web/protocol.py:MockFilesProtocol._arm",
        "web/protocol.py:MockFilesProtocol._disarm",
        "web/app.py:MockFilesApp.timeouts",
    }
)
CONTENT = b'{"prompt": "a", "completion": "b"}\n' * 4


class Hops:
    def __init__(self) -> None:
        self.on = False
        self.calls: Counter[str] = Counter()
        self.order: list[str] = []
        self.entered: dict[int, types.FrameType] = {}

    def hook(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if not self.on or event != "call":
            return
        code = frame.f_code
        if not code.co_filename.startswith(ROOT) or code.co_name.startswith("<"):
            return
        if code.co_flags & RESUMABLE:  # a generator or coroutine: counted when first entered
            if id(frame) in self.entered:
                return
            self.entered[id(frame)] = frame  # held: its id is not reused meanwhile
        name = f"{code.co_filename[len(ROOT) + 1 :]}:{code.co_qualname}"
        if name in PER_READ:
            return
        if name not in self.calls:
            self.order.append(name)
        self.calls[name] += 1


def measure(operation: str = "upload", rounds: int = 3) -> Hops:
    """The ``operation`` with the fewest hops of ``rounds`` (after two to warm up)."""
    rounds_seen: list[Hops] = []
    hops = Hops()
    threading.setprofile(lambda frame, event, arg: hops.hook(frame, event, arg))
    try:
        with MockFilesServer() as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)

            def upload() -> str:
                return client.files.create(file=("a.jsonl", io.BytesIO(CONTENT)), purpose="fine-tune").id

            file_id = upload()
            server.advance(60)  # processed: a retrieve of a processed file is what clients repeat
            act = upload if operation == "upload" else lambda: client.files.retrieve(file_id).id
            for _ in range(2):  # warm: imports, caches, the account's first sight
                act()
            for _ in range(rounds):
                time.sleep(1.1)  # the upload rate class: 3 a second
                hops.on = True
                act()
                hops.on = False
                hops.entered.clear()
                rounds_seen.append(hops)
                hops = Hops()
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
    return min(rounds_seen, key=lambda seen: sum(seen.calls.values()))


def main() -> None:
    operation = sys.argv[1] if len(sys.argv) > 1 else "upload"
    if operation not in ("upload", "retrieve"):
        raise SystemExit("usage: python -m bench.socket.hops [upload|retrieve]")
    hops = measure(operation)
    print(f"{sum(hops.calls.values())} calls into mockfiles, {len(hops.calls)} functions, for one {operation}")
    for name in hops.order:
        print(f"{hops.calls[name]:>4}  {name}")


if __name__ == "__main__":
    main()
