"""Load from `wrk` (Debian package `wrk`), with the CPU both sides spent.

wrk is written in C on an event loop: one thread makes tens of thousands of requests per
second, so against a Python server it idles, and the server sets the pace. Each run reads
the server's CPU time from /proc before and after, and wrk's from the kernel's account of
the finished child (``getrusage(RUSAGE_CHILDREN)``): a run where the server is near one
full core and wrk well below measures the server. What the rest of the machine did
meanwhile is reported too (this machine is shared).

Without wrk (and when it cannot be installed), a small asyncio HTTP client in this process
takes its place for GETs, and says that it may be the bottleneck itself.
"""

from __future__ import annotations

import asyncio
import functools
import re
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.tools.procstat import Meter, Usage
from bench.tools.servers import Served


@dataclass(frozen=True)
class Load:
    """One kind of request, repeated."""

    method: str
    path: str
    key: str = "bench"
    body: bytes = b""
    content_type: str | None = None


@dataclass(frozen=True)
class LoadRun:
    generator: str  # "wrk" or "python"
    connections: int
    requests: int
    seconds: float  # the generator's own measure of the run
    wall: float  # the generator process's life, over which CPU is counted
    errors: int  # non-2xx answers and socket errors
    server: Usage  # what the server process spent meanwhile
    generator_cpu: float  # seconds
    others_cpu: float  # seconds the rest of the machine was busy meanwhile (all cores)
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def server_us(self) -> float:
        """The server's CPU per request (user + kernel), in microseconds."""
        return self.server.cpu / max(1, self.requests) * 1e6

    @property
    def server_share(self) -> float:
        """The server's CPU as a share of one core over the run."""
        return self.server.cpu / self.wall

    @property
    def generator_share(self) -> float:
        return self.generator_cpu / self.wall

    @property
    def others_cores(self) -> float:
        return self.others_cpu / self.wall


@functools.cache
def find_wrk(install: bool) -> str | None:
    """wrk's path; when it is missing and ``install`` is set, the Debian package is installed
    (once: the answer is kept for the rest of the run)."""
    path = shutil.which("wrk")
    if path is not None or not install:
        return path
    print("wrk is not installed: installing the Debian package `wrk` with apt-get", flush=True)
    for command in (["apt-get", "install", "-y", "-qq", "wrk"], ["apt-get", "update", "-qq"]) * 2:
        try:
            subprocess.run(command, capture_output=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"  {' '.join(command)} failed: {exc}", flush=True)
            break
        if shutil.which("wrk"):
            return shutil.which("wrk")
    print(
        "wrk could not be installed (run `apt-get install wrk` as root): the load benchmarks fall back to a Python "
        "client, which may be slower than the servers it measures; its CPU is shown beside theirs",
        flush=True,
    )
    return None


LUA = """
wrk.method = "{method}"
wrk.headers["Authorization"] = "Bearer {key}"
{content_type}
{body}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_SUMMARY %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def lua_script(load: Load, folder: Path) -> Path:
    body = ""
    if load.body:
        (folder / "body").write_bytes(load.body)
        body = f'local f = io.open("{folder / "body"}", "rb")\nwrk.body = f:read("*a")\nf:close()'
    content_type = f'wrk.headers["Content-Type"] = "{load.content_type}"' if load.content_type else ""
    script = folder / "load.lua"
    script.write_text(LUA.format(method=load.method, key=load.key, content_type=content_type, body=body))
    return script


SUMMARY = re.compile(r"WRK_SUMMARY (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)")


def parse_summary(output: str) -> tuple[int, float, int, float, float]:
    """(requests, seconds, errors, p50 ms, p99 ms) from the script's summary line."""
    found = SUMMARY.search(output)
    if found is None:
        raise RuntimeError(f"wrk gave no summary:\n{output}")
    requests, duration_us, socket_errors, status_errors, p50, p99, _, _ = (int(x) for x in found.groups())
    return requests, duration_us / 1e6, socket_errors + status_errors, p50 / 1000, p99 / 1000


def run_wrk(wrk: str, server: Served, load: Load, connections: int, seconds: int) -> LoadRun:
    """One wrk run (one thread, ``connections`` keep-alive connections, ``seconds`` long)."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script = lua_script(load, Path(folder))
        command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script)]
        meter = Meter(server.pid, resource.RUSAGE_CHILDREN)
        command += [server.url + load.path]
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        wall, spent, generator, others = meter.read()
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    requests, measured, errors, p50, p99 = parse_summary(result.stdout)
    return LoadRun("wrk", connections, requests, measured, wall, errors, spent, generator, others, p50, p99)


# --- the fallback: a lean asyncio client in this process ------------------------------------------


async def _python_load(server: Served, load: Load, connections: int, seconds: float) -> tuple[int, int]:
    host, port = server.host_port
    request = f"{load.method} {load.path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {load.key}\r\n\r\n"
    deadline = time.perf_counter() + seconds
    done, errors = [0], [0]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < deadline:
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            await reader.readexactly(int(length.group(1)) if length else 0)
            done[0] += 1
            errors[0] += not head.startswith(b"HTTP/1.1 2")
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return done[0], errors[0]


def run_python(server: Served, load: Load, connections: int, seconds: int) -> LoadRun:
    if load.body:
        raise RuntimeError("the Python fallback client only sends requests without a body")
    meter = Meter(server.pid, resource.RUSAGE_SELF)
    requests, errors = asyncio.run(_python_load(server, load, connections, seconds))
    wall, spent, generator, others = meter.read()
    return LoadRun("python", connections, requests, wall, wall, errors, spent, generator, others)
