"""Where in-process requests run: on the calling thread, one request's step at a time with the
server's own requests, waits handed to a thread of their own when the caller cannot wait; and what
that must not change (the answer, the journal, a body read elsewhere)."""

from __future__ import annotations

import threading
import time
from typing import Any

import openai
import pytest

from mockfiles import MockFilesServer


def rules(*faults: dict[str, Any]) -> dict[str, Any]:
    return {"rate_limits": False, "faults": list(faults)}


@pytest.mark.mockfiles(rate_limits=False)
def test_requests_change_the_state_one_at_a_time(mockfiles: MockFilesServer) -> None:
    """Each step of a request holds the emulator's lock, in process as over a socket: while it is
    held elsewhere (as a reset holds it), neither kind goes on."""
    done: dict[str, int] = {}

    def upload(way: str) -> None:
        client = mockfiles.client(in_process=way == "in_process", max_retries=0, timeout=30)
        client.files.create(file=b"x", purpose="assistants")
        done[way] = len(mockfiles.requests())

    with mockfiles.emulator.lock:
        threads = [threading.Thread(target=upload, args=(way,)) for way in ("in_process", "socket")]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        assert done == {} and mockfiles.requests() == []  # both wait for the lock
    for thread in threads:
        thread.join(timeout=10)
    # each saw its own entry at least; which answer's caller reads the journal first is not ordered
    assert sorted(done) == ["in_process", "socket"] and min(done.values()) >= 1 and max(done.values()) == 2
    assert [e["status"] for e in mockfiles.requests()] == [200, 200]


@pytest.mark.mockfiles(rate_limits=False)
def test_a_streamed_answer_read_from_another_thread(mockfiles: MockFilesServer) -> None:
    content = bytes(range(256)) * 16_384  # 4 MiB: streamed in pieces
    client = mockfiles.client(in_process=True, max_retries=0)
    file_id = client.files.create(file=("a.bin", content), purpose="assistants").id
    got: list[bytes] = []
    with client.files.with_streaming_response.content(file_id) as response:
        reader = threading.Thread(target=lambda: got.append(response.read()))
        reader.start()
        reader.join(timeout=30)
    assert got == [content]
    assert client.files.retrieve(file_id).bytes == len(content)  # this thread's next request


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "delay": "200ms"}))
async def test_a_sync_in_process_client_inside_a_coroutine(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client(in_process=True, max_retries=0)
    started = time.monotonic()
    assert list(client.files.list()) == []  # waits for the delay, though a loop runs this thread
    assert time.monotonic() - started >= 0.2
    assert mockfiles.requests()[-1]["delay_ms"] == 200.0


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "delay": "300ms"}))
def test_threads_with_in_process_clients_are_served_at_once(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client(in_process=True, max_retries=0)
    threads = [threading.Thread(target=client.files.list) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    entries = mockfiles.requests()
    assert len(entries) == 4
    assert max(e["received_at"] for e in entries) < min(e["time"] for e in entries)  # all four delayed at once


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "delay": "500ms"}))
def test_a_timed_out_request_ends_on_its_own_while_the_caller_goes_on(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client(in_process=True, max_retries=0)
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.1).files.list()
    assert client.files.create(file=b"x", purpose="assistants").bytes == 1  # not behind the delayed one
    time.sleep(0.8)
    actions = {e["endpoint"]: e["action"] for e in mockfiles.requests()}
    assert actions == {"files.list": "client_disconnected", "files.create": None}


@pytest.mark.mockfiles(rate_limits=False)
def test_an_ended_request_leaves_nothing_for_the_garbage_collector(mockfiles: MockFilesServer) -> None:
    """An in-process request's objects are freed as soon as it ends (no reference cycle between the
    caller and the channel): a suite of many tests does not feed Python's cycle collector."""
    import gc

    client = mockfiles.client(in_process=True, max_retries=0)
    file_id = client.files.create(file=("a.jsonl", b'{"a": 1}\n'), purpose="batch").id
    for _ in range(3):  # warm: the SDK's own first-use objects
        client.files.retrieve(file_id)
        client.files.content(file_id).read()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(20):
            client.files.retrieve(file_id)
            client.files.content(file_id).read()
        gc.collect()
        ours = [o for o in gc.garbage if type(o).__module__.startswith("mockfiles")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert ours == []
