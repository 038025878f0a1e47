"""DashScope compatible mode's batch rules as the official `openai` npm client meets them
(tests/node/compat_batches.mjs): an empty list's ``data: null``, a ``14d`` window, the
``ds_name`` filter, a refused download of an input file."""

from __future__ import annotations

import json
import subprocess

import pytest

from mockfiles import MockFilesServer
from tests.support.batching import chat_file
from tests.support.node_clients import HERE, NODE, requires_node


@requires_node
@pytest.mark.mockfiles(profile="dashscope", rate_limits=False)
def test_the_node_client_under_dashscopes_batch_rules(mockfiles: MockFilesServer) -> None:
    spec = {"base_url": mockfiles.url + "/compatible-mode/v1", "api_key": "sk-qwen", "jsonl": chat_file("a").decode()}
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HERE / "compat_batches.mjs"), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HERE,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["empty"] == []
    created = seen["created"]
    assert created["completion_window"] == "14d" and created["expires_at"] is None
    assert "model" not in created and "usage" not in created
    assert seen["named"] == [created["id"]]
    assert seen["download"] == {"status": 400, "error": "BadRequestError"}
