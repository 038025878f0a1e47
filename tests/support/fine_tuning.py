"""Helpers for the Fine-tuning tests: training files in each method's format, and the SDK's types
checked strictly (every field the type has, and no other)."""

from __future__ import annotations

import base64
import csv
import io
from typing import Any

import openai
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint

from tests.support.helpers import jsonl

# Slow enough that the real time a test takes between two calls (the emulator clock is wall time plus
# advances) never moves a job by a step: 1000 s of training.
SLOW = {"fine_tuning": {"timing": {"validating_files": "30s", "queued": "30s", "running": "1000s"}}}


def chat_example(i: int) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "You answer in one sentence."},
            {"role": "user", "content": f"What is {i} + {i}?"},
            {"role": "assistant", "content": f"{i} + {i} is {2 * i}."},
        ]
    }


def dpo_example(i: int) -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": f"Say {i} politely."}]},
        "preferred_output": [{"role": "assistant", "content": f"Please: {i}."}],
        "non_preferred_output": [{"role": "assistant", "content": f"{i}!"}],
    }


def reinforcement_example(i: int) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": f"What is {i} + {i}?"}], "answer": str(2 * i)}


def chat_file(n: int = 12) -> bytes:
    return jsonl(*(chat_example(i) for i in range(n)))


def dpo_file(n: int = 12) -> bytes:
    return jsonl(*(dpo_example(i) for i in range(n)))


def reinforcement_file(n: int = 12) -> bytes:
    return jsonl(*(reinforcement_example(i) for i in range(n)))


def upload(client: openai.OpenAI, content: bytes, filename: str = "train.jsonl") -> str:
    return client.files.create(file=(filename, content), purpose="fine-tune").id


def typed_job(job: dict[str, Any]) -> dict[str, Any]:
    """The job, after checking the SDK's FineTuningJob takes it strictly with no unknown field
    (a paused job is checked as running: the SDK's status Literal lacks ``paused``)."""
    checked = {**job, "status": "running"} if job["status"] == "paused" else job
    FineTuningJob.model_validate(checked, strict=True)
    assert set(job) == set(FineTuningJob.model_fields), set(job) ^ set(FineTuningJob.model_fields)
    return job


def typed_event(event: dict[str, Any]) -> dict[str, Any]:
    FineTuningJobEvent.model_validate(event, strict=True)
    assert set(event) == set(FineTuningJobEvent.model_fields)
    return event


def typed_checkpoint(checkpoint: dict[str, Any]) -> dict[str, Any]:
    FineTuningJobCheckpoint.model_validate(checkpoint, strict=True)
    assert set(checkpoint) == set(FineTuningJobCheckpoint.model_fields)
    return checkpoint


def results_rows(content: bytes) -> list[dict[str, str]]:
    """The results file's CSV rows (it is served base64-encoded, as OpenAI serves it)."""
    return list(csv.DictReader(io.StringIO(base64.b64decode(content).decode())))
