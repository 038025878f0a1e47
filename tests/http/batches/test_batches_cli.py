"""`mockfiles check` on scenarios with a `batches:` section, and the Batches routes driven with curl."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mockfiles import MockFilesServer
from tests.support.batching import chat_file

ROOT = Path(__file__).parents[3]
CURL = shutil.which("curl")


def check(*paths: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mockfiles", "check", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_check_accepts_the_batch_scenario_and_refuses_a_bad_batches_section(tmp_path: Path) -> None:
    example = ROOT / "mockfiles" / "scenarios" / "examples" / "batch_failures.yaml"
    ok = check(example)
    assert ok.returncode == 0 and f"{example}: ok" in ok.stdout
    bad = tmp_path / "b.yaml"
    bad.write_text('batches:\n  requests:\n    - match: {custom_id: "x"}\n')
    refused = check(example, bad)
    assert refused.returncode == 1
    assert f"{bad}:3: batches.requests[0] does nothing: give it a status, a body or an error" in refused.stderr
    timing = tmp_path / "t.yaml"
    timing.write_text("batches:\n  timing: {in_progress: soon}\n")
    assert check(timing).returncode == 1


def curl(*args: str) -> dict[str, object]:
    assert CURL, "curl is required for these tests (.ci/run installs it)"
    done = subprocess.run([CURL, "-sS", "-H", "Authorization: Bearer sk-curl", *args], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


@pytest.mark.mockfiles(rate_limits=False)
def test_the_batch_routes_with_curl(mockfiles: MockFilesServer, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(chat_file("a", "b"))
    uploaded = curl(f"{mockfiles.base_url}/files", "-F", "purpose=batch", "-F", f"file=@{source}")
    body = json.dumps({"input_file_id": uploaded["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"})
    batch = curl(f"{mockfiles.base_url}/batches", "-H", "Content-Type: application/json", "-d", body)
    assert batch["status"] == "validating"
    done = curl(f"{mockfiles.base_url}/batches/{batch['id']}")
    assert done["status"] == "completed"
    listed = curl(f"{mockfiles.base_url}/batches?limit=1")
    assert [b["id"] for b in listed["data"]] == [batch["id"]]  # type: ignore[union-attr]
    refused = curl("-X", "POST", f"{mockfiles.base_url}/batches/{batch['id']}/cancel")
    assert refused["error"]["message"] == "Cannot cancel a batch with status 'completed'."  # type: ignore[index]
