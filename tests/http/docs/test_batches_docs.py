"""docs/batches.md's end-to-end example runs as it is written, against the server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockfiles import MockFilesServer

DOC = Path(__file__).parents[3] / "docs" / "batches.md"


def example_blocks() -> list[str]:
    text = DOC.read_text()
    section = text[text.index("## An example") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.mockfiles(rate_limits=False)
def test_the_documented_example_runs_as_written(
    mockfiles: MockFilesServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = example_blocks()
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)  # the example writes requests.jsonl
    namespace: dict[str, object] = {"server": mockfiles}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert [e["endpoint"] for e in mockfiles.requests()].count("batches.create") == 2
