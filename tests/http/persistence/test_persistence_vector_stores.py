"""Vector stores survive a restart: ``mockfiles serve --data-dir`` killed with SIGKILL and started
again, and ``MockFilesServer(data_dir=...)`` in process. The same stores, store files (statuses,
attributes, usage), file batches, cursors and search results; a store file's File linked again, so
that deleting or expiring it after the restart takes it out of its stores."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import openai
from openai.types.vector_stores import VectorStoreFile

from mockfiles.persistence.datadir import DB_NAME
from mockfiles.server import MockFilesServer
from tests.http.persistence.test_persistence import KEY, Served, blob_files, sha
from tests.support.chatting import REPORT, asking, file_part
from tests.support.vectoring import BIRDS, CATS, DOGS, upload

SCENARIO = {
    "vector_stores": {
        "ingestion": "1s",
        "cascade_lag": "1h",
        "files": [
            {"match": {"filename": "slow-*"}, "delay": "2h"},
            {"match": {"filename": "bad-*"}, "fail": "server_error"},
        ],
    }
}
QUERIES = ("cat purrs", "dogs bark", "birds fly feathers", "loyal friend", "owls hunt")
BIG = b"Lizards bask in the sun on warm rocks. " * 200  # 7.8 KB: its File's bytes are a blob


def lists(client: openai.OpenAI, batches: dict[str, str]) -> dict[str, Any]:
    """What a client reads of its vector stores without using them (reads do not touch a store)."""
    stores = [s.model_dump() for s in client.vector_stores.list(order="asc")]
    out: dict[str, Any] = {
        "stores": stores,
        "desc": [s.id for s in client.vector_stores.list(order="desc")],
        "pages": [s.id for s in client.vector_stores.list(limit=1)],  # follows `after` cursors
    }
    for store in stores:
        vs = store["id"]
        files = [f.model_dump() for f in client.vector_stores.files.list(vs, order="asc")]
        out[vs] = {
            "store": client.vector_stores.retrieve(vs).model_dump(),
            "files": files,
            "pages": [f.id for f in client.vector_stores.files.list(vs, limit=1)],
            "completed": [f.id for f in client.vector_stores.files.list(vs, filter="completed")],
            "each": [client.vector_stores.files.retrieve(f["id"], vector_store_id=vs).model_dump() for f in files],
            "content": {
                f["id"]: [c.text for c in client.vector_stores.files.content(f["id"], vector_store_id=vs)]
                for f in files
            },
        }
    for batch_id, vs in batches.items():
        out[batch_id] = {
            "batch": client.vector_stores.file_batches.retrieve(batch_id, vector_store_id=vs).model_dump(),
            "files": [f.id for f in client.vector_stores.file_batches.list_files(batch_id, vector_store_id=vs)],
        }
    return out


def searches(client: openai.OpenAI, stores: list[str]) -> dict[str, Any]:
    """Every store searched for every query: file, score, attributes, text (searching touches them)."""
    return {
        f"{vs} {query}": [r.model_dump() for r in client.vector_stores.search(vs, query=query)]
        for vs in stores
        for query in QUERIES
    }


def test_vector_stores_survive_kill_9_with_their_files_batches_cursors_and_search(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    scenario = data_dir.parent / "scenario.json"  # JSON is YAML
    scenario.write_text(json.dumps(SCENARIO))
    server = Served(data_dir, "--scenario", str(scenario), "--seed", "11")
    client = server.client
    cats, dogs, birds = (
        upload(client, "cats.txt", CATS),
        upload(client, "dogs.md", DOGS),
        upload(client, "b.txt", BIRDS),
    )
    slow, bad, big = upload(client, "slow-1.txt", CATS), upload(client, "bad-1.txt", DOGS), upload(client, "z.txt", BIG)
    main = client.vector_stores.create(
        name="main",
        file_ids=[cats, dogs],
        metadata={"team": "a"},
        expires_after={"anchor": "last_active_at", "days": 7},
    )
    client.vector_stores.files.create(main.id, file_id=birds, attributes={"kind": "bird", "legs": 2})
    client.vector_stores.files.create(main.id, file_id=big, attributes={"kind": "lizard"})
    mixed = client.vector_stores.file_batches.create(main.id, file_ids=[slow, bad], attributes={"batch": True})
    other = client.vector_stores.create(name="other", file_ids=[birds])
    stopped = client.vector_stores.file_batches.create(other.id, file_ids=[slow, cats])
    client.vector_stores.file_batches.cancel(stopped.id, vector_store_id=other.id)
    gone = client.vector_stores.create(name="deleted", file_ids=[dogs])
    client.vector_stores.delete(gone.id)
    client.vector_stores.update(other.id, name="renamed", metadata={"v": "2"})
    assert httpx.post(server.url + "/_mockfiles/clock", json={"advance": 5}).status_code == 200
    client.files.delete(big)  # it leaves `main` an hour later (cascade_lag): until then it is still found
    batches = {mixed.id: main.id, stopped.id: other.id}
    found = searches(client, [main.id, other.id])
    assert [r["file_id"] for r in found[f"{main.id} owls hunt"]] == [birds]
    assert found[f"{main.id} {QUERIES[0]}"][0]["file_id"] == cats
    before = lists(client, batches)
    statuses = {f["id"]: f["status"] for f in before[main.id]["files"]}
    assert statuses == {cats: "completed", dogs: "completed", birds: "completed", big: "completed"} | {
        slow: "in_progress",
        bad: "failed",
    }
    assert before[stopped.id]["batch"]["status"] == "cancelled"
    assert sha(BIG) in blob_files(data_dir)  # kept by the store file that stays, its File gone

    async def update_last() -> VectorStoreFile:
        async with openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0) as aclient:
            return await aclient.vector_stores.files.update(birds, vector_store_id=other.id, attributes={"last": "yes"})

    last = asyncio.run(update_last())
    before = lists(client, batches)  # reads only: the update's answer came before them
    server.kill()  # right after the answers

    again = Served(data_dir, "--scenario", str(scenario), "--seed", "11")
    try:
        client = again.client
        after = lists(client, batches)
        assert after[other.id]["files"][0]["attributes"] == last.attributes == {"last": "yes"}
        assert after == before
        for key in QUERIES:
            for hit in found[f"{other.id} {key}"]:
                hit["attributes"] = last.attributes  # the last change before the kill
        assert searches(client, [main.id, other.id]) == found  # the index is made again: the same ranks
        assert {s.id for s in client.vector_stores.list()} == {main.id, other.id}
        assert httpx.post(again.url + "/_mockfiles/clock", json={"advance": 3600}).status_code == 200
        assert [f.id for f in client.vector_stores.files.list(main.id, order="asc")] == [cats, dogs, birds, slow, bad]
        assert not client.vector_stores.search(main.id, query="lizards bask").data
        assert sha(BIG) not in blob_files(data_dir)  # gone with the last record that held it
        assert httpx.post(again.url + "/_mockfiles/clock", json={"advance": 3600}).status_code == 200
        batch = client.vector_stores.file_batches.retrieve(mixed.id, vector_store_id=main.id)
        assert batch.status == "completed" and batch.file_counts.completed == 1 == batch.file_counts.failed
        made = client.vector_stores.create(name="after")
        assert made.id not in {main.id, other.id, gone.id}
        assert [s.id for s in client.vector_stores.list(order="asc")] == [main.id, other.id, made.id]
    finally:
        again.kill()


def test_a_restored_store_file_follows_its_file_deleted_or_expired_after_the_restart(tmp_path: Path) -> None:
    """The store files are linked to the Files restored (``is``): the cascade still finds them."""
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        client = server.client()
        cats = upload(client, "cats.txt", CATS)
        dogs = client.files.create(
            file=("dogs.md", DOGS), purpose="assistants", expires_after={"anchor": "created_at", "seconds": 3600}
        ).id
        vs = client.vector_stores.create(name="s", file_ids=[cats, dogs]).id
        server.advance(10)
        assert client.vector_stores.retrieve(vs).usage_bytes == len(CATS) + len(DOGS)
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        client = server.client()
        client.files.delete(cats)
        assert [f.id for f in client.vector_stores.files.list(vs)] == [dogs]
        server.advance(3600)  # dogs.md expires
        shown = client.vector_stores.retrieve(vs)
        assert shown.file_counts.total == 0 and shown.usage_bytes == 0
        assert not client.vector_stores.search(vs, query="dogs bark").data
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        client = server.client()
        assert client.vector_stores.retrieve(vs).file_counts.total == 0
        client.vector_stores.delete(vs)
    with MockFilesServer(rate_limits=False, data_dir=tmp_path) as server:
        assert server.client().vector_stores.list().data == []
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        assert db.execute("SELECT count(*) FROM records WHERE kind LIKE 'vector_store%'").fetchone() == (0,)


def test_ids_and_changes_after_a_restart_are_those_of_one_long_run(tmp_path: Path) -> None:
    """With a seed, stores and batches made across restarts have the ids of an uninterrupted run;
    a detach, a re-attach and new attributes made after a restart are kept by the next."""

    def first(server: MockFilesServer) -> tuple[str, str, str]:
        client = server.client()
        cats, dogs = upload(client, "cats.txt", CATS), upload(client, "dogs.md", DOGS)
        vs = client.vector_stores.create(name="s", file_ids=[cats]).id
        return vs, cats, dogs

    def second(server: MockFilesServer, vs: str, cats: str, dogs: str) -> list[str]:
        client = server.client()
        batch = client.vector_stores.file_batches.create(vs, file_ids=[dogs], attributes={"n": 1})
        client.vector_stores.files.delete(cats, vector_store_id=vs)
        client.vector_stores.files.create(vs, file_id=cats, attributes={"again": True})
        return [vs, batch.id, client.vector_stores.create(name="t").id]

    with MockFilesServer(seed=3, rate_limits=False) as server:
        straight = second(server, *first(server))
    with MockFilesServer(seed=3, rate_limits=False, data_dir=tmp_path) as server:
        made = first(server)
    with MockFilesServer(seed=3, rate_limits=False, data_dir=tmp_path) as server:
        assert second(server, *made) == straight
    with MockFilesServer(seed=3, rate_limits=False, data_dir=tmp_path) as server:
        client = server.client()
        vs, cats, dogs = made
        server.advance(5)
        files = {f.id: f.attributes for f in client.vector_stores.files.list(vs, filter="completed")}
        assert files == {dogs: {"n": 1}, cats: {"again": True}}
        assert [f.id for f in client.vector_stores.files.list(vs, order="asc")] == [dogs, cats]
        batch = client.vector_stores.file_batches.retrieve(straight[1], vector_store_id=vs)
        assert batch.status == "completed" and batch.file_counts.total == 1
        assert [s.id for s in client.vector_stores.list(order="asc")] == [vs, straight[2]]
        assert httpx.post(server.url + "/_mockfiles/reset").status_code == 200
    with MockFilesServer(seed=3, rate_limits=False, data_dir=tmp_path) as server:
        assert server.client().vector_stores.list().data == []


def test_a_file_a_model_read_leaves_its_store_after_a_restart_as_it_would_have(tmp_path: Path) -> None:
    """A store file whose File was deleted and that stays until its cascade is due keeps a copy of
    the File, without what a model read of it (a cache no record declares)."""
    scenario = {"vector_stores": {"cascade_lag": "1h"}}
    with MockFilesServer(rate_limits=False, data_dir=tmp_path, scenario=scenario) as server:
        client = server.client()
        report = upload(client, "report.txt", REPORT, purpose="user_data")
        vs = client.vector_stores.create(name="reports", file_ids=[report]).id
        server.advance(5)
        client.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(report)))  # type: ignore[arg-type]
        client.files.delete(report)
    with MockFilesServer(rate_limits=False, data_dir=tmp_path, scenario=scenario) as server:
        client = server.client()
        assert [r.file_id for r in client.vector_stores.search(vs, query="quarterly total")] == [report]
        server.advance(3600)
        assert client.vector_stores.retrieve(vs).file_counts.total == 0
    with MockFilesServer(rate_limits=False, data_dir=tmp_path, scenario=scenario) as server:
        assert server.client().vector_stores.retrieve(vs).file_counts.total == 0
    assert blob_files(tmp_path) == set()
