"""Setting the connection timeouts: a scenario's ``server`` section (validated like the rest),
``mockfiles serve --header-timeout/--body-timeout``, and ``MockFilesServer(...)``, which win over
the scenario; a runtime scenario changes them for the connections that follow."""

from __future__ import annotations

import signal
import socket
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import orjson
import pytest
import yaml

from mockfiles import MockFilesServer
from mockfiles.cli import parser
from mockfiles.core.timeouts import Timeouts
from mockfiles.exceptions import ScenarioError
from mockfiles.scenarios.scenario import load_scenario
from tests.http.server.test_cli import start

SCHEMA = orjson.loads(resources.files("mockfiles.scenarios").joinpath("schema.json").read_text())

BAD = [
    (
        "server:\n  header_timeout: soon\n",
        "flaky.yaml:2: server.header_timeout: expected a duration like 700ms, 30s, 2m, 1h, 30d or a number of seconds, got 'soon'",
    ),
    ("server:\n  body_timeout: 0\n", "flaky.yaml:2: server.body_timeout must be longer than 0"),
    (
        "server:\n  header_timout: 1s\n",
        "flaky.yaml:2: unknown key 'header_timout' in server; did you mean 'header_timeout'?",
    ),
    ("server:\n  body_timeout: 90000\n", "flaky.yaml:2: server.body_timeout must be at most 1d, got 90000"),
    ("server: 30s\n", "flaky.yaml:1: server must be a mapping, got a string"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(": ", 1)[1][:40] for _, m in BAD])
def test_bad_server_sections_name_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "flaky.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).replace(str(tmp_path) + "/", "") == message
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), SCHEMA)


def test_a_good_server_section_passes_the_loader_and_the_schema() -> None:
    text = "server:\n  header_timeout: 10s\n  body_timeout: 2m\n"
    scenario = load_scenario(yaml.safe_load(text))
    assert (scenario.header_timeout, scenario.body_timeout) == (10.0, 120.0)
    jsonschema.validate(yaml.safe_load(text), SCHEMA)


def test_arguments_win_over_the_scenario_which_wins_over_the_defaults() -> None:
    scenario = {"server": {"header_timeout": "10s", "body_timeout": "20s"}}
    assert MockFilesServer().emulator.timeouts == Timeouts(header=30.0, body=60.0)
    assert MockFilesServer(scenario=scenario).emulator.timeouts == Timeouts(header=10.0, body=20.0)
    assert MockFilesServer(scenario=scenario, body_timeout=5).emulator.timeouts == Timeouts(header=10.0, body=5.0)


def test_the_command_line_takes_durations() -> None:
    args = parser().parse_args(["serve", "--header-timeout", "2s", "--body-timeout", "90"])
    assert (args.header_timeout, args.body_timeout) == (2.0, 90.0)
    assert parser().parse_args(["serve"]).header_timeout is None


@pytest.mark.parametrize("value", ["0", "soon", "2d"])
def test_the_command_line_refuses_a_bad_timeout(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["serve", "--body-timeout", value])
    assert exited.value.code == 2
    assert "--body-timeout" in capsys.readouterr().err


def closes_a_silent_connection(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=5) as sock:
        return sock.recv(1) == b""  # a socket.timeout if it is held beyond 5 s


def test_serve_applies_the_header_timeout() -> None:
    running = start("--header-timeout", "300ms")
    try:
        where = urlsplit(running.url)
        assert closes_a_silent_connection(where.hostname or "", where.port or 0)
    finally:
        running.process.send_signal(signal.SIGINT)
        running.process.wait(timeout=10)


def test_a_runtime_scenario_changes_the_timeouts(mockfiles: MockFilesServer) -> None:
    mockfiles.use_scenario({"server": {"header_timeout": "300ms"}})
    assert closes_a_silent_connection("127.0.0.1", mockfiles.port)
