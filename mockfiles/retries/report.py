"""Calls and verdicts as text for people: one call as a timeline, the problems of a set of calls as
an assertion message, and a table of a whole session's calls per endpoint."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from mockfiles.retries.verdicts import CallDict

MAX_LISTED = 20  # problematic calls spelled out in a report; the rest are counted


def timeline(call: CallDict) -> str:
    """``429 [retry-after-ms: 300] -> (+0.30 s) 200``: each attempt's outcome, its advice, and the wait before it."""
    steps = []
    for a in call["attempts"]:
        label = str(a["status"]) if a["outcome"] == "status" else a["outcome"].replace("_", " ")
        if a["advice"]:
            label += " [" + ", ".join(f"{k}: {v}" for k, v in a["advice"].items()) + "]"
        if a["waited"] is not None:
            label = f"(+{a['waited']:.2f} s) {label}"
        steps.append(label)
    return " -> ".join(steps)


def describe(call: CallDict) -> str:
    """``files.create POST /v1/files (data.jsonl), 3 attempts, retry-count: 503 -> ... -> 200``."""
    what = f"{call['endpoint']} {call['method']} {call['path']}"
    if call["query"]:
        what += f"?{call['query']}"
    if call["filename"]:
        what += f" ({call['filename']})"
    count = len(call["attempts"])
    grouped = call["grouping"] + (f" {call['key']!r}" if call["key"] else "")
    return f"{what}, {count} attempt{'s' if count > 1 else ''}, grouped by {grouped}: {timeline(call)}"


def problems_message(calls: Iterable[CallDict]) -> str | None:
    """None when every call is ok; else each problematic call, its timeline and its problems —
    the message of a failed ``assert_conforms()``."""
    bad = [c for c in calls if not c["verdict"]["ok"]]
    if not bad:
        return None
    count = sum(len(c["verdict"]["problems"]) for c in bad)
    lines = [f"{len(bad)} call{'s' if len(bad) > 1 else ''} with {count} retry problem{'s' if count > 1 else ''}:"]
    for call in bad[:MAX_LISTED]:
        lines.append(f"- {call['id']}: {describe(call)}")
        lines.extend(f"    {p['problem']}: {p['message']}" for p in call["verdict"]["problems"])
    if len(bad) > MAX_LISTED:
        lines.append(f"... and {len(bad) - MAX_LISTED} more")
    return "\n".join(lines)


def table(calls: Sequence[CallDict]) -> str:
    """Per endpoint: calls, attempts, calls that retried, and the problems found, by name."""
    rows: dict[str, tuple[int, int, int, Counter[str]]] = {}
    for call in calls:
        endpoint = call["endpoint"] or "?"
        n, attempts, retried, problems = rows.get(endpoint, (0, 0, 0, Counter()))
        problems.update(p["problem"] for p in call["verdict"]["problems"])
        rows[endpoint] = (n + 1, attempts + len(call["attempts"]), retried + (len(call["attempts"]) > 1), problems)
    total_attempts = sum(len(c["attempts"]) for c in calls)
    with_problems = sum(not c["verdict"]["ok"] for c in calls)
    lines = [
        f"retries: {len(calls)} calls, {total_attempts} attempts, {with_problems} call(s) with problems",
        f"{'endpoint':<22} {'calls':>6} {'attempts':>9} {'retried':>8}  problems",
    ]
    for endpoint in sorted(rows):
        n, attempts, retried, problems = rows[endpoint]
        found = ", ".join(f"{name} x{k}" for name, k in sorted(problems.items())) or "-"
        lines.append(f"{endpoint:<22} {n:>6} {attempts:>9} {retried:>8}  {found}")
    return "\n".join(lines)
