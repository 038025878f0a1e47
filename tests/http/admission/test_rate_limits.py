"""Per-key rate limits (3 uploads, 10 queries per rolling second by default), answered
as the real service answers, through the SDK (sync, async) and raw httpx."""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time

import httpx
import openai
import pytest
from freezegun import freeze_time

from mockfiles import MockFilesServer
from mockfiles.admission.ratelimit import RateLimiter
from mockfiles.core.profiles import RateLimits


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


@pytest.mark.mockfiles(scenario={"rate_limits": {"upload": 3, "window": "1m"}})
def test_refused_requests_take_no_slot_and_the_window_rolls(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    assert [r.status_code for r in burst_uploads(http, 3)] == [200] * 3
    mockfiles.advance(30)
    assert [r.status_code for r in burst_uploads(http, 5)] == [429] * 5
    r = burst_uploads(http, 1)[0]
    assert 29_000 < int(r.headers["retry-after-ms"]) <= 30_000
    mockfiles.advance(30)  # the first three leave the window; the refused ones never entered it
    assert [r.status_code for r in burst_uploads(http, 4)] == [200] * 3 + [429]


def test_frozen_time_does_not_freeze_the_windows(http: httpx.Client) -> None:
    """Pacing is real elapsed time: under freeze_time a full window still empties."""
    with freeze_time("2030-01-01"):
        assert [r.status_code for r in burst_uploads(http, 4)] == [200, 200, 200, 429]
        time.sleep(1.05)
        assert [r.status_code for r in burst_uploads(http, 3)] == [200, 200, 200]


def test_sdk_default_retries_get_ten_uploads_through_under_freeze_time(mockfiles: MockFilesServer) -> None:
    with freeze_time("2030-01-01"):
        client = mockfiles.client()  # default max_retries=2
        created = [client.files.create(file=f"{i}".encode(), purpose="assistants") for i in range(10)]
        assert {f.created_at for f in created} == {1893456000}  # the emulator clock is frozen with the test
        short = client.files.create(
            file=b"x", purpose="user_data", expires_after={"anchor": "created_at", "seconds": 3600}
        )
        mockfiles.advance(3600)  # advance() still expires files under freeze_time
        with pytest.raises(openai.NotFoundError):
            client.files.retrieve(short.id)
    assert len({f.id for f in created}) == 10
    assert mockfiles.requests("files.create")[-1]["status"] == 200


async def test_async_sdk_gets_ten_uploads_through_under_freeze_time(mockfiles: MockFilesServer) -> None:
    with freeze_time("2030-01-01", real_asyncio=True):
        async with mockfiles.async_client() as client:
            created = [await client.files.create(file=f"{i}".encode(), purpose="assistants") for i in range(10)]
    assert len({f.id for f in created}) == 10


@pytest.mark.mockfiles(scenario={"rate_limits": {"upload": 3, "window": "1m"}})
def test_advancing_the_clock_frees_slots(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    with freeze_time("2030-01-01"):
        assert [r.status_code for r in burst_uploads(http, 4)] == [200, 200, 200, 429]
        mockfiles.advance(60)
        assert [r.status_code for r in burst_uploads(http, 4)] == [200, 200, 200, 429]
        httpx.post(mockfiles.url + "/_mockfiles/clock", json={"advance": 60})
        assert [r.status_code for r in burst_uploads(http, 3)] == [200, 200, 200]


@pytest.mark.mockfiles(scenario={"rate_limits": {"upload": 3, "window": "1m"}})
def test_freezegun_tick_does_not_free_slots(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    """tick() and move_to() move the emulator clock (created_at, expiry), not the pacing."""
    with freeze_time("2030-01-01") as frozen:
        first = burst_uploads(http, 3)[0].json()
        frozen.tick(3600)
        refused = burst_uploads(http, 1)[0]
        assert refused.status_code == 429
        assert 59_000 < int(refused.headers["retry-after-ms"]) <= 60_000
        frozen.move_to("2030-01-02")
        assert burst_uploads(http, 1)[0].status_code == 429
        mockfiles.advance(60)
        assert burst_uploads(http, 1)[0].json()["created_at"] == first["created_at"] + 86400 + 60


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
    entries = mockfiles.requests("files.create")
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

    mockfiles.reset(scenario={"rate_limits": {"upload": 3, "window": "1m"}})  # the window cannot roll mid-burst
    threads = [threading.Thread(target=upload) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 3 + [429] * 9


async def test_concurrent_asyncio_tasks_get_exactly_the_limit(mockfiles: MockFilesServer) -> None:
    mockfiles.reset(scenario={"rate_limits": {"query": 10, "window": "1m"}})  # the window cannot roll mid-burst
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


# --- what a scenario change keeps ------------------------------------------------------------------

MINUTE = {"rate_limits": {"upload": 3, "query": 10, "window": "1m"}}


@pytest.mark.mockfiles(scenario=MINUTE)
def test_a_scenario_change_with_the_same_limits_keeps_the_windows(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    assert [r.status_code for r in burst_uploads(http, 3)] == [200] * 3
    mockfiles.use_scenario({**MINUTE, "faults": [{"match": {"endpoint": "files.delete"}, "status": 500}]})
    assert burst_uploads(http, 1)[0].status_code == 429
    put = httpx.put(
        mockfiles.url + "/_mockfiles/scenario", content=b"rate_limits: {upload: 3, query: 10, window: 1m}\n"
    )
    assert put.status_code == 200
    assert burst_uploads(http, 1)[0].status_code == 429
    mockfiles.reset(scenario=MINUTE)  # a reset empties them
    assert burst_uploads(http, 1)[0].status_code == 200


@pytest.mark.mockfiles(scenario=MINUTE)
def test_new_limits_judge_the_same_history(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    for _ in range(3):  # three uploads, ten seconds apart
        assert burst_uploads(http, 1)[0].status_code == 200
        mockfiles.advance(10)
    mockfiles.use_scenario({"rate_limits": {"upload": 5, "window": "1m"}})  # raised: two more fit
    assert [r.status_code for r in burst_uploads(http, 3)] == [200, 200, 429]
    mockfiles.use_scenario({"rate_limits": {"upload": 2, "window": "1m"}})  # lowered: full until four leave
    refused = burst_uploads(http, 1)[0]
    assert refused.status_code == 429
    # five in the window (at 0, 10, 20, 30, 30 s; now 30 s): a slot frees when the fourth leaves, at 90 s
    assert 59_000 < int(refused.headers["retry-after-ms"]) <= 60_000
    mockfiles.advance(30)  # now 60 s: the ones at 0 s left, 10 and 20 s are still in
    assert burst_uploads(http, 1)[0].status_code == 429
    mockfiles.use_scenario({"rate_limits": {"upload": 2, "window": "5s"}})  # shorter: only the last 5 s count
    assert [r.status_code for r in burst_uploads(http, 3)] == [200, 200, 429]


def test_limiter_unit_a_lowered_limit_frees_a_slot_when_enough_have_left() -> None:
    limiter = RateLimiter(RateLimits(upload=5, query=10, window=60))
    for now in (0.0, 10.0, 20.0, 30.0):
        assert limiter.check("k", "files.create", now=now).allowed  # type: ignore[union-attr]
    limiter.limits = RateLimits(upload=2, query=10, window=60)
    refused = limiter.check("k", "files.create", now=30.0)
    assert refused is not None and not refused.allowed
    assert refused.retry_after == pytest.approx(50.0)  # the stamps at 0 and 10 must leave: 10 + 60 - 30
    assert refused.reset == pytest.approx(60.0)


def test_limiter_unit_refund_gives_the_slot_back() -> None:
    limiter = RateLimiter(RateLimits(upload=2, query=10))
    first = limiter.check("k", "files.create", now=5.0)
    assert first is not None and first.remaining == 1
    assert limiter.refund("k", first).remaining == 2
    assert [d.allowed for d in (limiter.check("k", "files.create", now=5.1) for _ in range(3)) if d] == [
        True,
        True,
        False,
    ]


@pytest.mark.mockfiles(scenario=MINUTE)
def test_the_reset_header_has_one_format(http: httpx.Client) -> None:
    for _ in range(10):
        http.get("/v1/files")
    refused = http.get("/v1/files")
    assert refused.status_code == 429
    assert re.fullmatch(r"[1-5]?\d(\.\d{1,3})?s|1m0s", refused.headers["x-ratelimit-reset-requests"])


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False)
def test_a_scenario_change_keeps_the_markers_options(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    mockfiles.use_scenario({"faults": [{"match": {"endpoint": "files.delete"}, "status": 500}]})
    assert mockfiles.emulator.profile.name == "dashscope"
    assert {http.get("/v1/files").status_code for _ in range(15)} == {200}  # still no rate limits
    mockfiles.reset()  # a reset without options comes back to the start-up settings
    assert mockfiles.emulator.profile.name == "openai"
