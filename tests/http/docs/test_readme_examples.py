"""The README's examples for developers run as written, and its reference lists stay true: the raw
HTTP example (httpx2, which openai 3.x brings instead of httpx), the app code that finds the
emulator through mockfiles_env, the attributes of retry_case and the keys of a verdict's problems."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mockfiles import MockFilesServer
from mockfiles.retries.run import DEFAULT_TIMEOUT, CaseRun
from mockfiles.retries.verdicts import Problem

pytest_plugins = ["pytester"]
ROOT = Path(__file__).parents[3]
README = (ROOT / "README.md").read_text()
RETRIES = (ROOT / "docs" / "retries.md").read_text()


def section(text: str, heading: str) -> str:
    """From a heading (or a paragraph's first words) to the next heading."""
    start = text.index(heading)
    ends = [found for mark in ("\n## ", "\n### ") if (found := text.find(mark, start + len(heading))) != -1]
    return text[start : min(ends, default=len(text))]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_raw_http_example_runs_as_written() -> None:
    [block] = python_blocks(section(README, "### Over raw HTTP"))
    assert "import httpx2 as httpx" in block  # the SDK's own library: there whenever openai 3.x is
    with MockFilesServer(rate_limits=False) as server:
        exec(compile(block.replace("http://127.0.0.1:8000", server.url), "README.md", "exec"), {})
        [entry] = server.requests()
        assert (entry["endpoint"], entry["filename"], entry["status"]) == ("files.create", "notes.txt", 200)


def test_the_app_code_example_runs_as_written(pytester: pytest.Pytester) -> None:
    app, test = python_blocks(section(README, "### Application code that builds its own clients"))[:2]
    assert "mockfiles" not in app.split("\n", 1)[1]  # its first line is a comment naming the file
    pytester.mkpydir("app").joinpath("reports.py").write_text(app)
    pytester.mkpydir("tests").joinpath("test_reports.py").write_text(test)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_the_subprocess_recipe_gives_a_child_the_environment() -> None:
    with MockFilesServer() as server:
        code = "import os; print(os.environ['OPENAI_BASE_URL'])"
        done = subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, **server.environment()}, capture_output=True, text=True
        )
        assert done.stdout.strip() == server.base_url


def test_retry_case_attributes_are_those_documented() -> None:
    table = section(RETRIES, "  What a `retry_case` holds")
    documented = set(re.findall(r"^  \| `(\w+)(?:\(.*?\))?`(?:, `(\w+)`)?(?:, `(\w+)`)? \|", table, re.M))
    names = {name for row in documented for name in row if name}
    assert names == {
        "id",
        "operation",
        "headers",
        "timeout",
        "file_id",
        "content",
        "filename",
        "purpose",
        "case",
        "test",
        "capture",
        "check",
    }
    with MockFilesServer() as server:
        from mockfiles.retries.cases import load_cases

        run = CaseRun(server, next(c for c in load_cases() if c.client_timeout is None))
        for name in names:
            assert hasattr(run, name), name
        assert run.timeout == DEFAULT_TIMEOUT == 30.0  # "else 30 s"
        assert "else **30 s**" in table and "else 30 s" in README


def test_a_problems_keys_are_those_documented() -> None:
    common = section(RETRIES, "A problem is a dict")
    documented = set(re.findall(r"`(\w+)`", common.split("and the figures of its kind:")[0].split("| key | what |")[1]))
    per_kind = common.split("and the figures of its kind:")[1]
    for row in re.findall(r"^\| `(\w+)` \| (.*) \|$", per_kind, re.M):
        documented |= {
            key
            for key in re.findall(r"`(\w+)`", row[1])
            if key not in ("retry-after-ms", "attempt", "seq", "id", "outcome")
        }
    assert set(Problem.__annotations__) <= documented | {"attempt", "seq"}, set(Problem.__annotations__) - documented
