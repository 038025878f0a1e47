"""Scenario documents: validation messages (file, line, key), the JSON Schema, runtime control."""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path

import httpx
import jsonschema
import openai
import pytest
import yaml

from mockfiles import MockFilesServer, ScenarioError, load_scenario
from mockfiles.cli import main as cli_main
from mockfiles.core.registry import NAMES

ENDPOINTS = ", ".join(NAMES)  # the registry's, in its order: files.create, files.list, ...

SCENARIOS = sorted((Path(__file__).parent.parent / "mockfiles" / "scenarios" / "examples").glob("*.yaml"))
SCHEMA = json.loads(resources.files("mockfiles.scenarios").joinpath("schema.json").read_text())

pytestmark = pytest.mark.mockfiles(rate_limits=False)


def error_for(tmp_path: Path, text: str, name: str = "flaky.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value).replace(str(tmp_path) + "/", "")


BAD = [
    (
        "seed: 1\nfaults:\n  - match: {endpoint: files.create}\n    status: 500\n  - statuz: 503\n",
        "flaky.yaml:5: unknown key 'statuz' in faults[1]; did you mean 'status'?",
    ),
    ("profil: openai\n", "flaky.yaml:1: unknown key 'profil'; did you mean 'profile'?"),
    (
        "faults:\n  - match:\n      endpoint: files.upload\n    status: 500\n",
        f"flaky.yaml:3: unknown endpoint 'files.upload' in faults[0].match.endpoint; choose one of {ENDPOINTS}",
    ),
    (
        "faults:\n  - match:\n      endpoint: [files.list, files.nope]\n    status: 500\n",
        f"flaky.yaml:3: unknown endpoint 'files.nope' in faults[0].match.endpoint[1]; choose one of {ENDPOINTS}",
    ),
    (
        "faults:\n  - delay: 3 parsecs\n",
        "flaky.yaml:2: faults[0].delay: expected a duration like 700ms, 30s, 2m, 1h, 30d or a number of seconds, "
        "got '3 parsecs'",
    ),
    (
        "limits:\n  max_total_bytes: lots\n",
        "flaky.yaml:2: limits.max_total_bytes: expected a size like 150MB, 1.5GB, 512KiB or a number of bytes, got 'lots'",
    ),
    (
        "limits:\n  max_file_bytes:\n    batch: 1MB\n    bacth: 2MB\n",
        "flaky.yaml:4: unknown key 'bacth' in limits.max_file_bytes; did you mean 'batch'?",
    ),
    ("seed: -3\n", "flaky.yaml:1: seed must be at least 0, got -3"),
    ("seed: many\n", "flaky.yaml:1: seed must be an integer, got 'many'"),
    ("rate_limits:\n  upload: 0\n", "flaky.yaml:2: rate_limits.upload must be at least 1, got 0"),
    ("faults:\n  - status: 700\n", "flaky.yaml:2: faults[0].status must be at most 599, got 700"),
    (
        "faults:\n  - probability: 1.5\n    status: 500\n",
        "flaky.yaml:2: faults[0].probability must be between 0.0 and 1.0, got 1.5",
    ),
    (
        "faults:\n  - match: {endpoint: files.list}\n",
        "flaky.yaml:2: faults[0] does nothing: give it a status, a delay, an action, processing, a stall, a bandwidth or after_events",
    ),
    (
        "faults:\n  - action: explode\n",
        "flaky.yaml:2: unknown action 'explode' in faults[0].action; choose one of reset, timeout, truncate, reset_after_commit, malformed_json",
    ),
    (
        "faults:\n  - status: 500\n    action: reset\n",
        "flaky.yaml:2: faults[0]: status and action 'reset' cannot go together (no response is sent)",
    ),
    (
        "faults:\n  - processing: {status: error}\n",
        "flaky.yaml:2: faults[0]: processing only applies to uploads; "
        "add match: {endpoint: files.create} (or uploads.complete)",
    ),
    (
        "faults:\n  - headers: {x-should-retry: 'false'}\n    delay: 1s\n",
        "flaky.yaml:2: faults[0]: error and headers need a status to go with",
    ),
    ("faults:\n  - delay: {min: 2s, max: 1s}\n", "flaky.yaml:2: faults[0].delay: min is larger than max"),
    ("faults: {status: 500}\n", "flaky.yaml:1: faults must be a list, got a mapping"),
    ("profile: aws\n", "flaky.yaml:1: unknown profile 'aws' in profile; choose one of openai, dashscope, azure"),
    (
        "profile: [openai]\n",
        "flaky.yaml:1: unknown profile ['openai'] in profile; choose one of openai, dashscope, azure",
    ),
    ("seed: 1\nseed: 2\n", "flaky.yaml:2: duplicate key 'seed' in the scenario"),
    (
        "faults:\n  - status: [500\n",
        "flaky.yaml:3: not valid YAML: "
        + (
            "did not find expected ',' or ']'"
            if yaml.__with_libyaml__
            else "expected ',' or ']', but got '<stream end>'"
        ),
    ),
    ("- just\n- a list\n", "flaky.yaml:1: the scenario must be a mapping, got a list"),
    (
        "processing:\n  batch:\n    dealy: 2s\n",
        "flaky.yaml:3: unknown key 'dealy' in processing.batch; did you mean 'delay'?",
    ),
    ("auth:\n  keys: [k1, '']\n", "flaky.yaml:2: auth.keys[1] must be a non-empty string, got ''"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(": ", 1)[1][:40] for _, m in BAD])
def test_bad_scenarios_name_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    assert error_for(tmp_path, text) == message


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "absent.yaml")


def test_dict_scenarios_name_the_key_without_a_line() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario({"faults": [{"status": 500}, {"statuz": 1}]})
    assert str(info.value) == "<scenario>: unknown key 'statuz' in faults[1]; did you mean 'status'?"


def test_empty_file_is_the_empty_scenario(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    assert load_scenario(path).faults == ()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_example_scenarios_pass_check_and_the_schema(path: Path) -> None:
    assert cli_main(["check", str(path)]) == 0
    jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)


def test_there_are_the_promised_examples() -> None:
    assert {p.stem for p in SCENARIOS} >= {
        "flaky_uploads",
        "rate_limit_storm",
        "slow_network",
        "connection_resets",
        "processing_failures",
        "lost_responses",
        "dashscope_limits",
    }


@pytest.mark.parametrize(("text", "_"), BAD[:20], ids=[m.split(": ", 1)[1][:40] for _, m in BAD[:20]])
def test_schema_rejects_what_the_loader_rejects(text: str, _: str) -> None:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return
    if text.startswith("seed: 1\nseed: 2") or "min is larger" in _:
        return  # duplicate keys are gone once parsed; JSON Schema cannot compare min with max
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_check_command_checks_every_file_past_a_bad_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults:\n  - statuz: 1\n")
    assert cli_main(["check", str(SCENARIOS[0]), str(bad), str(SCENARIOS[1])]) == 1
    captured = capsys.readouterr()
    assert f"{bad}:2: unknown key 'statuz' in faults[0]" in captured.err
    assert captured.out == f"{SCENARIOS[0]}: ok\n{SCENARIOS[1]}: ok\n"


def test_check_never_shows_a_traceback(tmp_path: Path) -> None:
    weird = tmp_path / "weird.yaml"
    weird.write_bytes(b"\xff\xfe\x00garbage: [\n")
    result = subprocess.run(["mockfiles", "check", str(weird)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "Traceback" not in result.stderr and str(weird) in result.stderr


# --- runtime control ---------------------------------------------------------------------


def test_put_get_delete_the_runtime_scenario(mockfiles: MockFilesServer) -> None:
    admin = mockfiles.url + "/_mockfiles/scenario"
    yaml_text = "faults:\n  - match: {endpoint: files.list}\n    status: 503\n"
    put = httpx.put(admin, content=yaml_text, headers={"Content-Type": "application/yaml"})
    assert put.status_code == 200
    assert put.json()["scenario"] == {"faults": [{"match": {"endpoint": "files.list"}, "status": 503}]}
    assert httpx.get(admin).json()["scenario"]["faults"][0]["status"] == 503
    client = mockfiles.client(max_retries=0)
    with pytest.raises(openai.InternalServerError) as info:
        client.files.list()
    assert info.value.status_code == 503
    as_json = httpx.put(admin, json={"faults": [{"match": {"endpoint": "files.list"}, "status": 502}]})
    assert as_json.status_code == 200
    assert httpx.delete(admin).json()["scenario"] == {}
    assert list(client.files.list()) == []


def test_put_an_invalid_scenario_is_400_with_the_same_message(mockfiles: MockFilesServer) -> None:
    r = httpx.put(mockfiles.url + "/_mockfiles/scenario", content="faults:\n  - statuz: 1\n")
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["message"] == "<PUT /_mockfiles/scenario>:2: unknown key 'statuz' in faults[0]; did you mean 'status'?"
    assert httpx.put(mockfiles.url + "/_mockfiles/scenario", content=b"\x00{{{").status_code == 400


def test_use_scenario_keeps_files_and_reset_clears_it(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client(max_retries=0)
    kept = client.files.create(file=b"x", purpose="assistants")
    mockfiles.use_scenario({"faults": [{"match": {"endpoint": "files.retrieve"}, "status": 500}]})
    with pytest.raises(openai.InternalServerError) as info:
        client.files.retrieve(kept.id)
    assert info.value.status_code == 500
    assert [f.id for f in client.files.list()] == [kept.id]
    httpx.post(mockfiles.url + "/_mockfiles/reset")
    assert list(client.files.list()) == []
    assert mockfiles.emulator.scenario.faults == ()


def test_reset_restores_the_start_up_scenario() -> None:
    with MockFilesServer(scenario={"faults": [{"match": {"endpoint": "files.list"}, "status": 418}]}) as server:
        server.use_scenario(None)
        assert server.client().files.list().data == []
        server.reset()
        assert httpx.get(server.base_url + "/files", headers={"Authorization": "Bearer k"}).status_code == 418


@pytest.mark.mockfiles(scenario={"journal": {"cap": 3}})
def test_the_journal_is_bounded(mockfiles: MockFilesServer, client) -> None:
    for _ in range(5):
        client.files.list()
    entries = mockfiles.requests()
    assert len(entries) == 3 and entries[-1]["seq"] == 5
