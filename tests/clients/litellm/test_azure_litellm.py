"""litellm with Azure (custom_llm_provider="azure": its azure/ route for files and batches) against the azure profile."""

from __future__ import annotations

import json
import os

import pytest

from mockfiles import MockFilesServer

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch of the model price list at import
litellm = pytest.importorskip("litellm")

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning:pydantic"),  # litellm's own models, at import
]
LINE = {"custom_id": "l1", "method": "POST", "url": "/chat/completions"}
BODY = {"model": "gpt-4o-batch", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.mockfiles(profile="azure", rate_limits=False)
def test_litellm_azure_files_and_batches(mockfiles: MockFilesServer) -> None:
    kw = {"custom_llm_provider": "azure", "api_base": mockfiles.url, "api_key": "sk-lit", "api_version": "2024-10-21"}
    line = json.dumps({**LINE, "body": BODY}).encode() + b"\n"
    f = litellm.create_file(file=("in.jsonl", line), purpose="batch", **kw)
    assert f.id.startswith("file-") and f.status == "processed"
    batch = litellm.create_batch(completion_window="24h", endpoint="/chat/completions", input_file_id=f.id, **kw)
    assert batch.status == "validating"
    mockfiles.advance(3600)
    done = litellm.retrieve_batch(batch_id=batch.id, **kw)
    assert done.status == "completed" and done.output_file_id
    content = litellm.file_content(file_id=done.output_file_id, **kw)
    assert json.loads(content.content.splitlines()[0])["custom_id"] == "l1"
    assert [e["endpoint"] for e in mockfiles.requests() if e["dialect"] == "azure"][:2] == [
        "files.create",
        "batches.create",
    ]
