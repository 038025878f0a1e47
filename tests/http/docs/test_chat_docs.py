"""docs/chat.md runs as it is written: the document-analysis workflow end to end (DashScope's
Qwen-Long and OpenAI's Responses), the registration of a model, and its scenario snippets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mockfiles import MockFilesServer
from mockfiles.scenarios.scenario import load_scenario

DOC = Path(__file__).parents[3] / "docs" / "chat.md"
TEXT = DOC.read_text()


def section(title: str) -> str:
    start = TEXT.index(f"## {title}")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end > 0 else None]


def blocks(title: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(title), re.S)


def test_the_workflow_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    qwen, responses = blocks("The workflow, end to end", "python")
    monkeypatch.chdir(tmp_path)  # the example writes report.txt
    exec(compile(qwen, str(DOC), "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    file_id, status = lines[0].split()
    assert file_id.startswith("file-fe-") and status == "uploaded"
    assert lines[1] == "400 invalid_parameter_error File parsing in progress, please try again later."
    assert lines[2].startswith("tokens: ")
    assert lines[3:5] == [
        f'File {file_id} "report.txt": 50 bytes, 8 words, first line "Quarterly report".',
        "Echo: What does the report say?",
    ]
    assert re.fullmatch(r"Invalid file \[id:file-batch-[0-9a-f]{24}\]\.", lines[5])
    exec(compile(responses, str(DOC), "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r'File file-\w+ "report.txt": 35 bytes, 5 words, first line "Quarterly report"\.', lines[0])
    assert lines[1] == "Echo: Summarise the report."
    assert re.fullmatch(
        r"input\[0\]\.content\[0\]\.file_id Invalid 'input\[0\]\.content\[0\]\.file_id': the file 'file-\w+' has purpose 'batch', "
        r"but this endpoint reads files with purpose 'assistants' and 'user_data'\.",
        lines[2],
    )


def test_registering_a_model_runs_as_written(mockfiles: MockFilesServer) -> None:
    (block,) = blocks("Models", "python")
    exec(compile(block, str(DOC), "exec"), {"server": mockfiles})
    with mockfiles.client(max_retries=0) as client:
        assert client.models.retrieve("ft:gpt-4o-mini-2024-07-18:org::abc123").owned_by == "user-abc"


@pytest.mark.parametrize("title", ["Scenarios", "Rate limits"])
def test_the_scenario_snippets_are_valid(title: str) -> None:
    found = blocks(title, "yaml")
    assert found
    for block in found:
        load_scenario(yaml.safe_load(block))
