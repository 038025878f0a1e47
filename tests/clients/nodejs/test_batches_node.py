"""The batch pipeline with the official `openai` npm client (tests/node/batch.mjs): create, poll,
download the output, auto-paginate the list, and a cancel of the ended batch (ConflictError)."""

from __future__ import annotations

import json
import subprocess

import pytest

from mockfiles import MockFilesServer
from tests.support.batching import chat_file
from tests.support.node_clients import HERE, NODE, requires_node


@requires_node
@pytest.mark.mockfiles(rate_limits=False)
def test_the_node_client_runs_a_batch(mockfiles: MockFilesServer) -> None:
    with mockfiles.client() as client:  # an older batch, so that the list has two pages of one
        source = client.files.create(file=("in.jsonl", chat_file("x")), purpose="batch")
        older = client.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    spec = {"base_url": mockfiles.base_url, "api_key": mockfiles.api_key, "jsonl": chat_file("a", "b").decode()}
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HERE / "batch.mjs"), json.dumps(spec)], capture_output=True, text=True, timeout=120, cwd=HERE
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["created"]["status"] == "validating"
    batch = seen["batch"]
    assert batch["status"] == "completed" and batch["request_counts"] == {"total": 2, "completed": 2, "failed": 0}
    assert [line["custom_id"] for line in seen["lines"]] == ["a", "b"]
    assert seen["listed"] == [batch["id"], older.id]
    assert seen["cancel"] == {
        "status": 409,
        "error": "ConflictError",
        "message": "Cannot cancel a batch with status 'completed'.",
    }
