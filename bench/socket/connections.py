"""The connection layer (mockfiles/protocol.py): what it costs a request, and what it holds off.

python -m bench.socket.connections [--quick]

1. per-request cost: uvicorn's HttpToolsProtocol against mockfiles' protocol, fed kept-alive GETs
   in-process by a trivial app (no sockets, no mockfiles app): the work the layer adds to every
   request that is not refused early;
2. an endless header: one connection streams a header that never ends (and goes on sending after
   the 431) while a client checks /_mockfiles/health; the health check's latency and the server's
   RSS growth;
3. idle connections: 200 connections that send nothing, or a request whose body never comes in
   full, against `mockfiles serve --header-timeout 2s --body-timeout 2s`: how many the server
   has closed a few seconds later.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from mockfiles.web.protocol import protocol_class

GET = b"GET /v1/files/file-abc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nUser-Agent: bench\r\n\r\n"
PARTIAL = (
    b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
    b"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000\r\n\r\n--B\r\n"
)


# --- 1. per-request cost ------------------------------------------------------------------


async def trivial_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class NullTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> None:
        self.writes += 1

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 1), "peername": ("127.0.0.1", 2)}.get(name, default)


async def per_request(cls: type[asyncio.Protocol], requests: int) -> float:
    """Microseconds per request through the protocol."""
    config = uvicorn.Config(trivial_app, lifespan="off", log_level="warning", access_log=False, proxy_headers=False)
    config.load()
    protocol: Any = cls(config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop())  # type: ignore[call-arg]
    transport = NullTransport()
    protocol.connection_made(transport)
    started = time.perf_counter()
    for _ in range(requests):
        protocol.data_received(GET)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - started
    assert transport.writes >= requests
    protocol.connection_lost(None)
    return elapsed / requests * 1e6


async def compare(requests: int, rounds: int) -> tuple[float, float, float]:
    ours = protocol_class()
    base, mine = [], []
    for _ in range(rounds):  # interleaved, so that machine noise falls on both alike
        base.append(await per_request(HttpToolsProtocol, requests))
        mine.append(await per_request(ours, requests))
    paired = statistics.median(m - b for b, m in zip(base, mine, strict=True))
    return statistics.median(base), statistics.median(mine), paired


# --- 2 and 3: a real server ----------------------------------------------------------------


@contextlib.contextmanager
def served(*args: str) -> Iterator[tuple[int, int]]:
    """`mockfiles serve` in its own process: (its pid, its port)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockfiles", "serve", "--port", "0", "--quiet", "--no-rate-limits", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        found = re.search(r"127\.0\.0\.1:(\d+)", process.stdout.readline())
        assert found, "no URL line"
        yield process.pid, int(found.group(1))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def endless_header(seconds: float) -> dict[str, Any]:
    with served() as (pid, port):
        before = peak = rss_mib(pid)
        stop = threading.Event()
        sent, answer = [0], [b""]

        def bomb() -> None:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(b"GET /v1/files HTTP/1.1\r\nHost: x\r\nX-Endless: ")
                sock.setblocking(False)
                piece = b"a" * 65536
                while not stop.is_set():
                    readable, writable, _ = select.select([sock], [sock], [], 0.5)
                    try:
                        if readable and not answer[0].endswith(b"<eof>"):
                            answer[0] += sock.recv(65536) or b"<eof>"  # then goes on sending regardless
                        if writable:
                            sent[0] += sock.send(piece)
                    except BlockingIOError:
                        pass
                    except OSError:  # the server closed: the drain's bounds were reached
                        return

        thread = threading.Thread(target=bomb, daemon=True)
        thread.start()
        latencies = []
        with httpx.Client(timeout=60) as http:
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                t0 = time.monotonic()
                http.get(f"http://127.0.0.1:{port}/_mockfiles/health")
                latencies.append(time.monotonic() - t0)
                peak = max(peak, rss_mib(pid))
                time.sleep(0.05)
        stop.set()
        thread.join(timeout=5)
    return {
        "health checks": len(latencies),
        "median ms": round(statistics.median(latencies) * 1000, 1),
        "max ms": round(max(latencies) * 1000, 1),
        "RSS growth MiB": round(peak - before, 1),
        "header sent MB": round(sent[0] / 1e6, 1),
        "answer": answer[0][:32].decode("latin-1"),
    }


def idle_connections(count: int, wait: float) -> dict[str, Any]:
    with served("--header-timeout", "2s", "--body-timeout", "2s") as (_, port):
        socks = []
        for i in range(count):
            sock = socket.create_connection(("127.0.0.1", port))
            if i % 2:
                sock.sendall(PARTIAL)
            socks.append(sock)
        time.sleep(wait)
        closed = 0
        for sock in socks:
            sock.setblocking(False)
            try:
                while sock.recv(65536):
                    pass
                closed += 1
            except BlockingIOError:
                pass
            except ConnectionResetError:
                closed += 1
            sock.close()
    return {"connections": count, "closed by the server": closed, "after s": wait}


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    args = cli.parse_args()
    requests, rounds, seconds, count = (500, 3, 1.0, 20) if args.quick else (30_000, 15, 20.0, 200)

    base, mine, paired = uvloop.run(compare(requests, rounds))
    print("## 1. the connection layer's cost per request (in-process, trivial app)")
    print(f"  uvicorn HttpToolsProtocol   {base:6.2f} us")
    print(f"  mockfiles protocol          {mine:6.2f} us   (paired difference {paired:+.2f} us)")
    print(f"## 2. an endless header for {seconds:g} s, health checked meanwhile")
    print("  " + ", ".join(f"{k}: {v}" for k, v in endless_header(seconds).items()))
    print(f"## 3. {count} idle connections (half silent, half with a body that never comes in full)")
    print("  " + ", ".join(f"{k}: {v}" for k, v in idle_connections(count, 4.0).items()))


if __name__ == "__main__":
    main()
