"""Where a request's server CPU goes, under wrk load: py-spy samples the mockfiles server
while wrk drives one request, and each sample is put in the most specific part of the work
it falls in (its innermost frame that belongs to a known part); the shares, times the
server's CPU per request measured in a run without the profiler, give microseconds per
request for each part.

    pip install -e '.[bench]'        # py-spy, matplotlib
    python -m bench.socket.hotspots [--request retrieve|list|upload] [--seconds 10] [--svg profile.svg]

Native frames (uvloop, httptools, orjson, the C library) are sampled too (``py-spy
--native``, which pauses the process for each sample: a few tens of microseconds, 200 times a
second, about 1 % of its time). A sample caught while the thread sleeps is not counted, and
time in the kernel (socket reads and writes) shows under the frame that made the call.
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
from dataclasses import dataclass
from pathlib import Path

from bench.socket.load import loads
from bench.tools.procstat import wait_for_quiet
from bench.tools.servers import Served, baseline_server, mockfiles_server
from bench.tools.wrk import Load, LoadRun, find_wrk, run_wrk

KERNEL = "the kernel (syscalls)"
# A sample whose innermost frame is one of these C library calls is in the kernel: its time is
# read exactly from /proc (the server's system time), not from the samples.
SYSCALL = re.compile(r"^(write|writev|read|readv|send|sendmsg|sendto|recv|recvmsg|recvfrom|epoll_p?wait|futex)\b.*libc")
# (part, pattern over one frame "function (file:line)"), tried from the innermost frame outwards,
# every pattern against a frame before moving to the next frame out.
PARTS: list[tuple[str, str]] = [
    ("authentication", r"mockfiles/admission/auth\.py|\bauthenticate \("),
    ("rate check", r"mockfiles/admission/ratelimit\.py|\bcheck_rate \("),
    ("fault rules", r"mockfiles/(admission/chaos|scenarios/fault_rules)\.py|\bapply_faults \("),
    ("journal", r"mockfiles/core/journal\.py|\brecord \(mockfiles/web/app\.py|\bExchange\.record \("),
    ("request id", r"mockfiles/core/ids\.py|\bnew_request_id \("),
    ("emulator clock", r"mockfiles/core/clock\.py|time_time|clock_gettime"),
    ("dialect's response headers", r"\bheaders \(mockfiles/web/dialects/"),
    ("routing", r"mockfiles/web/routing\.py"),
    (
        "the upload's form (python-multipart, sha256)",
        r"mockfiles/(web/multipart/\w+|files/digest)\.py|python_multipart|multipart|sha256",
    ),
    (
        "store lookup and file object",
        r"mockfiles/files/(service|store)\.py|\bfile_object \(|\blist_object \(|\bpage \(",
    ),
    ("JSON encoding (orjson) and response object", r"mockfiles/web/responses\.py|orjson"),
    ("regular expressions (uvicorn checks every response header with two)", r"_sre_|\bsre_|\bre\.py"),
    ("asyncio: a task per request (uvicorn), its WeakSet", r"_asyncio|_weakrefset|\bWeakSet\b|asyncio/"),
    ("Starlette routing (the baseline's)", r"starlette/(routing|applications|middleware|_exception_handler)"),
    ("Starlette Request, Response.__call__", r"starlette/"),
    ("the handler and admit() (web/api/files.py, web/front.py)", r"mockfiles/web/(api/files|front)\.py"),
    ("outer layer: header scan, dialect, exchange (web/app.py)", r"mockfiles/(web/app|admission/chaos)\.py"),
    ("connection layer (mockfiles/web/protocol.py)", r"mockfiles/web/protocol\.py"),
    ("uvicorn: HTTP protocol callbacks, ASGI cycle, send", r"uvicorn/"),
    ("httptools parser", r"httptools|llhttp|parser\.cpython"),
    ("event loop (uvloop, libuv)", r"uvloop|\buv_|\buv__|loop\.cpython"),
]
COMPILED = [(name, re.compile(pattern)) for name, pattern in PARTS]
OTHER = "other (interpreter, C library, uncategorised)"


def part_of(stack: list[str]) -> str:
    if stack and SYSCALL.search(stack[-1]):
        return KERNEL
    for frame in reversed(stack):  # innermost first
        for name, pattern in COMPILED:
            if pattern.search(frame):
                return name
    return OTHER


def shares(raw: str) -> tuple[dict[str, float], int]:
    """Each part's share of the user-space samples of py-spy's raw (collapsed) output (the kernel's
    samples apart), and the count of user-space samples."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack_text, _, count = line.rpartition(" ")
        if stack_text and count.isdigit():
            counts[part_of(stack_text.split(";"))] += int(count)
    counts.pop(KERNEL, None)
    total = sum(counts.values())
    return {name: count / total for name, count in counts.most_common()}, total


def spy_run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"py-spy failed: {done.stderr or done.stdout}")


@dataclass
class Profile:
    run: LoadRun  # without the profiler: the CPU per request
    parts: dict[str, float]  # shares of the user-space samples
    samples: int

    @property
    def user_us(self) -> float:
        return self.run.server.user / self.run.requests * 1e6

    @property
    def kernel_us(self) -> float:
        return self.run.server.system / self.run.requests * 1e6


def profile_one(wrk: str, spy: str, server: Served, load: Load, seconds: int, rate: int, svg: Path | None) -> Profile:
    run_wrk(wrk, server, load, 32, 2)  # warm-up
    wait_for_quiet()
    clean = run_wrk(wrk, server, load, 32, seconds)  # the CPU per request, without the profiler
    with tempfile.TemporaryDirectory(prefix="bench-spy-") as folder:
        raw = Path(folder) / "raw.txt"
        record = [spy, "record", "--pid", str(server.pid), "--rate", str(rate), "--native", "--duration", str(seconds)]
        loader = threading.Thread(
            target=run_wrk, args=(wrk, server, load, 32, seconds * (2 if svg else 1) + 2), daemon=True
        )
        loader.start()
        time.sleep(1)
        spy_run([*record, "--format", "raw", "--output", str(raw)])
        if svg is not None:
            spy_run([*record, "--output", str(svg)])
        loader.join()
        parts, samples = shares(raw.read_text())
    return Profile(clean, parts, samples)


def profile(request: str, seconds: int, rate: int, svg: Path | None) -> None:
    wrk = find_wrk(install=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if wrk is None or not Path(spy).exists():
        sys.exit("needs wrk and py-spy (pip install -e '.[bench]')")
    with mockfiles_server() as ours, baseline_server() as base:
        load = list(loads(ours).values())[{"retrieve": 0, "list": 1, "upload": 2}[request]]
        mine = profile_one(wrk, spy, ours, load, seconds, rate, svg)
        theirs = profile_one(wrk, spy, base, load, seconds, rate, None)
    print(f"## where {load.method} {load.path} spends the server's CPU under wrk -t1 -c32 (us per request)")
    for name, p in (("mockfiles", mine), ("baseline (a)", theirs)):
        r = p.run
        print(
            f"  {name}: {r.rps:,.0f} req/s, {r.server_us:.1f} us per request; cores: server {r.server_share:.2f}, "
            f"wrk {r.generator_share:.2f}, rest of the machine {r.others_cores:.2f}; {p.samples:,} user-space samples"
        )
    print(f"  {'mockfiles':>10} {'baseline':>9} {'more':>6}")
    rows = [
        ("total", mine.run.server_us, theirs.run.server_us),
        (KERNEL + ", from /proc", mine.kernel_us, theirs.kernel_us),
    ]
    rows.append(("user space, from /proc, shared out by the samples:", mine.user_us, theirs.user_us))
    for name in dict.fromkeys([*mine.parts, *theirs.parts]):
        rows.append(("  " + name, mine.parts.get(name, 0) * mine.user_us, theirs.parts.get(name, 0) * theirs.user_us))
    for name, a, b in rows:
        print(f"  {a:10.1f} {b:9.1f} {a - b:+6.1f}  {name}")
    if svg is not None:
        print(f"flame graph of mockfiles: {svg}")


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
