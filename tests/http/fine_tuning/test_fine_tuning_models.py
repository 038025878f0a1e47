"""The models fine-tuning jobs make, where other APIs meet them: Chat Completions and Responses
answer with the account's fine-tuned model (and its checkpoints), `/v1/models` lists and finds them,
and a batch line naming one runs; an `ft:` model the account does not have — unknown, another
account's, deleted — is refused as OpenAI refuses it (404 `model_not_found`, in the error file for
a batch line)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.batching import CHAT
from tests.support.fine_tuning import chat_file, upload
from tests.support.helpers import jsonl

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


def test_the_model_routes_answer_with_the_new_model_until_it_is_deleted(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    mockfiles.use_scenario({"fine_tuning": {"timing": {"running": "10m"}}})
    job = client.fine_tuning.jobs.create(model="gpt-4.1-mini", training_file=upload(client, chat_file()), suffix="m")
    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert model is None  # running: no model yet
    mockfiles.advance(600)
    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert model is not None and model.startswith("ft:gpt-4.1-mini-2025-04-14:personal:m:")
    answer = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello"}])
    assert answer.model == model and answer.choices[0].message.content == "Echo: hello"
    response = client.responses.create(model=model, input="hi there")
    assert response.model == model and response.output_text == "Echo: hi there"
    listed = [m.id for m in client.models.list()]
    assert model in listed and "gpt-4o-mini" in listed
    assert sum(m.startswith("ft:") for m in listed) == 8  # the model and the checkpoints of 7 earlier epochs
    found = client.models.retrieve(model)
    assert (found.owned_by, found.created) == (job.organization_id, job.created_at + 600)
    other = mockfiles.client(api_key="sk-another-account", max_retries=0)
    assert not [m.id for m in other.models.list() if m.id.startswith("ft:")]
    refused = {"type": "invalid_request_error", "param": "model", "code": "model_not_found"}
    for who, name in ((other, model), (client, "ft:gpt-4.1-mini-2025-04-14:personal::nothere1")):
        with pytest.raises(openai.NotFoundError) as info:
            who.chat.completions.create(model=name, messages=[{"role": "user", "content": "x"}])
        message = f"The model `{name}` does not exist or you do not have access to it."
        assert info.value.body == {"message": message, **refused}  # type: ignore[comparison-overlap]
    client.models.delete(model)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=model, input="hi")
    assert model not in [m.id for m in client.models.list()]
    listing = httpx.get(mockfiles.url + "/_mockfiles/models").json()["data"]
    mine = [m for m in listing if m["id"].startswith("ft:")]
    assert len(mine) == 7 and {m["account"] for m in mine} == {mockfiles.account_id(mockfiles.api_key)}
    assert {m["base"] for m in mine} == {"gpt-4.1-mini-2025-04-14"} and {m["reads"] for m in mine} == {"files"}


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
    assert mockfiles.requests("models.delete")[-1]["model"] == model
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
