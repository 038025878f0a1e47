"""File lifecycle through the real SDK: purposes and types, processing (content is checked when a
batch runs, not at upload), size limits, quotas, expiry — each reached on purpose, fast,
deterministically."""

from __future__ import annotations

import json
import threading

import httpx
import openai
import pytest
from freezegun import freeze_time

from mockfiles import MockFilesServer
from mockfiles.core.units import format_duration, parse_duration, parse_size
from tests.support.helpers import batch_file, batch_line, jsonl

pytestmark = pytest.mark.mockfiles(rate_limits=False)


# --- purposes and file types -----------------------------------------------------------


@pytest.mark.parametrize("purpose", ["assistants", "vision", "user_data", "evals"])
def test_any_file_type_for_open_purposes(client: openai.OpenAI, purpose: str) -> None:
    assert client.files.create(file=("photo.png", b"\x89PNG"), purpose=purpose).purpose == purpose  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("purpose", "filename"), [("batch", "input.csv"), ("fine-tune", "train.txt"), ("batch", "noextension")]
)
def test_jsonl_only_purposes_refuse_other_types(client: openai.OpenAI, purpose: str, filename: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=(filename, batch_file()), purpose=purpose)  # type: ignore[arg-type]
    assert info.value.param == "file" and info.value.code == "invalid_file_format"
    assert ".jsonl" in info.value.message
    assert list(client.files.list()) == []


def test_extension_check_ignores_case(client: openai.OpenAI) -> None:
    assert client.files.create(file=("IN.JSONL", batch_file()), purpose="batch").status == "processed"


@pytest.mark.mockfiles(profile="dashscope")
def test_dashscope_profile_purposes_and_types(client: openai.OpenAI) -> None:
    doc = client.files.create(file=("paper.pdf", b"%PDF-1.7"), purpose="file-extract")  # type: ignore[arg-type]
    assert doc.status == "processed" and doc.id.startswith("file-fe-") and len(doc.id) == len("file-fe-") + 24
    assert doc.expires_at is None
    batch = client.files.create(file=("in.jsonl", batch_file()), purpose="batch")
    assert batch.id.startswith("file-batch-") and batch.expires_at is None  # DashScope files never expire
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=("tool.exe", b"MZ"), purpose="file-extract")  # type: ignore[arg-type]
    assert info.value.code == "invalid_file_format"
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=("a.txt", b"x"), purpose="assistants")
    assert info.value.param == "purpose"


# --- processing ------------------------------------------------------------------------


@pytest.mark.mockfiles(scenario={"processing": {"default": {"delay": "2s"}, "batch": {"delay": "30s"}}})
def test_files_are_uploaded_until_their_processing_delay_passes(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    plain = client.files.create(file=b"x", purpose="assistants")
    batch = client.files.create(file=("b.jsonl", batch_file()), purpose="batch")
    assert (plain.status, batch.status) == ("uploaded", "uploaded")
    assert plain.status_details is None
    mockfiles.advance(2)
    assert client.files.retrieve(plain.id).status == "processed"
    assert client.files.retrieve(batch.id).status == "uploaded"
    mockfiles.advance(28)
    assert client.files.retrieve(batch.id).status == "processed"
    assert {f.status for f in client.files.list()} == {"processed"}


@pytest.mark.mockfiles(scenario={"processing": {"batch": {"delay": "1h"}}})
def test_wait_for_processing_polls_until_processed(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    created = client.files.create(file=("b.jsonl", batch_file()), purpose="batch")
    timer = threading.Timer(0.3, mockfiles.advance, args=(3600,))
    timer.start()
    try:
        done = client.files.wait_for_processing(created.id, poll_interval=0.05, max_wait_seconds=10)
    finally:
        timer.cancel()
    assert done.status == "processed"
    assert len(mockfiles.requests("files.retrieve")) >= 2


@pytest.mark.mockfiles(scenario={"processing": {"batch": {"delay": "10s"}}})
def test_processing_follows_freezegun(client: openai.OpenAI) -> None:
    with freeze_time("2030-06-01 12:00:00") as frozen:
        created = client.files.create(file=("b.jsonl", batch_file()), purpose="batch")
        assert client.files.retrieve(created.id).status == "uploaded"
        frozen.tick(10)
        assert client.files.retrieve(created.id).status == "processed"


BAD_BATCHES = [
    b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\nnot json\n',
    jsonl(batch_line("1"), batch_line("2"), batch_line("3"), batch_line("7"), batch_line("7")),
    jsonl(batch_line("1"), {"custom_id": "2", "method": "GET", "url": "/v1/chat/completions", "body": {"model": "m"}}),
    jsonl({"custom_id": "1", "method": "POST", "url": "/v1/images", "body": {"model": "m"}}),
    jsonl(batch_line("1"), batch_line("2", url="/v1/embeddings")),
    jsonl({"custom_id": "1", "method": "POST", "url": "/v1/embeddings", "body": {"input": "x"}}),
    jsonl({"method": "POST"}),
    jsonl([1, 2]),
    b"\xff\xfe\n",
]


@pytest.mark.parametrize("content", BAD_BATCHES)
def test_jsonl_batch_files_with_bad_lines_are_processed(client: openai.OpenAI, content: bytes) -> None:
    """As OpenAI does: the lines are checked when a batch runs the file, not at upload."""
    created = client.files.create(file=("in.jsonl", content), purpose="batch")
    assert (created.status, created.status_details) == ("processed", None)
    done = client.files.wait_for_processing(created.id, poll_interval=0.01)
    assert (done.status, done.status_details) == ("processed", None)
    assert client.files.content(created.id).read() == content  # the bytes are kept as uploaded


def test_valid_batch_without_trailing_newline_and_with_crlf(client: openai.OpenAI) -> None:
    content = json.dumps(batch_line("a")).encode() + b"\r\n" + json.dumps(batch_line("b")).encode()
    assert client.files.create(file=("in.jsonl", content), purpose="batch").status == "processed"


def test_a_large_batch_file_with_a_duplicate_is_processed(client: openai.OpenAI) -> None:
    content = jsonl(*(batch_line(f"id-{i}") for i in range(30_000)))  # ~3 MB
    broken = content + jsonl(batch_line("id-29999"))
    created = client.files.create(file=("big.jsonl", broken), purpose="batch")
    assert (created.status, created.status_details) == ("processed", None)
    assert created.bytes == len(broken)


@pytest.mark.parametrize(
    "line",
    [
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
        {"prompt": "2+2=", "completion": "4"},
        {"input": {"messages": []}, "preferred_output": [], "non_preferred_output": []},
        {"messages": []},
        {"messages": [{"content": "no role"}]},
        {"text": "plain"},
    ],
)
def test_fine_tune_files_are_processed_whatever_their_lines(client: openai.OpenAI, line: dict[str, object]) -> None:
    """Content problems of a fine-tune file surface on the fine-tuning job that uses it (OpenAI's
    FileObject.status_details is deprecated for this)."""
    created = client.files.create(file=("train.jsonl", jsonl(line, line)), purpose="fine-tune")
    assert (created.status, created.status_details) == ("processed", None)


@pytest.mark.mockfiles(scenario={"processing": {"fine-tune": {"delay": "5m"}}})
def test_a_bad_file_is_uploaded_then_processed(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    created = client.files.create(file=("train.jsonl", b"{oops}\n"), purpose="fine-tune")
    assert (created.status, created.status_details) == ("uploaded", None)
    mockfiles.advance(300)
    done = client.files.retrieve(created.id)
    assert (done.status, done.status_details) == ("processed", None)


# --- size limits and quotas ------------------------------------------------------------


@pytest.mark.mockfiles(scenario={"limits": {"max_file_bytes": {"batch": "1KiB", "assistants": "2KB"}}})
def test_per_purpose_size_limits(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.files.create(file=("b.jsonl", b"x" * 1025), purpose="batch")
    assert info.value.status_code == 413
    assert info.value.message.endswith("Maximum content size limit (1024) exceeded (1025 bytes read)")
    assert client.files.create(file=b"x" * 2000, purpose="assistants").bytes == 2000
    with pytest.raises(openai.APIStatusError):
        client.files.create(file=b"x" * 2001, purpose="assistants")
    assert client.files.create(file=b"x" * 5000, purpose="user_data").bytes == 5000  # profile default
    assert len(list(client.files.list())) == 2


@pytest.mark.mockfiles(scenario={"limits": {"max_files": 2}})
def test_file_count_quota_and_delete_frees_it(client: openai.OpenAI) -> None:
    first = client.files.create(file=b"1", purpose="assistants")
    client.files.create(file=b"2", purpose="assistants")
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=b"3", purpose="assistants")
    assert info.value.code == "file_count_limit_exceeded"
    assert "2 of 2 files" in info.value.message
    client.files.delete(first.id)
    assert client.files.create(file=b"3", purpose="assistants").bytes == 1


@pytest.mark.mockfiles(scenario={"limits": {"max_total_bytes": "10KB"}})
def test_storage_quota_and_delete_frees_it(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    big = client.files.create(file=b"x" * 6000, purpose="assistants")
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=b"y" * 5000, purpose="assistants")
    assert info.value.code == "storage_limit_exceeded"
    assert "6000 of 10000 bytes" in info.value.message
    other = mockfiles.client(api_key="someone-else", max_retries=0)
    assert other.files.create(file=b"z" * 9000, purpose="assistants").bytes == 9000  # quotas are per account
    client.files.delete(big.id)
    assert client.files.create(file=b"y" * 5000, purpose="assistants").bytes == 5000


@pytest.mark.mockfiles(scenario={"limits": {"max_total_bytes": "100KB"}})
def test_storage_quota_is_enforced_while_streaming(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    r = http.post("/v1/files", files={"file": ("a.bin", b"x" * 200_000)}, data={"purpose": "assistants"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "storage_limit_exceeded"
    assert len(mockfiles.emulator.files.store) == 0


# --- expiry ----------------------------------------------------------------------------


def test_expires_after_sets_expires_at(client: openai.OpenAI) -> None:
    created = client.files.create(
        file=b"x", purpose="user_data", expires_after={"anchor": "created_at", "seconds": 3600}
    )
    assert created.expires_at == created.created_at + 3600
    batch = client.files.create(file=("b.jsonl", batch_file()), purpose="batch")
    assert batch.expires_at == batch.created_at + 2_592_000
    short = client.files.create(
        file=("b.jsonl", batch_file()), purpose="batch", expires_after={"anchor": "created_at", "seconds": 7200}
    )
    assert short.expires_at == short.created_at + 7200
    assert client.files.create(file=b"x", purpose="assistants").expires_at is None


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        (
            {"expires_after[anchor]": "created_at", "expires_after[seconds]": "3599"},
            "expires_after.seconds",
            "integer_below_min_value",
        ),
        (
            {"expires_after[anchor]": "created_at", "expires_after[seconds]": "2592001"},
            "expires_after.seconds",
            "integer_above_max_value",
        ),
        (
            {"expires_after[anchor]": "created_at", "expires_after[seconds]": "soon"},
            "expires_after.seconds",
            "invalid_type",
        ),
        (
            {"expires_after[anchor]": "last_access", "expires_after[seconds]": "3600"},
            "expires_after.anchor",
            "invalid_value",
        ),
        ({"expires_after[seconds]": "3600"}, "expires_after.anchor", "missing_required_parameter"),
        ({"expires_after[anchor]": "created_at"}, "expires_after.seconds", "missing_required_parameter"),
    ],
)
def test_bad_expires_after_is_400(mockfiles: MockFilesServer, http: httpx.Client, fields, param, code) -> None:
    r = http.post("/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "user_data", **fields})
    assert r.status_code == 400
    assert (r.json()["error"]["param"], r.json()["error"]["code"]) == (param, code)
    assert len(mockfiles.emulator.files.store) == 0


EXPIRES_CASES = [  # (bracket fields, the same as one JSON object, param, code, message)
    (
        {"anchor": "created_at", "seconds": "3599"},
        {"anchor": "created_at", "seconds": 3599},
        "expires_after.seconds",
        "integer_below_min_value",
        "Invalid 'expires_after.seconds': integer below minimum value. Expected a value >= 3600, but got 3599 instead.",
    ),
    (
        {"anchor": "created_at", "seconds": "2592001"},
        {"anchor": "created_at", "seconds": 2592001},
        "expires_after.seconds",
        "integer_above_max_value",
        "Invalid 'expires_after.seconds': integer above maximum value. Expected a value <= 2592000, but got 2592001 instead.",
    ),
    (
        {"anchor": "last_access", "seconds": "3600"},
        {"anchor": "last_access", "seconds": 3600},
        "expires_after.anchor",
        "invalid_value",
        "Invalid value: 'last_access'. Supported values are: 'created_at'.",
    ),
    (
        {"seconds": "3600"},
        {"seconds": 3600},
        "expires_after.anchor",
        "missing_required_parameter",
        "Missing required parameter: 'expires_after.anchor'.",
    ),
    (
        {"anchor": "created_at"},
        {"anchor": "created_at"},
        "expires_after.seconds",
        "missing_required_parameter",
        "Missing required parameter: 'expires_after.seconds'.",
    ),
    (
        {"anchor": "created_at", "seconds": "3600", "foo": "1"},
        {"anchor": "created_at", "seconds": 3600, "foo": 1},
        "expires_after.foo",
        "unknown_parameter",
        "Unknown parameter: 'expires_after.foo'.",
    ),
]


def post_upload(http: httpx.Client, **fields: str) -> httpx.Response:
    return http.post("/v1/files", files={"file": ("a.txt", b"x")}, data={"purpose": "user_data", **fields})


@pytest.mark.parametrize(("brackets", "whole", "param", "code", "message"), EXPIRES_CASES)
def test_both_forms_of_expires_after_are_checked_alike(
    mockfiles: MockFilesServer, http: httpx.Client, brackets, whole, param, code, message
) -> None:
    as_brackets = post_upload(http, **{f"expires_after[{k}]": v for k, v in brackets.items()})
    as_json = post_upload(http, expires_after=json.dumps(whole))
    for r in (as_brackets, as_json):
        assert r.status_code == 400
        assert r.json()["error"] == {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    assert len(mockfiles.emulator.files.store) == 0


@pytest.mark.parametrize(
    ("whole", "param", "code", "message"),
    [
        (
            {},
            "expires_after.anchor",
            "missing_required_parameter",
            "Missing required parameter: 'expires_after.anchor'.",
        ),
        ({"foo": 1}, "expires_after.foo", "unknown_parameter", "Unknown parameter: 'expires_after.foo'."),
        (
            {"anchor": "created_at", "seconds": "3600"},
            "expires_after.seconds",
            "invalid_type",
            "Invalid type for 'expires_after.seconds': expected an integer, but got a string instead.",
        ),
        (
            {"anchor": "created_at", "seconds": 3600.5},
            "expires_after.seconds",
            "invalid_type",
            "Invalid type for 'expires_after.seconds': expected an integer, but got a decimal number instead.",
        ),
        (
            {"anchor": "created_at", "seconds": True},
            "expires_after.seconds",
            "invalid_type",
            "Invalid type for 'expires_after.seconds': expected an integer, but got a boolean instead.",
        ),
        (
            {"anchor": None, "seconds": 3600},
            "expires_after.anchor",
            "invalid_type",
            "Invalid type for 'expires_after.anchor': expected a string, but got null instead.",
        ),
        (
            [3600],
            "expires_after",
            "invalid_type",
            "Invalid type for 'expires_after': expected an object, but got an array instead.",
        ),
    ],
)
def test_the_json_form_of_expires_after_is_validated_as_json(
    mockfiles: MockFilesServer, http: httpx.Client, whole, param, code, message
) -> None:
    r = post_upload(http, expires_after=json.dumps(whole))
    assert r.status_code == 400
    assert r.json()["error"] == {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    assert len(mockfiles.emulator.files.store) == 0


def test_expires_after_that_is_not_json_is_400(http: httpx.Client) -> None:
    r = post_upload(http, expires_after="in an hour")
    assert r.status_code == 400
    assert (r.json()["error"]["param"], r.json()["error"]["code"]) == ("expires_after", "invalid_type")


def test_expires_after_in_both_forms_at_once_is_400(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    r = post_upload(
        http,
        expires_after=json.dumps({"anchor": "created_at", "seconds": 3600}),
        **{"expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"},
    )
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == "expires_after"
    assert error["message"] == (
        "'expires_after' was given twice: as one JSON part and as 'expires_after[anchor]', "
        "'expires_after[seconds]'. Send one or the other."
    )
    assert len(mockfiles.emulator.files.store) == 0


def test_expires_after_as_one_json_part_sets_expires_at(http: httpx.Client) -> None:
    r = post_upload(http, expires_after=json.dumps({"anchor": "created_at", "seconds": 7200}))
    assert r.status_code == 200
    assert r.json()["expires_at"] == r.json()["created_at"] + 7200


def test_the_sdk_sees_expires_after_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=b"x", purpose="user_data", expires_after={"anchor": "created_at", "seconds": 60})  # type: ignore[arg-type]
    assert (info.value.param, info.value.code) == ("expires_after.seconds", "integer_below_min_value")


def test_expired_files_are_gone(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    doomed = client.files.create(
        file=b"x" * 100, purpose="user_data", expires_after={"anchor": "created_at", "seconds": 3600}
    )
    kept = client.files.create(file=b"y", purpose="assistants")
    mockfiles.advance(3599)
    assert client.files.retrieve(doomed.id).id == doomed.id
    mockfiles.advance(1)
    assert [f.id for f in client.files.list()] == [kept.id]
    for gone in (
        lambda: client.files.retrieve(doomed.id),
        lambda: client.files.content(doomed.id),
        lambda: client.files.delete(doomed.id),
    ):
        with pytest.raises(openai.NotFoundError):
            gone()
    assert mockfiles.emulator.files.store.usage(mockfiles.api_key, mockfiles.emulator.clock.now()) == (1, 1)


def test_batch_files_expire_after_thirty_days_by_admin_clock(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    batch = client.files.create(file=("b.jsonl", batch_file()), purpose="batch")
    httpx.post(mockfiles.url + "/_mockfiles/clock", json={"advance": 30 * 86400})
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(batch.id)


def test_expiry_follows_freezegun(client: openai.OpenAI) -> None:
    with freeze_time("2030-01-01") as frozen:
        created = client.files.create(
            file=b"x", purpose="user_data", expires_after={"anchor": "created_at", "seconds": 3600}
        )
        frozen.tick(3600)
        with pytest.raises(openai.NotFoundError):
            client.files.retrieve(created.id)


@pytest.mark.mockfiles(scenario={"limits": {"max_files": 1}})
def test_expiry_frees_quota(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    client.files.create(file=b"x", purpose="user_data", expires_after={"anchor": "created_at", "seconds": 3600})
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=b"x", purpose="user_data")
    mockfiles.advance(3600)
    assert client.files.create(file=b"x", purpose="user_data").bytes == 1


# --- units ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("150MB", 150_000_000),
        ("1.5GB", 1_500_000_000),
        ("512KiB", 524_288),
        (1024, 1024),
        ("2 MiB", 2_097_152),
        ("10b", 10),
        ("7", 7),
    ],
)
def test_parse_size(text: object, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("700ms", 0.7), ("30s", 30), ("2m", 120), ("1h", 3600), ("30d", 2_592_000), (5, 5), (0.25, 0.25), ("1.5", 1.5)],
)
def test_parse_duration(text: object, value: float) -> None:
    assert parse_duration(text) == pytest.approx(value)


@pytest.mark.parametrize("bad", ["ten MB", "5 parsecs", -1, True, "", None, [1]])
def test_bad_sizes_and_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_size(bad)
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_format_duration_like_openai_headers() -> None:
    assert [format_duration(s) for s in (0.34, 0.0001, 1, 1.2, 59.9984, 360, 3700)] == [
        "340ms",
        "1ms",
        "1s",
        "1.2s",
        "59.999s",
        "6m0s",
        "1h1m40s",
    ]
    # rounded up to the millisecond before choosing the unit: one format for one wait
    assert [format_duration(s) for s in (0.9996, 0.9990001, 59.9996, 3599.9999)] == ["1s", "1s", "1m0s", "1h0m0s"]


@pytest.mark.mockfiles(scenario={"processing": {"batch": {"delay": "10s"}}})
def test_a_processed_file_read_again_keeps_each_dialects_shape_and_follows_time_back(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    with freeze_time("2030-06-01 12:00:00") as frozen:
        created = client.files.create(file=("b.jsonl", batch_file()), purpose="batch")
        frozen.tick(10)
        with httpx.Client(base_url=mockfiles.url, headers={"Authorization": f"Bearer {mockfiles.api_key}"}) as http:
            shapes = [
                http.get(f"{prefix}/files/{created.id}").json()
                for prefix in ("/v1", "/v1", "/compatible-mode/v1", "/compatible-mode/v1", "/v1")
            ]
        assert [("expires_at" in s, s["status"]) for s in shapes] == [
            (True, "processed"),
            (True, "processed"),
            (False, "processed"),
            (False, "processed"),
            (True, "processed"),
        ]
        assert shapes[0] == shapes[1] == shapes[4]
        frozen.move_to("2030-06-01 12:00:05")  # before its processing ended: uploaded again
        assert client.files.retrieve(created.id).status == "uploaded"
