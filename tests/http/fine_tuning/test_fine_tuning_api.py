"""The Fine-tuning API over HTTP with the openai SDK (sync): a job's whole life on the emulator
clock (create, poll with advance(), events, checkpoints, the results file), cancel, pause and
resume, listing with after/limit/metadata, accounts, the journal, fault rules, retry tests, the
admin listing and the fixture's reset; and curl."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.fine_tuning import (
    SLOW,
    chat_file,
    dpo_file,
    reinforcement_file,
    results_rows,
    typed_checkpoint,
    typed_event,
    typed_job,
    upload,
)

pytestmark = pytest.mark.mockfiles(rate_limits=False)


def test_a_job_created_with_the_default_timing_has_succeeded_at_its_first_retrieve(client: openai.OpenAI) -> None:
    training = upload(client, chat_file(12))
    created = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training, suffix="quick")
    assert created.status == "validating_files" and created.model == "gpt-4o-mini-2024-07-18"
    assert created.hyperparameters.model_dump() == {
        "batch_size": "auto",
        "learning_rate_multiplier": "auto",
        "n_epochs": "auto",
    }
    assert created.id.startswith("ftjob-") and len(created.id) == 30 and created.organization_id.startswith("org-")
    job = client.fine_tuning.jobs.retrieve(created.id)
    assert job.status == "succeeded" and job.error is None
    assert job.fine_tuned_model == f"ft:gpt-4o-mini-2024-07-18:personal:quick:{job.fine_tuned_model.split(':')[-1]}"
    assert len(job.fine_tuned_model.split(":")[-1]) == 8
    # 12 examples: epochs raised to 100 // 12 = 8, batches of 1, the learning rate real gpt-4o-mini jobs show
    assert job.hyperparameters.model_dump() == {"batch_size": 1, "learning_rate_multiplier": 1.8, "n_epochs": 8}
    assert job.method is not None and job.method.supervised is not None
    assert job.method.supervised.hyperparameters is not None
    assert job.method.supervised.hyperparameters.n_epochs == 8
    assert job.trained_tokens and job.trained_tokens % 8 == 0 and job.finished_at == job.created_at
    assert len(job.result_files) == 1 and job.seed >= 0


def test_the_whole_life_polled_with_advance(
    mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client
) -> None:
    mockfiles.use_scenario(SLOW)
    training, validation = upload(client, chat_file(20)), upload(client, chat_file(5), "valid.jsonl")
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=training, validation_file=validation, seed=42, metadata={"team": "a"}
    )
    seen = []
    for _ in range(60):
        current = client.fine_tuning.jobs.retrieve(job.id)
        typed_job(http.get(f"/v1/fine_tuning/jobs/{job.id}").json())
        if not seen or seen[-1] != current.status:
            seen.append(current.status)
        if current.status == "succeeded":
            break
        mockfiles.advance(30)
    assert seen == ["validating_files", "queued", "running", "succeeded"]
    assert current.estimated_finish is None and current.finished_at == job.created_at + 1060
    events = list(client.fine_tuning.jobs.list_events(job.id, limit=7))  # the SDK pages through `after`
    raw = http.get(f"/v1/fine_tuning/jobs/{job.id}/events", params={"limit": 1000}).json()
    assert [e.id for e in events] == [e["id"] for e in raw["data"]] and raw["has_more"] is False
    for event in raw["data"]:
        typed_event(event)
    messages = [e.message for e in reversed(events)]  # oldest first
    steps = current.hyperparameters.n_epochs * 20  # batch size 1
    assert messages[:4] == [
        f"Created fine-tuning job: {job.id}",
        f"Validating training file: {training} and validation file: {validation}",
        "Files validated, moving job to queued state",
        "Fine-tuning job started",
    ]
    assert messages[4].startswith(f"Step 1/{steps}: training loss=") and messages[3 + steps].startswith(
        f"Step {steps}/"
    )
    assert "full validation loss=" in messages[3 + steps] and ", validation loss=" in messages[3 + 10]
    assert messages[-2:] == [
        f"New fine-tuned model created: {current.fine_tuned_model}",
        "The job has successfully completed",
    ]
    checkpoint_events = [m for m in messages if m.startswith("Checkpoint created at step ")]
    assert len(checkpoint_events) == current.hyperparameters.n_epochs - 1
    metrics = [e for e in reversed(events) if e.type == "metrics"]
    assert [e.data["step"] for e in metrics] == list(range(1, steps + 1))  # type: ignore[index]
    assert all(e.data["total_steps"] == steps for e in metrics)  # type: ignore[index]
    # the checkpoints: one per epoch, newest first, the last one the model itself
    checkpoints = http.get(f"/v1/fine_tuning/jobs/{job.id}/checkpoints", params={"limit": 100}).json()
    assert set(checkpoints) == {"object", "data", "first_id", "last_id", "has_more"}
    for checkpoint in checkpoints["data"]:
        typed_checkpoint(checkpoint)
    numbers = [c["step_number"] for c in checkpoints["data"]]
    assert numbers == [20 * e for e in range(current.hyperparameters.n_epochs, 0, -1)]  # type: ignore[operator]
    assert checkpoints["data"][0]["fine_tuned_model_checkpoint"] == current.fine_tuned_model
    assert checkpoints["data"][1]["fine_tuned_model_checkpoint"].endswith(f":ckpt-step-{numbers[1]}")
    sdk_checkpoints = list(client.fine_tuning.jobs.checkpoints.list(job.id, limit=2))
    assert [c.step_number for c in sdk_checkpoints] == numbers
    # the results file: a real file of the account, its metrics agreeing with the events'
    (file_id,) = current.result_files
    results = client.files.retrieve(file_id)
    assert (results.purpose, results.filename, results.status) == ("fine-tune-results", "step_metrics.csv", "processed")
    assert file_id in [f.id for f in client.files.list()]
    rows = results_rows(client.files.content(file_id).read())
    assert len(rows) == steps and rows[0]["step"] == "1"
    assert float(rows[0]["train_loss"]) == round(metrics[0].data["train_loss"], 5)  # type: ignore[index]
    assert rows[9]["valid_loss"] != "" and rows[8]["valid_loss"] == ""
    # the new model answers
    answer = client.chat.completions.create(
        model=str(current.fine_tuned_model), messages=[{"role": "user", "content": "What is 3 + 3?"}]
    )
    assert answer.model == current.fine_tuned_model and answer.choices[0].message.content == "Echo: What is 3 + 3?"


def test_the_same_seed_gives_the_same_metrics(client: openai.OpenAI, http: httpx.Client) -> None:
    training = upload(client, chat_file(10))
    runs = [client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training, seed=7) for _ in range(2)]
    other = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training, seed=8)

    def losses(job_id: str) -> list[float]:
        data = http.get(f"/v1/fine_tuning/jobs/{job_id}/events", params={"limit": 1000}).json()["data"]
        return [e["data"]["train_loss"] for e in data if e["type"] == "metrics"]

    assert losses(runs[0].id) == losses(runs[1].id) != losses(other.id)
    contents = [client.files.content(client.fine_tuning.jobs.retrieve(r.id).result_files[0]).read() for r in runs]
    assert contents[0] == contents[1]


def test_cancel_at_once_and_again(mockfiles: MockFilesServer, client: openai.OpenAI, http: httpx.Client) -> None:
    mockfiles.use_scenario(SLOW)
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file()))
    mockfiles.advance(160)  # running: 100 s of 1000
    cancelled = client.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.fine_tuned_model is None and cancelled.result_files == []
    assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"  # a retried cancel answers it again
    mockfiles.advance(1000)
    later = client.fine_tuning.jobs.retrieve(job.id)
    assert later.status == "cancelled" and later.finished_at is None and later.trained_tokens is None
    messages = [e.message for e in client.fine_tuning.jobs.list_events(job.id, limit=100)]
    assert messages[0] == "Fine-tuning job cancelled" and messages[1].startswith("Step ")
    assert not [m for m in messages if "successfully" in m]
    typed_job(http.post(f"/v1/fine_tuning/jobs/{job.id}/cancel").json())


def test_pause_and_resume(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    mockfiles.use_scenario(SLOW)
    client = mockfiles.client(max_retries=0)
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file(10)))
    mockfiles.advance(60 + 505)  # 50 of 100 steps, 10 s each
    paused = http.post(f"/v1/fine_tuning/jobs/{job.id}/pause").json()
    assert typed_job(paused)["status"] == "paused"
    assert client.fine_tuning.jobs.pause(job.id).status == "paused"  # again: the same answer
    step = client.fine_tuning.jobs.list_events(job.id, limit=2).data
    assert step[0].message == "Fine-tuning job paused" and step[1].message.startswith("Step 50/100:")
    mockfiles.advance(3600)  # paused: no training
    assert client.fine_tuning.jobs.retrieve(job.id).status == "paused"
    assert client.fine_tuning.jobs.list_events(job.id, limit=1).data[0].message == "Fine-tuning job paused"
    resumed = client.fine_tuning.jobs.resume(job.id)
    assert resumed.status == "queued" and resumed.estimated_finish is not None
    mockfiles.advance(30 + 490)  # queued again, then 49 more steps
    assert client.fine_tuning.jobs.retrieve(job.id).status == "running"
    newest = client.fine_tuning.jobs.list_events(job.id, limit=51).data
    assert newest[0].message.startswith("Step 99/100:") and newest[49].message == "Fine-tuning job resumed"
    assert newest[50].message == "Fine-tuning job paused"
    mockfiles.advance(10)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded" and done.finished_at is not None
    assert abs(done.finished_at - (job.created_at + 565 + 3600 + 30 + 495)) <= 1  # the pause came some ms later


def test_list_newest_first_with_after_limit_and_metadata(client: openai.OpenAI, http: httpx.Client) -> None:
    training = upload(client, chat_file())
    made = [
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training, metadata={"n": str(i % 2)}).id
        for i in range(5)
    ]
    client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training)
    page = client.fine_tuning.jobs.list(limit=2, after=made[4])
    assert [j.id for j in page.data] == [made[3], made[2]] and page.has_more
    assert [j.id for j in client.fine_tuning.jobs.list(metadata={"n": "0"})] == [made[4], made[2], made[0]]
    assert [j.id for j in client.fine_tuning.jobs.list(metadata={"n": "1"}, limit=1)] == [made[3], made[1]]
    none = http.get("/v1/fine_tuning/jobs", params={"metadata": "null"}).json()
    assert len(none["data"]) == 1 and none["data"][0]["metadata"] is None
    raw = http.get("/v1/fine_tuning/jobs").json()
    assert set(raw) == {"object", "data", "has_more"} and len(raw["data"]) == 6 and raw["has_more"] is False
    for job in raw["data"]:
        typed_job(job)
    assert http.get("/v1/fine_tuning/jobs", params={"metadata[n]": "0", "limit": 2}).json()["has_more"] is True


def test_accounts_see_only_their_own_jobs(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file()))
    other = mockfiles.client(api_key="sk-someone-else", max_retries=0)
    assert list(other.fine_tuning.jobs.list()) == []
    with pytest.raises(openai.NotFoundError) as info:
        other.fine_tuning.jobs.retrieve(job.id)
    assert info.value.body == {  # type: ignore[comparison-overlap]
        "message": f"Could not find fine tune: {job.id}",
        "type": "invalid_request_error",
        "param": None,
        "code": "fine_tune_not_found",
    }
    with pytest.raises(openai.BadRequestError) as refused:  # the file is another account's: not there
        other.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=job.training_file)
    assert refused.value.code == "file_not_found" and refused.value.param == "training_file"


def test_dpo_and_reinforcement_jobs(client: openai.OpenAI) -> None:
    dpo = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini",
        training_file=upload(client, dpo_file()),
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "n_epochs": 2}}},
    )
    done = client.fine_tuning.jobs.retrieve(dpo.id)
    assert done.status == "succeeded" and done.method is not None and done.method.dpo is not None
    assert done.method.dpo.hyperparameters is not None and done.method.dpo.hyperparameters.beta == 0.2
    assert done.hyperparameters.n_epochs == 2 and done.model == "gpt-4.1-mini-2025-04-14"
    grader = {
        "type": "string_check",
        "name": "exact",
        "input": "{{sample.output_text}}",
        "reference": "{{item.answer}}",
        "operation": "eq",
    }
    rft = client.fine_tuning.jobs.create(
        model="o4-mini",
        training_file=upload(client, reinforcement_file()),
        method={
            "type": "reinforcement",
            "reinforcement": {"grader": grader, "hyperparameters": {"reasoning_effort": "low"}},
        },
    )
    assert rft.method is not None and rft.method.reinforcement is not None
    assert rft.method.reinforcement.grader.model_dump(exclude_none=True) == grader
    settled = client.fine_tuning.jobs.retrieve(rft.id)
    assert settled.status == "succeeded" and settled.method.reinforcement.hyperparameters.reasoning_effort == "low"  # type: ignore[union-attr]
    assert settled.method.reinforcement.hyperparameters.eval_interval == 1  # type: ignore[union-attr]


def test_a_job_from_a_fine_tuned_model(client: openai.OpenAI) -> None:
    first = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file()), suffix="one")
    model = client.fine_tuning.jobs.retrieve(first.id).fine_tuned_model
    assert model is not None
    second = client.fine_tuning.jobs.create(model=model, training_file=first.training_file, suffix="two")
    done = client.fine_tuning.jobs.retrieve(second.id)
    assert done.model == model and done.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:personal:two:")  # type: ignore[union-attr]


def test_the_journal_a_fault_rule_and_a_retry_test(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    training = upload(client, chat_file())
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training)
    client.fine_tuning.jobs.list_events(job.id)
    entries = mockfiles.requests("fine_tuning.jobs.create")
    assert entries[0]["fine_tuning_job_id"] == job.id and entries[0]["training_file"] == training
    assert mockfiles.requests("fine_tuning.jobs.list_events")[0]["fine_tuning_job_id"] == job.id
    mockfiles.use_scenario(
        {"faults": [{"match": {"endpoint": "fine_tuning.jobs.retrieve"}, "times": 1, "status": 503}]}
    )
    with pytest.raises(openai.InternalServerError):
        client.fine_tuning.jobs.retrieve(job.id)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "succeeded"
    mockfiles.use_scenario(None)
    test = mockfiles.retry_test({"fine_tuning.jobs.create": ["return-503", "return-429"]})
    retrying = mockfiles.client(max_retries=2, default_headers=test.headers)
    made = retrying.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training)
    assert made.status == "validating_files"
    assert [e["status"] for e in mockfiles.requests() if e.get("retry_test") == test.id] == [503, 429, 200]
    assert test.completed


def test_the_admin_listing_and_the_reset(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file(10)))
    listing = httpx.get(mockfiles.url + "/_mockfiles/fine-tuning").json()
    (shown,) = listing["data"]
    assert shown["id"] == job.id and shown["account"] == mockfiles.account_id(mockfiles.api_key)
    assert shown["steps"] == {"done": 100, "total": 100} and mockfiles.api_key not in json.dumps(listing)
    events = httpx.get(mockfiles.url + f"/_mockfiles/fine-tuning/{job.id}/events", params={"limit": 3}).json()
    assert [e["message"] for e in events["data"]][0] == "The job has successfully completed" and events["has_more"]
    missing = httpx.get(mockfiles.url + "/_mockfiles/fine-tuning/ftjob-nothere/events")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "fine_tune_not_found"
    mockfiles.reset(rate_limits=False)
    assert httpx.get(mockfiles.url + "/_mockfiles/fine-tuning").json()["data"] == []
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve(job.id)


def test_dashscope_compatible_mode_has_no_fine_tuning(mockfiles: MockFilesServer) -> None:
    answer = httpx.get(mockfiles.url + "/compatible-mode/v1/fine_tuning/jobs", headers={"Authorization": "Bearer sk-x"})
    assert answer.status_code == 404


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_creates_polls_and_reads_events(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    training = upload(client, chat_file())
    auth = ["-H", f"Authorization: Bearer {mockfiles.api_key}"]
    body = json.dumps({"model": "gpt-4o-mini", "training_file": training, "suffix": "curl"})
    created = subprocess.run(
        [
            "curl",
            "-sS",
            "-X",
            "POST",
            mockfiles.base_url + "/fine_tuning/jobs",
            *auth,
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    job = typed_job(json.loads(created.stdout))
    got = subprocess.run(
        ["curl", "-sS", mockfiles.base_url + f"/fine_tuning/jobs/{job['id']}", *auth],
        capture_output=True,
        check=True,
        text=True,
    )
    assert json.loads(got.stdout)["status"] == "succeeded"
    events = subprocess.run(
        [
            "curl",
            "-sS",
            "-G",
            mockfiles.base_url + f"/fine_tuning/jobs/{job['id']}/events",
            "--data-urlencode",
            "limit=2",
            *auth,
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    assert [e["message"] for e in json.loads(events.stdout)["data"]][0] == "The job has successfully completed"
    refused = subprocess.run(
        [
            "curl",
            "-sS",
            "-w",
            "\n%{http_code}",
            "-X",
            "POST",
            mockfiles.base_url + "/fine_tuning/jobs",
            *auth,
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps({"model": "gpt-4o-mini", "training_file": training, "n_epochs": 3}),
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    answer, status = refused.stdout.rsplit("\n", 1)
    assert status == "400" and json.loads(answer)["error"] == {
        "message": "Unrecognized request argument supplied: n_epochs",
        "type": "invalid_request_error",
        "param": "n_epochs",
        "code": None,
    }


def test_answers_match_the_published_openapi_schemas(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    import jsonschema

    document = http.get("/_mockfiles/openapi.json").json()

    def check(value: object, name: str) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator)

    mockfiles.use_scenario(SLOW)
    client = mockfiles.client(max_retries=0)
    training, validation = upload(client, chat_file(10)), upload(client, chat_file(3))
    body = {"model": "gpt-4o-mini", "training_file": training, "validation_file": validation, "metadata": {"a": "b"}}
    job = http.post("/v1/fine_tuning/jobs", json=body).json()
    check(job, "FineTuningJob")
    mockfiles.advance(60 + 500)
    check(http.post(f"/v1/fine_tuning/jobs/{job['id']}/pause").json(), "FineTuningJob")  # status paused
    check(
        http.get(f"/v1/fine_tuning/jobs/{job['id']}/events", params={"limit": 1000}).json(),
        "ListFineTuningJobEventsResponse",
    )
    check(http.post(f"/v1/fine_tuning/jobs/{job['id']}/resume").json(), "FineTuningJob")
    mockfiles.advance(1000)
    check(http.get(f"/v1/fine_tuning/jobs/{job['id']}").json(), "FineTuningJob")
    check(http.get("/v1/fine_tuning/jobs").json(), "ListPaginatedFineTuningJobsResponse")
    check(http.get(f"/v1/fine_tuning/jobs/{job['id']}/checkpoints").json(), "ListFineTuningJobCheckpointsResponse")
    failed = http.post("/v1/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": validation}).json()
    mockfiles.advance(30)
    check(http.get(f"/v1/fine_tuning/jobs/{failed['id']}").json(), "FineTuningJob")  # with its error
    grader = {"type": "python", "name": "g", "source": "def grade(sample, item): return 1"}
    rft = {
        "model": "o4-mini",
        "training_file": upload(client, reinforcement_file()),
        "method": {"type": "reinforcement", "reinforcement": {"grader": grader}},
    }
    made = http.post("/v1/fine_tuning/jobs", json=rft).json()
    check(made, "FineTuningJob")
    mockfiles.advance(2000)
    typed_job(http.get(f"/v1/fine_tuning/jobs/{made['id']}").json())  # the SDK's grader types, strictly


@pytest.mark.mockfiles(rate_limits=False, in_process=True)
def test_in_process_clients_run_a_job(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(max_retries=0) as client:
        job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file()))
        done = client.fine_tuning.jobs.retrieve(job.id)
        assert done.status == "succeeded" and client.files.content(done.result_files[0]).read()
