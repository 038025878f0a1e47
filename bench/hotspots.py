"""Where a request's server CPU goes, under wrk load: py-spy samples the mockfiles server
while wrk drives one request, and each sample is put in the most specific part of the work
it falls in (its innermost frame that belongs to a known part); the shares, times the
server's CPU per request measured in a run without the profiler, give microseconds per
request for each part.

    pip install -e '.[bench]'        # py-spy, matplotlib
    python -m bench.hotspots [--request retrieve|list|upload] [--seconds 10] [--svg profile.svg]

Native frames (uvloop, httptools, orjson, the C library) are sampled too (``py-spy
--native``). py-spy reads the process without pausing it (``--nonblocking``), so the server
runs at its usual pace; a sample caught while the thread sleeps is not counted, and time in
the kernel (socket reads and writes) shows under the frame that made the call.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.load import loads
from bench.servers import mockfiles_server
from bench.wrk import find_wrk, run_wrk

# (part, pattern over one frame "function (file:line)"), tried from the innermost frame outwards,
# every pattern against a frame before moving to the next frame out.
PARTS: list[tuple[str, str]] = [
    ("authentication", r"mockfiles/auth\.py|\bauthenticate \("),
    ("rate check", r"mockfiles/ratelimit\.py|\bcheck_rate \("),
    ("fault rules", r"mockfiles/(chaos|faults)\.py|\bapply_faults \("),
    ("journal", r"mockfiles/journal\.py|\brecord \(mockfiles/app\.py"),
    ("request id", r"mockfiles/ids\.py|\bnew_request_id \("),
    ("request context", r"mockfiles/context\.py|\bRequestContext\b"),
    ("dialect response headers", r"\bheaders \(mockfiles/dialects/"),
    ("routing", r"mockfiles/routes\.py"),
    ("the upload's form (python-multipart, digest)", r"mockfiles/(upload|digest)\.py|python_multipart|multipart"),
    ("store lookup and file object", r"mockfiles/(lifecycle|store)\.py|\bfile_object \(|\blist_object \(|\bpage \("),
    ("JSON encoding (orjson) and response object", r"mockfiles/responses\.py|orjson"),
    ("Starlette Request, Response.__call__", r"starlette/"),
    ("the handler and admit() (files_api.py)", r"mockfiles/files_api\.py"),
    ("outer layer: headers scan, dialect, exchange (app.py)", r"mockfiles/app\.py"),
    ("connection layer (mockfiles/protocol.py)", r"mockfiles/protocol\.py"),
    ("uvicorn: HTTP protocol, ASGI cycle, send", r"uvicorn/"),
    ("httptools parser", r"httptools|llhttp|parser\.cpython"),
    ("event loop, sockets and kernel (uvloop, libuv, libc)", r"uvloop|\buv_|\buv__|libc|epoll|send|recv|write|read"),
]
COMPILED = [(name, re.compile(pattern)) for name, pattern in PARTS]


def part_of(stack: list[str]) -> str:
    for frame in reversed(stack):  # innermost first
        for name, pattern in COMPILED:
            if pattern.search(frame):
                return name
    return "other (Python runtime, asyncio, uncategorised)"


def shares(raw: str) -> tuple[dict[str, float], int]:
    """Each part's share of the samples of py-spy's raw (collapsed) output, and the sample count."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text or not count.isdigit():
            continue
        frames = stack_text.split(";")
        if frames and frames[0].startswith("process "):  # --threads adds the thread; --subprocesses the process
            frames = frames[1:]
        counts[part_of(frames)] += int(count)
    total = sum(counts.values())
    return {name: count / total for name, count in counts.most_common()}, total


def profile(request: str, seconds: int, rate: int, svg: Path | None) -> None:
    wrk = find_wrk(install=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if wrk is None or not Path(spy).exists():
        sys.exit("needs wrk and py-spy (pip install -e '.[bench]')")
    with mockfiles_server() as server, tempfile.TemporaryDirectory(prefix="bench-spy-") as folder:
        load = {"retrieve": 0, "list": 1, "upload": 2}[request]
        chosen = list(loads(server).values())[load]
        run_wrk(wrk, server, chosen, 32, 2)  # warm-up
        clean = run_wrk(wrk, server, chosen, 32, seconds)  # the CPU per request, without the profiler
        raw = Path(folder) / "raw.txt"
        spy_command = [spy, "record", "--pid", str(server.pid), "--rate", str(rate), "--nonblocking", "--native"]
        spy_seconds = seconds * (2 if svg else 1)
        loader = threading.Thread(target=run_wrk, args=(wrk, server, chosen, 32, spy_seconds + 2), daemon=True)
        loader.start()
        time.sleep(1)
        record = [*spy_command, "--duration", str(seconds)]
        subprocess.run([*record, "--format", "raw", "--output", str(raw)], check=True, capture_output=True)
        if svg is not None:
            subprocess.run([*record, "--output", str(svg)], check=True, capture_output=True)
        loader.join()
        parts, samples = shares(raw.read_text())
    user, kernel = (spent / clean.requests * 1e6 for spent in (clean.server.user, clean.server.system))
    print(
        f"## where {chosen.method} {chosen.path} spends its server CPU: {clean.rps:,.0f} req/s, "
        f"{clean.server_us:.1f} us per request (user {user:.1f} + kernel {kernel:.1f}), server "
        f"{clean.server_share:.2f} core, wrk {clean.generator_share:.2f}; {samples:,} samples"
    )
    for name, share in parts.items():
        print(f"  {share * clean.server_us:6.1f} us  {share:6.1%}  {name}")
    if svg is not None:
        print(f"flame graph: {svg}")


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--request", choices=("retrieve", "list", "upload"), default="retrieve")
    cli.add_argument("--seconds", type=int, default=10)
    cli.add_argument("--rate", type=int, default=200, help="samples per second")
    cli.add_argument("--svg", type=Path, help="also record a flame graph there")
    args = cli.parse_args()
    profile(args.request, args.seconds, args.rate, args.svg)


if __name__ == "__main__":
    main()
