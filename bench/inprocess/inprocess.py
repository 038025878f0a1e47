"""The in-process transport: SDK cycles (create, retrieve, list, content, delete) through
``server.client(in_process=True)`` beside the SDK's own floor (its ``MockTransport`` with canned
answers), mockfiles over a socket and the in-process peer openai-responses (respx), sync and async,
with openai 3.x (this environment) and 2.x (the peer's venv), interleaved in one run.

python -m bench.inprocess.inprocess [--cycles 300] [--rounds 7] [--before PATH] [--quick]
                                    [--peer-python PATH | --no-peer]

Each round is a fresh process (``--child``) that warms every client up, then runs ``cycles`` cycles
through each in turn (the order turning from round to round); the rounds of the two environments,
and of the code before (``--before PATH``: another checkout of mockfiles, ``git archive <commit> |
tar -x -C PATH``) and after, alternate. Each round records each client's time, the process's CPU
(every thread: the SDK's and, in process, the server's) and the CPU the rest of the machine took
meanwhile; the ratios printed are the medians of the rounds' ratios, with their spread.

openai-responses 0.13 needs openai < 3 (and plain httpx), so the peer runs in a venv of its own
(made on first use under ~/.cache/mockfiles-bench/peer with ``pip install 'openai<3'
openai-responses pytest pytest-asyncio -e .``).
"""

from __future__ import annotations

import argparse
import asyncio
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
ROOT = Path(__file__).resolve().parents[2]
QUIET = 0.5  # cores: a round is undisturbed when the rest of the machine took less
PEER_PACKAGES = ("openai<3", "openai-responses", "pytest", "pytest-asyncio")  # pytest: suite.py's suites
PEER_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mockfiles-bench" / "peer"
TARGETS = {"floor": 1.25, "openai-responses": 0.7}  # mockfiles in-process / each, at most


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


async def async_cycle(client: Any, cycles: int) -> float:
    started = time.perf_counter()
    for _ in range(cycles):
        f = await client.files.create(file=("data.jsonl", BATCH), purpose="batch")
        await client.files.retrieve(f.id)
        await client.files.list()
        await (await client.files.content(f.id)).aread()
        await client.files.delete(f.id)
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


def loadavg() -> float:
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return 0.0


class Round(NamedTuple):
    wall: float  # seconds for the round's cycles
    cpu: float  # this process's CPU seconds (every thread: the SDK's and the server's)
    others: float  # cores the rest of the machine took meanwhile


def measured(run: Callable[[int], float], cycles: int) -> Round:
    busy, cpu = machine_busy(), time.process_time()
    wall = run(cycles)
    cpu = time.process_time() - cpu
    return Round(wall, cpu, max(0.0, (machine_busy() - busy - cpu) / wall))


def floor_client(httpx: Any, asynchronous: bool = False) -> Any:
    """The SDK on the library's ``MockTransport`` with canned answers: its own cost, the floor."""
    import openai

    from bench.tools.baseline import canned_transport

    transport = canned_transport(httpx, BATCH)
    if asynchronous:
        http = openai.DefaultAsyncHttpxClient(transport=transport)
        return openai.AsyncOpenAI(base_url="http://sdk.floor/v1", api_key="bench", http_client=http, max_retries=0)
    http = openai.DefaultHttpxClient(transport=transport)
    return openai.OpenAI(base_url="http://sdk.floor/v1", api_key="bench", http_client=http, max_retries=0)


def child(cycles: int, shift: int) -> dict[str, Any]:
    """One round in this process: every client warmed up, then ``cycles`` cycles through each."""
    import openai

    from mockfiles import MockFilesServer

    httpx: Any = __import__(openai.DefaultHttpxClient.__mro__[1].__module__.partition(".")[0])
    runs: dict[str, Callable[[int], float]] = {}
    with MockFilesServer(rate_limits=False) as server:
        inproc, sock = server.client(in_process=True, max_retries=0), server.client(max_retries=0)
        floor, afloor = floor_client(httpx), floor_client(httpx, asynchronous=True)
        ainproc = server.async_client(in_process=True, max_retries=0)
        runs["in-process"] = lambda n: cycle(inproc, n)
        runs["socket"] = lambda n: cycle(sock, n)
        runs["floor"] = lambda n: cycle(floor, n)
        runs["async in-process"] = lambda n: asyncio.run(async_cycle(ainproc, n))
        runs["async floor"] = lambda n: asyncio.run(async_cycle(afloor, n))
        try:
            from openai_responses import OpenAIMock
        except ImportError:
            pass
        else:
            mock, peer = OpenAIMock(), openai.OpenAI(api_key="sk-bench", max_retries=0)

            def peer_run(n: int) -> float:
                with mock.router:
                    return cycle(peer, n)

            runs["openai-responses"] = peer_run
        names = list(runs)
        for name in names:
            runs[name](max(1, cycles // 10))  # warm-up
        order = names[shift % len(names) :] + names[: shift % len(names)]
        rounds = {name: measured(runs[name], cycles)._asdict() for name in order}
    return {"rounds": rounds, "openai": version("openai"), "load": loadavg()}


def peer_python(given: str | None) -> str:
    if given:
        return given
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"making the peer's venv in {PEER_VENV} ({', '.join(PEER_PACKAGES)}, this checkout)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES, "-e", str(ROOT)], check=True)
    return str(python)


def run_child(python: str, code: Path, cycles: int, shift: int) -> dict[str, Any]:
    """A round in a fresh process, with ``code``'s mockfiles (this script runs from its path)."""
    command = [python, str(Path(__file__).resolve()), "--child", "--cycles", str(cycles), "--shift", str(shift)]
    variables = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=variables)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def ratio_line(results: list[dict[str, Any]], ours: str, other: str) -> str:
    pairs = [(r["rounds"][ours], r["rounds"][other]) for r in results if other in r["rounds"]]
    walls = [a["wall"] / b["wall"] for a, b in pairs]
    cpus = [a["cpu"] / b["cpu"] for a, b in pairs]
    line = f"time {spread(walls)}, CPU {spread(cpus)}"
    quiet = [a["wall"] / b["wall"] for a, b in pairs if max(a["others"], b["others"]) < QUIET]
    if quiet:
        line += f"; the {len(quiet)} rounds where the rest of the machine took under {QUIET} core: {spread(quiet)}"
    return line


def report(name: str, by_code: dict[str, list[dict[str, Any]]], cycles: int) -> list[str]:
    first = next(iter(by_code.values()))
    lines = [f"\n## openai {first[0]['openai']} ({name})"]
    for code, results in by_code.items():
        label = f" ({code})" if len(by_code) > 1 else ""
        for client in results[0]["rounds"]:
            rounds = [r["rounds"][client] for r in results]
            lines.append(
                f"  {client + label:32s} {statistics.median(r['wall'] for r in rounds) / cycles * 1000:6.2f} ms/cycle, "
                f"CPU {statistics.median(r['cpu'] for r in rounds) / cycles * 1000:5.2f} ms/cycle; rest of the "
                f"machine {statistics.median(r['others'] for r in rounds):.2f} cores"
            )
    for code, results in by_code.items():
        label = f" ({code})" if len(by_code) > 1 else ""
        lines.append(f"  mockfiles in-process{label}, medians of the rounds' ratios (min–max):")
        for other, target in [("floor", TARGETS["floor"]), ("socket", None), ("openai-responses", 0.7)]:
            if other in results[0]["rounds"]:
                aim = f"   target <= {target}" if target else ""
                lines.append(f"    / {other:18s} {ratio_line(results, 'in-process', other)}{aim}")
        lines.append(f"    async / async floor  {ratio_line(results, 'async in-process', 'async floor')}")
    loads = [r["load"] for results in by_code.values() for r in results]
    lines.append(f"  load average during the rounds: {min(loads):.1f}–{max(loads):.1f}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess.inprocess", description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10 cycles, 1 round: checks that it runs")
    parser.add_argument("--before", type=Path, help="another checkout of mockfiles, run beside this one")
    parser.add_argument("--peer-python", help="a python with openai<3 and openai-responses (default: made)")
    parser.add_argument("--no-peer", action="store_true", help="only this environment")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shift", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    cycles, rounds = (10, 1) if args.quick else (args.cycles, args.rounds)
    if args.child:
        print(json.dumps(child(cycles, args.shift)))
        return
    envs = {"this environment": sys.executable}
    if not args.no_peer:
        envs["the peer's venv, with openai-responses"] = peer_python(args.peer_python)
    codes = {"after": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    print(f"# {cycles} SDK cycles a client a round, {rounds} rounds in fresh processes, interleaved")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, load average at the start {loadavg():.1f}", flush=True)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {env: {code: [] for code in codes} for env in envs}
    for r in range(rounds):
        for env, python in envs.items():
            for code, path in codes.items() if r % 2 == 0 else reversed(codes.items()):
                results[env][code].append(run_child(python, path, cycles, r))
    for env, by_code in results.items():
        for line in report(env, by_code, cycles):
            print(line)


if __name__ == "__main__":
    main()
