"""The Fine-tuning domain without HTTP: the timeline's arithmetic (pauses, resumes, a cancel), the
events of a long job made by position, event ids, auto hyperparameters, the metrics file's format,
and the fine-tuned models an account has (what the model routes ask)."""

from __future__ import annotations

import base64
import json

import freezegun
import pytest

from mockfiles.chat.models import model_object
from mockfiles.emulator import Emulator, Settings
from mockfiles.fine_tuning.events import decode_event_id, event_id
from mockfiles.fine_tuning.method import default_epochs, parse_method
from mockfiles.fine_tuning.metrics import csv_rows, step_message
from mockfiles.fine_tuning.params import CreateJob
from mockfiles.fine_tuning.timeline import Timeline
from mockfiles.scenarios.fine_tuning import Timing
from tests.support.fine_tuning import chat_file

TIMING = Timing(validating_files=10, queued=5, running=100)


def test_the_phases_in_order() -> None:
    line = Timeline(1000, TIMING, steps=10)
    assert line.transitions() == [
        ("validating_files", 1000),
        ("queued", 1010),
        ("running", 1015),
        ("succeeded", 1115),
    ]
    assert [line.status(t) for t in (1000, 1009.9, 1010, 1015, 1114, 1115)] == [
        "validating_files",
        "validating_files",
        "queued",
        "running",
        "running",
        "succeeded",
    ]
    assert [line.steps_done(t) for t in (1014, 1015, 1024.9, 1025, 1065, 2000)] == [0, 0, 0, 1, 5, 10]


def test_a_pause_stops_the_work_and_a_resume_queues_the_job_again() -> None:
    line = Timeline(0, TIMING, steps=10).paused(45)  # 30 s of work done: step 3
    assert line.status(45) == "paused" and line.steps_done(10_000) == 3 and line.final() == ("succeeded", float("inf"))
    line = line.resumed(1000)
    assert line.transitions()[-4:] == [("paused", 45), ("queued", 1000), ("running", 1005), ("succeeded", 1075)]
    assert line.steps_done(1005) == 3 and line.steps_done(1015) == 4 and line.step_time(10) == 1075
    twice = line.paused(1035).resumed(1100)  # 60 s done before the second pause
    assert twice.final() == ("succeeded", 1100 + 5 + 40)


def test_a_cancel_cuts_the_job_where_it_is() -> None:
    line = Timeline(0, TIMING, steps=10).cancelled(12)
    assert line.transitions() == [("validating_files", 0), ("queued", 10), ("cancelled", 12)]
    assert line.steps_done(1000) == 0
    running = Timeline(0, TIMING, steps=10).cancelled(50)
    assert running.status(49) == "running" and running.status(50) == "cancelled" and running.steps_done(1000) == 3


def test_failures_in_validation_and_halfway_through_training() -> None:
    invalid = Timeline(0, TIMING, steps=0, fails="validating_files")
    assert invalid.transitions() == [("validating_files", 0), ("failed", 10)]
    halfway = Timeline(0, TIMING, steps=10, fails="running")
    assert halfway.final() == ("failed", 15 + 50) and halfway.steps_done(1000) == 5


@freezegun.freeze_time("2026-01-01")  # the emulator clock is wall time plus advances: frozen here
def test_events_of_a_long_job_are_made_by_position() -> None:
    emulator = Emulator(Settings(scenario={"fine_tuning": {"timing": {"running": "1h"}}}))
    content = (
        json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}).encode()
        + b"\n"
    )
    content *= 2000
    stored = emulator.files.create("k", purpose="fine-tune", filename="t.jsonl", chunks=[content], size=len(content))
    body = {"model": "gpt-4o-mini", "training_file": stored.id, "hyperparameters": {"batch_size": 1, "n_epochs": 50}}
    job = emulator.fine_tuning.create("k", CreateJob.parse(body))
    emulator.clock.advance(1800)  # half the training: 50,000 of 100,000 steps
    page = emulator.fine_tuning.events("k", job["id"], limit=3)
    assert [e["message"].split(":")[0] for e in page["data"]] == [
        "Step 50000/100000",
        "Step 49999/100000",
        "Step 49998/100000",
    ]
    later = emulator.fine_tuning.events("k", job["id"], limit=2, after=page["data"][-1]["id"])
    assert later["data"][0]["data"]["step"] == 49997 and later["has_more"]
    checkpoints = emulator.fine_tuning.checkpoints("k", job["id"], limit=100)
    assert [c["step_number"] for c in checkpoints["data"]][:2] == [50000, 48000] and len(checkpoints["data"]) == 25


def test_event_ids_encode_their_position_for_their_job_only() -> None:
    for code in (0, 1, 2, 99_999, 2 * 10**9):
        made = event_id("ftjob-one", code)
        assert len(made) == len("ftevent-") + 24 and decode_event_id("ftjob-one", made) == code
        assert decode_event_id("ftjob-two", made) is None
    assert decode_event_id("ftjob-one", "ftevent-short") is None
    assert decode_event_id("ftjob-one", "x" * 32) is None
    assert len({event_id("ftjob-one", code)[-8:] for code in range(1000)}) == 1000


@pytest.mark.parametrize(
    ("examples", "epochs"),
    [(1, 25), (10, 10), (12, 8), (33, 3), (34, 3), (8333, 3), (8334, 2), (25_001, 1), (10**6, 1)],
)
def test_auto_epochs_follow_the_published_rule(examples: int, epochs: int) -> None:
    assert default_epochs(examples) == epochs


def test_auto_values_settle_once_the_file_is_read() -> None:
    method = parse_method(None, None)
    assert method.given == {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}
    assert method.resolved(1000, 1.8) == {"batch_size": 2, "learning_rate_multiplier": 1.8, "n_epochs": 3}
    assert method.resolved(500_000, 2.0) == {"batch_size": 256, "learning_rate_multiplier": 2.0, "n_epochs": 1}
    dpo = parse_method({"type": "dpo", "dpo": {"hyperparameters": {"batch_size": 4}}}, None)
    assert dpo.resolved(40, 1.8) == {"batch_size": 4, "learning_rate_multiplier": 1.8, "n_epochs": 3, "beta": 0.1}
    deprecated = parse_method(None, {"n_epochs": 2})
    assert deprecated.type == "supervised" and deprecated.given["n_epochs"] == 2


def test_the_metrics_file_is_openais_csv() -> None:
    rows = list(csv_rows(seed=1, total=12, steps_per_epoch=12, validation=True))
    assert rows[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
    cells = [row.rstrip("\n").split(",") for row in rows[1:]]
    assert [c[0] for c in cells] == [str(i) for i in range(1, 13)]
    assert (
        cells[0][3:] == ["", ""] and cells[9][3] != "" and cells[11][3] != ""
    )  # validation every 10 steps and at the end
    assert all(len(c[1].split(".")[-1]) <= 5 or "e-" in c[1] for c in cells)  # rounded to 5 places
    assert step_message({"step": 3, "total_steps": 9, "train_loss": 1.234}) == "Step 3/9: training loss=1.23"


def test_the_account_knows_its_fine_tuned_models_until_one_is_deleted() -> None:
    emulator = Emulator()
    service = emulator.fine_tuning
    content = chat_file(10)
    stored = emulator.files.create("k", purpose="fine-tune", filename="t.jsonl", chunks=[content], size=len(content))
    job = service.create("k", CreateJob.parse({"model": "gpt-4o-mini", "training_file": stored.id, "suffix": "s"}))
    name = service.get("k", job["id"])["fine_tuned_model"]
    models = service.models("k")
    assert [m.checkpoint_step for m in models] == [*range(10, 100, 10), None] and models[-1].id == name
    assert service.model("k", name) == models[-1] and service.model("other", name) is None
    assert model_object(emulator.models.find("k", name, "openai")) == {  # as GET /v1/models shows it
        "id": name,
        "object": "model",
        "created": job["created_at"],
        "owned_by": job["organization_id"],
    }
    assert models[-1].base == "gpt-4o-mini-2024-07-18" and models[0].id.endswith(":ckpt-step-10")
    service.delete_model("k", name)
    assert service.model("k", name) is None and len(service.models("k")) == 9
    emulator.reset()
    assert emulator.fine_tuning.models("k") == []


def test_the_results_file_is_written_once_the_job_succeeds() -> None:
    emulator = Emulator(Settings(scenario={"fine_tuning": {"timing": {"running": "10s"}}}))
    content = chat_file(10)
    stored = emulator.files.create("k", purpose="fine-tune", filename="t.jsonl", chunks=[content], size=len(content))
    job = emulator.fine_tuning.create("k", CreateJob.parse({"model": "gpt-4o-mini", "training_file": stored.id}))
    assert [f.purpose for f in emulator.files.all_files()] == ["fine-tune"]
    emulator.clock.advance(10)
    assert emulator.scheduler.settle(timeout=30)  # the scheduler stores it (a request of "k" would wait for it)
    written = [f for f in emulator.files.all_files() if f.purpose == "fine-tune-results"]
    assert len(written) == 1 and written[0].account == "k" and written[0].created_at == job["created_at"] + 10
    assert base64.b64decode(written[0].content()).startswith(b"step,train_loss,")


def test_a_job_of_more_than_250000_steps_fails_in_validating_files() -> None:
    emulator = Emulator()
    line = json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})
    content = (line.encode() + b"\n") * 5001
    stored = emulator.files.create("k", purpose="fine-tune", filename="t.jsonl", chunks=[content], size=len(content))
    body = {"model": "gpt-4o-mini", "training_file": stored.id, "hyperparameters": {"batch_size": 1, "n_epochs": 50}}
    job = emulator.fine_tuning.get("k", emulator.fine_tuning.create("k", CreateJob.parse(body))["id"])
    assert job["status"] == "failed" and job["error"] == {
        "code": "too_many_steps",
        "message": "This job would train for 250,050 steps; mockfiles trains at most 250,000 steps per job (its "
        "results file holds a row per step). Lower n_epochs or raise batch_size.",
        "param": None,
    }
    body["hyperparameters"] = {"batch_size": 2, "n_epochs": 50}
    assert (
        emulator.fine_tuning.get("k", emulator.fine_tuning.create("k", CreateJob.parse(body))["id"])["status"]
        == "succeeded"
    )
