"""The control routes the console reads, over HTTP: the journal after a ``seq``, the scenario
checked without being applied and shown as YAML, a file's bytes and its deletion by id, and the
console's own page, script and style sheet (public, inert, locked down by their headers)."""

from __future__ import annotations

import httpx
import pytest

from mockfiles import MockFilesServer

BAD = "seed: 1\nfaults:\n  - match: {endpoint: files.create}\n    statuz: 503\n"
GOOD = "seed: 1\nfaults:\n  - match: {endpoint: files.create}\n    status: 503\n"


def test_the_journal_after_a_seq_and_its_generation(mockfiles) -> None:  # type: ignore[no-untyped-def]
    client = mockfiles.client()
    for _ in range(3):
        client.files.list()
    admin = mockfiles.url + "/_mockfiles/requests"
    everything = httpx.get(admin).json()
    assert [e["seq"] for e in everything["data"]] == [1, 2, 3]
    assert [e["seq"] for e in httpx.get(admin, params={"after": 1}).json()["data"]] == [2, 3]
    assert httpx.get(admin, params={"after": 3}).json()["data"] == []
    assert everything["last_seq"] == httpx.get(admin, params={"after": 3}).json()["last_seq"] == 3
    generation = everything["generation"]
    httpx.post(mockfiles.url + "/_mockfiles/reset")
    assert httpx.get(admin).json()["generation"] == generation + 1  # a watcher knows to start again


@pytest.mark.parametrize("after", ["x", "-1", "1.5", str(2**63)])
def test_a_bad_after_is_a_400(mockfiles, after: str) -> None:  # type: ignore[no-untyped-def]
    answer = httpx.get(mockfiles.url + "/_mockfiles/requests", params={"after": after})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "after"


def test_check_validates_without_applying(mockfiles) -> None:  # type: ignore[no-untyped-def]
    check = mockfiles.url + "/_mockfiles/scenario/check"
    bad = httpx.post(check, content=BAD)
    assert bad.status_code == 400
    put = httpx.put(mockfiles.url + "/_mockfiles/scenario", content=BAD)
    assert bad.json()["error"]["message"] == put.json()["error"]["message"]  # the same file:line words
    assert bad.json()["error"]["message"] == (
        "<PUT /_mockfiles/scenario>:4: unknown key 'statuz' in faults[0]; did you mean 'status'?"
    )
    assert httpx.post(check, content=GOOD).json() == {"valid": True}
    assert httpx.get(mockfiles.url + "/_mockfiles/scenario").json()["scenario"] == {}  # nothing applied
    mockfiles.client().files.create(file=b"x", purpose="assistants")  # no fault fires


def test_a_refused_scenario_names_every_problem_one_per_line(mockfiles) -> None:  # type: ignore[no-untyped-def]
    text = "seed: x\nfaults:\n  - match: {endpoint: files.create}\n    statuz: 503\n    times: 0\n"
    for answer in (
        httpx.post(mockfiles.url + "/_mockfiles/scenario/check", content=text),
        httpx.put(mockfiles.url + "/_mockfiles/scenario", content=text),
    ):
        assert answer.status_code == 400
        assert answer.json()["error"]["message"].splitlines() == [
            "<PUT /_mockfiles/scenario>:1: seed must be an integer, got 'x'",
            "<PUT /_mockfiles/scenario>:4: unknown key 'statuz' in faults[0]; did you mean 'status'?",
            "<PUT /_mockfiles/scenario>:5: faults[0].times must be at least 1, got 0",
        ]


def test_the_scenario_as_yaml(mockfiles) -> None:  # type: ignore[no-untyped-def]
    assert httpx.get(mockfiles.url + "/_mockfiles/scenario").json()["yaml"] == ""
    assert "yaml" not in httpx.put(mockfiles.url + "/_mockfiles/scenario", content=GOOD).json()
    shown = httpx.get(mockfiles.url + "/_mockfiles/scenario").json()["yaml"]
    assert shown == "seed: 1\nfaults:\n- match:\n    endpoint: files.create\n  status: 503\n"
    assert httpx.put(mockfiles.url + "/_mockfiles/scenario", content=shown).status_code == 200


def test_a_file_by_id_across_accounts(mockfiles) -> None:  # type: ignore[no-untyped-def]
    mine = mockfiles.client(api_key="sk-one").files.create(file=("a.txt", b"first"), purpose="assistants")
    theirs = mockfiles.client(api_key="sk-two").files.create(file=("b.txt", b"second"), purpose="assistants")
    admin = mockfiles.url + "/_mockfiles/files/"
    assert httpx.get(admin + mine.id + "/content").content == b"first"
    assert httpx.get(admin + theirs.id + "/content").content == b"second"
    assert httpx.delete(admin + theirs.id).json() == {"id": theirs.id, "object": "file", "deleted": True}
    assert [f["id"] for f in httpx.get(mockfiles.url + "/_mockfiles/files").json()["data"]] == [mine.id]
    for answer in (httpx.get(admin + theirs.id + "/content"), httpx.delete(admin + theirs.id)):
        assert answer.status_code == 404
        assert answer.json()["error"]["param"] == "id"
    assert not any(e["path"].startswith("/_mockfiles") for e in mockfiles.requests())  # not journaled


def test_the_console_is_public_and_inert_and_its_data_needs_the_token() -> None:
    with MockFilesServer(admin_token="s3cret") as server:
        page = httpx.get(server.url + "/_mockfiles/")
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        assert "s3cret" not in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        for asset, kind in (("console.js", "text/javascript"), ("console.css", "text/css")):
            answer = httpx.get(f"{server.url}/_mockfiles/{asset}")
            assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
        for method, path in (
            ("POST", "/scenario/check"),
            ("GET", "/files/file-x/content"),
            ("DELETE", "/files/file-x"),
            ("GET", "/requests?after=0"),
        ):
            assert httpx.request(method, server.url + "/_mockfiles" + path).status_code == 401
            authorized = httpx.request(
                method, server.url + "/_mockfiles" + path, headers={"Authorization": "Bearer s3cret"}
            )
            assert authorized.status_code != 401


def test_after_counts_from_the_oldest_kept_entry(mockfiles) -> None:  # type: ignore[no-untyped-def]
    mockfiles.use_scenario({"journal": {"cap": 3}})
    client = mockfiles.client()
    for _ in range(5):
        client.files.list()
    admin = mockfiles.url + "/_mockfiles/requests"

    def seqs(after: int) -> list[int]:
        return [e["seq"] for e in httpx.get(admin, params={"after": after}).json()["data"]]

    assert seqs(0) == [3, 4, 5]
    assert seqs(1) == seqs(2) == [3, 4, 5]
    assert seqs(3) == [4, 5]
    assert seqs(4) == [5]
    assert seqs(5) == seqs(99) == []
    assert [e["seq"] for e in mockfiles.requests()] == [3, 4, 5]


def test_the_journal_as_json_lines(mockfiles) -> None:  # type: ignore[no-untyped-def]
    client = mockfiles.client()
    client.files.create(file=b"x", purpose="assistants")
    client.files.list()
    admin = mockfiles.url + "/_mockfiles/requests"
    lines = httpx.get(admin, params={"format": "jsonl"})
    assert lines.status_code == 200 and lines.headers["content-type"] == "application/x-ndjson"
    assert [__import__("json").loads(line) for line in lines.text.splitlines()] == httpx.get(admin).json()["data"]
    only = httpx.get(admin, params={"format": "jsonl", "endpoint": "files.list"}).text.splitlines()
    assert len(only) == 1 and '"endpoint":"files.list"' in only[0]
    assert httpx.get(admin, params={"format": "jsonl", "after": 2}).text == ""
    refused = httpx.get(admin, params={"format": "csv"})
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "format"


def test_the_journal_keeps_a_small_json_body_as_sent(mockfiles) -> None:  # type: ignore[no-untyped-def]
    client = mockfiles.client(max_retries=0)
    made = client.files.create(
        file=("in.jsonl", b'{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{}}\n'),
        purpose="batch",
    )
    sent = f'{{"input_file_id": "{made.id}", "endpoint": "/v1/chat/completions", "completion_window": "24h"}}'
    headers = {"Authorization": f"Bearer {mockfiles.api_key}", "Content-Type": "application/json"}
    httpx.post(mockfiles.url + "/v1/batches", content=sent, headers=headers)
    huge = f'{{"input_file_id": "{made.id}", "metadata": {{"k": "{"v" * 3000}"}}}}'
    httpx.post(mockfiles.url + "/v1/batches", content=huge, headers=headers)
    httpx.post(mockfiles.url + "/v1/uploads", content=b"\xff not utf-8", headers=headers)
    created, too_large, not_text = mockfiles.requests()[1:]
    assert created["body"] == sent  # as sent, byte for byte
    assert too_large["body"] is None and not_text["body"] is None
    assert "body" not in mockfiles.requests()[0]  # a multipart upload: its form is journaled otherwise
