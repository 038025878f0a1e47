"""The Fine-tuning API through the async openai SDK: create, poll with advance(), events and
checkpoints paged, pause and resume, cancel, the results file downloaded; and a 100,000-example
training file read in a worker thread while other clients are answered."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.fine_tuning import SLOW, chat_example, chat_file, results_rows
from tests.support.helpers import jsonl

pytestmark = pytest.mark.mockfiles(rate_limits=False, scenario=SLOW)


async def test_the_async_client_follows_a_job_to_its_end(
    mockfiles: MockFilesServer, aclient: openai.AsyncOpenAI
) -> None:
    training = await aclient.files.create(file=("train.jsonl", chat_file(10)), purpose="fine-tune")
    job = await aclient.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training.id, suffix="async")
    statuses = []
    while True:
        current = await aclient.fine_tuning.jobs.retrieve(job.id)
        statuses.append(current.status)
        if current.status in ("succeeded", "failed", "cancelled"):
            break
        mockfiles.advance(100)
    assert statuses[0] == "validating_files" and statuses[-1] == "succeeded" and "running" in statuses
    events = [e async for e in aclient.fine_tuning.jobs.list_events(job.id, limit=9)]
    assert len(events) == 4 + 100 + 9 + 2 and events[-1].message == f"Created fine-tuning job: {job.id}"
    checkpoints = [c async for c in aclient.fine_tuning.jobs.checkpoints.list(job.id, limit=3)]
    assert [c.step_number for c in checkpoints] == list(range(100, 0, -10))
    assert checkpoints[0].fine_tuned_model_checkpoint == current.fine_tuned_model
    content = await aclient.files.content(current.result_files[0])
    rows = results_rows(content.read())
    assert [int(r["step"]) for r in rows] == list(range(1, 101))
    jobs = [j.id async for j in aclient.fine_tuning.jobs.list(limit=1)]
    assert jobs == [job.id]
    model = str(current.fine_tuned_model)
    answer = await aclient.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert answer.model == model and answer.choices[0].message.content == "Echo: hi"
    assert (await aclient.models.retrieve(model)).owned_by == job.organization_id


async def test_pause_resume_and_cancel_with_the_async_client(
    mockfiles: MockFilesServer, aclient: openai.AsyncOpenAI
) -> None:
    training = await aclient.files.create(file=("train.jsonl", chat_file(10)), purpose="fine-tune")
    job = await aclient.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training.id)
    mockfiles.advance(80)
    assert (await aclient.fine_tuning.jobs.pause(job.id)).status == "paused"
    assert (await aclient.fine_tuning.jobs.resume(job.id)).status == "queued"
    mockfiles.advance(40)
    assert (await aclient.fine_tuning.jobs.retrieve(job.id)).status == "running"
    cancelled = await aclient.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.fine_tuned_model is None
    newest = (await aclient.fine_tuning.jobs.list_events(job.id, limit=1)).data[0]
    assert newest.message == "Fine-tuning job cancelled"
    with pytest.raises(openai.ConflictError):
        await aclient.fine_tuning.jobs.resume(job.id)


async def test_async_calls_in_parallel(aclient: openai.AsyncOpenAI) -> None:
    training = await aclient.files.create(file=("train.jsonl", chat_file(10)), purpose="fine-tune")
    made = await asyncio.gather(
        *(aclient.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training.id, seed=i) for i in range(5))
    )
    assert len({job.id for job in made}) == 5 and sorted(job.seed for job in made) == list(range(5))


EXAMPLES = 100_000
TIMEOUT = httpx.Timeout(120.0)  # generous: the machine may be busy with other tests


@pytest.mark.mockfiles(rate_limits=False, scenario={})
def test_other_clients_are_answered_while_a_100000_example_file_is_read(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    content = jsonl(*(chat_example(i) for i in range(EXAMPLES)))
    uploaded = http.post(
        "/v1/files", files={"file": ("big.jsonl", content)}, data={"purpose": "fine-tune"}, timeout=TIMEOUT
    ).json()["id"]
    answers: dict[str, httpx.Response] = {}

    def create() -> None:
        with httpx.Client(base_url=mockfiles.url, headers=http.headers, timeout=TIMEOUT) as own:
            answers["create"] = own.post(
                "/v1/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": uploaded}
            )

    creating = threading.Thread(target=create)
    creating.start()
    service = mockfiles.emulator.fine_tuning
    while creating.is_alive() and not service.busy:
        time.sleep(0.001)  # until the reading has begun
    answered = 0
    with httpx.Client(base_url=mockfiles.url, timeout=TIMEOUT) as probe:
        while service.busy:
            health = probe.get("/_mockfiles/health").status_code
            other = probe.get("/v1/fine_tuning/jobs", headers={"Authorization": "Bearer sk-another-account"})
            if (health, other.status_code) == (200, 200) and service.busy:
                answered += 1
    creating.join()
    job = answers["create"].json()
    assert job["status"] == "validating_files", job
    assert answered >= 1
    done = http.get(f"/v1/fine_tuning/jobs/{job['id']}").json()
    assert done["status"] == "succeeded" and done["hyperparameters"]["batch_size"] == 200  # 0.2% of the examples
    assert done["hyperparameters"]["n_epochs"] == 1  # 25,000 examples seen at most: one epoch
