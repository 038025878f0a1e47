"""The scenario's `batches:` section: parsed with file, line and key in every error, in the JSON
Schema, and its rules' effects."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from mockfiles import ScenarioError, load_scenario
from mockfiles.inference.text import Answer
from mockfiles.scenarios.batches import BatchSettings, LineFailure, Timing
from mockfiles.scenarios.scenario import scenario_from_text

SCHEMA = json.loads(resources.files("mockfiles.scenarios").joinpath("schema.json").read_text())

GOOD = """\
seed: 7
batches:
  timing: {validating: 1s, in_progress: 10m, finalizing: 500ms, cancelling: 2s}
  requests:
    - match: {custom_id: "bad-*", url: /v1/chat/completions}
      status: 500
    - match: {custom_id: "quota-*", model: "gpt-4o*"}
      status: 429
      error: {message: "Slow down.", code: rate_limit_exceeded}
    - match: {custom_id: slow}
      error: {code: request_timeout}
    - match: {custom_id: fixed}
      body: {answer: 42}
    - match: {url: [/v1/embeddings, /v1/responses]}
      probability: 0.5
      status: 503
"""


def test_a_full_section_is_parsed() -> None:
    scenario = scenario_from_text(GOOD, "b.yaml")
    settings = scenario.batches
    assert settings.timing == Timing(validating=1, in_progress=600, finalizing=0.5, cancelling=2)
    rules = settings.requests
    assert [r.index for r in rules] == [0, 1, 2, 3, 4]
    assert rules[0].custom_id == "bad-*" and rules[0].urls == frozenset({"/v1/chat/completions"})
    assert rules[4].urls == frozenset({"/v1/embeddings", "/v1/responses"}) and rules[4].probability == 0.5
    jsonschema.validate(yaml.safe_load(GOOD), SCHEMA)


def test_the_default_is_every_phase_at_zero_and_no_rules() -> None:
    assert load_scenario(None).batches == BatchSettings() == BatchSettings(Timing(0, 0, 0, 0), ())


def test_rule_effects() -> None:
    rules = scenario_from_text(GOOD).batches.requests
    server_error = rules[0].effect()
    assert isinstance(server_error, Answer) and server_error.status == 500
    assert server_error.body["error"]["type"] == "server_error"
    assert server_error.body["error"]["message"].startswith("The server had an error processing your request.")
    assert rules[1].effect() == Answer(
        429,
        {"error": {"message": "Slow down.", "type": "requests", "param": None, "code": "rate_limit_exceeded"}},
    )
    assert rules[2].effect() == LineFailure("request_timeout", "The request timed out before it could be completed.")
    assert rules[3].effect() == Answer(200, {"answer": 42})
    teapot = scenario_from_text("batches:\n  requests:\n    - status: 418\n").batches.requests[0].effect()
    assert teapot == Answer(
        418, {"error": {"message": "Error 418.", "type": "invalid_request_error", "param": None, "code": None}}
    )


def test_first_match_wins_and_matching_is_by_glob() -> None:
    settings = scenario_from_text(GOOD).batches
    chat = "/v1/chat/completions"
    assert settings.rule_for(0, "bad-1", chat, "m") is settings.requests[0]
    assert settings.rule_for(0, "bad-1", "/v1/completions", "m") is None  # the url does not match
    assert settings.rule_for(0, "quota-1", chat, "gpt-4o-mini") is settings.requests[1]
    assert settings.rule_for(0, "quota-1", chat, "o3") is None
    assert settings.rule_for(0, "fixed", chat, "m") is settings.requests[3]


def test_probability_is_decided_by_seed_rule_and_custom_id() -> None:
    settings = scenario_from_text(GOOD).batches
    fired = {i for i in range(400) if settings.rule_for(3, str(i), "/v1/embeddings", "m") is not None}
    assert 150 < len(fired) < 250  # about half
    again = {i for i in reversed(range(400)) if settings.rule_for(3, str(i), "/v1/embeddings", "m") is not None}
    assert again == fired  # whatever the order
    other_seed = {i for i in range(400) if settings.rule_for(4, str(i), "/v1/embeddings", "m") is not None}
    assert other_seed != fired


BAD = [
    ("batches:\n  timng: {validating: 1s}\n", "b.yaml:2: unknown key 'timng' in batches; did you mean 'timing'?"),
    (
        "batches:\n  timing:\n    in_progres: 10m\n",
        "b.yaml:3: unknown key 'in_progres' in batches.timing; did you mean 'in_progress'?",
    ),
    (
        "batches:\n  timing:\n    validating: soon\n",
        "b.yaml:3: batches.timing.validating: expected a duration like 700ms, 30s, 2m, 1h, 30d or a number of seconds, got 'soon'",
    ),
    (
        "batches:\n  requests:\n    - match: {custom_id: 'a*'}\n",
        "b.yaml:3: batches.requests[0] does nothing: give it a status, a body or an error",
    ),
    (
        "batches:\n  requests:\n    - status: 200\n",
        "b.yaml:3: batches.requests[0].status 200 is a success: give the rule a body too, or a status from 400",
    ),
    ("batches:\n  requests:\n    - status: 700\n", "b.yaml:3: batches.requests[0].status must be at most 599, got 700"),
    (
        "batches:\n  requests:\n    - body: [1]\n",
        "b.yaml:3: batches.requests[0].body must be a mapping (the response body), got a list",
    ),
    (
        "batches:\n  requests:\n    - body: {}\n      error: {message: x}\n",
        "b.yaml:3: batches.requests[0]: body and error cannot go together (the body is the whole response)",
    ),
    (
        "batches:\n  requests:\n    - error: {message: slow}\n",
        "b.yaml:3: batches.requests[0].error without a status is a failure with no response: give it a code, "
        "one of request_timeout, batch_expired, batch_cancelled (or add a status for an HTTP error)",
    ),
    (
        "batches:\n  requests:\n    - error: {code: timeout}\n",
        "b.yaml:3: unknown code 'timeout' in batches.requests[0].error.code; choose one of request_timeout, "
        "batch_expired, batch_cancelled",
    ),
    (
        "batches:\n  requests:\n    - error: {code: request_timeout, type: server_error}\n",
        "b.yaml:3: unknown key 'type' in batches.requests[0].error; expected one of code, message",
    ),
    (
        "batches:\n  requests:\n    - match: {url: /v1/chat}\n      status: 500\n",
        "b.yaml:3: unknown url '/v1/chat' in batches.requests[0].match.url; choose one of /v1/responses, "
        "/v1/chat/completions, /v1/embeddings, /v1/completions, /v1/moderations, /v1/images/generations, "
        "/v1/images/edits, /v1/chat/ds-test, /chat/completions, /embeddings",
    ),
    (
        "batches:\n  requests:\n    - match: {customid: x}\n      status: 500\n",
        "b.yaml:3: unknown key 'customid' in batches.requests[0].match; did you mean 'custom_id'?",
    ),
    (
        "batches:\n  requests:\n    - status: 500\n      probability: 2\n",
        "b.yaml:4: batches.requests[0].probability must be between 0.0 and 1.0, got 2",
    ),
    (
        "batches:\n  requests:\n    - status: 500\n      error: {mesage: x}\n",
        "b.yaml:4: unknown key 'mesage' in batches.requests[0].error; did you mean 'message'?",
    ),
    ("batches:\n  requests: {status: 500}\n", "b.yaml:2: batches.requests must be a list, got a mapping"),
    ("batches: [1]\n", "b.yaml:1: batches must be a mapping, got a list"),
    ("bacthes: {}\n", "b.yaml:1: unknown key 'bacthes'; did you mean 'batches'?"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(": ", 1)[1][:50] for _, m in BAD])
def test_bad_sections_name_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).replace(str(tmp_path) + "/", "") == message


@pytest.mark.parametrize(("text", "_"), BAD, ids=[m.split(": ", 1)[1][:50] for _, m in BAD])
def test_the_schema_rejects_what_the_loader_rejects(text: str, _: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), SCHEMA)


def test_a_dict_scenario_names_the_key_without_a_line() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario({"batches": {"requests": [{"status": 500}, {"stauts": 500}]}})
    assert str(info.value) == "<scenario>: unknown key 'stauts' in batches.requests[1]; did you mean 'status'?"
