"""The servers a benchmark measures, each in a process of its own: mockfiles (`mockfiles serve`)
and baseline (a), the bare Starlette app of bench/tools/baseline.py, both on the same uvicorn settings
(`mockfiles.server.serve_app`: httptools, uvloop, no access log, no proxy headers)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

AUTH = {"Authorization": "Bearer bench"}


@dataclass(frozen=True)
class Served:
    name: str
    url: str
    pid: int

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").split(":")
        return host, int(port)


@contextlib.contextmanager
def served(name: str, *command: str, env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """``python -m <command>`` until the block ends; it prints its URL on its first line."""
    environment = {**os.environ, **(env or {})}
    process = subprocess.Popen([sys.executable, "-m", *command], stdout=subprocess.PIPE, text=True, env=environment)
    try:
        assert process.stdout is not None
        match = re.search(r"http://[\d.]+:\d+", process.stdout.readline())
        assert match, f"{command} did not start"
        yield Served(name, match.group(0), process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def mockfiles_server(*options: str, env: Mapping[str, str] | None = None) -> contextlib.AbstractContextManager[Served]:
    """`mockfiles serve` with the rate limits off (10 requests/s per key would answer 429s under load)."""
    return served("mockfiles", "mockfiles", "serve", "--port", "0", "--quiet", "--no-rate-limits", *options, env=env)


def baseline_server(*options: str, env: Mapping[str, str] | None = None) -> contextlib.AbstractContextManager[Served]:
    return served("baseline", "bench.tools.baseline", "--port", "0", *options, env=env)
