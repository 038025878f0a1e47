"""The models fine-tuning jobs make, where other APIs meet them: a batch line naming the account's
fine-tuned model (or one of its checkpoints) runs; one naming an `ft:` model the account does not
have — unknown, another account's — gets OpenAI's 404 `model_not_found` in the error file."""

from __future__ import annotations

import json

import openai
import pytest

from mockfiles import MockFilesServer
from tests.batching import CHAT
from tests.fine_tuning import chat_file, upload
from tests.helpers import jsonl

pytestmark = pytest.mark.mockfiles(rate_limits=False)


def batch_of(client: openai.OpenAI, model: str) -> openai.types.Batch:
    lines = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": CHAT,
            "body": {"model": model, "messages": [{"role": "user", "content": f"hi {i}"}]},
        }
        for i in range(2)
    ]
    source = client.files.create(file=("in.jsonl", jsonl(*lines)), purpose="batch")
    made = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    return client.batches.retrieve(made.id)


def lines_of(client: openai.OpenAI, file_id: str | None) -> list[dict[str, object]]:
    assert file_id is not None
    return [json.loads(line) for line in client.files.content(file_id).read().splitlines()]


def test_batch_lines_run_on_the_accounts_fine_tuned_models(client: openai.OpenAI) -> None:
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file()), suffix="b")
    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert model is not None
    done = batch_of(client, model)
    assert done.status == "completed" and done.request_counts is not None and done.request_counts.completed == 2
    answers = lines_of(client, done.output_file_id)
    assert [a["response"]["body"]["model"] for a in answers] == [model, model]  # type: ignore[index]
    checkpoint = client.fine_tuning.jobs.checkpoints.list(job.id).data[1].fine_tuned_model_checkpoint
    assert batch_of(client, checkpoint).request_counts.completed == 2  # type: ignore[union-attr]


def test_an_unknown_fine_tuned_model_is_refused_as_openai_refuses_it(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file()))
    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert model is not None
    other = mockfiles.client(api_key="sk-another-account", max_retries=0)
    for who, name in ((client, "ft:gpt-4o-mini-2024-07-18:personal::nothere1"), (other, model)):
        done = batch_of(who, name)
        assert done.status == "completed" and done.output_file_id is None
        assert done.request_counts is not None and done.request_counts.failed == 2
        (first, _) = lines_of(who, done.error_file_id)
        assert first["response"]["status_code"] == 404  # type: ignore[index]
        assert first["response"]["body"] == {  # type: ignore[index]
            "error": {
                "message": f"The model `{name}` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            }
        }
    assert batch_of(client, "gpt-4o-mini").request_counts.completed == 2  # type: ignore[union-attr]


def test_a_deleted_fine_tuned_model_is_refused_from_then_on(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file()), suffix="d")
    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert model is not None
    other = mockfiles.client(api_key="sk-another-account", max_retries=0)
    with pytest.raises(openai.NotFoundError) as foreign:
        other.models.delete(model)
    deleted = client.models.delete(model)
    assert (deleted.id, deleted.object, deleted.deleted) == (model, "model", True)
    assert mockfiles.requests_for("models.delete")[-1]["model"] == model
    for name in (model, "gpt-4o-mini", "ft:gpt-4o-mini-2024-07-18:personal::nothere1"):
        with pytest.raises(openai.NotFoundError) as info:
            client.models.delete(name)
        assert info.value.body == {  # type: ignore[comparison-overlap]
            "message": f"The model `{name}` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    assert foreign.value.code == "model_not_found"
    done = batch_of(client, model)
    assert done.request_counts is not None and done.request_counts.failed == 2
    with pytest.raises(openai.BadRequestError) as refused:
        client.fine_tuning.jobs.create(model=model, training_file=job.training_file)
    assert refused.value.code == "model_not_available"
    assert client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model == model  # the job still names it
    checkpoint = client.fine_tuning.jobs.checkpoints.list(job.id).data[1].fine_tuned_model_checkpoint
    assert client.models.delete(checkpoint).deleted
