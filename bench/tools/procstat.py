"""What a process (or the whole machine) spent, read from Linux's /proc: CPU time split
into user and kernel, minor page faults (each a fresh page the kernel had to hand over),
resident memory.

A benchmark reads these before and after a measured stretch; their difference is what
the stretch cost that process, whoever else shares the machine.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass

TICK = 1 / os.sysconf("SC_CLK_TCK")  # /proc counts CPU time in clock ticks (10 ms)


@dataclass(frozen=True)
class Usage:
    """A process's cumulated CPU seconds (all its threads) and page faults."""

    user: float = 0.0
    system: float = 0.0
    minor_faults: int = 0
    major_faults: int = 0

    @property
    def cpu(self) -> float:
        return self.user + self.system

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            self.user - other.user,
            self.system - other.system,
            self.minor_faults - other.minor_faults,
            self.major_faults - other.major_faults,
        )


def parse_stat(text: str) -> Usage:
    """/proc/<pid>/stat: the fields after the command name (which may hold spaces and parentheses)."""
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): minflt is field 10, majflt 12, utime 14, stime 15
    return Usage(
        user=int(fields[11]) * TICK,
        system=int(fields[12]) * TICK,
        minor_faults=int(fields[7]),
        major_faults=int(fields[9]),
    )


def usage(pid: int, thread: int | None = None) -> Usage:
    """A process's usage (all its threads, the ended ones included), or one thread's."""
    with open(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat") as stat:
        return parse_stat(stat.read())


def machine_busy() -> tuple[float, float]:
    """CPU seconds the whole machine has spent busy (all cores: user, nice, system, interrupts),
    and those the hypervisor gave to other guests (steal), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]] + [0] * 10
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) * TICK, steal * TICK


def wait_for_quiet(threshold: float = 0.2, patience: float = 30.0, probe: float = 0.5) -> float:
    """Wait (at most ``patience`` seconds) until the machine's other work takes less than
    ``threshold`` of a core over ``probe`` seconds (it is shared: someone's tests may be running).
    Call it while the measured processes idle. Returns the last load seen, in cores."""
    deadline = time.monotonic() + patience
    while True:
        busy, started = machine_busy()[0], time.monotonic()
        time.sleep(probe)
        load = (machine_busy()[0] - busy) / (time.monotonic() - started)
        if load < threshold or time.monotonic() > deadline:
            return load


class Meter:
    """CPU spent from its creation to ``read()``: by the server, by the generator (this process,
    or its finished children), and by the rest of the machine."""

    def __init__(self, pid: int, who: int) -> None:
        self.pid, self.who = pid, who
        self.server, self.generator, self.busy = usage(pid), self._generator(), machine_busy()[0]
        self.started = time.perf_counter()

    def _generator(self) -> float:
        spent = resource.getrusage(self.who)
        return spent.ru_utime + spent.ru_stime

    def read(self) -> tuple[float, Usage, float, float]:
        """(wall seconds, the server's usage, the generator's CPU seconds, everyone else's CPU seconds)."""
        wall = time.perf_counter() - self.started
        server, generator = usage(self.pid) - self.server, self._generator() - self.generator
        others = machine_busy()[0] - self.busy - server.cpu - generator
        return wall, server, generator, max(0.0, others)


def rss(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process, in bytes."""
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
