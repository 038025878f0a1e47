"""The openai SDK's polling helpers against ingestion on the emulator clock, sync and async:
``files.create_and_poll``, ``files.upload_and_poll``, ``file_batches.create_and_poll`` and
``file_batches.upload_and_poll`` finish once the clock passes the files' ingestion (moved by
``advance()``, by freezegun, or by real time), and are seen to keep polling while it does not."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import openai
import pytest
from freezegun import freeze_time

from mockfiles import MockFilesServer
from tests.support.vectoring import CATS, DOGS, upload

HOUR = {"vector_stores": {"ingestion": "1h"}}
pytestmark = pytest.mark.mockfiles(rate_limits=False)
WAIT = 30.0  # seconds a condition may take (a deadline, not a timing assertion)


def polls(server: MockFilesServer, endpoint: str) -> int:
    return len(server.requests(endpoint))


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.01)


class Background:
    """A call made in a thread: its result once it returns."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.result = call()
        except BaseException as exc:  # reported by join()
            self.error = exc

    def join(self) -> Any:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the call never returned"
        if self.error is not None:
            raise self.error
        return self.result


def test_create_and_poll_finishes_with_the_default_ingestion(client: openai.OpenAI) -> None:
    vs = client.vector_stores.create(name="default")
    done = client.vector_stores.files.create_and_poll(upload(client, "cats.txt", CATS), vector_store_id=vs.id)
    assert done.status == "completed"  # 100 ms of real time, told by openai-poll-after-ms


@pytest.mark.mockfiles(scenario=HOUR)
def test_create_and_poll_loops_until_the_clock_is_advanced(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    vs = client.vector_stores.create(name="slow")
    file_id = upload(client, "cats.txt", CATS)
    call = Background(
        lambda: client.vector_stores.files.create_and_poll(file_id, vector_store_id=vs.id, poll_interval_ms=20)
    )
    until(lambda: polls(mockfiles, "vector_stores.files.retrieve") >= 5, "five polls")
    assert call.thread.is_alive()  # still polling: the file is in progress for an hour of the clock
    assert {e["status"] for e in mockfiles.requests("vector_stores.files.retrieve")} == {200}
    mockfiles.advance(3600)
    assert call.join().status == "completed"


@pytest.mark.mockfiles(scenario=HOUR)
def test_upload_and_poll_with_max_wait_seconds_gives_up_while_the_clock_stands(client: openai.OpenAI) -> None:
    vs = client.vector_stores.create(name="slow")
    with pytest.raises(TimeoutError):
        client.vector_stores.files.upload_and_poll(
            vector_store_id=vs.id, file=("cats.txt", CATS), poll_interval_ms=20, max_wait_seconds=0.3
        )


@pytest.mark.mockfiles(scenario={"vector_stores": {"ingestion": "5s"}})
def test_under_freezegun_the_frozen_clock_holds_ingestion_until_it_ticks(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    vs = client.vector_stores.create(name="frozen")
    with freeze_time("2031-01-01 00:00:00") as frozen:
        call = Background(
            lambda: client.vector_stores.files.upload_and_poll(
                vector_store_id=vs.id, file=("dogs.md", DOGS), poll_interval_ms=20
            )
        )
        until(lambda: polls(mockfiles, "vector_stores.files.retrieve") >= 5, "five polls")
        assert call.thread.is_alive()
        frozen.tick(5)
        done = call.join()
    assert done.status == "completed" and done.usage_bytes == len(DOGS)


@pytest.mark.mockfiles(scenario=HOUR)
def test_file_batches_upload_and_poll_loops_until_the_clock_is_advanced(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    vs = client.vector_stores.create(name="batch")
    older = upload(client, "older.txt", CATS)
    call = Background(
        lambda: client.vector_stores.file_batches.upload_and_poll(
            vs.id, files=[("a.txt", CATS), ("b.md", DOGS)], file_ids=[older], poll_interval_ms=20
        )
    )
    until(lambda: polls(mockfiles, "vector_stores.file_batches.retrieve") >= 5, "five polls")
    assert call.thread.is_alive()
    mockfiles.advance(3600)
    batch = call.join()
    assert batch.status == "completed" and batch.file_counts.completed == 3 == batch.file_counts.total


def test_file_batches_create_and_poll_finishes_in_real_time(client: openai.OpenAI) -> None:
    vs = client.vector_stores.create(name="quick")
    ids = [upload(client, "a.txt", CATS), upload(client, "b.md", DOGS)]
    batch = client.vector_stores.file_batches.create_and_poll(vs.id, file_ids=ids)
    assert batch.status == "completed" and batch.file_counts.completed == 2


@pytest.mark.mockfiles(scenario=HOUR)
async def test_async_helpers_loop_until_the_clock_is_advanced(
    mockfiles: MockFilesServer, aclient: openai.AsyncOpenAI
) -> None:
    vs = await aclient.vector_stores.create(name="async")
    single = asyncio.create_task(
        aclient.vector_stores.files.upload_and_poll(vector_store_id=vs.id, file=("cats.txt", CATS), poll_interval_ms=20)
    )
    batch = asyncio.create_task(
        aclient.vector_stores.file_batches.upload_and_poll(vs.id, files=[("d.md", DOGS)], poll_interval_ms=20)
    )
    deadline = time.monotonic() + WAIT
    while (
        polls(mockfiles, "vector_stores.files.retrieve") < 5
        or polls(mockfiles, "vector_stores.file_batches.retrieve") < 5
    ):
        assert time.monotonic() < deadline, "never saw five polls of each"
        await asyncio.sleep(0.01)
    assert not single.done() and not batch.done()
    mockfiles.advance(3600)
    assert (await asyncio.wait_for(single, WAIT)).status == "completed"
    assert (await asyncio.wait_for(batch, WAIT)).status == "completed"


async def test_async_create_and_poll_finishes_in_real_time(aclient: openai.AsyncOpenAI) -> None:
    vs = await aclient.vector_stores.create(name="async quick")
    source = await aclient.files.create(file=("cats.txt", CATS), purpose="assistants")
    done = await aclient.vector_stores.files.create_and_poll(source.id, vector_store_id=vs.id)
    assert done.status == "completed"
    batch = await aclient.vector_stores.file_batches.create_and_poll(vs.id, file_ids=[source.id])
    assert batch.status == "completed"  # the file was already in the store: done at once
