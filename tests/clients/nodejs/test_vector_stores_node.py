"""Vector stores with the official `openai` npm client (tests/node/vector_stores.mjs): its polling
helpers (which wait as openai-poll-after-ms says), search, auto-pagination, a file's content, the
cascade of a File's deletion, and refusals as its error classes."""

from __future__ import annotations

import json
import subprocess

import pytest

from mockfiles import MockFilesServer
from tests.support.node_clients import HERE, NODE, requires_node
from tests.support.vectoring import UNSUPPORTED

FILES = {
    "leave.md": "Employees get 25 days of paid leave per year.",
    "expenses.md": "Travel expenses are refunded within 30 days.",
    "security.txt": "Badges must be worn at all times in the office.",
}


@requires_node
@pytest.mark.mockfiles(rate_limits=False)
def test_the_node_client_uses_vector_stores(mockfiles: MockFilesServer) -> None:
    spec = {"base_url": mockfiles.base_url, "api_key": mockfiles.api_key, "files": FILES, "query": "paid leave days"}
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HERE / "vector_stores.mjs"), json.dumps(spec)], capture_output=True, text=True, timeout=120, cwd=HERE
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    store = seen["store"]["id"]
    assert seen["single"]["status"] == "completed" and seen["single"]["usage_bytes"] == len(FILES["leave.md"])
    assert seen["batch"]["status"] == "completed" and seen["batch"]["file_counts"]["completed"] == 2
    first = seen["results"][0]
    assert (first["file_id"], first["filename"], first["text"]) == (seen["single"]["id"], "leave.md", FILES["leave.md"])
    assert 0 < first["score"] < 1
    # newest first, a page of one at a time
    assert len(seen["listed"]) == 3 and seen["listed"][-1] == seen["single"]["id"]
    assert seen["content"] == [FILES["leave.md"]]
    assert seen["after"]["file_counts"]["total"] == 2  # the deleted File left the store
    assert seen["unsupported"] == {
        "status": 400,
        "error": "BadRequestError",
        "code": "unsupported_file",
        "message": UNSUPPORTED.format(".png"),
    }
    assert seen["missing"]["status"] == 404 and seen["missing"]["error"] == "NotFoundError"
    assert seen["missing"]["message"] == "No vector store found with id 'vs_missing'."
    retrieves = mockfiles.requests("vector_stores.files.retrieve")
    assert retrieves and all(e["vector_store_id"] == store for e in retrieves)
