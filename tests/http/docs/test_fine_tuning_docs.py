"""docs/fine_tuning.md's example runs as it is written, against the server, and says what it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from mockfiles import MockFilesServer

DOC = Path(__file__).parents[3] / "docs" / "fine_tuning.md"


def example_blocks() -> list[str]:
    text = DOC.read_text()
    section = text[text.index("## An example") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.mockfiles(rate_limits=False)
def test_the_documented_example_runs_as_written(mockfiles: MockFilesServer) -> None:
    blocks = example_blocks()
    assert len(blocks) == 2
    namespace: dict[str, object] = {"server": mockfiles}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)
    lines = printed.getvalue().splitlines()
    assert re.fullmatch(r"ft:gpt-4o-mini-2024-07-18:personal:marv:[0-9A-Za-z]{8}", lines[0])
    assert lines[1] == "Hyperparameters(batch_size=1, learning_rate_multiplier=1.8, n_epochs=10)"
    assert lines[3].endswith("info The job has successfully completed")
    assert lines[6] == str(list(range(100, 0, -10)))
    assert lines[7] == "['step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy', '1,1.96512,0.27076,,']"
    assert lines[8] == f"{lines[0]} Echo: What is 21 times 2?"  # the new model answers
    assert "code='invalid_file_format'" in lines[9] and "Example 1 is missing an assistant message." in lines[9]
    assert [e["endpoint"] for e in mockfiles.requests()].count("fine_tuning.jobs.create") == 2
