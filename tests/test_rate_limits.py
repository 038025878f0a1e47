"""Per-key rate limits (3 uploads, 10 queries per rolling second by default), answered
as the real service answers, through the SDK (sync, async) and raw httpx."""

from __future__ import annotations

import asyncio
import math
import threading
import time

import httpx
import openai
import pytest
from freezegun import freeze_time

from mockfiles import MockFilesServer
from mockfiles.profiles import RateLimits
from mockfiles.ratelimit import RateLimiter


def burst_uploads(http: httpx.Client, n: int) -> list[httpx.Response]:
    return [http.post("/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "assistants"}) for _ in range(n)]


def test_of_ten_uploads_exactly_three_succeed(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    statuses = [r.status_code for r in burst_uploads(http, 10)]
    assert statuses == [200] * 3 + [429] * 7
    assert len(mockfiles.emulator.files.store) == 3


def test_429_shape_and_headers(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    responses = burst_uploads(http, 4)
    refused = responses[-1]
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("requests", "rate_limit_exceeded", None)
    assert "Limit 3" in error["message"] and "upload" in error["message"]
    assert "Please try again in " in error["message"]
    wait_ms = int(refused.headers["retry-after-ms"])
    assert 0 < wait_ms <= 1000
    assert refused.headers["retry-after"] == str(math.ceil(wait_ms / 1000))
    assert refused.headers["x-ratelimit-limit-requests"] == "3"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.headers["x-request-id"].startswith("req_")


def test_every_limited_response_has_ratelimit_headers(http: httpx.Client) -> None:
    first, second, third = burst_uploads(http, 3)
    assert [r.headers["x-ratelimit-remaining-requests"] for r in (first, second, third)] == ["2", "1", "0"]
    assert all(r.headers["x-ratelimit-limit-requests"] == "3" for r in (first, second, third))
    assert first.headers["x-ratelimit-reset-requests"] == "1s"
    listed = http.get("/v1/files")
    assert listed.headers["x-ratelimit-limit-requests"] == "10"
    assert listed.headers["x-ratelimit-remaining-requests"] == "9"
    unlimited = http.get("/_mockfiles/health")
    assert "x-ratelimit-limit-requests" not in unlimited.headers


def test_queries_share_one_limit_of_ten(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    file_id = burst_uploads(http, 1)[0].json()["id"]
    calls = [
        lambda: http.get("/v1/files"),
        lambda: http.get(f"/v1/files/{file_id}"),
        lambda: http.get(f"/v1/files/{file_id}/content"),
        lambda: http.delete("/v1/files/file-none"),
    ]
    statuses = [calls[i % 4]().status_code for i in range(12)]
    assert statuses[:10] == [200, 200, 200, 404] * 2 + [200, 200]
    assert statuses[10:] == [429, 429]
    assert burst_uploads(http, 1)[0].status_code == 200  # uploads have their own window


def test_refused_requests_take_no_slot_and_the_window_rolls(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    with freeze_time("2030-01-01 00:00:00") as frozen:
        assert [r.status_code for r in burst_uploads(http, 3)] == [200] * 3
        frozen.tick(0.5)
        assert [r.status_code for r in burst_uploads(http, 5)] == [429] * 5
        r = burst_uploads(http, 1)[0]
        assert r.headers["retry-after-ms"] == "500"
        frozen.tick(0.5)  # the first three leave the window; the refused ones never entered it
        assert [r.status_code for r in burst_uploads(http, 4)] == [200] * 3 + [429]


def test_frozen_time_keeps_the_window_full(http: httpx.Client) -> None:
    with freeze_time("2030-01-01"):
        burst_uploads(http, 3)
        time.sleep(1.1)
        assert burst_uploads(http, 1)[0].status_code == 429


def test_advancing_the_clock_frees_slots(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    with freeze_time("2030-01-01"):
        assert [r.status_code for r in burst_uploads(http, 4)] == [200, 200, 200, 429]
        mockfiles.advance(1)
        assert [r.status_code for r in burst_uploads(http, 3)] == [200, 200, 200]


def test_keys_are_limited_independently(mockfiles: MockFilesServer) -> None:
    def uploads(key: str, n: int) -> list[int]:
        headers = {"Authorization": f"Bearer {key}"}
        return [
            httpx.post(
                mockfiles.base_url + "/files",
                headers=headers,
                files={"file": ("a", b"x")},
                data={"purpose": "assistants"},
            ).status_code
            for _ in range(n)
        ]

    assert uploads("key-a", 5) == [200, 200, 200, 429, 429]
    assert uploads("key-b", 3) == [200, 200, 200]


def test_sdk_default_retries_pace_seven_uploads_without_error(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client()  # default max_retries=2
    started = time.monotonic()
    for i in range(7):
        client.files.create(file=f"{i}".encode(), purpose="assistants")
    elapsed = time.monotonic() - started
    assert len(list(client.with_options(max_retries=5).files.list())) == 7
    # Two full windows of waiting (uploads 4 and 7), guided by retry-after-ms: not backoff.
    assert 1.7 < elapsed < 4.0, elapsed
    entries = mockfiles.requests_for("files.create")
    refused = [e for e in entries if e["status"] == 429]
    assert len(refused) >= 2  # more when an upload arrives a hair before a slot frees (a ~1 ms wait)
    assert all(e["action"] == "rate_limited" for e in refused)
    assert [e["retry_count"] for e in entries if e["status"] == 200].count(0) >= 3
    assert all(e["retry_count"] <= 1 for e in entries)  # every wait was long enough the first time


async def test_async_sdk_paces_too(mockfiles: MockFilesServer) -> None:
    async with mockfiles.async_client() as client:
        results = await asyncio.gather(*(client.files.create(file=b"x", purpose="assistants") for _ in range(5)))
    assert len({f.id for f in results}) == 5


def test_sdk_without_retries_sees_rate_limit_error(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client(max_retries=0)
    for _ in range(3):
        client.files.create(file=b"x", purpose="assistants")
    with pytest.raises(openai.RateLimitError) as info:
        client.files.create(file=b"x", purpose="assistants")
    assert info.value.code == "rate_limit_exceeded" and info.value.type == "requests"


def test_concurrent_threads_get_exactly_the_limit(mockfiles: MockFilesServer) -> None:
    barrier = threading.Barrier(12)
    statuses: list[int] = []

    def upload() -> None:
        with httpx.Client(base_url=mockfiles.url, headers={"Authorization": "Bearer shared"}) as http:
            barrier.wait()
            statuses.append(burst_uploads(http, 1)[0].status_code)

    with freeze_time("2030-01-01"):  # one instant: the window cannot roll mid-burst
        threads = [threading.Thread(target=upload) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(statuses) == [200] * 3 + [429] * 9


async def test_concurrent_asyncio_tasks_get_exactly_the_limit(mockfiles: MockFilesServer) -> None:
    with freeze_time("2030-01-01", real_asyncio=True):
        async with httpx.AsyncClient(base_url=mockfiles.url, headers={"Authorization": "Bearer a"}) as http:
            responses = await asyncio.gather(*(http.get("/v1/files") for _ in range(40)))
    assert sorted(r.status_code for r in responses) == [200] * 10 + [429] * 30


@pytest.mark.mockfiles(scenario={"rate_limits": {"upload": 5, "query": 2}})
def test_scenario_sets_the_limits(http: httpx.Client) -> None:
    assert [r.status_code for r in burst_uploads(http, 6)] == [200] * 5 + [429]
    assert [http.get("/v1/files").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.mockfiles(scenario={"rate_limits": {"upload": 2, "window": "1m"}})
def test_scenario_sets_the_window(http: httpx.Client) -> None:
    refused = burst_uploads(http, 3)[-1]
    assert refused.status_code == 429
    assert 55 <= int(refused.headers["retry-after"]) <= 60


@pytest.mark.mockfiles(scenario={"rate_limits": {"upload": False}})
def test_one_class_can_be_unlimited(http: httpx.Client) -> None:
    assert {r.status_code for r in burst_uploads(http, 8)} == {200}
    assert "x-ratelimit-limit-requests" not in burst_uploads(http, 1)[0].headers


@pytest.mark.parametrize(
    "options", [{"rate_limits": False}, {"scenario": {"rate_limits": False}}], ids=["marker", "scenario"]
)
def test_rate_limits_can_be_turned_off(mockfiles: MockFilesServer, options: dict[str, object]) -> None:
    mockfiles.reset(**options)
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": "Bearer k"}) as http:
        assert {r.status_code for r in burst_uploads(http, 10)} == {200}


def test_limiter_unit_exact_under_a_fixed_clock() -> None:
    limiter = RateLimiter(RateLimits(upload=3, query=10))
    decisions = [limiter.check("k", "files.create", now=100.0) for _ in range(5)]
    assert [d.allowed for d in decisions if d] == [True, True, True, False, False]
    assert decisions[3] is not None and decisions[3].retry_after == pytest.approx(1.0)
    allowed = limiter.check("k", "files.create", now=101.0)
    assert allowed is not None and allowed.allowed
    assert limiter.check("k", "files.create", now=100.5) is not None  # the clock moved back: starts afresh
