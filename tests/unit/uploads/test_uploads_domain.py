"""The Uploads API's domain (mockfiles/uploads.py, upload_requests.py, its rows of error_table.py),
driven directly, without HTTP: requests, limits, Parts, completion, cancellation, expiry,
accounts, memory. The routes' tests drive the same rules through the real SDK."""

from __future__ import annotations

import ast
import gc
import hashlib
import random
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import openai
import pytest
from freezegun import freeze_time
from openai.resources.uploads.uploads import DEFAULT_PART_SIZE

from mockfiles.core import errors
from mockfiles.core.clock import Clock
from mockfiles.core.error_table import ROWS, size_text
from mockfiles.core.errors import InvalidRequest, InvalidValue, MockFilesError, NotFound, PayloadTooLarge, QuotaExceeded
from mockfiles.core.profiles import MiB, Profile, dashscope_profile, openai_profile
from mockfiles.emulator import Emulator
from mockfiles.files.service import Files, Outcome
from mockfiles.files.store import FileStore
from mockfiles.uploads.requests import CompleteRequest, CreateRequest
from mockfiles.uploads.service import Part, Upload, Uploads, md5_of
from mockfiles.web.dialects.openai import OpenAIDialect
from tests.support.helpers import WEB_FRAMEWORKS, imported_modules

GiB = 1024**3
upload_object = OpenAIDialect().upload_object  # the objects as the API shows them
part_object = OpenAIDialect().part_object
HEX32 = r"[0-9a-f]{32}"


def service(profile: Profile | None = None) -> Uploads:
    return Uploads(Files(profile or openai_profile(), Clock(), random.Random(0)))


def small(*, max_bytes: int = 8 * GiB, max_part_bytes: int = 64 * MiB, storage: int | None = None) -> Profile:
    """The openai profile with small limits, so that they are reached with a few bytes."""
    base = openai_profile()
    rules = replace(base.uploads, max_bytes=max_bytes, max_part_bytes=max_part_bytes)
    return replace(base, uploads=rules, max_total_bytes=storage or base.max_total_bytes)


def create(uploads: Uploads, size: int = 10, account: str = "k", **fields: object) -> Upload:
    body: dict[str, object] = {"bytes": size, "filename": "data.bin", "mime_type": "text/plain", "purpose": "user_data"}
    return uploads.create(account, CreateRequest.parse({**body, **fields}))


def add(uploads: Uploads, upload: Upload, data: bytes, account: str = "k", chunk: int = 3) -> Part:
    """A Part as the multipart reader leaves one: a list of chunks."""
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    return uploads.add_part(account, upload.id, chunks, len(data))


def complete(uploads: Uploads, upload: Upload, *parts: Part, md5: str | None = None, account: str = "k") -> Upload:
    return uploads.complete(account, upload.id, CompleteRequest(tuple(p.id for p in parts), md5))


def used(uploads: Uploads, account: str = "k") -> int:
    return uploads.files.store.usage(account, uploads.files.clock.now())[1]


# --- request bodies -------------------------------------------------------------------------------


def test_create_request_fields() -> None:
    body = {"bytes": 5, "filename": "a.pdf", "mime_type": "pdf", "purpose": "assistants"}
    assert CreateRequest.parse(body) == CreateRequest(
        5, "a.pdf", "pdf", "assistants", None
    )  # the SDK's own example MIME
    expiring = {**body, "expires_after": {"anchor": "created_at", "seconds": 7200}}
    assert CreateRequest.parse(expiring).expires_after == 7200
    assert CreateRequest.parse({**body, "expires_after": None}).expires_after is None


@pytest.mark.parametrize(
    ("body", "param", "code", "words"),
    [
        ([], None, "invalid_type", "expected a JSON object, but got an array instead"),
        ({"filename": "a", "mime_type": "m", "purpose": "p"}, "bytes", "missing_required_parameter", "'bytes'"),
        ({"bytes": 1, "mime_type": "m", "purpose": "p"}, "filename", "missing_required_parameter", "'filename'"),
        ({"bytes": 1, "filename": "a", "purpose": "p"}, "mime_type", "missing_required_parameter", "'mime_type'"),
        ({"bytes": 1, "filename": "a", "mime_type": "m"}, "purpose", "missing_required_parameter", "'purpose'"),
        (
            {"bytes": "10", "filename": "a", "mime_type": "m", "purpose": "p"},
            "bytes",
            "invalid_type",
            "expected an integer, but got a string",
        ),
        (
            {"bytes": 10.0, "filename": "a", "mime_type": "m", "purpose": "p"},
            "bytes",
            "invalid_type",
            "but got a number",
        ),
        (
            {"bytes": True, "filename": "a", "mime_type": "m", "purpose": "p"},
            "bytes",
            "invalid_type",
            "but got a boolean",
        ),
        ({"bytes": None, "filename": "a", "mime_type": "m", "purpose": "p"}, "bytes", "invalid_type", "but got null"),
        ({"bytes": 0, "filename": "a", "mime_type": "m", "purpose": "p"}, "bytes", "integer_below_min_value", ">= 1"),
        (
            {"bytes": -5, "filename": "a", "mime_type": "m", "purpose": "p"},
            "bytes",
            "integer_below_min_value",
            "got -5",
        ),
        (
            {"bytes": 1, "filename": 7, "mime_type": "m", "purpose": "p"},
            "filename",
            "invalid_type",
            "expected a string",
        ),
        ({"bytes": 1, "filename": "a", "mime_type": ["m"], "purpose": "p"}, "mime_type", "invalid_type", "an array"),
        ({"bytes": 1, "filename": "a", "mime_type": "m", "purpose": 1}, "purpose", "invalid_type", "an integer"),
        (
            {"bytes": 1, "filename": "a", "mime_type": "m", "purpose": "p", "md5": "x"},
            "md5",
            "unknown_parameter",
            "Unknown parameter: 'md5'.",
        ),
        (
            {"bytes": 1, "filename": "a", "mime_type": "m", "purpose": "p", "expires_after": 3600},
            "expires_after",
            "invalid_type",
            "expected an object",
        ),
        (
            {
                "bytes": 1,
                "filename": "a",
                "mime_type": "m",
                "purpose": "p",
                "expires_after": {"anchor": "created_at", "seconds": 3600, "x": 1},
            },
            "expires_after.x",
            "unknown_parameter",
            "'expires_after.x'",
        ),
        (
            {"bytes": 1, "filename": "a", "mime_type": "m", "purpose": "p", "expires_after": {"anchor": "created_at"}},
            "expires_after.seconds",
            "missing_required_parameter",
            "seconds",
        ),
        (
            {"bytes": 1, "filename": "a", "mime_type": "m", "purpose": "p", "expires_after": {"seconds": 3600}},
            "expires_after.anchor",
            "missing_required_parameter",
            "anchor",
        ),
        (
            {
                "bytes": 1,
                "filename": "a",
                "mime_type": "m",
                "purpose": "p",
                "expires_after": {"anchor": "now", "seconds": 3600},
            },
            "expires_after.anchor",
            "invalid_value",
            "'now'",
        ),
        (
            {
                "bytes": 1,
                "filename": "a",
                "mime_type": "m",
                "purpose": "p",
                "expires_after": {"anchor": "created_at", "seconds": "3600"},
            },
            "expires_after.seconds",
            "invalid_type",
            "a string",
        ),
        (
            {
                "bytes": 1,
                "filename": "a",
                "mime_type": "m",
                "purpose": "p",
                "expires_after": {"anchor": "created_at", "seconds": 60},
            },
            "expires_after.seconds",
            "integer_below_min_value",
            ">= 3600",
        ),
        (
            {
                "bytes": 1,
                "filename": "a",
                "mime_type": "m",
                "purpose": "p",
                "expires_after": {"anchor": "created_at", "seconds": 2_592_001},
            },
            "expires_after.seconds",
            "integer_above_max_value",
            "<= 2592000",
        ),
    ],
)
def test_create_request_refusals(body: object, param: str | None, code: str, words: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        CreateRequest.parse(body)
    assert (info.value.status, info.value.param, info.value.code) == (400, param, code)
    assert words in info.value.message


def test_complete_request_fields() -> None:
    assert CompleteRequest.parse({"part_ids": ["part_b", "part_a"]}) == CompleteRequest(("part_b", "part_a"), None)
    upper = "D41D8CD98F00B204E9800998ECF8427E"
    assert CompleteRequest.parse({"part_ids": [], "md5": upper}).md5 == upper.lower()
    assert CompleteRequest.parse({"part_ids": [], "md5": None}).md5 is None


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ("part_a", None, "invalid_type"),
        ({}, "part_ids", "missing_required_parameter"),
        ({"part_ids": "part_a"}, "part_ids", "invalid_type"),
        ({"part_ids": ["part_a", 2]}, "part_ids[1]", "invalid_type"),
        ({"part_ids": [], "md5": 5}, "md5", "invalid_type"),
        ({"part_ids": [], "md5": "abc"}, "md5", "invalid_value"),
        ({"part_ids": [], "md5": ""}, "md5", "invalid_value"),
        ({"part_ids": [], "md5": "z" * 32}, "md5", "invalid_value"),
        ({"part_ids": [], "sha256": "00"}, "sha256", "unknown_parameter"),
    ],
)
def test_complete_request_refusals(body: object, param: str | None, code: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        CompleteRequest.parse(body)
    assert (info.value.param, info.value.code) == (param, code)


# --- creating an Upload ---------------------------------------------------------------------------


def test_a_new_upload_is_pending_for_an_hour() -> None:
    uploads = service()
    upload = create(uploads, 2048, filename="train.jsonl", purpose="fine-tune")
    now = uploads.files.clock.now()
    shown = upload_object(upload, now)
    assert shown == {
        "id": upload.id,
        "object": "upload",
        "bytes": 2048,
        "created_at": int(now),
        "filename": "train.jsonl",
        "purpose": "fine-tune",
        "status": "pending",
        "expires_at": int(now) + 3600,
        "file": None,
    }
    assert openai.types.Upload.model_validate(shown).status == "pending"  # the SDK's own model reads it
    assert upload.id.startswith("upload_") and len(upload.id) == len("upload_") + 32
    assert uploads.get("k", upload.id) is upload
    assert used(uploads) == 0  # declared bytes are checked, not held


def test_limits_are_the_documented_ones_read_as_binary_units() -> None:
    rules = openai_profile().uploads
    assert rules.max_bytes == 8 * GiB == 8_589_934_592
    assert rules.max_part_bytes == 64 * MiB == DEFAULT_PART_SIZE  # the SDK's default Part fits exactly
    assert rules.lifetime == 3600
    assert dashscope_profile().uploads.capped_purposes is None


def test_bytes_up_to_8_gib() -> None:
    uploads = service()
    assert create(uploads, 8 * GiB).bytes == 8 * GiB
    with pytest.raises(InvalidRequest) as info:
        create(uploads, 8 * GiB + 1)
    assert (info.value.param, info.value.code) == ("bytes", "integer_above_max_value")
    assert "at most 8589934592 bytes (8 GiB), but 8589934593 were declared" in info.value.message


def test_purpose_limits_bind_only_purposes_that_have_their_own() -> None:
    uploads = service()
    assert create(uploads, 2 * GiB, purpose="assistants").bytes == 2 * GiB  # past POST /files' 512 MiB
    assert create(uploads, 200 * MiB, filename="in.jsonl", purpose="batch").bytes == 200 * MiB
    with pytest.raises(InvalidRequest) as info:
        create(uploads, 200 * MiB + 1, filename="in.jsonl", purpose="batch")
    assert (info.value.param, info.value.code) == ("bytes", "file_too_large")
    assert "purpose 'batch' can be at most 209715200 bytes (200 MiB)" in info.value.message
    dashscope = service(dashscope_profile())  # every DashScope limit is its purpose's own
    with pytest.raises(InvalidRequest) as info:
        create(dashscope, 150 * MiB + 1, filename="a.pdf", purpose="file-extract")
    assert info.value.code == "file_too_large"


def test_purpose_and_filename_as_for_post_files() -> None:
    uploads = service()
    with pytest.raises(InvalidValue) as unknown:
        create(uploads, purpose="pictures")
    assert unknown.value.param == "purpose" and "'assistants', 'batch'" in unknown.value.message
    with pytest.raises(InvalidRequest) as info:
        create(uploads, filename="rows.csv", purpose="batch")
    assert (info.value.param, info.value.code) == ("filename", "invalid_file_format")
    for bad in ("dir/a.txt", "", "a\nb.txt", "x" * 513):
        with pytest.raises(InvalidRequest) as info:
            create(uploads, filename=bad)
        assert (info.value.param, info.value.code) == ("filename", "invalid_filename")
    assert create(uploads, filename="IN.JSONL", purpose="batch").filename == "IN.JSONL"


def test_declared_bytes_must_fit_the_account() -> None:
    uploads = service(small(storage=100))
    uploads.files.create("k", purpose="user_data", filename="a.txt", chunks=[b"x" * 60], size=60)
    assert create(uploads, 40).bytes == 40
    with pytest.raises(QuotaExceeded) as info:
        create(uploads, 41)
    assert (info.value.param, info.value.code) == ("bytes", "storage_limit_exceeded")
    counted = service(replace(openai_profile(), max_files=1))
    counted.files.create("k", purpose="user_data", filename="a.txt", chunks=[b"x"], size=1)
    with pytest.raises(QuotaExceeded) as info:
        create(counted)
    assert info.value.code == "file_count_limit_exceeded"


# --- Parts ------------------------------------------------------------------------------------------


def test_a_part_is_kept_as_its_chunks() -> None:
    uploads = service()
    upload = create(uploads)
    chunks = [b"abc", b"defg"]
    part = uploads.add_part("k", upload.id, chunks, 7)
    assert part.chunks is chunks  # not copied
    shown = part_object(part)
    assert shown == {"id": part.id, "object": "upload.part", "created_at": part.created_at, "upload_id": upload.id}
    assert openai.types.uploads.UploadPart.model_validate(shown).upload_id == upload.id
    assert part.id.startswith("part_") and len(part.id) == len("part_") + 32
    assert used(uploads) == 7 and uploads.files.room_for("k") == 2_500_000_000_000 - 7


def test_part_limit_is_64_mib() -> None:
    uploads = service()
    upload = create(uploads, 65 * MiB)
    assert uploads.add_part("k", upload.id, [bytes(64 * MiB)], 64 * MiB).size == 64 * MiB
    with pytest.raises(PayloadTooLarge) as info:
        uploads.add_part("k", upload.id, [], 64 * MiB + 1)
    assert info.value.status == 413 and info.value.limit == 64 * MiB
    assert "Maximum content size limit (67108864) exceeded (67108865 bytes read)" == info.value.message


def test_parts_together_stay_under_the_upload_maximum() -> None:
    uploads = service(small(max_bytes=10, max_part_bytes=6))
    upload = create(uploads, 10)
    add(uploads, upload, b"123456")
    add(uploads, upload, b"7890")
    with pytest.raises(InvalidRequest) as info:
        add(uploads, upload, b"x")  # a retried Part may take the total past `bytes`, not past the maximum
    assert (info.value.param, info.value.code) == ("data", "upload_too_large")
    assert "already holds 10 bytes in Parts; this Part's 1 more" in info.value.message


def test_parts_count_toward_storage_and_one_past_it_is_refused() -> None:
    uploads = service(small(storage=10))
    upload = create(uploads, 10)
    add(uploads, upload, b"123456")
    assert uploads.files.room_for("k") == 4
    with pytest.raises(QuotaExceeded) as info:
        uploads.files.check_room("k", 5)  # POST /files sees the held bytes too
    with pytest.raises(QuotaExceeded) as info:
        add(uploads, upload, b"12345")
    assert (info.value.param, info.value.code) == ("data", "storage_limit_exceeded")
    assert "stores 6 of 10 bytes, and this Part needs 5 more" in info.value.message
    assert len(upload.parts) == 1 and used(uploads) == 6


def test_parts_in_any_order_from_many_threads() -> None:
    uploads = service()
    pieces = [bytes([i]) * (100 + i) for i in range(64)]
    upload = create(uploads, sum(map(len, pieces)))
    found: dict[int, Part] = {}
    start = threading.Barrier(8)

    def send(indexes: range) -> None:
        start.wait()
        for i in indexes:
            found[i] = add(uploads, upload, pieces[i], chunk=7)

    threads = [threading.Thread(target=send, args=(range(t, 64, 8),)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(upload.parts) == 64 and upload.held == used(uploads) == upload.bytes
    done = complete(uploads, upload, *(found[i] for i in range(64)))
    assert (f := uploads.file_of(done)) is not None and f.content() == b"".join(pieces)


def test_threads_never_take_the_account_past_its_storage() -> None:
    uploads = service(small(storage=1000))
    upload = create(uploads, 1000)
    refused: list[MockFilesError] = []

    def send() -> None:
        for _ in range(20):
            try:
                add(uploads, upload, b"x" * 10)
            except QuotaExceeded as err:
                refused.append(err)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert used(uploads) == 1000 and len(upload.parts) == 100 and len(refused) == 60


def test_unknown_and_other_accounts_uploads_are_not_found() -> None:
    uploads = service()
    mine = create(uploads, account="alice")
    for call in (
        lambda: uploads.get("bob", mine.id),
        lambda: add(uploads, mine, b"x", account="bob"),
        lambda: uploads.part_budget("bob", mine.id),
        lambda: complete(uploads, mine, account="bob"),
        lambda: uploads.cancel("bob", mine.id),
        lambda: uploads.get("alice", "upload_nope"),
    ):
        with pytest.raises(NotFound) as info:
            call()
        assert info.value.status == 404 and info.value.message.startswith("No such Upload object: upload_")
    assert mine.status(0) == "pending" and used(uploads, "bob") == 0


def test_held_bytes_are_released_once() -> None:
    store = FileStore()
    store.hold("upload_a", "k", 5, expires_at=100)
    store.hold("upload_a", "k", 7, expires_at=100)  # a second Part: one hold, one expiry
    store.hold("upload_b", "k", 1, expires_at=50)
    assert store.usage("k", 0) == (0, 13)
    assert store.release("upload_a") == 12 and store.release("upload_a") == 0
    assert store.usage("k", 49) == (0, 1) and store.usage("k", 50) == (0, 0)
    assert store.usage("k", 100) == (0, 0)  # the released hold's expiry finds nothing to free
    store.hold("upload_c", "k", 3, expires_at=200)
    store.clear()
    assert store.usage("k", 0) == (0, 0) and store.release("upload_c") == 0


# --- the budget a streaming reader works with ----------------------------------------------------


def test_part_budget_is_the_smallest_room_and_names_what_was_crossed() -> None:
    uploads = service(small(max_bytes=100, max_part_bytes=30, storage=1000))
    upload = create(uploads, 100)
    budget = uploads.part_budget("k", upload.id)
    assert (budget.limit, budget.part_max, budget.upload_room) == (30, 30, 100)
    crossed = budget.refusal(31)
    assert isinstance(crossed, PayloadTooLarge) and crossed.limit == 30
    for _ in range(3):
        add(uploads, upload, b"x" * 30)
    budget = uploads.part_budget("k", upload.id)
    assert budget.limit == 10 and budget.refusal(11).code == "upload_too_large"
    uploads.files.create("k", purpose="user_data", filename="a", chunks=[b"x" * 905], size=905)
    budget = uploads.part_budget("k", upload.id)
    assert budget.limit == 5 and budget.account_room == 5
    quota = budget.refusal(6)
    assert isinstance(quota, QuotaExceeded) and quota.code == "storage_limit_exceeded" and quota.param == "data"
    unlimited = service(replace(openai_profile(), max_total_bytes=None))
    assert unlimited.part_budget("k", create(unlimited).id).limit == 64 * MiB


def test_part_budget_refuses_before_any_byte() -> None:
    uploads = service()
    upload = create(uploads)
    uploads.cancel("k", upload.id)
    with pytest.raises(InvalidRequest) as info:
        uploads.part_budget("k", upload.id)
    assert info.value.code == "upload_cancelled"


# --- completing --------------------------------------------------------------------------------------


def test_complete_assembles_parts_in_the_listed_order_into_a_file() -> None:
    uploads = service()
    upload = create(uploads, 11, filename="notes.txt", purpose="assistants")
    first, second, third = add(uploads, upload, b"lo "), add(uploads, upload, b"hel"), add(uploads, upload, b"world")
    md5 = hashlib.md5(b"hello world").hexdigest().upper()
    done = complete(uploads, upload, second, first, third, md5=CompleteRequest.parse({"part_ids": [], "md5": md5}).md5)
    f = uploads.file_of(done)
    assert done is upload and done.status(uploads.files.clock.now()) == "completed" and f is not None
    assert f.content() == b"hello world" and (f.filename, f.purpose, f.size) == ("notes.txt", "assistants", 11)
    assert f.chunks == (*second.chunks, *first.chunks, *third.chunks)
    assert all(a is b for a, b in zip(f.chunks, [*second.chunks, *first.chunks, *third.chunks], strict=True))  # no copy
    assert uploads.files.get("k", f.id) is f  # a normal File of the account
    now = uploads.files.clock.now()
    shown = upload_object(done, now, OpenAIDialect().file_object(f, now))
    model = openai.types.Upload.model_validate(shown)
    assert model.status == "completed" and model.file is not None and model.file.id == f.id and model.file.bytes == 11
    assert model.file.status == "processed" and f.id.startswith("file-")
    assert used(uploads) == 11  # the held bytes became the File's, not counted twice


def test_unlisted_parts_are_freed_at_completion() -> None:
    uploads = service()
    upload = create(uploads, 4)
    keep, spare = add(uploads, upload, b"data"), add(uploads, upload, b"retry")
    complete(uploads, upload, keep)
    assert used(uploads) == 4 and upload.parts == {} and upload.held == 0
    assert spare.id not in upload.parts


def test_a_completed_upload_does_not_keep_its_files_bytes_alive() -> None:
    uploads = service()
    upload = create(uploads, 1000)
    data = bytes(1000)
    complete(uploads, upload, uploads.add_part("k", upload.id, [data], 1000))
    f = uploads.file_of(upload)
    assert f is not None and f.chunks[0] is data and upload.file_id == f.id

    def holders() -> list[object]:
        return [r for r in gc.get_referrers(data) if isinstance(r, (list, tuple, dict))]

    file_id = f.id
    del f
    assert len(holders()) == 1  # the File's chunk tuple
    uploads.files.delete("k", file_id)
    assert uploads.file_of(upload) is None and holders() == []


def test_the_file_follows_its_purpose_and_expires_after() -> None:
    uploads = service()
    batch = create(uploads, 3, filename="in.jsonl", purpose="batch")
    f = uploads.file_of(complete(uploads, batch, add(uploads, batch, b"{}\n")))
    assert f is not None and f.expires_at == f.created_at + 30 * 86400  # batch files' default
    uploads.files.clock.advance(600)
    timed = create(uploads, 3, expires_after={"anchor": "created_at", "seconds": 7200})
    uploads.files.clock.advance(100)
    f = uploads.file_of(complete(uploads, timed, add(uploads, timed, b"abc")))
    assert f is not None and f.expires_at == f.created_at + 7200 and f.created_at == timed.created_at + 100
    kept = create(uploads, 3)
    f = uploads.file_of(complete(uploads, kept, add(uploads, kept, b"abc")))
    assert f is not None and f.expires_at is None


def test_processing_as_for_post_files() -> None:
    base = openai_profile()
    slow = replace(
        base, purposes={**base.purposes, "user_data": replace(base.purposes["user_data"], processing_delay=5)}
    )
    uploads = service(slow)
    upload = create(uploads, 3)
    f = uploads.file_of(complete(uploads, upload, add(uploads, upload, b"abc")))
    assert f is not None and f.status(uploads.files.clock.now()) == "uploaded"
    uploads.files.clock.advance(5)
    assert f.status(uploads.files.clock.now()) == "processed"
    failing = create(uploads, 3)
    part = add(uploads, failing, b"abc")
    request = CompleteRequest((part.id,), None)
    f = uploads.file_of(uploads.complete("k", failing.id, request, outcome=Outcome("error", "injected", 0)))
    assert f is not None and f.status(uploads.files.clock.now()) == "error"


@pytest.mark.parametrize(
    ("listed", "code", "words"),
    [
        (lambda a, b, other: [a.id, a.id], "duplicate_part_id", "is listed more than once"),
        (lambda a, b, other: [a.id, "part_nope"], "unknown_part_id", "part_nope is not a Part of Upload"),
        (lambda a, b, other: [a.id, other.id], "unknown_part_id", "is not a Part of Upload"),
        (lambda a, b, other: [a.id], "bytes_mismatch", "hold 3 bytes, but Upload"),
        (lambda a, b, other: [], "bytes_mismatch", "hold 0 bytes"),
    ],
)
def test_a_refused_completion_changes_nothing(listed, code: str, words: str) -> None:  # type: ignore[no-untyped-def]
    uploads = service()
    upload, elsewhere = create(uploads, 6), create(uploads, 3)
    a, b = add(uploads, upload, b"abc"), add(uploads, upload, b"def")
    other = add(uploads, elsewhere, b"xyz")
    with pytest.raises(InvalidRequest) as info:
        uploads.complete("k", upload.id, CompleteRequest(tuple(listed(a, b, other)), None))
    assert (info.value.status, info.value.code) == (400, code) and words in info.value.message
    assert upload.status(uploads.files.clock.now()) == "pending" and len(upload.parts) == 2
    assert uploads.files.all_files() == [] and used(uploads) == 9
    assert uploads.file_of(complete(uploads, upload, a, b)) is not None  # fixed, it completes


def test_md5_must_match_and_a_mismatch_leaves_the_upload_pending() -> None:
    uploads = service()
    upload = create(uploads, 6)
    a, b = add(uploads, upload, b"abc"), add(uploads, upload, b"def")
    right = hashlib.md5(b"abcdef").hexdigest()
    with pytest.raises(InvalidRequest) as info:
        complete(uploads, upload, b, a, md5=right)  # the wrong order
    assert (info.value.param, info.value.code) == ("md5", "md5_mismatch")
    assert f"'md5' is {right}" in info.value.message and "still pending" in info.value.message
    assert upload.state == "pending" and not upload.completing and uploads.files.all_files() == []
    assert uploads.file_of(complete(uploads, upload, a, b, md5=right)) is not None


def test_completing_twice_is_refused_and_names_the_file() -> None:
    uploads = service()
    upload = create(uploads, 3)
    part = add(uploads, upload, b"abc")
    f = uploads.file_of(complete(uploads, upload, part))
    assert f is not None
    with pytest.raises(InvalidRequest) as info:
        complete(uploads, upload, part)
    assert info.value.code == "upload_already_completed" and f.id in info.value.message
    with pytest.raises(InvalidRequest) as info:
        add(uploads, upload, b"more")
    assert info.value.code == "upload_already_completed" and "Cannot add a Part to Upload" in info.value.message
    assert len(uploads.files.all_files()) == 1


def test_a_completion_the_files_service_refuses_leaves_the_parts_held() -> None:
    uploads = service(replace(openai_profile(), max_files=1))
    upload = create(uploads, 3)
    part = add(uploads, upload, b"abc")
    uploads.files.create("k", purpose="user_data", filename="a", chunks=[b"z"], size=1)  # the last file slot
    with pytest.raises(QuotaExceeded):
        complete(uploads, upload, part)
    assert upload.state == "pending" and used(uploads) == 4 and upload.parts == {part.id: part}
    uploads.files.delete("k", uploads.files.all_files()[0].id)
    assert uploads.file_of(complete(uploads, upload, part)) is not None and used(uploads) == 3


class Watched(list[bytes]):
    """A Part's chunk list that runs ``during`` when completion reads it, outside the lock."""

    def __init__(self, data: bytes, during: object) -> None:
        super().__init__([data])
        self.during = during

    def __iter__(self) -> Iterator[bytes]:
        self.during()  # type: ignore[operator]
        return super().__iter__()


def test_nothing_else_happens_to_an_upload_while_it_completes() -> None:
    uploads = service()
    upload = create(uploads, 3)
    seen: list[str | None] = []

    def meanwhile() -> None:
        for call in (
            lambda: add(uploads, upload, b"x"),
            lambda: uploads.cancel("k", upload.id),
            lambda: complete(uploads, upload),
        ):
            with pytest.raises(InvalidRequest) as info:
                call()
            seen.append(info.value.code)

    uploads.add_part("k", upload.id, Watched(b"abc", meanwhile), 3)
    done = uploads.complete("k", upload.id, CompleteRequest(tuple(upload.parts), None))
    assert seen == ["upload_being_completed"] * 3 and done.state == "completed"


def test_a_completion_that_fails_midway_leaves_the_upload_open() -> None:
    uploads = service()
    upload = create(uploads, 3)
    failures = [RuntimeError("disk on fire")]

    def fail_once() -> None:
        if failures:
            raise failures.pop()

    uploads.add_part("k", upload.id, Watched(b"abc", fail_once), 3)
    request = CompleteRequest(tuple(upload.parts), None)
    with pytest.raises(RuntimeError):
        uploads.complete("k", upload.id, request)
    assert upload.state == "pending" and not upload.completing and used(uploads) == 3
    assert uploads.complete("k", upload.id, request).state == "completed"


def test_an_upload_that_expires_while_its_md5_is_computed_is_not_completed() -> None:
    uploads = service()
    upload = create(uploads, 3)
    uploads.add_part("k", upload.id, Watched(b"abc", lambda: uploads.files.clock.advance(3600)), 3)
    with pytest.raises(InvalidRequest) as info:
        uploads.complete("k", upload.id, CompleteRequest(tuple(upload.parts), hashlib.md5(b"abc").hexdigest()))
    assert info.value.code == "upload_expired"
    assert uploads.files.all_files() == [] and used(uploads) == 0 and upload.parts == {}


# --- cancelling --------------------------------------------------------------------------------------


def test_cancel_frees_the_parts_and_a_second_cancel_answers_the_same() -> None:
    uploads = service()
    upload = create(uploads, 6)
    add(uploads, upload, b"abcdef")
    cancelled = uploads.cancel("k", upload.id)
    assert cancelled.status(uploads.files.clock.now()) == "cancelled" and used(uploads) == 0 and not upload.parts
    assert uploads.cancel("k", upload.id) is cancelled  # a retried cancel succeeds
    for call in (lambda: add(uploads, upload, b"x"), lambda: complete(uploads, upload)):
        with pytest.raises(InvalidRequest) as info:
            call()
        assert info.value.code == "upload_cancelled" and "it was cancelled" in info.value.message


def test_cancel_of_a_completed_or_expired_upload_is_refused() -> None:
    uploads = service()
    done = create(uploads, 1)
    complete(uploads, done, add(uploads, done, b"x"))
    with pytest.raises(InvalidRequest) as info:
        uploads.cancel("k", done.id)
    assert info.value.code == "upload_already_completed"
    old = create(uploads)
    uploads.files.clock.advance(3600)
    with pytest.raises(InvalidRequest) as info:
        uploads.cancel("k", old.id)
    assert info.value.code == "upload_expired"


# --- expiry --------------------------------------------------------------------------------------------


def test_an_upload_expires_after_an_hour_and_its_parts_are_freed() -> None:
    uploads = service(small(storage=100))
    upload = create(uploads, 10)
    add(uploads, upload, b"12345")
    clock = uploads.files.clock
    clock.advance(3599)
    assert uploads.get("k", upload.id).status(clock.now()) == "pending" and uploads.files.room_for("k") == 95
    clock.advance(1)
    assert uploads.files.room_for("k") == 100  # the store lets the held bytes go by itself
    assert uploads.get("k", upload.id).status(clock.now()) == "expired" and upload.parts == {}
    shown = upload_object(upload, clock.now())
    assert shown["status"] == "expired" and shown["file"] is None
    for call in (lambda: add(uploads, upload, b"x"), lambda: complete(uploads, upload)):
        with pytest.raises(InvalidRequest) as info:
            call()
        assert info.value.code == "upload_expired"
        assert f"it expired at {upload.expires_at}, an hour after it was created" in info.value.message


def test_a_completed_upload_does_not_expire_and_is_forgotten_an_hour_after_it_ended() -> None:
    uploads = service()
    upload = create(uploads, 1)
    uploads.files.clock.advance(1800)
    f = uploads.file_of(complete(uploads, upload, add(uploads, upload, b"x")))
    uploads.files.clock.advance(3599)  # past its expires_at: still completed, still answered
    assert uploads.get("k", upload.id).status(uploads.files.clock.now()) == "completed"
    uploads.files.clock.advance(1)  # an hour after it ended: forgotten; its File lives on
    with pytest.raises(NotFound):
        uploads.get("k", upload.id)
    assert uploads.all_uploads() == []
    assert f is not None and uploads.files.get("k", f.id) is f


def test_freezegun_drives_expiry() -> None:
    with freeze_time("2030-01-01 00:00:00") as frozen:
        uploads = service()
        upload = create(uploads, 3)
        add(uploads, upload, b"abc")
        frozen.tick(3599)
        assert uploads.get("k", upload.id).state == "pending"
        frozen.tick(1)
        assert uploads.get("k", upload.id).state == "expired" and used(uploads) == 0


# --- accounts and resets -------------------------------------------------------------------------------


def test_accounts_have_their_own_storage() -> None:
    uploads = service(small(storage=10))
    upload = create(uploads, 10, account="alice")
    add(uploads, upload, b"x" * 10, account="alice")
    assert uploads.files.room_for("alice") == 0 and uploads.files.room_for("bob") == 10
    assert create(uploads, 10, account="bob").bytes == 10


def test_a_reset_forgets_every_upload() -> None:
    emulator = Emulator()
    upload = emulator.uploads.create("k", CreateRequest(3, "a.txt", "text/plain", "user_data"))
    emulator.uploads.add_part("k", upload.id, [b"abc"], 3)
    emulator.reset()
    with pytest.raises(NotFound):
        emulator.uploads.get("k", upload.id)
    assert emulator.uploads.files is emulator.files and emulator.files.room_for("k") == 2_500_000_000_000


def test_the_uploads_follow_a_new_scenarios_profile() -> None:
    emulator = Emulator()
    uploads = emulator.uploads
    emulator.use_scenario({"profile": "dashscope"})
    assert emulator.uploads is uploads and uploads.rules.capped_purposes is None


# --- memory --------------------------------------------------------------------------------------------


def test_completion_allocates_per_chunk_not_per_byte() -> None:
    """16 Parts of 4 MiB, each 64 chunks of 64 KiB as the reader leaves them: completing (with
    an md5) allocates a few bytes per chunk (the File's chunk tuple), never the 64 MiB."""
    uploads = service()
    rng = random.Random(1)
    parts_data = [[rng.randbytes(64 * 1024) for _ in range(64)] for _ in range(16)]
    total = 16 * 4 * MiB
    upload = create(uploads, total)
    parts = [uploads.add_part("k", upload.id, chunks, 4 * MiB) for chunks in parts_data]
    md5 = md5_of(c for chunks in parts_data for c in chunks)
    tracemalloc.start()
    try:
        done = complete(uploads, upload, *parts, md5=md5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    f = uploads.file_of(done)
    assert f is not None and f.size == total and len(f.chunks) == 1024
    assert all(a is b for a, b in zip(f.chunks, (c for chunks in parts_data for c in chunks), strict=True))
    assert peak < 64 * len(f.chunks)  # measured: 19 KiB, about 19 bytes per chunk, for 64 MiB of bytes


# --- wording and the domain's imports -----------------------------------------------------------------


def refusals(module: str) -> list[tuple[str, str]]:
    """(error class, reason) of every error ``mockfiles.<module>`` raises by reason."""
    source = (Path(__file__).parents[3] / "mockfiles" / f"{module}.py").read_text()  # module: uploads/service
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BY_REASON:
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.func.id, first.value))
            elif isinstance(first, ast.JoinedStr):  # upload_{state}
                found += [(node.func.id, f"upload_{state}") for state in ("completed", "cancelled", "expired")]
    return found


BY_REASON = ("MockFilesError", "InvalidRequest", "NotFound", "Conflict", "PayloadTooLarge", "QuotaExceeded")


def test_every_refusal_is_a_client_error_with_its_fields() -> None:
    found = refusals("uploads/service") + refusals("uploads/requests")
    assert len(found) >= 15
    for cls, reason in found:
        assert reason in ROWS, reason
        assert getattr(errors, cls) in (InvalidRequest, NotFound, PayloadTooLarge, QuotaExceeded), (cls, reason)
    assert size_text(8 * GiB) == "8 GiB" and size_text(200 * MiB) == "200 MiB" and size_text(1536) == "1.5 KiB"
    assert size_text(12) == "12 bytes"


@pytest.mark.parametrize(
    "module", ["mockfiles.uploads.service", "mockfiles.uploads.requests", "mockfiles.core.error_table"]
)
def test_the_uploads_domain_imports_no_web_framework(module: str) -> None:
    found = imported_modules(module)
    assert found and found & WEB_FRAMEWORKS == set()
