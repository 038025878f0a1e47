"""The run's last word on what it did not test: the skipped tests gathered by reason into one line,
each reason saying what is missing and the command that brings it (tests/support/node_clients.py and
tests/support/browser.py word theirs so), so that a contributor's `python -m pytest -n auto` never skips
the Node or browser tests silently."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any


def reason_of(report: Any) -> str:
    """A skipped test's reason, as pytest keeps it (``(path, line, "Skipped: reason")``)."""
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return str(text).removeprefix("Skipped: ")


def skip_line(reports: Iterable[Any]) -> str | None:
    """``SKIPPED 66 tests: 40 because tests/node/node_modules is missing (cd tests/node && npm ci); ...``,
    the most frequent reason first; None when nothing was skipped."""
    counts = Counter(reason_of(report) for report in reports if report.skipped)
    total = sum(counts.values())
    if not total:
        return None
    parts = [f"{n} because {reason}" for reason, n in counts.most_common()]
    return f"SKIPPED {total} test{'s' if total > 1 else ''}: " + "; ".join(parts)
