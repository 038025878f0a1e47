"""The throughput chart (PNG): requests per second and the server's CPU per request against
the number of connections, for each server. matplotlib comes with the `bench` extra
(`pip install -e '.[bench]'`) and is imported only here."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from bench.tools.wrk import LoadRun

COLOURS = {"mockfiles": "#d62728", "baseline (a)": "#1f77b4"}


def throughput_chart(
    path: Path, levels: Sequence[int], results: dict[str, dict[int, list[LoadRun]]], title: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (rps_axes, cpu_axes) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    for name, by_level in results.items():
        colour = COLOURS.get(name)
        runs = [by_level[c] for c in levels]
        rps = [statistics.median(r.rps for r in level) for level in runs]
        low = [min(r.rps for r in level) for level in runs]
        high = [max(r.rps for r in level) for level in runs]
        rps_axes.plot(levels, rps, marker="o", color=colour, label=name)
        rps_axes.fill_between(levels, low, high, color=colour, alpha=0.15)
        cpu = [statistics.median(r.server_us for r in level) for level in runs]
        cpu_axes.plot(levels, cpu, marker="o", color=colour, label=name)
    for axes in (rps_axes, cpu_axes):
        axes.set_xscale("log", base=2)
        axes.set_xticks(list(levels), [str(c) for c in levels])
        axes.set_xlabel("concurrent keep-alive connections")
        axes.grid(True, alpha=0.3)
        axes.set_ylim(bottom=0)
        axes.legend()
    rps_axes.set_ylabel("requests per second (median; band: min–max)")
    cpu_axes.set_ylabel("server CPU per request (µs, user + kernel)")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
