"""A batch's life on the emulator clock: phases, timestamps, counts, expiry, cancel, failure,
and the output and error files it ends with. No HTTP: the domain itself."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from mockfiles.core.errors import Conflict, NotFound
from tests.support.batching import CHAT, KEY, World, chat_file, chat_line, shown, typed
from tests.support.helpers import jsonl

TIMED = {"batches": {"timing": {"validating": "1s", "in_progress": "10s", "finalizing": "2s", "cancelling": "5s"}}}


def test_with_the_default_timing_a_batch_is_complete_at_the_first_read() -> None:
    world = World()
    created = typed(world.create(chat_file("a", "b"), metadata={"run": "nightly"}))
    assert created["status"] == "validating"
    assert created["id"].startswith("batch_") and len(created["id"]) == len("batch_") + 32
    assert created["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    assert created["expires_at"] == created["created_at"] + 86400
    assert created["metadata"] == {"run": "nightly"} and created["model"] == "gpt-4o-mini"
    done = world.get(created["id"])
    assert done["status"] == "completed"
    at = created["created_at"]
    assert [done[f"{s}_at"] for s in ("in_progress", "finalizing", "completed")] == [at, at, at]
    assert [done[f"{s}_at"] for s in ("failed", "expired", "cancelling", "cancelled")] == [None] * 4
    assert done["request_counts"] == {"total": 2, "completed": 2, "failed": 0}
    assert done["output_file_id"] and done["error_file_id"] is None and done["errors"] is None
    assert [line["custom_id"] for line in world.lines(done["output_file_id"])] == ["a", "b"]


def test_phases_follow_the_clock_and_each_timestamp_is_set_when_it_happens() -> None:
    world = World(TIMED)
    batch = world.create(chat_file(*"abcdefghij"))  # 10 requests over 10 s: one per second
    t0 = batch["created_at"]
    seen = []
    for step in [0.5, 0.5, 0.5, 2.5, 7.0, 1.0, 1.0]:  # to 0.5, 1, 1.5, 4, 11, 12, 13 s after creation
        world.advance(step)
        b = world.get(batch["id"])
        seen.append((b["status"], b["request_counts"]["completed"], b["in_progress_at"], b["finalizing_at"]))
    assert seen == [
        ("validating", 0, None, None),
        ("in_progress", 0, t0 + 1, None),
        ("in_progress", 0, t0 + 1, None),
        ("in_progress", 3, t0 + 1, None),
        ("finalizing", 10, t0 + 1, t0 + 11),
        ("finalizing", 10, t0 + 1, t0 + 11),
        ("completed", 10, t0 + 1, t0 + 11),
    ]
    done = world.get(batch["id"])
    assert done["completed_at"] == t0 + 13
    created = [line["response"]["body"]["created"] for line in world.lines(done["output_file_id"])]
    assert created == [t0 + 2 + i for i in range(10)]  # each request done at its moment of the phase


def test_request_counts_are_consistent_at_every_moment() -> None:
    world = World(
        {"batches": {"timing": {"in_progress": "7s"}, "requests": [{"match": {"custom_id": "*3"}, "status": 500}]}}
    )
    batch = world.create(chat_file(*(f"r{i}" for i in range(40))))
    previous = (0, 0)
    for _ in range(80):
        world.advance(0.1)
        counts = world.get(batch["id"])["request_counts"]
        assert counts["completed"] + counts["failed"] <= counts["total"] == 40
        assert counts["completed"] >= previous[0] and counts["failed"] >= previous[1]
        previous = (counts["completed"], counts["failed"])
    final = world.get(batch["id"])
    assert final["request_counts"] == {"total": 40, "completed": 36, "failed": 4}
    assert len(world.lines(final["output_file_id"])) == 36 and len(world.lines(final["error_file_id"])) == 4


def test_an_invalid_input_fails_the_batch_with_its_errors() -> None:
    world = World(TIMED)
    content = chat_file("1", "2") + b"{broken\n" + jsonl(chat_line("1"))
    file_id = world.upload(content)
    assert world.files.get(KEY, file_id).status(world.emulator.clock.now()) == "processed"  # the upload itself is fine
    batch = shown(world.batches.create(KEY, input_file_id=file_id, endpoint=CHAT, completion_window="24h"))
    assert world.get(batch["id"])["status"] == "validating"
    world.advance(1)
    failed = world.get(batch["id"])
    assert failed["status"] == "failed" and failed["failed_at"] == batch["created_at"] + 1
    assert failed["errors"] == {
        "object": "list",
        "data": [
            {
                "code": "invalid_json_line",
                "line": 3,
                "message": "This line is not parseable as valid JSON.",
                "param": None,
            },
            {
                "code": "duplicate_custom_id",
                "line": 4,
                "message": "The custom_id for this request is a duplicate of another request (line 1). "
                "The custom_id parameter must be unique for each request in a batch.",
                "param": "custom_id",
            },
        ],
    }
    assert failed["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    assert failed["in_progress_at"] is None and failed["output_file_id"] is None and failed["error_file_id"] is None
    world.advance(3600)
    assert world.get(batch["id"])["status"] == "failed"
    assert [f.id for f in world.files.page(KEY, limit=10).files] == [file_id]  # no result files


def test_the_24_hour_window_expires_unfinished_work() -> None:
    world = World({"batches": {"timing": {"in_progress": "48h"}}})
    batch = world.create(chat_file("a", "b", "c", "d"))
    world.advance(86399)
    assert world.get(batch["id"])["status"] == "in_progress"
    world.advance(1)
    expired = world.get(batch["id"])
    assert expired["status"] == "expired" and expired["expired_at"] == batch["created_at"] + 86400
    assert expired["finalizing_at"] is None and expired["completed_at"] is None
    assert expired["request_counts"] == {"total": 4, "completed": 2, "failed": 2}  # 2 done in 24 h of 48
    assert [line["custom_id"] for line in world.lines(expired["output_file_id"])] == ["a", "b"]
    assert world.lines(expired["error_file_id"]) == [
        {
            "id": line["id"],
            "custom_id": custom_id,
            "response": None,
            "error": {
                "code": "batch_expired",
                "message": "This request could not be executed before the completion window expired.",
            },
        }
        for line, custom_id in zip(world.lines(expired["error_file_id"]), ["c", "d"], strict=True)
    ]


def test_work_that_ends_inside_the_window_completes_even_if_finalizing_runs_past_it() -> None:
    world = World({"batches": {"timing": {"in_progress": "24h", "finalizing": "1h"}}})
    batch = world.create(chat_file("a"))
    world.advance(86400 + 3600)
    done = world.get(batch["id"])
    assert done["status"] == "completed" and done["expired_at"] is None


def test_cancel_in_progress_keeps_finished_requests_and_cancels_the_rest() -> None:
    world = World(TIMED)
    batch = world.create(chat_file("a", "b", "c", "d", "e"))  # done at 3, 5, 7, 9, 11 s
    world.advance(6)
    cancelling = typed(shown(world.batches.cancel(KEY, batch["id"])))
    t = batch["created_at"] + 6
    assert (cancelling["status"], cancelling["cancelling_at"], cancelling["cancelled_at"]) == ("cancelling", t, None)
    assert cancelling["request_counts"] == {"total": 5, "completed": 2, "failed": 0}
    world.advance(3)
    assert world.get(batch["id"])["request_counts"]["completed"] == 2  # nothing runs while cancelling
    assert world.batches.cancel(KEY, batch["id"]).status == "cancelling"  # a retried cancel is fine
    world.advance(2)
    cancelled = world.get(batch["id"])
    assert (cancelled["status"], cancelled["cancelled_at"]) == ("cancelled", t + 5)
    assert cancelled["finalizing_at"] is None and cancelled["completed_at"] is None
    assert cancelled["request_counts"] == {"total": 5, "completed": 2, "failed": 3}
    assert [line["custom_id"] for line in world.lines(cancelled["output_file_id"])] == ["a", "b"]
    errors = world.lines(cancelled["error_file_id"])
    assert [(e["custom_id"], e["error"]["code"]) for e in errors] == [
        ("c", "batch_cancelled"),
        ("d", "batch_cancelled"),
        ("e", "batch_cancelled"),
    ]


def test_cancel_while_validating_runs_nothing() -> None:
    world = World({"batches": {"timing": {"validating": "1m"}}})
    batch = world.create(chat_file("a", "b"))
    cancelled_at_once = world.batches.cancel(KEY, batch["id"])
    assert cancelled_at_once.status == "cancelling"  # the cancel's answer, whatever the durations
    done = world.get(batch["id"])
    assert done["status"] == "cancelled" and done["in_progress_at"] is None
    assert done["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    assert done["output_file_id"] is None and done["error_file_id"] is None


@pytest.mark.parametrize("status", ["completed", "failed", "expired", "cancelled", "finalizing"])
def test_cancelling_a_batch_past_running_is_a_409(status: str) -> None:
    world = World({"batches": {"timing": {"in_progress": "48h" if status == "expired" else "1s", "finalizing": "1h"}}})
    content = b"nope\n" if status == "failed" else chat_file("a")
    batch = world.create(content)
    if status == "cancelled":
        world.batches.cancel(KEY, batch["id"])
    world.advance({"completed": 7200, "failed": 1, "expired": 86400, "cancelled": 1, "finalizing": 2}[status])
    assert world.get(batch["id"])["status"] == status
    with pytest.raises(Conflict) as info:
        world.batches.cancel(KEY, batch["id"])
    assert info.value.status == 409 and info.value.type == "invalid_request_error"
    assert info.value.message == f"Cannot cancel a batch with status '{status}'."


def test_a_batch_whose_requests_all_failed_is_completed_with_only_an_error_file() -> None:
    world = World({"batches": {"requests": [{"status": 500}]}})
    batch = world.create(chat_file("a", "b", "c"))
    done = world.get(batch["id"])
    assert done["status"] == "completed" and done["output_file_id"] is None
    assert done["request_counts"] == {"total": 3, "completed": 0, "failed": 3}
    lines = world.lines(done["error_file_id"])
    assert [line["response"]["status_code"] for line in lines] == [500, 500, 500]
    assert lines[0]["error"] is None and lines[0]["response"]["body"]["error"]["type"] == "server_error"
    assert lines[0]["id"].startswith("batch_req_") and lines[0]["response"]["request_id"].startswith("req_")


def test_request_rules_shape_single_lines() -> None:
    rules = [
        {"match": {"custom_id": "bad-*"}, "status": 400, "error": {"message": "Nope.", "code": "invalid_prompt"}},
        {"match": {"custom_id": "slow"}, "error": {"code": "request_timeout"}},
        {"match": {"custom_id": "fixed"}, "body": {"id": "chatcmpl-fixed", "usage": {"prompt_tokens": 7}}},
    ]
    world = World({"batches": {"requests": rules}})
    batch = world.create(chat_file("ok", "bad-1", "slow", "fixed"))
    done = world.get(batch["id"])
    assert done["request_counts"] == {"total": 4, "completed": 2, "failed": 2}
    output = {line["custom_id"]: line for line in world.lines(done["output_file_id"])}
    errors = {line["custom_id"]: line for line in world.lines(done["error_file_id"])}
    assert output["fixed"]["response"]["body"] == {"id": "chatcmpl-fixed", "usage": {"prompt_tokens": 7}}
    assert output["ok"]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: say ok"
    assert errors["bad-1"]["response"]["status_code"] == 400
    assert errors["bad-1"]["response"]["body"]["error"] == {
        "message": "Nope.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_prompt",
    }
    assert errors["slow"]["response"] is None and errors["slow"]["error"]["code"] == "request_timeout"
    ok_usage = output["ok"]["response"]["body"]["usage"]
    assert done["usage"]["input_tokens"] == ok_usage["prompt_tokens"] + 7
    assert done["usage"]["output_tokens"] == ok_usage["completion_tokens"]
    assert done["usage"]["total_tokens"] == done["usage"]["input_tokens"] + done["usage"]["output_tokens"]


def test_a_request_the_endpoint_refuses_fails_with_a_400_line() -> None:
    world = World()
    content = jsonl(
        chat_line("good"), {"custom_id": "empty", "method": "POST", "url": CHAT, "body": {"model": "gpt-4o-mini"}}
    )
    done = world.get(world.create(content)["id"])
    assert done["status"] == "completed" and done["request_counts"] == {"total": 2, "completed": 1, "failed": 1}
    (line,) = world.lines(done["error_file_id"])
    assert line["custom_id"] == "empty" and line["response"]["status_code"] == 400
    assert line["response"]["body"]["error"]["message"] == "Missing required parameter: 'messages'."


def test_a_batch_keeps_the_scenario_it_was_created_under() -> None:
    world = World({"batches": {"timing": {"in_progress": "10s"}, "requests": [{"status": 503}]}})
    batch = world.create(chat_file("a"))
    world.emulator.use_scenario({"batches": {"timing": {"in_progress": "1h"}}})
    world.advance(10)
    done = world.get(batch["id"])
    assert done["status"] == "completed" and done["request_counts"]["failed"] == 1
    later = world.create(chat_file("b"))
    world.advance(10)
    assert world.get(later["id"])["status"] == "in_progress"


def test_the_lifecycle_follows_freezegun() -> None:
    with freeze_time("2031-03-01 12:00:00") as frozen:
        world = World({"batches": {"timing": {"in_progress": "1h"}}})
        batch = world.create(chat_file("a", "b"))
        frozen.tick(1800)
        assert world.get(batch["id"])["request_counts"]["completed"] == 1
        frozen.tick(1800)
        done = world.get(batch["id"])
        assert done["status"] == "completed" and done["completed_at"] == batch["created_at"] + 3600


def test_a_reset_forgets_batches_and_their_files() -> None:
    world = World()
    batch = world.create(chat_file("a"))
    world.emulator.reset()
    with pytest.raises(NotFound):
        world.emulator.batches.get(KEY, batch["id"])
    assert len(world.emulator.batches) == 0 and not world.emulator.files.page(KEY, limit=10).files
