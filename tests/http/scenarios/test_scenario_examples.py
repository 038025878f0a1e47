"""The example scenarios ship inside the package and are named by their name: in the marker
(``scenario="flaky_uploads"``), ``MockFilesServer``, ``use_scenario``, ``mockfiles serve`` and
``mockfiles check`` (docs/scenarios.md)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from fnmatch import fnmatch
from pathlib import Path

import openai
import pytest

from mockfiles import MockFilesServer, ScenarioError, load_scenario
from mockfiles.scenarios.scenario import EXAMPLES, example_names

ROOT = Path(__file__).parents[3]
pytest_plugins = ["pytester"]


def test_the_examples_are_package_data() -> None:
    assert EXAMPLES == ROOT / "mockfiles" / "scenarios" / "examples"
    pyproject = (ROOT / "pyproject.toml").read_text()
    found = re.search(r'^"mockfiles\.scenarios" = \[(.*)\]$', pyproject, re.MULTILINE)
    assert found is not None  # [tool.setuptools.package-data]
    shipped = [pattern.strip().strip('"') for pattern in found[1].split(",")]
    for path in EXAMPLES.glob("*.yaml"):
        assert any(fnmatch(str(path.relative_to(EXAMPLES.parent)), pattern) for pattern in shipped), path.name
    assert "flaky_uploads" in example_names() and not (ROOT / "scenarios").exists()


def test_a_name_loads_the_shipped_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing here: the name is the package's example
    assert load_scenario("flaky_uploads").source == str(EXAMPLES / "flaky_uploads.yaml")
    assert load_scenario("flaky_uploads.yaml").faults[0].status == 503
    (tmp_path / "flaky_uploads").write_text("seed: 9\n")  # a file of that name wins
    assert load_scenario("flaky_uploads").seed == 9
    for missing in ("no_such_example", "sub/flaky_uploads", "../flaky_uploads"):
        with pytest.raises(ScenarioError) as info:
            load_scenario(missing)
        assert "nor a shipped example (batch_failures, connection_resets" in str(info.value)


def test_the_server_takes_a_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with MockFilesServer(scenario="flaky_uploads") as server:
        client = server.client()  # the SDK's own retries get past the two 503s
        assert client.files.create(file=b"x", purpose="assistants").status == "processed"
        assert [e["status"] for e in server.requests("files.create")] == [503, 503, 200]
        server.use_scenario("rate_limit_storm")
        assert server.emulator.scenario.source.endswith("rate_limit_storm.yaml")


def test_check_names_the_shipped_example(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockfiles", "check", "flaky_uploads", "batch_failures"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"flaky_uploads: ok (the shipped example {EXAMPLES / 'flaky_uploads.yaml'})",
        f"batch_failures: ok (the shipped example {EXAMPLES / 'batch_failures.yaml'})",
    ]
    nowhere = subprocess.run(
        [sys.executable, "-m", "mockfiles", "check", "flaky"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert nowhere.returncode == 1 and "nor a shipped example" in nowhere.stderr


def test_the_marker_takes_a_name(pytester: pytest.Pytester) -> None:
    """A downstream suite with no scenarios of its own, as the README's marker example has it."""
    pytester.makepyfile(
        test_downstream="""
import pytest

@pytest.mark.mockfiles(scenario="flaky_uploads", rate_limits=False)
def test_retries(mockfiles):
    client = mockfiles.client()
    client.files.create(file=b"hi", purpose="assistants")
    assert [e["status"] for e in mockfiles.requests("files.create")] == [503, 503, 200]
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_serve_takes_a_name(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockfiles",
            "serve",
            "--port",
            "0",
            "--scenario",
            "flaky_uploads",
            "--quiet",
            "--ready-file",
            str(ready),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), server.stderr.read() if server.stderr else ""
        url = json.loads(ready.read_text())["url"]
        client = openai.OpenAI(base_url=url + "/v1", api_key="sk-x", max_retries=0)
        with pytest.raises(openai.InternalServerError):
            client.files.create(file=b"x", purpose="assistants")
    finally:
        server.terminate()
        server.wait(timeout=30)
