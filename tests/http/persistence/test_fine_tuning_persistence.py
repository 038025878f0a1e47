"""Fine-tuning jobs in a data directory (docs/persistence.md): a `mockfiles serve --data-dir`
killed with SIGKILL and started again shows every job answered before the kill, which then goes
on where the emulator clock has it (its results file stored, its model known to the model routes);
pauses, cancels, failures and deleted models come back as they were."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest

from mockfiles.server import MockFilesServer
from tests.http.persistence.test_persistence import Served
from tests.support.fine_tuning import chat_file, results_rows

SCENARIO = {"fine_tuning": {"timing": {"validating_files": "30s", "queued": "30s", "running": "1000s"}}}


def upload(client: openai.OpenAI, content: bytes, name: str = "train.jsonl") -> str:
    return client.files.create(file=(name, content), purpose="fine-tune").id


def test_a_job_survives_kill_9_and_finishes_after_the_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    scenario = tmp_path / "ft.yaml"
    scenario.write_text("fine_tuning: {timing: {validating_files: 30s, queued: 30s, running: 1000s}}\n")
    server = Served(data_dir, "--scenario", str(scenario))
    job = server.client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(server.client, chat_file()))
    httpx.post(server.url + "/_mockfiles/clock", json={"advance": 560}).raise_for_status()  # about half trained
    before = server.client.fine_tuning.jobs.retrieve(job.id)
    events = [e.id for e in server.client.fine_tuning.jobs.list_events(job.id, limit=1000)]
    server.kill()
    again = Served(data_dir, "--scenario", str(scenario))
    try:
        client = again.client
        assert client.fine_tuning.jobs.retrieve(job.id).model_dump() == before.model_dump()
        assert [e.id for e in client.fine_tuning.jobs.list_events(job.id, limit=1000)] == events
        httpx.post(again.url + "/_mockfiles/clock", json={"advance": 600}).raise_for_status()
        done = client.fine_tuning.jobs.retrieve(job.id)
        assert done.status == "succeeded" and len(done.result_files) == 1
        assert len(results_rows(client.files.content(done.result_files[0]).read())) == 96
        answer = client.chat.completions.create(
            model=str(done.fine_tuned_model), messages=[{"role": "user", "content": "hi"}]
        )
        assert answer.model == done.fine_tuned_model
    finally:
        again.kill()


def test_every_state_of_a_job_comes_back(tmp_path: Path) -> None:
    with MockFilesServer(rate_limits=False, data_dir=tmp_path, scenario=SCENARIO) as server:
        client = server.client(max_retries=0)
        training = upload(client, chat_file())
        made = [client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training, seed=i) for i in range(3)]
        failed = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file(3)))
        server.advance(100)
        client.fine_tuning.jobs.pause(made[0].id)
        client.fine_tuning.jobs.cancel(made[1].id)
        server.advance(2000)
        finished = client.fine_tuning.jobs.retrieve(made[2].id)
        checkpoint = client.fine_tuning.jobs.checkpoints.list(made[2].id).data[1].fine_tuned_model_checkpoint
        client.models.delete(checkpoint)
        shown = [j.model_dump() for j in client.fine_tuning.jobs.list()]
        models = sorted(m.id for m in client.models.list() if m.id.startswith("ft:"))
        files = sorted(f.id for f in client.files.list())
    with MockFilesServer(rate_limits=False, data_dir=tmp_path, scenario=SCENARIO) as server:
        client = server.client(max_retries=0)
        assert [j.model_dump() for j in client.fine_tuning.jobs.list()] == shown
        assert sorted(m.id for m in client.models.list() if m.id.startswith("ft:")) == models
        assert checkpoint not in models and finished.fine_tuned_model in models
        assert sorted(f.id for f in client.files.list()) == files
        assert client.fine_tuning.jobs.retrieve(failed.id).error.code == "invalid_n_examples"  # type: ignore[union-attr]
        assert client.fine_tuning.jobs.resume(made[0].id).status == "queued"  # the pause kept
        with pytest.raises(openai.ConflictError):
            client.fine_tuning.jobs.pause(made[1].id)
        again = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training)
        assert again.id not in {j["id"] for j in shown}  # ids go on
