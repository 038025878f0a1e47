"""Every refusal of the Fine-tuning API, with its status, code, param and message: create's
400s (parameters, model, method, files), the content problems that fail a job in
``validating_files`` (as OpenAI reports them: ``status: failed``, ``error {code, message, param}``,
an error event), the 409s of cancel, pause and resume, and the lists' refusals."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.fine_tuning import SLOW, chat_example, chat_file, dpo_file, typed_job, upload
from tests.support.helpers import jsonl

pytestmark = pytest.mark.mockfiles(rate_limits=False)
SUP = "method.supervised.hyperparameters"
GRADER = {"type": "string_check", "name": "g", "input": "{{sample.output_text}}", "reference": "x", "operation": "eq"}


def error_of(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    return response.status_code, response.json()["error"]


def refusal(message: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"message": message, "type": "invalid_request_error", "param": param, "code": code}


@pytest.fixture
def training(client: openai.OpenAI) -> str:
    return upload(client, chat_file())


PARAMETERS: list[tuple[dict[str, Any], str, str | None, str | None]] = [
    ({"model": None}, "Missing required parameter: 'model'.", "model", "missing_required_parameter"),
    ({"model": 4}, "Invalid type for 'model': expected a string, but got an integer instead.", "model", "invalid_type"),
    (
        {"model": "gpt-9"},
        "Model gpt-9 is not available for fine-tuning or does not exist.",
        "model",
        "model_not_available",
    ),
    (
        {"model": "ft:gpt-4o-mini-2024-07-18:personal::abcdefgh"},
        "Model ft:gpt-4o-mini-2024-07-18:personal::abcdefgh is not available for fine-tuning or does not exist.",
        "model",
        "model_not_available",
    ),
    (
        {"training_file": None},
        "Missing required parameter: 'training_file'.",
        "training_file",
        "missing_required_parameter",
    ),
    (
        {"training_file": ""},
        "Invalid 'training_file': empty string. Expected a string with minimum length 1, but got an empty string instead.",
        "training_file",
        "empty_string",
    ),
    (
        {"training_file": "file-nothere"},
        "Invalid 'training_file': no file with id 'file-nothere' in this account.",
        "training_file",
        "file_not_found",
    ),
    (
        {"validation_file": "file-nothere"},
        "Invalid 'validation_file': no file with id 'file-nothere' in this account.",
        "validation_file",
        "file_not_found",
    ),
    (
        {"suffix": ""},
        "Invalid 'suffix': empty string. Expected a string with minimum length 1, but got an empty string instead.",
        "suffix",
        "empty_string",
    ),
    (
        {"suffix": "s" * 65},
        "Invalid 'suffix': string too long. Expected a string with maximum length 64, but got a string with length 65 "
        "instead.",
        "suffix",
        "string_above_max_length",
    ),
    (
        {"suffix": 3},
        "Invalid type for 'suffix': expected a string, but got an integer instead.",
        "suffix",
        "invalid_type",
    ),
    (
        {"seed": -1},
        "Invalid 'seed': integer below minimum value. Expected a value >= 0, but got -1 instead.",
        "seed",
        "integer_below_min_value",
    ),
    (
        {"seed": 2**31},
        "Invalid 'seed': integer above maximum value. Expected a value <= 2147483647, but got 2147483648 instead.",
        "seed",
        "integer_above_max_value",
    ),
    ({"seed": "1"}, "Invalid type for 'seed': expected an integer, but got a string instead.", "seed", "invalid_type"),
    (
        {"metadata": {str(i): "v" for i in range(17)}},
        "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object "
        "with 17 properties instead.",
        "metadata",
        "object_above_max_properties",
    ),
    ({"n_epochs": 3}, "Unrecognized request argument supplied: n_epochs", "n_epochs", None),
    (
        {"method": {"supervised": {}}},
        "Missing required parameter: 'method.type'.",
        "method.type",
        "missing_required_parameter",
    ),
    (
        {"method": {"type": "rlhf"}},
        "Invalid value: 'rlhf'. Supported values are: 'supervised', 'dpo', and 'reinforcement'.",
        "method.type",
        "invalid_value",
    ),
    (
        {"method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 0}}}},
        f"Invalid '{SUP}.n_epochs': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        f"{SUP}.n_epochs",
        "integer_below_min_value",
    ),
    (
        {"method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 51}}}},
        f"Invalid '{SUP}.n_epochs': integer above maximum value. Expected a value <= 50, but got 51 instead.",
        f"{SUP}.n_epochs",
        "integer_above_max_value",
    ),
    (
        {"method": {"type": "supervised", "supervised": {"hyperparameters": {"batch_size": 257}}}},
        f"Invalid '{SUP}.batch_size': integer above maximum value. Expected a value <= 256, but got 257 instead.",
        f"{SUP}.batch_size",
        "integer_above_max_value",
    ),
    (
        {"method": {"type": "supervised", "supervised": {"hyperparameters": {"batch_size": "big"}}}},
        "Invalid value: 'big'. Supported values are: 'auto'.",
        f"{SUP}.batch_size",
        "invalid_value",
    ),
    (
        {"method": {"type": "supervised", "supervised": {"hyperparameters": {"batch_size": 1.5}}}},
        f"Invalid type for '{SUP}.batch_size': expected 'auto' or an integer, but got a decimal number instead.",
        f"{SUP}.batch_size",
        "invalid_type",
    ),
    (
        {"method": {"type": "supervised", "supervised": {"hyperparameters": {"learning_rate_multiplier": 0}}}},
        f"Invalid '{SUP}.learning_rate_multiplier': decimal below minimum value. Expected a value > 0, but got 0 "
        "instead.",
        f"{SUP}.learning_rate_multiplier",
        "decimal_below_min_value",
    ),
    (
        {"method": {"type": "supervised", "supervised": {"hyperparameters": {"epochs": 2}}}},
        f"Unknown parameter: '{SUP}.epochs'.",
        f"{SUP}.epochs",
        "unknown_parameter",
    ),
    (
        {"model": "gpt-4o", "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 2.5}}}},
        "Invalid 'method.dpo.hyperparameters.beta': decimal above maximum value. Expected a value <= 2.0, but got 2.5 "
        "instead.",
        "method.dpo.hyperparameters.beta",
        "decimal_above_max_value",
    ),
    (
        {"method": {"type": "dpo", "supervised": {}}},
        "Invalid 'method.supervised': the method's type is 'dpo', so only 'method.dpo' can be set.",
        "method.supervised",
        "invalid_value",
    ),
    (
        {"model": "o4-mini", "method": {"type": "reinforcement", "reinforcement": {}}},
        "Missing required parameter: 'method.reinforcement.grader'.",
        "method.reinforcement.grader",
        "missing_required_parameter",
    ),
    (
        {
            "model": "o4-mini",
            "method": {"type": "reinforcement", "reinforcement": {"grader": {**GRADER, "type": "vibes"}}},
        },
        "Invalid value: 'vibes'. Supported values are: 'string_check', 'text_similarity', 'python', 'score_model', "
        "and 'multi'.",
        "method.reinforcement.grader.type",
        "invalid_value",
    ),
    (
        {
            "model": "o4-mini",
            "method": {"type": "reinforcement", "reinforcement": {"grader": {**GRADER, "name": None}}},
        },
        "Missing required parameter: 'method.reinforcement.grader.name'.",
        "method.reinforcement.grader.name",
        "missing_required_parameter",
    ),
    (
        {"model": "gpt-3.5-turbo", "method": {"type": "dpo"}},
        "Model gpt-3.5-turbo cannot be fine-tuned with the 'dpo' method. Supported methods: 'supervised'.",
        "method.type",
        "invalid_value",
    ),
    (
        {"model": "o4-mini"},
        "Model o4-mini cannot be fine-tuned with the 'supervised' method. Supported methods: 'reinforcement'.",
        "method.type",
        "invalid_value",
    ),
    (
        {"hyperparameters": {"n_epochs": 0}},
        "Invalid 'hyperparameters.n_epochs': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        "hyperparameters.n_epochs",
        "integer_below_min_value",
    ),
    (
        {"hyperparameters": {"n_epochs": 2}, "method": {"type": "supervised"}},
        "Specify hyperparameters either in 'method' or in the deprecated top-level 'hyperparameters', not both.",
        "hyperparameters",
        "invalid_value",
    ),
    (
        {"integrations": [{"type": "comet", "wandb": {"project": "p"}}]},
        "Invalid value: 'comet'. Supported values are: 'wandb'.",
        "integrations[0].type",
        "invalid_value",
    ),
    (
        {"integrations": [{"type": "wandb", "wandb": {}}]},
        "Missing required parameter: 'integrations[0].wandb.project'.",
        "integrations[0].wandb.project",
        "missing_required_parameter",
    ),
    (
        {"integrations": [{"type": "wandb", "wandb": {"project": "p"}}] * 6},
        "Invalid 'integrations': array too long. Expected an array with maximum length 5, but got an array with length "
        "6 instead.",
        "integrations",
        "array_above_max_length",
    ),
]


@pytest.mark.parametrize(("change", "message", "param", "code"), PARAMETERS)
def test_create_refuses_each_bad_parameter(
    http: httpx.Client, training: str, change: dict[str, Any], message: str, param: str | None, code: str | None
) -> None:
    body = {"model": "gpt-4o-mini", "training_file": training, **change}
    body = {key: value for key, value in body.items() if value is not None}
    assert error_of(http.post("/v1/fine_tuning/jobs", json=body)) == (400, refusal(message, param, code))
    assert http.get("/v1/fine_tuning/jobs").json()["data"] == []  # nothing was made


def test_create_refuses_files_that_cannot_be_used(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    client = mockfiles.client(max_retries=0)
    good = upload(client, chat_file())
    other = client.files.create(file=("notes.txt", b"hello"), purpose="assistants").id
    body = {"model": "gpt-4o-mini", "training_file": other}
    assert error_of(http.post("/v1/fine_tuning/jobs", json=body)) == (
        400,
        refusal(
            f"Invalid 'training_file': the file '{other}' has purpose 'assistants'; fine-tuning reads files uploaded "
            "with purpose 'fine-tune'.",
            "training_file",
            "invalid_file_purpose",
        ),
    )
    mockfiles.use_scenario({"processing": {"fine-tune": {"delay": "1m"}}})
    pending = upload(client, chat_file())
    with pytest.raises(openai.BadRequestError) as info:
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=pending)
    assert (info.value.code, info.value.param, info.value.message) == (
        "file_not_ready",
        "training_file",
        f"Error code: 400 - File {pending} is not ready",
    )
    mockfiles.use_scenario(
        {"faults": [{"match": {"endpoint": "files.create"}, "processing": {"status": "error", "delay": "0s"}}]}
    )
    broken = upload(client, chat_file())
    body = {"model": "gpt-4o-mini", "training_file": good, "validation_file": broken}
    assert error_of(http.post("/v1/fine_tuning/jobs", json=body)) == (
        400,
        refusal(
            f"Invalid 'validation_file': the file '{broken}' could not be processed (status 'error').",
            "validation_file",
            "invalid_file",
        ),
    )


def test_create_refuses_a_body_that_is_not_an_object_or_too_large(http: httpx.Client) -> None:
    assert error_of(http.post("/v1/fine_tuning/jobs", content=b"[1]")) == (
        400,
        refusal("The request body must be a JSON object.", None, None),
    )
    status, error = error_of(http.post("/v1/fine_tuning/jobs", content=b"{" + b" " * (1024 * 1024 + 1)))
    assert status == 413 and error["code"] == "request_too_large"


FORMAT = "The job failed due to a file format error in the {which} file. Invalid file format. "


def bad_line_file(index: int, line: bytes, n: int = 12) -> bytes:
    lines = [json.dumps(chat_example(i)).encode() for i in range(n)]
    lines[index] = line
    return b"\n".join(lines) + b"\n"


CONTENT: list[tuple[str, bytes, dict[str, Any], str, str, str]] = [
    (
        "too few examples",
        chat_file(3),
        {},
        "invalid_n_examples",
        "training_file",
        "Training file has 3 example(s), but must have at least 10 examples",
    ),
    (
        "an empty file of blank lines",
        b"\n\n\n",
        {},
        "invalid_n_examples",
        "training_file",
        "Training file has 0 example(s), but must have at least 10 examples",
    ),
    (
        "a line that is not JSON",
        bad_line_file(5, b'{"messages": [}'),
        {},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training")
        + "Example 6 cannot be parsed. Error: line contains invalid json: Expecting value: line 1 column 15 (char 14) "
        "(line 6)",
    ),
    (
        "a line that is not UTF-8",
        bad_line_file(2, b'{"messages": "\xff"}'),
        {},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training") + "Example 3 cannot be parsed. Error: line is not valid UTF-8 (line 3)",
    ),
    (
        "a line that is an array",
        bad_line_file(0, b"[]"),
        {},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training") + "Example 1 is not a JSON object.",
    ),
    (
        "a line without messages",
        bad_line_file(2, b'{"prompt": "a", "completion": "b"}'),
        {},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training") + "Example 3 is missing key 'messages'.",
    ),
    (
        "an extra key",
        bad_line_file(0, json.dumps({**chat_example(0), "weight": 1}).encode()),
        {},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training") + 'Example 1 contains an extra "weight".',
    ),
    (
        "a message without a role",
        bad_line_file(1, b'{"messages": [{"content": "hi"}, {"role": "assistant", "content": "yo"}]}'),
        {},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training") + "Example 2, message 1 Discriminator 'role' is missing in value",
    ),
    (
        "an unknown role",
        bad_line_file(1, b'{"messages": [{"role": "robot", "content": "hi"}]}'),
        {},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training")
        + "Example 2, message 1 has role 'robot'; expected one of 'system', 'developer', 'user', 'assistant', 'tool', "
        "'function'.",
    ),
    (
        "no assistant message",
        bad_line_file(3, b'{"messages": [{"role": "user", "content": "hi"}]}'),
        {},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training") + "Example 4 is missing an assistant message.",
    ),
    (
        "a message without content",
        bad_line_file(0, b'{"messages": [{"role": "user"}, {"role": "assistant", "content": "x"}]}'),
        {},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training") + "Example 1, message 1 is missing key 'content'.",
    ),
    (
        "a weight on a user message",
        bad_line_file(
            0, b'{"messages": [{"role": "user", "content": "a", "weight": 1}, {"role": "assistant", "content": "b"}]}'
        ),
        {},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training")
        + "Example 1, message 1 has a weight: only assistant messages take one, 0 or 1.",
    ),
    (
        "a chat file for a completions model",
        chat_file(),
        {"model": "babbage-002"},
        "invalid_file_format",
        "training_file",
        FORMAT.format(which="training") + "Example 1 is missing key 'prompt'.",
    ),
]


@pytest.mark.parametrize(
    ("case", "content", "change", "code", "param", "message"), CONTENT, ids=[c[0] for c in CONTENT]
)
def test_a_file_with_bad_content_fails_the_job_in_validating_files(
    mockfiles: MockFilesServer,
    http: httpx.Client,
    case: str,
    content: bytes,
    change: dict[str, Any],
    code: str,
    param: str,
    message: str,
) -> None:
    mockfiles.use_scenario(SLOW)
    client = mockfiles.client(max_retries=0)
    body = {"model": "gpt-4o-mini", "training_file": upload(client, content), **change}
    created = http.post("/v1/fine_tuning/jobs", json=body)
    assert created.status_code == 200 and created.json()["status"] == "validating_files"  # accepted at create
    job_id = created.json()["id"]
    mockfiles.advance(25)
    assert http.get(f"/v1/fine_tuning/jobs/{job_id}").json()["status"] == "validating_files"
    mockfiles.advance(5)
    job = typed_job(http.get(f"/v1/fine_tuning/jobs/{job_id}").json())
    assert job["status"] == "failed" and job["error"] == {"code": code, "message": message, "param": param}
    assert job["finished_at"] is None and job["fine_tuned_model"] is None and job["trained_tokens"] is None
    assert job["hyperparameters"] == {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}
    newest = http.get(f"/v1/fine_tuning/jobs/{job_id}/events").json()["data"]
    assert len(newest) == 3 and (newest[0]["level"], newest[0]["message"]) == ("error", message)
    mockfiles.advance(3600)  # nothing more happens
    assert len(http.get(f"/v1/fine_tuning/jobs/{job_id}/events").json()["data"]) == 3


def test_a_file_in_another_methods_format_is_said_so(client: openai.OpenAI) -> None:
    chat, preference = upload(client, chat_file()), upload(client, dpo_file())
    dpo = client.fine_tuning.jobs.create(model="gpt-4o", training_file=chat, method={"type": "dpo"})
    failed = client.fine_tuning.jobs.retrieve(dpo.id)
    assert failed.status == "failed" and failed.error is not None and failed.error.param == "training_file"
    assert failed.error.message == (
        FORMAT.format(which="training") + f"Input file {chat} is in the fine-tune-chat format, but the specified "
        "fine-tuning job is not using 'supervised' as the training method (provided method=dpo). "
    )
    supervised = client.fine_tuning.jobs.create(model="gpt-4o", training_file=preference)
    error = client.fine_tuning.jobs.retrieve(supervised.id).error
    assert error is not None and error.code == "invalid_file_format"
    assert f"Input file {preference} is in the fine-tune-preference format" in error.message
    assert "not using 'dpo' as the training method (provided method=supervised)" in error.message


def test_a_bad_validation_file_fails_the_job_naming_it(client: openai.OpenAI) -> None:
    validation = upload(client, jsonl({"messages": [{"role": "user", "content": "x"}]}), "valid.jsonl")
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=upload(client, chat_file()), validation_file=validation
    )
    error = client.fine_tuning.jobs.retrieve(job.id).error
    assert error is not None and (error.code, error.param) == ("invalid_file_format", "validation_file")
    assert error.message == FORMAT.format(which="validation") + "Example 1 is missing an assistant message."
    empty = upload(client, b"\n", "empty.jsonl")
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=upload(client, chat_file()), validation_file=empty
    )
    error = client.fine_tuning.jobs.retrieve(job.id).error
    assert error is not None and (error.code, error.param) == ("invalid_n_examples", "validation_file")
    assert error.message == "Validation file has 0 example(s), but must have at least 1 examples"


def test_cancel_pause_and_resume_refuse_a_job_in_the_wrong_state(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    client = mockfiles.client(max_retries=0)
    done = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file()))
    path = f"/v1/fine_tuning/jobs/{done.id}"
    assert error_of(http.post(path + "/cancel")) == (
        409,
        refusal(f"Cannot cancel a fine-tuning job that has already succeeded: {done.id}", None, None),
    )
    assert error_of(http.post(path + "/pause")) == (
        409,
        refusal(
            f"Cannot pause a fine-tuning job with status 'succeeded': only a running job can be paused: {done.id}",
            None,
            None,
        ),
    )
    mockfiles.use_scenario(SLOW)
    waiting = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=done.training_file)
    with pytest.raises(openai.ConflictError) as info:
        client.fine_tuning.jobs.resume(waiting.id)
    assert info.value.status_code == 409 and info.value.body == refusal(  # type: ignore[comparison-overlap]
        f"Cannot resume a fine-tuning job with status 'validating_files': only a paused job can be resumed: "
        f"{waiting.id}",
        None,
        None,
    )
    assert error_of(http.post("/v1/fine_tuning/jobs/ftjob-nothere/cancel")) == (
        404,
        refusal("Could not find fine tune: ftjob-nothere", None, "fine_tune_not_found"),
    )


@pytest.mark.parametrize(
    ("path", "query", "status", "param", "code"),
    [
        ("", {"limit": 0}, 400, "limit", "integer_below_min_value"),
        ("", {"limit": 101}, 400, "limit", "integer_above_max_value"),
        ("", {"limit": "x"}, 400, "limit", "invalid_type"),
        ("", {"after": "ftjob-nothere"}, 400, "after", None),
        ("", {"metadata": "yes"}, 400, "metadata", None),
        ("/{id}/events", {"limit": 1001}, 400, "limit", "integer_above_max_value"),
        ("/{id}/events", {"after": "ftevent-nothere"}, 400, "after", None),
        ("/{id}/checkpoints", {"limit": 101}, 400, "limit", "integer_above_max_value"),
        ("/{id}/checkpoints", {"after": "ftckpt_nothere"}, 400, "after", None),
        ("/ftjob-nothere/events", {}, 404, None, "fine_tune_not_found"),
        ("/ftjob-nothere/checkpoints", {}, 404, None, "fine_tune_not_found"),
    ],
)
def test_list_refusals(
    client: openai.OpenAI,
    http: httpx.Client,
    path: str,
    query: dict[str, Any],
    status: int,
    param: str | None,
    code: str | None,
) -> None:
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file()))
    answer = http.get("/v1/fine_tuning/jobs" + path.format(id=job.id), params=query)
    got_status, error = error_of(answer)
    assert (got_status, error["param"], error["code"]) == (status, param, code)
    assert error["message"]


def test_an_event_id_of_another_job_is_not_a_cursor(client: openai.OpenAI, http: httpx.Client) -> None:
    training = upload(client, chat_file())
    one, two = (client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training) for _ in range(2))
    event = client.fine_tuning.jobs.list_events(one.id, limit=1).data[0]
    assert error_of(http.get(f"/v1/fine_tuning/jobs/{two.id}/events", params={"after": event.id})) == (
        400,
        refusal(f"Invalid 'after': no event with id '{event.id}' in this fine-tuning job.", "after", None),
    )
