"""The ``fine_tuning:`` section of a scenario: parsed and checked with the line of every mistake,
valid against the JSON Schema, and its rules deciding how jobs end (over HTTP, with the SDK)."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import openai
import pytest
import yaml

from mockfiles import MockFilesServer
from mockfiles.exceptions import ScenarioError
from mockfiles.scenarios.fine_tuning import FineTuningSettings, Timing
from mockfiles.scenarios.scenario import load_scenario, scenario_from_text
from tests.support.fine_tuning import chat_file, typed_job, upload

SCHEMA = json.loads(resources.files("mockfiles.scenarios").joinpath("schema.json").read_text())

GOOD = """\
seed: 3
fine_tuning:
  organization: acme
  timing: {validating_files: 30s, queued: 1m, running: 10m}
  jobs:
    - match: {training_file: "bad-*.jsonl"}
      error: {code: invalid_file_format, message: "Nope.", param: training_file}
    - match: {model: "gpt-4.1*", method: supervised}
      stage: running
      error: {code: server_error}
    - match: {suffix: "slow-*"}
      timing: {running: 2h}
    - match: {validation_file: "coin-*"}
      probability: 0.5
      error: {code: invalid_file_format}
"""


def test_a_good_section_parses_and_fits_the_schema() -> None:
    settings = scenario_from_text(GOOD).fine_tuning
    assert settings.organization == "acme" and settings.timing == Timing(30, 60, 600)
    assert [r.stage for r in settings.jobs] == ["validating_files", "running", "validating_files", "validating_files"]
    assert settings.jobs[0].failure() == ("invalid_file_format", "Nope.", "training_file")
    assert settings.jobs[1].failure() == (
        "server_error",
        "The job failed due to an internal error. Please try again.",
        None,
    )
    assert settings.jobs[2].failure() is None and settings.jobs[2].timing == {"running": 7200.0}
    jsonschema.validate(yaml.safe_load(GOOD), SCHEMA)


def test_the_default_is_every_phase_at_zero_for_a_personal_account() -> None:
    assert (
        load_scenario(None).fine_tuning == FineTuningSettings() == FineTuningSettings("personal", Timing(0, 0, 0), ())
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fine_tuning: {timming: {}}", "<scenario>:1: unknown key 'timming' in fine_tuning; did you mean 'timing'?"),
        ("fine_tuning:\n  timing: {running: forever}", "<scenario>:2: fine_tuning.timing.running: "),
        (
            "fine_tuning:\n  organization: 'a:b'",
            "<scenario>:2: fine_tuning.organization must be at most 64 characters, without ':'",
        ),
        (
            "fine_tuning:\n  jobs:\n    - match: {suffix: x}",
            "<scenario>:3: fine_tuning.jobs[0] does nothing: give it an error (the job fails) or a timing",
        ),
        (
            "fine_tuning:\n  jobs:\n    - match: {method: rlhf}\n      error: {code: x}",
            "<scenario>:3: unknown method 'rlhf' in fine_tuning.jobs[0].match.method; choose one of supervised, dpo, reinforcement",
        ),
        (
            "fine_tuning:\n  jobs:\n    - stage: training\n      error: {code: x}",
            "<scenario>:3: unknown stage 'training' in fine_tuning.jobs[0].stage; choose one of validating_files, running",
        ),
        (
            "fine_tuning:\n  jobs:\n    - stage: running\n      timing: {running: 1s}",
            "<scenario>:3: fine_tuning.jobs[0].stage says where the job fails: give the rule an error too",
        ),
        (
            "fine_tuning:\n  jobs:\n    - probability: 2\n      error: {code: x}",
            "<scenario>:3: fine_tuning.jobs[0].probability must be between 0.0 and 1.0, got 2",
        ),
    ],
)
def test_mistakes_are_named_with_their_line(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(text)
    assert str(info.value).startswith(message)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), SCHEMA)


@pytest.mark.mockfiles(rate_limits=False, scenario=yaml.safe_load(GOOD))
def test_rules_decide_how_jobs_end(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    good = upload(client, chat_file())
    bad = upload(client, chat_file(), "bad-data.jsonl")
    failing = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=bad)
    mockfiles.advance(30)
    failed = client.fine_tuning.jobs.retrieve(failing.id)
    assert failed.status == "failed" and failed.error is not None
    assert (failed.error.code, failed.error.message, failed.error.param) == (
        "invalid_file_format",
        "Nope.",
        "training_file",
    )

    halfway = client.fine_tuning.jobs.create(model="gpt-4.1-mini", training_file=good)  # 12 examples: 96 steps
    mockfiles.advance(30 + 60 + 290)  # 6.25 s a step: failing after 48, at 300 s
    assert client.fine_tuning.jobs.retrieve(halfway.id).status == "running"
    mockfiles.advance(10)
    stopped = client.fine_tuning.jobs.retrieve(halfway.id)
    assert stopped.status == "failed" and stopped.error is not None and stopped.error.code == "server_error"
    assert stopped.result_files == [] and stopped.fine_tuned_model is None
    events = [e for e in client.fine_tuning.jobs.list_events(halfway.id, limit=200)]
    assert (events[0].level, events[0].message) == (
        "error",
        "The job failed due to an internal error. Please try again.",
    )
    assert events[1].message.startswith("Step 48/96:")
    assert [c.step_number for c in client.fine_tuning.jobs.checkpoints.list(halfway.id)] == [48, 36, 24, 12]

    slow = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=good, suffix="slow-one")
    normal = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=good, suffix="fast")
    mockfiles.advance(30 + 60 + 600)
    assert client.fine_tuning.jobs.retrieve(normal.id).status == "succeeded"
    assert client.fine_tuning.jobs.retrieve(slow.id).status == "running"
    mockfiles.advance(7200 - 600)
    finished = client.fine_tuning.jobs.retrieve(slow.id)
    assert finished.status == "succeeded" and finished.fine_tuned_model is not None
    assert finished.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:acme:slow-one:")


@pytest.mark.mockfiles(rate_limits=False, seed=11, scenario=yaml.safe_load(GOOD))
def test_a_probability_is_drawn_from_the_seed_and_the_job(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    training = upload(client, chat_file())
    coin = upload(client, chat_file(2), "coin-valid.jsonl")

    def outcomes() -> list[str]:
        made = [
            client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training, validation_file=coin).id
            for _ in range(12)
        ]
        mockfiles.advance(30 + 60 + 600)
        return [typed_job(client.fine_tuning.jobs.retrieve(j).model_dump())["status"] for j in made]

    first = outcomes()
    assert set(first) == {"failed", "succeeded"}
    mockfiles.reset(rate_limits=False, seed=11, scenario=yaml.safe_load(GOOD))
    training = upload(client, chat_file())
    coin = upload(client, chat_file(2), "coin-valid.jsonl")
    assert outcomes() == first  # the same seed: the same job ids, the same draws


@pytest.mark.mockfiles(rate_limits=False, scenario="fine_tuning_failures")
def test_the_shipped_example_scenario(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    bad = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file(), "bad-1.jsonl"))
    halfway = client.fine_tuning.jobs.create(model="gpt-4.1", training_file=upload(client, chat_file()))
    good = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client, chat_file()), suffix="ok")
    mockfiles.advance(60 * 12)
    assert client.fine_tuning.jobs.retrieve(bad.id).error.code == "invalid_file_format"  # type: ignore[union-attr]
    assert client.fine_tuning.jobs.retrieve(halfway.id).error.code == "server_error"  # type: ignore[union-attr]
    done = client.fine_tuning.jobs.retrieve(good.id)
    assert done.status == "succeeded" and done.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:acme:ok:")  # type: ignore[union-attr]
