"""The Batches service: create's checks, per-account store and listing, result files through the
Files service (listed, counted, expiring), the DashScope profile, determinism, and a 50,000-line
batch in bounded memory."""

from __future__ import annotations

import json
import re
import tracemalloc
from typing import Any

import pytest

from mockfiles.core.errors import InvalidRequest, InvalidValue, NotFound, QuotaExceeded
from mockfiles.files.service import Outcome
from tests.support.batching import CHAT, KEY, OPENAI, World, chat_file, chat_line
from tests.support.helpers import WEB_FRAMEWORKS, imported_modules, jsonl

# --- create ----------------------------------------------------------------------------------


def create_error(world: World, **params: Any) -> InvalidRequest:
    params.setdefault("input_file_id", world.upload(chat_file("a")))
    params.setdefault("endpoint", CHAT)
    params.setdefault("completion_window", "24h")
    before = len(world.batches)
    with pytest.raises(InvalidRequest) as info:
        world.batches.create(KEY, **params)
    assert len(world.batches) == before  # nothing half-made
    return info.value


@pytest.mark.parametrize(
    ("params", "param", "code", "message"),
    [
        (
            {"input_file_id": None},
            "input_file_id",
            "missing_required_parameter",
            "Missing required parameter: 'input_file_id'.",
        ),
        ({"endpoint": None}, "endpoint", "missing_required_parameter", "Missing required parameter: 'endpoint'."),
        (
            {"endpoint": 5},
            "endpoint",
            "invalid_type",
            "Invalid type for 'endpoint': expected a string, but got an integer instead.",
        ),
        (
            {"endpoint": "/v1/videos"},
            "endpoint",
            "invalid_value",
            "Invalid value: '/v1/videos'. Supported values are: '/v1/responses', '/v1/chat/completions', "
            "'/v1/embeddings', '/v1/completions', '/v1/moderations', '/v1/images/generations', and "
            "'/v1/images/edits'.",
        ),
        (
            {"completion_window": "48h"},
            "completion_window",
            "invalid_value",
            "Invalid value: '48h'. Supported values are: '24h'.",
        ),
        (
            {"metadata": "tag"},
            "metadata",
            "invalid_type",
            "Invalid type for 'metadata': expected a metadata object, but got a string instead.",
        ),
        (
            {"metadata": {f"k{i}": "v" for i in range(17)}},
            "metadata",
            "object_above_max_properties",
            "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an "
            "object with 17 properties instead.",
        ),
        (
            {"metadata": {"k" * 65: "v"}},
            "metadata." + "k" * 65,
            "property_name_above_max_length",
            f"Invalid property name in 'metadata': '{'k' * 65}' is too long. Expected a string with maximum length "
            "64, but got a string with length 65 instead.",
        ),
        (
            {"metadata": {"note": "é" * 513}},
            "metadata.note",
            "string_above_max_length",
            "Invalid 'metadata.note': string too long. Expected a string with maximum length 512, but got a string "
            "with length 513 instead.",
        ),
        (
            {"metadata": {"n": 1}},
            "metadata.n",
            "invalid_type",
            "Invalid type for 'metadata.n': expected a string, but got an integer instead.",
        ),
        (
            {"output_expires_after": {"anchor": "created_at", "seconds": 60}},
            "output_expires_after.seconds",
            "integer_below_min_value",
            "Invalid 'output_expires_after.seconds': integer below minimum value. Expected a value >= 3600, but got "
            "60 instead.",
        ),
        (
            {"output_expires_after": {"anchor": "created_at", "seconds": 2_592_001}},
            "output_expires_after.seconds",
            "integer_above_max_value",
            "Invalid 'output_expires_after.seconds': integer above maximum value. Expected a value <= 2592000, but "
            "got 2592001 instead.",
        ),
        (
            {"output_expires_after": {"anchor": "last_access", "seconds": 3600}},
            "output_expires_after.anchor",
            "invalid_value",
            "Invalid value: 'last_access'. Supported values are: 'created_at'.",
        ),
        (
            {"output_expires_after": {"anchor": "created_at"}},
            "output_expires_after.seconds",
            "missing_required_parameter",
            "Missing required parameter: 'output_expires_after.seconds'.",
        ),
        (
            {"output_expires_after": {"anchor": "created_at", "seconds": "3600"}},
            "output_expires_after.seconds",
            "invalid_type",
            "Invalid type for 'output_expires_after.seconds': expected an integer, but got a string instead.",
        ),
        (
            {"output_expires_after": {}},
            "output_expires_after.anchor",
            "missing_required_parameter",
            "Missing required parameter: 'output_expires_after.anchor'.",
        ),
    ],
)
def test_create_checks_its_parameters(params: dict[str, Any], param: str, code: str, message: str) -> None:
    error = create_error(World(), **params)
    assert (error.status, error.type, error.param, error.code, error.message) == (
        400,
        "invalid_request_error",
        param,
        code,
        message,
    )


def test_the_endpoint_error_lists_the_choices_for_dialects_that_word_it_so() -> None:
    error = create_error(World(), endpoint="/v1/audio")
    assert isinstance(error, InvalidValue) and "/v1/embeddings" in error.choices


def test_metadata_limits_are_inclusive() -> None:
    world = World()
    metadata = {f"{i:02d}" + "k" * 62: "v" * 512 for i in range(16)}
    assert world.create(chat_file("a"), metadata=metadata)["metadata"] == metadata


def test_the_input_file_must_exist_in_the_account_and_be_a_batch_file() -> None:
    world = World()
    with pytest.raises(NotFound) as info:
        world.batches.create(KEY, input_file_id="file-nope", endpoint=CHAT, completion_window="24h")
    assert (info.value.status, info.value.param, info.value.message) == (
        404,
        "input_file_id",
        "No such File object: file-nope",
    )
    theirs = world.upload(chat_file("a"), account="someone-else")
    with pytest.raises(NotFound):
        world.batches.create(KEY, input_file_id=theirs, endpoint=CHAT, completion_window="24h")
    notes = world.upload(chat_file("a"), purpose="assistants", filename="notes.jsonl")
    error = create_error(world, input_file_id=notes)
    assert (error.param, error.message) == (
        "input_file_id",
        f"Invalid 'input_file_id': the file '{notes}' has purpose 'assistants'; a batch needs purpose 'batch'.",
    )


def test_an_input_file_still_processing_or_in_error_is_refused() -> None:
    world = World({"processing": {"batch": {"delay": "10s"}}})
    pending = world.upload(chat_file("a"))
    assert create_error(world, input_file_id=pending).message == (
        f"Invalid 'input_file_id': the file '{pending}' is still being processed (status 'uploaded')."
    )
    world.advance(10)
    batch = world.batches.create(KEY, input_file_id=pending, endpoint=CHAT, completion_window="24h")
    assert batch.status == "validating"
    content = chat_file("c")
    broken = world.files.create(
        KEY, purpose="batch", filename="c.jsonl", chunks=[content], size=len(content), outcome=Outcome("error")
    )
    world.advance(10)
    assert create_error(world, input_file_id=broken.id).message == (
        f"Invalid 'input_file_id': the file '{broken.id}' could not be processed (status 'error')."
    )


# --- store: accounts and listing -------------------------------------------------------------


def test_accounts_are_isolated() -> None:
    world = World()
    batch = world.create(chat_file("a"))
    with pytest.raises(NotFound) as info:
        world.batches.get("someone-else", batch["id"])
    assert info.value.status == 404 and info.value.message == f"No batch found with id '{batch['id']}'."
    with pytest.raises(NotFound):
        world.batches.cancel("someone-else", batch["id"])
    assert world.batches.page("someone-else").data == ()


def test_listing_is_newest_first_with_after_limit_and_has_more() -> None:
    world = World()
    made = []
    for i in range(25):
        made.append(world.create(chat_file(str(i)))["id"])
        if i % 3 == 0:
            world.advance(1)
    newest_first = made[::-1]
    first = world.batches.page(KEY)
    assert [b.id for b in first.data] == newest_first[:20] and first.has_more
    assert OPENAI.batch_list_object(first)["object"] == "list"
    assert OPENAI.batch_list_object(first)["last_id"] == newest_first[19]
    rest = world.batches.page(KEY, after=first.data[-1].id)
    assert [b.id for b in rest.data] == newest_first[20:] and not rest.has_more
    assert [b.id for b in world.batches.page(KEY, limit="2", after=newest_first[5]).data] == newest_first[6:8]
    assert world.batches.page(KEY, limit=100).has_more is False
    assert all(b.status == "completed" for b in first.data)
    assert OPENAI.batch_list_object(world.batches.page(KEY, after=newest_first[-1])) == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


@pytest.mark.parametrize(
    ("query", "param", "code"),
    [
        ({"limit": 0}, "limit", "integer_below_min_value"),
        ({"limit": 101}, "limit", "integer_above_max_value"),
        ({"limit": "many"}, "limit", "invalid_type"),
        ({"after": "batch_unknown"}, "after", None),
    ],
)
def test_bad_list_queries_are_400(query: dict[str, Any], param: str, code: str | None) -> None:
    with pytest.raises(InvalidRequest) as info:
        World().batches.page(KEY, **query)
    assert (info.value.param, info.value.code) == (param, code)


# --- result files ----------------------------------------------------------------------------


def test_result_files_are_files_of_the_account() -> None:
    world = World({"batches": {"requests": [{"match": {"custom_id": "x*"}, "status": 500}]}})
    batch = world.create(chat_file("a", "x1"))
    input_id = batch["input_file_id"]
    listed = world.files.page(KEY, limit=10)  # read the files, not the batch: the results are there
    by_id = {f.id: f for f in listed.files}
    assert len(by_id) == 3 and input_id in by_id
    done = world.get(batch["id"])
    output, error = by_id[done["output_file_id"]], by_id[done["error_file_id"]]
    assert (output.purpose, output.filename, output.status(world.emulator.clock.now())) == (
        "batch_output",
        f"{batch['id']}_output.jsonl",
        "processed",
    )
    assert (error.purpose, error.filename) == ("batch_output", f"{batch['id']}_error.jsonl")
    assert re.fullmatch(r"file-[1-9A-HJ-NP-Za-km-z]{22}", output.id)
    assert output.expires_at == output.created_at + 30 * 86400  # OpenAI's default for batch results
    assert {f.id for f in world.files.page(KEY, limit=10, purpose="batch_output").files} == {output.id, error.id}
    count, used = world.files.store.usage(KEY, world.emulator.clock.now())
    assert count == 3 and used == sum(f.size for f in listed.files)
    assert output.size == len(output.content()) and output.content().endswith(b"\n")


def test_output_expires_after_sets_the_result_files_lifetime() -> None:
    world = World({"batches": {"timing": {"in_progress": "1h"}}})
    batch = world.create(chat_file("a"), output_expires_after={"anchor": "created_at", "seconds": 7200})
    world.advance(3600)
    done = world.get(batch["id"])
    output = world.files.get(KEY, done["output_file_id"])
    assert output.created_at == done["completed_at"] and output.expires_at == output.created_at + 7200
    world.advance(7200)
    with pytest.raises(NotFound):
        world.files.get(KEY, done["output_file_id"])
    assert world.get(batch["id"])["output_file_id"] == done["output_file_id"]  # the batch still names it


def test_a_full_account_cannot_create_a_batch() -> None:
    """Its results would have no room: refused at once, as an upload to a full account is."""
    with pytest.raises(QuotaExceeded) as count:
        World({"limits": {"max_files": 1}}).create(chat_file("a"))  # the input file is the only one allowed
    assert (count.value.reason, count.value.param) == ("file_count_limit", "input_file_id")
    world = World({"limits": {"max_total_bytes": 600}})
    content = chat_file(*(f"r{i}" for i in range(6)))[:600]
    with pytest.raises(QuotaExceeded) as storage:
        world.create(content)
    assert (storage.value.reason, storage.value.which) == ("account_full", "storage")


def test_results_are_held_to_the_room_the_account_has_left() -> None:
    """Answers go to the output file while they fit; the rest are storage_limit_exceeded failures,
    counted as failed, and the account ends within its limit but for those small error lines."""
    world = World({"limits": {"max_total_bytes": 4000}})
    content = chat_file(*(f"r{i}" for i in range(10)))
    batch = world.create(content)
    done = world.get(batch["id"])
    output, errors = world.lines(done["output_file_id"]), world.lines(done["error_file_id"])
    assert 0 < len(output) < 10 and len(output) + len(errors) == 10
    assert [e["custom_id"] for e in errors] == [f"r{i}" for i in range(len(output), 10)]  # cut where it ran out
    assert {e["error"]["code"] for e in errors} == {"storage_limit_exceeded"} and errors[0]["response"] is None
    assert done["request_counts"] == {"total": 10, "completed": len(output), "failed": len(errors)}
    stored = world.files.get(KEY, done["output_file_id"]).size
    assert len(content) + stored <= 4000
    with pytest.raises(QuotaExceeded):
        world.files.check_room(KEY, 1)


def test_results_are_deterministic_for_a_seed() -> None:
    def run() -> tuple[str, bytes]:
        world = World({"seed": 11, "batches": {"requests": [{"probability": 0.3, "status": 503}]}})
        batch = world.create(chat_file(*(f"r{i}" for i in range(30))))
        done = world.get(batch["id"])
        return done["id"], world.files.get(KEY, done["output_file_id"]).content()

    first, second = run(), run()
    assert first == second
    lines = [json.loads(line) for line in first[1].splitlines()]
    assert 10 < len(lines) < 30  # some failed, by the seed


# --- DashScope -----------------------------------------------------------------------------------


def test_dashscope_ids_and_endpoints() -> None:
    world = World(profile="dashscope")
    batch = world.create(chat_file("a"))
    assert re.fullmatch(r"batch_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", batch["id"])
    assert re.fullmatch(r"file-batch-[0-9a-f]{24}", batch["input_file_id"])
    done = world.get(batch["id"])
    output = world.files.get(KEY, done["output_file_id"])
    assert re.fullmatch(r"file-batch_output-[0-9a-f]{24}", output.id) and output.expires_at is None
    error = create_error(world, endpoint="/v1/completions")
    assert error.param == "endpoint" and "'/v1/chat/ds-test'" in error.message


def test_dashscope_test_model_runs_without_inference_and_takes_100_lines() -> None:
    world = World(profile="dashscope")
    url = "/v1/chat/ds-test"

    def test_lines(n: int) -> bytes:
        return jsonl(*({**chat_line(str(i), model="batch-test-model"), "url": url} for i in range(n)))

    done = world.get(world.create(test_lines(100), endpoint=url)["id"])
    assert done["status"] == "completed" and done["model"] == "batch-test-model"
    assert world.lines(done["output_file_id"])[0]["response"]["body"]["object"] == "chat.completion"
    too_big = world.create(test_lines(101), endpoint=url)
    failed = world.get(too_big["id"])
    assert failed["status"] == "failed" and failed["errors"]["data"][0]["code"] == "too_many_tasks"


# --- 50,000 lines ------------------------------------------------------------------------------


def big_input(lines: int) -> list[bytes]:
    chunks, buffer = [], bytearray()
    for i in range(lines):
        buffer += json.dumps(chat_line(f"request-{i}", f"Summarise item number {i} in one sentence.")).encode()
        buffer += b"\n"
        if len(buffer) >= 1 << 20:
            chunks.append(bytes(buffer))
            buffer.clear()
    return [*chunks, bytes(buffer)]


@pytest.mark.slow
def test_a_50000_line_batch_validates_and_completes_in_bounded_memory() -> None:
    world = World()
    chunks = big_input(50_000)
    file_id = world.files.create(
        KEY, purpose="batch", filename="big.jsonl", chunks=chunks, size=sum(map(len, chunks))
    ).id
    tracemalloc.start()
    try:
        batch = world.batches.create(KEY, input_file_id=file_id, endpoint=CHAT, completion_window="24h")
        validating_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        done = world.get(batch.id)
        completing_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert done["status"] == "completed"
    assert done["request_counts"] == {"total": 50_000, "completed": 50_000, "failed": 0}
    output = world.files.get(KEY, done["output_file_id"])
    assert validating_peak < 16 * 2**20  # the custom_ids and the failing-line index, never the file
    assert completing_peak < output.size * 1.25  # the output once, never a second copy of it
    assert len(output.chunks) > 100 and max(map(len, output.chunks)) < 128 * 1024
    assert world.batches.store.find(batch.id).plan.chunks == ()  # the input is let go


# --- the domain stays HTTP-free ------------------------------------------------------------------

WEB = {"starlette", "uvicorn", "multipart", "python_multipart", "orjson", "httptools", "uvloop", "httpx"}


@pytest.mark.parametrize(
    "module",
    [
        "mockfiles.batches.service",
        "mockfiles.scenarios.batches",
        "mockfiles.inference.text",
        "mockfiles.inference.media",
    ],
)
def test_the_batches_domain_imports_no_web_framework(module: str) -> None:
    found = imported_modules(module)
    assert "threading" in found or "random" in found or "hashlib" in found  # the walk does read the modules
    assert found & WEB_FRAMEWORKS == set()


def test_each_fate_is_decided_once_at_validation_and_kept_once_until_the_results_are_written() -> None:
    """300 distinct refusals (the index of the bad message in each line) and a rule's failure on
    200 lines: the rule's fate is one object, the refusals' 300; each line's number widens to fit
    them; the results written from them are those the endpoint gives; then they are let go."""
    lines = [
        {
            "custom_id": f"refused-{k}",
            "method": "POST",
            "url": CHAT,
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}] * k + ["bad"]},
        }
        for k in range(300)
    ] + [chat_line(f"rule-{k}") for k in range(200)]
    rules = [{"match": {"custom_id": "rule-*"}, "status": 503}]
    world = World({"batches": {"timing": {"in_progress": "1h"}, "requests": rules}})
    batch = world.create(jsonl(*lines))
    plan = world.batches.store.find(batch["id"]).plan  # type: ignore[union-attr]
    assert len(plan.decided.fates) == 301 and plan.decided.which.typecode == "H"
    assert list(plan.decided.at) == list(range(500)) and plan.failing is plan.decided.at
    assert {plan.decided.which[i] for i in range(300, 500)} == {plan.decided.which[300]}
    world.advance(3600)
    done = world.get(batch["id"])
    assert done["request_counts"] == {"total": 500, "completed": 0, "failed": 500}
    errors = {line["custom_id"]: line["response"] for line in world.lines(done["error_file_id"])}
    assert errors["refused-7"]["status_code"] == 400
    assert errors["refused-7"]["body"]["error"]["message"] == "Invalid 'messages[7]': expected an object with a role."
    assert {errors[f"rule-{k}"]["status_code"] for k in range(200)} == {503}
    assert world.batches.store.find(batch["id"]).plan.decided.fates == ()  # type: ignore[union-attr]
