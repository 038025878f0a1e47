"""Scenarios at run time, over HTTP: ``PUT``/``GET``/``DELETE /_mockfiles/scenario``, ``use_scenario``
and the reset that restores the start-up scenario, and a scenario's journal cap."""

from __future__ import annotations

import httpx
import openai
import pytest

from mockfiles import MockFilesServer


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
