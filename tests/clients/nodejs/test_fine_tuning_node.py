"""A fine-tuning job with the official `openai` npm client (tests/node/fine_tuning.mjs): create,
poll (the emulator clock moved between polls), pause and resume, events and checkpoints paged by
the client, the results file, the list filtered by metadata, a chat completion with the new model
and the models listed, and two refusals as the client raises them."""

from __future__ import annotations

import json
import subprocess

import pytest

from mockfiles import MockFilesServer
from tests.support.fine_tuning import chat_file
from tests.support.node_clients import HERE, NODE, requires_node


@requires_node
@pytest.mark.mockfiles(
    rate_limits=False,
    scenario={"fine_tuning": {"timing": {"validating_files": "5m", "queued": "5m", "running": "20m"}}},
)
def test_the_node_client_runs_a_fine_tuning_job(mockfiles: MockFilesServer) -> None:
    spec = {
        "base_url": mockfiles.base_url,
        "admin_url": mockfiles.url + "/_mockfiles",
        "api_key": mockfiles.api_key,
        "jsonl": chat_file(10).decode(),
    }
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HERE / "fine_tuning.mjs"), json.dumps(spec)], capture_output=True, text=True, timeout=120, cwd=HERE
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["created"]["status"] == "validating_files"
    assert seen["statuses"][:5] == ["validating_files", "queued", "running", "paused", "queued"]
    assert seen["statuses"][-1] == "succeeded"
    job = seen["job"]
    assert job["fine_tuned_model"].startswith("ft:gpt-4o-mini-2024-07-18:personal:node:")
    assert job["hyperparameters"] == {"batch_size": 1, "learning_rate_multiplier": 1.8, "n_epochs": 2}
    messages = [e["message"] for e in seen["events"]]
    assert (
        messages[0] == "The job has successfully completed" and messages[-1] == f"Created fine-tuning job: {job['id']}"
    )
    assert "Fine-tuning job paused" in messages and "Fine-tuning job resumed" in messages
    assert sum(e["type"] == "metrics" for e in seen["events"]) == 20
    assert seen["checkpoints"] == [[20, job["fine_tuned_model"]], [10, seen["checkpoints"][1][1]]]
    assert seen["checkpoints"][1][1].endswith(":ckpt-step-10")
    assert seen["results_header"] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
    assert seen["listed"] == [job["id"]]
    assert seen["chat"] == {"model": job["fine_tuned_model"], "content": "Echo: hi"}
    assert sorted(seen["models"]) == sorted([job["fine_tuned_model"], seen["checkpoints"][1][1]])
    assert seen["refused"] == {
        "status": 400,
        "error": "BadRequestError",
        "code": "model_not_available",
        "param": "model",
        "message": "Model gpt-9 is not available for fine-tuning or does not exist.",
    }
    assert seen["cancel"] == {
        "status": 409,
        "error": "ConflictError",
        "code": None,
        "param": None,
        "message": f"Cannot cancel a fine-tuning job that has already succeeded: {job['id']}",
    }
