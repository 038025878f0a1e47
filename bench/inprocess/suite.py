"""A downstream suite's cost per test: a suite as users write it (each test takes the ``mockfiles``
fixture, gets ``mockfiles.client()`` or ``async_client()``, uploads one small file and retrieves
it), run by pytest in a process of its own, beside the same suite under openai-responses and an
empty suite, interleaved in one run.

    python -m bench.inprocess.suite [--sizes 200,1000] [--rounds 3] [--before PATH] [--envs this,peer] [--quick]

Two environments: this one (its openai, 3.x here, on httpx2) and the peer's venv of
bench/inprocess/inprocess.py (openai 2.x on httpx, with openai-responses), made on first use. ``--before
PATH`` runs the mockfiles suites a second time with another checkout of mockfiles first on the
path (``git archive <commit> | tar -x -C PATH``), in the same rounds: before and after in the same
conditions. Every module of every suite, the empty one too, imports ``openai`` (the code under
test does), so that its import, which takes seconds, is not counted as the tests' cost.

Every module is compiled once, in a warm-up round not counted, and kept for the rounds (in a
directory of the run's own, ``PYTHONPYCACHEPREFIX``): as in a user's second run, no round
compiles mockfiles, openai or the test modules again (nor rewrites the tests' asserts).

A suite's cost per test is its time less the empty suite's of the same size and environment, in
the same round, over the number of tests; with two sizes, the slope between them is the cost of
one more test (the session's start-up and imports left out). Each run's wall time, the CPU time
of pytest's process (every thread: the in-process server's too) and the load of the machine
(/proc/loadavg, and the cores the rest of the machine took meanwhile) are recorded.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.tools.procstat import machine_busy

ROOT = Path(__file__).resolve().parents[2]
PER_FILE = 100  # tests per module, as a suite spreads them
BODY = 'b\'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\\n\''

SYNC_TEST = """
def test_{i}(mockfiles):
    client = mockfiles.client()
    created = client.files.create(file=("data.jsonl", BODY), purpose="batch")
    assert client.files.retrieve(created.id).id == created.id
"""
ASYNC_TEST = """
async def test_{i}(mockfiles):
    client = mockfiles.async_client()
    created = await client.files.create(file=("data.jsonl", BODY), purpose="batch")
    assert (await client.files.retrieve(created.id)).id == created.id
"""
PEER_SYNC_TEST = """
@openai_responses.mock()
def test_{i}():
    client = openai.OpenAI(api_key="sk-fake")
    created = client.files.create(file=("data.jsonl", BODY), purpose="batch")
    assert client.files.retrieve(created.id).id == created.id
"""
PEER_ASYNC_TEST = """
@openai_responses.mock()
async def test_{i}():
    client = openai.AsyncOpenAI(api_key="sk-fake")
    created = await client.files.create(file=("data.jsonl", BODY), purpose="batch")
    assert (await client.files.retrieve(created.id)).id == created.id
"""
EMPTY_TEST = """
def test_{i}():
    pass
"""
FIXTURE_TEST = """
def test_{i}(mockfiles):
    pass
"""
FLOOR_CONFTEST = """
import importlib
import itertools

import openai
import pytest

from mockfiles.clients import library_of

FILE = (b'{"id":"file-0000000000000000000000","object":"file","bytes":95,"created_at":1,'
        b'"filename":"data.jsonl","purpose":"batch","status":"processed","expires_at":null,"status_details":null}')
HTTP = importlib.import_module(library_of(openai.DefaultHttpxClient))
MADE = itertools.count(1)


def answer(request):  # a created file has an id of its own, as any server's (bench/README.md)
    made = b"file-%022d" % next(MADE) if request.method == "POST" else request.url.path.rsplit("/", 1)[1].encode()
    body = FILE.replace(b"file-0000000000000000000000", made)
    return HTTP.Response(200, content=body, headers={"content-type": "application/json"})


CLIENT = openai.OpenAI(
    base_url="http://sdk.floor/v1", api_key="k", max_retries=0,
    http_client=openai.DefaultHttpxClient(transport=HTTP.MockTransport(answer)),
)


@pytest.fixture
def floor():
    return CLIENT
"""
FLOOR_TEST = """
def test_{i}(floor):
    created = floor.files.create(file=("data.jsonl", BODY), purpose="batch")
    assert floor.files.retrieve(created.id).id == created.id
"""
IN_PROCESS_CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def mockfiles_options():
    return {"in_process": True}
"""


@dataclass(frozen=True)
class Suite:
    name: str
    test: str
    conftest: str = ""
    imports: str = "import openai"
    mockfiles: bool = True  # run with the code before as well, when asked
    peer_only: bool = False  # openai-responses exists only in the peer's venv


SUITES = [
    Suite("empty", EMPTY_TEST, mockfiles=False),
    Suite("fixture alone", FIXTURE_TEST),
    Suite("socket sync", SYNC_TEST),
    Suite("socket async", ASYNC_TEST),
    Suite("in-process sync", SYNC_TEST, IN_PROCESS_CONFTEST),
    Suite("in-process async", ASYNC_TEST, IN_PROCESS_CONFTEST),
    Suite("SDK floor sync", FLOOR_TEST, FLOOR_CONFTEST, mockfiles=False),  # canned answers, a fixture: the SDK alone
    Suite("openai-responses sync", PEER_SYNC_TEST, imports="import openai, openai_responses", mockfiles=False,
          peer_only=True),
    Suite("openai-responses async", PEER_ASYNC_TEST, imports="import openai, openai_responses", mockfiles=False,
          peer_only=True),
]  # fmt: skip


def write_suite(suite: Suite, size: int, where: Path) -> Path:
    """The suite's modules (``PER_FILE`` tests each) and conftest in a directory of its own."""
    folder = where / f"{suite.name.replace(' ', '-')}-{size}"
    folder.mkdir()
    (folder / "conftest.py").write_text(suite.conftest)
    for start in range(0, size, PER_FILE):
        tests = "".join(suite.test.format(i=i) for i in range(start, min(size, start + PER_FILE)))
        (folder / f"test_m{start // PER_FILE}.py").write_text(f"{suite.imports}\n\nBODY = {BODY}\n{tests}")
    return folder


@dataclass(frozen=True)
class Env:
    name: str
    python: str
    openai: str


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # pytest's process, every thread
    others: float  # cores the rest of the machine took meanwhile
    loadavg: float  # the 1-minute load average at the end


def loadavg() -> float:
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return 0.0


def run_suite(env: Env, folder: Path, code: Path, size: int) -> Run:
    command = [env.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist"]
    command += ["-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function", str(folder)]
    # compiled modules (and pytest's rewritten test modules) are kept, as a user's runs keep them,
    # in a tree of the run's own: nothing is written beside the code measured
    variables = {**os.environ, "PYTHONPATH": str(code), "PYTHONPYCACHEPREFIX": str(folder.parent / "pycache")}
    variables.pop("PYTHONDONTWRITEBYTECODE", None)
    busy, children = machine_busy()[0], resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=variables, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    if done.returncode != 0 or f"{size} passed" not in done.stdout:
        raise RuntimeError(f"{folder.name} failed with {env.name}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    others = max(0.0, (machine_busy()[0] - busy - cpu) / wall)
    return Run(wall, cpu, others, loadavg())


def openai_version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('openai'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


Key = tuple[str, str, str, int]  # environment, code (after / before), suite, size


def plan(envs: list[Env], codes: dict[str, Path], sizes: list[int], chosen: set[str]) -> list[Key]:
    keys = []
    for env in envs:
        for suite in SUITES:
            if (suite.peer_only and env.name != "peer") or (suite.name not in chosen and suite.name != "empty"):
                continue
            for code in codes if suite.mockfiles else ["after"]:
                keys.extend((env.name, code, suite.name, size) for size in sizes)
    return keys


def rotated(keys: list[Key], r: int) -> Iterator[Key]:
    shift = (r * 7) % len(keys)
    order = keys[shift:] + keys[:shift]
    return iter(order if r % 2 == 0 else order[::-1])


def per_test(runs: dict[Key, list[Run]], key: Key, field: str) -> list[float]:
    """Milliseconds per test over the empty suite of the same size and environment, round by round."""
    env, _, _, size = key
    empty = runs[(env, "after", "empty", size)]
    return [(getattr(a, field) - getattr(b, field)) / size * 1000 for a, b in zip(runs[key], empty, strict=True)]


def spread(values: list[float], digits: int = 1) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def report(runs: dict[Key, list[Run]], envs: list[Env], codes: dict[str, Path], sizes: list[int]) -> list[str]:
    lines = []
    for env in envs:
        lines.append(
            f"\n## openai {env.openai} ({env.name}): ms per test over the empty suite, median (min–max) of the rounds"
        )
        head = "".join(f" | {size:,} tests: wall | CPU" for size in sizes)
        slope = " | one more test: wall | CPU" if len(sizes) > 1 else ""
        lines.append(f"suite{head}{slope}")
        for suite in SUITES:
            for code in codes if suite.mockfiles else ["after"]:
                key0 = (env.name, code, suite.name, sizes[0])
                if key0 not in runs:
                    continue
                name = f"{suite.name} ({code})" if suite.mockfiles and len(codes) > 1 else suite.name
                cells = []
                for size in sizes:
                    key = (env.name, code, suite.name, size)
                    if suite.name == "empty":
                        walls = [r.wall for r in runs[key]]
                        cells.append(f"{spread(walls, 2)} s | CPU {statistics.median(r.cpu for r in runs[key]):.2f} s")
                    else:
                        cells.append(f"{spread(per_test(runs, key, 'wall'))} | {spread(per_test(runs, key, 'cpu'))}")
                if len(sizes) > 1 and suite.name != "empty":
                    small, large = ((env.name, code, suite.name, s) for s in (sizes[0], sizes[-1]))
                    gap = sizes[-1] - sizes[0]
                    walls = [((a.wall - b.wall) - (c.wall - d.wall)) / gap * 1000 for a, b, c, d in zip(
                        runs[large], runs[(env.name, "after", "empty", sizes[-1])],
                        runs[small], runs[(env.name, "after", "empty", sizes[0])], strict=True)]  # fmt: skip
                    cpus = [((a.cpu - b.cpu) - (c.cpu - d.cpu)) / gap * 1000 for a, b, c, d in zip(
                        runs[large], runs[(env.name, "after", "empty", sizes[-1])],
                        runs[small], runs[(env.name, "after", "empty", sizes[0])], strict=True)]  # fmt: skip
                    cells.append(f"{spread(walls)} | {spread(cpus)}")
                lines.append(f"{name} | " + " | ".join(cells))
    every = [r for rs in runs.values() for r in rs]
    lines.append(
        f"\nload during the runs: load average {min(r.loadavg for r in every):.1f}–{max(r.loadavg for r in every):.1f}"
        f" (median {statistics.median(r.loadavg for r in every):.1f}); the rest of the machine took "
        f"{statistics.median(r.others for r in every):.2f} cores (median; {min(r.others for r in every):.2f}–"
        f"{max(r.others for r in every):.2f})"
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess.suite", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200,1000", help="tests per suite, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--envs", default="this,peer", help="this (this environment's openai) and/or peer")
    parser.add_argument("--before", type=Path, help="another checkout of mockfiles, run beside this one")
    parser.add_argument("--peer-python", help="a python with openai<3 and openai-responses (default: made)")
    parser.add_argument("--suites", help="the suites to run, comma-separated (default: all; the empty one always)")
    parser.add_argument("--steps", action="store_true", help="only the cost of each step of a test, in this process")
    parser.add_argument("--quick", action="store_true", help="20 tests, one round, this environment: checks it runs")
    args = parser.parse_args(argv)
    if args.steps:
        from bench.inprocess.suite_steps import steps

        for line in steps(quick=args.quick):
            print(line)
        return
    chosen = set(args.suites.split(",")) if args.suites else {suite.name for suite in SUITES}
    sizes = [20] if args.quick else [int(s) for s in args.sizes.split(",")]
    rounds = 1 if args.quick else args.rounds
    names = ["this"] if args.quick else args.envs.split(",")
    envs = []
    for name in names:
        if name == "this":
            envs.append(Env("this", sys.executable, openai_version(sys.executable)))
        else:
            from bench.inprocess.inprocess import peer_python

            python = peer_python(args.peer_python)
            envs.append(Env("peer", python, openai_version(python)))
    codes = {"after": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    counts = ", ".join(f"{s:,}" for s in sizes)
    print(f"# {counts} tests a suite, {rounds} interleaved rounds; {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"# load average at the start: {loadavg():.1f}")
    with tempfile.TemporaryDirectory(prefix="mockfiles-suite-") as tmp:
        folders = {}
        for suite in SUITES:
            for size in sizes:
                folders[(suite.name, size)] = write_suite(suite, size, Path(tmp))
        keys = plan(envs, codes, sizes, chosen)
        runs: dict[Key, list[Run]] = {key: [] for key in keys}
        by_name = {env.name: env for env in envs}
        for key in keys:  # compiles and keeps every module each run imports: the rounds start warm
            env, code, suite, size = key
            run_suite(by_name[env], folders[(suite, size)], codes[code], size)
        print(f"# warm-up round done (not counted), load average {loadavg():.1f}", flush=True)
        for r in range(rounds):
            for key in rotated(keys, r):
                env, code, suite, size = key
                runs[key].append(run_suite(by_name[env], folders[(suite, size)], codes[code], size))
            print(f"# round {r + 1} done, load average {loadavg():.1f}", flush=True)
    for line in report(runs, envs, codes, sizes):
        print(line)


if __name__ == "__main__":
    main()
