"""The in-process transport: 300 SDK cycles (create, retrieve, list, content, delete) through
``server.client(in_process=True)``, against the in-process peer openai-responses (respx) and
against mockfiles over a socket, interleaved in one run.

python -m bench.inprocess [--cycles 300] [--rounds 11] [--quick] [--peer-python PATH | --no-peer]

openai-responses 0.13 needs openai < 3 (and plain httpx), so the peer runs in a venv of its own
(made on first use under ~/.cache/mockfiles-bench/peer with ``pip install 'openai<3'
openai-responses -e .``): there, one process runs mockfiles in-process and openai-responses on the
same SDK, interleaved. This environment's SDK (openai 3, httpx2) runs mockfiles in-process against
mockfiles over a socket.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any, NamedTuple

BATCH = b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\n'
ROOT = Path(__file__).resolve().parent.parent
QUIET = 0.5  # cores: a round is undisturbed when the rest of the machine took less
PEER_PACKAGES = ("openai<3", "openai-responses", "pytest", "pytest-asyncio")  # pytest: bench/suite.py's suites
PEER_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mockfiles-bench" / "peer"


def cycle(client: Any, cycles: int) -> float:
    """Seconds for ``cycles`` × (create, retrieve, list, content, delete)."""
    started = time.perf_counter()
    for _ in range(cycles):
        f = client.files.create(file=("data.jsonl", BATCH), purpose="batch")
        client.files.retrieve(f.id)
        client.files.list()
        client.files.content(f.id).read()
        client.files.delete(f.id)
    return time.perf_counter() - started


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy, from /proc/stat (0 where there is none)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:8]]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(threshold: float = 0.3, patience: float = 30.0) -> float:
    """Wait (at most ``patience`` s) until the rest of the machine takes under ``threshold`` of a core."""
    deadline = time.monotonic() + patience
    while True:
        busy, started = machine_busy(), time.monotonic()
        time.sleep(0.5)
        load = (machine_busy() - busy) / (time.monotonic() - started)
        if load < threshold or time.monotonic() > deadline:
            return load


class Round(NamedTuple):
    wall: float  # seconds for the round's cycles
    cpu: float  # this process's CPU seconds (every thread: the SDK's and the server's)
    others: float  # cores the rest of the machine took meanwhile


def measured(run: Callable[[int], float], cycles: int) -> Round:
    busy, cpu = machine_busy(), time.process_time()
    wall = run(cycles)
    cpu = time.process_time() - cpu
    return Round(wall, cpu, max(0.0, (machine_busy() - busy - cpu) / wall))


def interleave(runs: dict[str, Callable[[int], float]], cycles: int, rounds: int) -> dict[str, list[Round]]:
    """Each runner once per round, the order turning from round to round."""
    names = list(runs)
    for name in names:
        runs[name](max(1, cycles // 10))  # warm-up
    times: dict[str, list[Round]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            times[name].append(measured(runs[name], cycles))
    return times


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def summary(times: dict[str, list[Round]], ours: str, other: str, cycles: int) -> list[str]:
    lines = [
        f"{name:27s} {statistics.median(r.wall for r in t) / cycles * 1000:6.2f} ms/cycle, "
        f"CPU {statistics.median(r.cpu for r in t) / cycles * 1000:5.2f} ms/cycle; "
        f"rest of the machine {statistics.median(r.others for r in t):.2f} cores"
        for name, t in times.items()
    ]
    pairs = list(zip(times[ours], times[other], strict=True))
    lines.append(f"{ours} / {other}, medians of the rounds' ratios (min–max):")
    lines.append(
        f"  time {spread([a.wall / b.wall for a, b in pairs])}; CPU {spread([a.cpu / b.cpu for a, b in pairs])}"
    )
    quiet = [(a, b) for a, b in pairs if max(a.others, b.others) < QUIET]
    if quiet:
        lines.append(
            f"  the {len(quiet)} rounds where the rest of the machine took under {QUIET} core: "
            f"time {spread([a.wall / b.wall for a, b in quiet])}"
        )
    return lines


FILE = (
    b'{"id":"file-abc","object":"file","bytes":95,"created_at":1,"filename":"data.jsonl","purpose":"batch",'
    b'"status":"processed","expires_at":null,"status_details":null}'
)
LIST = b'{"object":"list","data":[' + FILE + b'],"has_more":false,"first_id":"file-abc","last_id":"file-abc"}'
DELETED = b'{"id":"file-abc","object":"file","deleted":true}'


def floor_client(httpx: Any) -> Any:
    """The SDK on the library's ``MockTransport`` with canned answers: its own cost, the floor."""
    import openai

    def handler(request: Any) -> Any:
        path = request.url.path
        if path.endswith("/content"):
            return httpx.Response(200, content=BATCH)
        if path.endswith("/files"):
            return httpx.Response(200, content=FILE if request.method == "POST" else LIST)
        return httpx.Response(200, content=DELETED if request.method == "DELETE" else FILE)

    http = openai.DefaultHttpxClient(transport=httpx.MockTransport(handler))
    return openai.OpenAI(base_url="http://sdk.floor/v1", api_key="bench", http_client=http, max_retries=0)


def mockfiles_runs(cycles: int, rounds: int) -> dict[str, list[Round]]:
    import httpx2

    from mockfiles import MockFilesServer

    with MockFilesServer(rate_limits=False) as server:
        inproc = server.client(in_process=True, max_retries=0)
        sock = server.client(max_retries=0)
        floor = floor_client(httpx2)
        runs: dict[str, Callable[[int], float]] = {
            "mockfiles in-process": lambda n: cycle(inproc, n),
            "mockfiles socket": lambda n: cycle(sock, n),
            "SDK floor (MockTransport)": lambda n: cycle(floor, n),
        }
        return interleave(runs, cycles, rounds)


def peer_child(cycles: int, rounds: int) -> dict[str, Any]:
    """In the peer's venv: mockfiles in-process and openai-responses on the same SDK, interleaved."""
    import httpx
    import openai
    from openai_responses import OpenAIMock

    from mockfiles import MockFilesServer

    mock = OpenAIMock()
    peer = openai.OpenAI(api_key="sk-bench", max_retries=0)

    def peer_run(n: int) -> float:
        with mock.router:
            return cycle(peer, n)

    with MockFilesServer(rate_limits=False) as server:
        inproc = server.client(in_process=True, max_retries=0)
        floor = floor_client(httpx)
        runs: dict[str, Callable[[int], float]] = {
            "mockfiles in-process": lambda n: cycle(inproc, n),
            "openai-responses": peer_run,
            "SDK floor (MockTransport)": lambda n: cycle(floor, n),
        }
        times = interleave(runs, cycles, rounds)
    versions = {name: version(name) for name in ("openai", "httpx", "openai-responses", "respx")}
    return {"times": {name: [r._asdict() for r in rs] for name, rs in times.items()}, "versions": versions}


def peer_python(given: str | None) -> str:
    if given:
        return given
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"making the peer's venv in {PEER_VENV} ({', '.join(PEER_PACKAGES)}, this checkout)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES, "-e", str(ROOT)], check=True)
    return str(python)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--quick", action="store_true", help="10 cycles, 2 rounds: checks that it runs")
    parser.add_argument("--peer-python", help="a python with openai<3 and openai-responses (default: made)")
    parser.add_argument("--no-peer", action="store_true", help="only mockfiles in-process against its socket")
    parser.add_argument("--peer-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    cycles, rounds = (10, 2) if args.quick else (args.cycles, args.rounds)
    if args.peer_child:
        print(json.dumps(peer_child(cycles, rounds)))
        return

    print(f"# {cycles} SDK cycles a round, {rounds} interleaved rounds")
    if not args.quick:
        print(f"(waited for a quiet machine: the rest of it took {wait_for_quiet():.2f} cores)")
    print(f"\n## openai {version('openai')} (this environment): in-process against a socket")
    for line in summary(mockfiles_runs(cycles, rounds), "mockfiles in-process", "mockfiles socket", cycles):
        print("  " + line)
    if args.no_peer:
        return
    python = peer_python(args.peer_python)
    command = [python, "-m", "bench.inprocess", "--peer-child", "--cycles", str(cycles), "--rounds", str(rounds)]
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    named = ", ".join(f"{k} {v}" for k, v in result["versions"].items())
    print(f"\n## the peer's venv ({named}): in-process against openai-responses")
    peer_times = {name: [Round(**r) for r in rs] for name, rs in result["times"].items()}
    for line in summary(peer_times, "mockfiles in-process", "openai-responses", cycles):
        print("  " + line)
    print("  target: mockfiles in-process <= 0.7 x openai-responses")


if __name__ == "__main__":
    main()
