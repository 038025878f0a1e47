"""docs/vector_stores.md's example runs as it is written, with the openai SDK and with curl."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mockfiles import MockFilesServer

DOC = Path(__file__).parents[3] / "docs" / "vector_stores.md"


def blocks(language: str) -> list[str]:
    text = DOC.read_text()
    section = text[text.index("## An example") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


@pytest.mark.mockfiles(rate_limits=False)
def test_the_documented_example_runs_as_written(mockfiles: MockFilesServer) -> None:
    (block,) = blocks("python")
    namespace: dict[str, object] = {"server": mockfiles}
    exec(compile(block, str(DOC), "exec"), namespace)
    endpoints = [e["endpoint"] for e in mockfiles.requests()]
    assert {"vector_stores.create", "vector_stores.file_batches.create", "vector_stores.search", "files.delete"} <= set(
        endpoints
    )


def documents(text: str) -> list[dict[str, object]]:
    """The JSON documents curl printed one after another."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text.rstrip()):
        document, at = decoder.raw_decode(text, at)
        found.append(document)
    return found


@pytest.mark.mockfiles(rate_limits=False)
def test_the_documented_curl_commands_run_as_written(mockfiles: MockFilesServer) -> None:
    bash, curl = shutil.which("bash"), shutil.which("curl")
    assert bash and curl, "bash and curl are required for this test (.ci/run installs curl)"
    (block,) = blocks("sh")
    env = {**os.environ, "BASE": mockfiles.base_url, "ADMIN": mockfiles.url + "/_mockfiles"}
    done = subprocess.run([bash, "-euo", "pipefail", "-c", block], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    retrieved, searched = documents(done.stdout)
    assert retrieved["object"] == "vector_store.file" and retrieved["status"] == "completed"
    assert searched["object"] == "vector_store.search_results.page" and searched["search_query"] == ["paid leave"]
    (result,) = searched["data"]  # type: ignore[misc]
    assert result["filename"] == "leave.md" and result["content"][0]["text"].startswith("Employees get 25 days")
