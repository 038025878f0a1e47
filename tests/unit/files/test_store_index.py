"""The file store on its own (no HTTP): lookups, cursor pages over the per-account indexes,
deleted ids that stay cursors, compaction, lazy expiry, and held bytes."""

from __future__ import annotations

import pytest

from mockfiles.core.errors import InvalidRequest, NotFound
from mockfiles.files.store import CURSOR_MEMORY, FileStore, StoredFile


def stored(
    store: FileStore,
    file_id: str,
    *,
    account: str = "a",
    created_at: int = 100,
    purpose: str = "assistants",
    size: int = 1,
    expires_at: int | None = None,
) -> StoredFile:
    f = StoredFile(
        id=file_id,
        account=account,
        filename=f"{file_id}.txt",
        purpose=purpose,
        size=size,
        created_at=created_at,
        expires_at=expires_at,
        ready_at=0.0,
        final_status="processed",
        final_details=None,
        chunks=(b"x" * size,),
        seq=store.next_seq(),
    )
    return store.add(f)


def ids(page: object) -> list[str]:
    return [f.id for f in page.files]  # type: ignore[attr-defined]


def test_get_finds_only_the_accounts_own_file() -> None:
    store = FileStore()
    stored(store, "file-1", account="a")
    assert store.get("a", "file-1", now=0).filename == "file-1.txt"
    with pytest.raises(NotFound) as info:
        store.get("b", "file-1", now=0)
    assert (info.value.reason, info.value.param, info.value.message) == (
        "no_such_file",
        "id",
        "No such File object: file-1",
    )


def test_pages_newest_first_by_default_and_oldest_first_when_asked() -> None:
    store = FileStore()
    for i in range(5):
        stored(store, f"f{i}", created_at=100 + i)
    first = store.page("a", 0, limit=2)
    assert ids(first) == ["f4", "f3"] and first.has_more
    assert ids(store.page("a", 0, limit=2, after="f3")) == ["f2", "f1"]
    assert ids(store.page("a", 0, limit=10, order="asc", after="f1")) == ["f2", "f3", "f4"]
    last = store.page("a", 0, limit=10, after="f1")
    assert ids(last) == ["f0"] and not last.has_more


def test_files_of_one_second_keep_their_upload_order() -> None:
    store = FileStore()
    for name in ("x", "y", "z"):
        stored(store, name, created_at=100)
    assert ids(store.page("a", 0, limit=10, order="asc")) == ["x", "y", "z"]


def test_a_deleted_id_still_works_as_a_cursor_and_an_unknown_one_is_refused() -> None:
    store = FileStore()
    for i in range(4):
        stored(store, f"f{i}", created_at=100 + i)
    store.delete("a", "f2", now=0)
    assert ids(store.page("a", 0, limit=10, after="f2")) == ["f1", "f0"]
    with pytest.raises(InvalidRequest) as info:
        store.page("a", 0, limit=10, after="file-never")
    assert (info.value.param, info.value.message) == ("after", "Invalid 'after': no file with id 'file-never'.")
    with pytest.raises(InvalidRequest):
        store.page("nobody", 0, limit=10, after="f1")  # an account with no files knows no cursor either


def test_cursor_memory_forgets_the_oldest_deleted_ids() -> None:
    store = FileStore()
    for i in range(CURSOR_MEMORY + 1):
        stored(store, f"f{i}", created_at=i)
        store.delete("a", f"f{i}", now=0)
    with pytest.raises(InvalidRequest):
        store.page("a", 0, limit=1, after="f0")
    assert ids(store.page("a", 0, limit=1, after=f"f{CURSOR_MEMORY}")) == []


def test_purpose_index_and_creation_bounds() -> None:
    store = FileStore()
    for i in range(6):
        stored(store, f"f{i}", created_at=100 + i, purpose="batch" if i % 2 else "assistants")
    assert ids(store.page("a", 0, limit=10, purpose="batch")) == ["f5", "f3", "f1"]
    assert ids(store.page("a", 0, limit=10, created_from=102, created_to=104)) == ["f4", "f3", "f2"]
    assert ids(store.page("a", 0, limit=10, purpose="vision")) == []


def test_many_deletions_compact_the_index_and_pages_stay_right() -> None:
    store = FileStore()
    for i in range(300):
        stored(store, f"f{i:03}", created_at=i)
    for i in range(0, 300, 3):
        store.delete("a", f"f{i:03}", now=0)
    for i in range(1, 300, 3):
        store.delete("a", f"f{i:03}", now=0)
    left = [f"f{i:03}" for i in range(2, 300, 3)]
    assert ids(store.page("a", 0, limit=1000, order="asc")) == left
    found, total = store.page_at("a", 0, offset=10, limit=5)
    assert total == 100 and [f.id for f in found] == list(reversed(left))[10:15]


def test_expiry_is_lazy_and_frees_the_accounts_bytes() -> None:
    store = FileStore()
    stored(store, "short", size=10, expires_at=150)
    stored(store, "long", size=5, expires_at=500)
    stored(store, "forever", size=1)
    assert store.usage("a", now=149) == (3, 16)
    assert store.usage("a", now=150) == (2, 6)
    with pytest.raises(NotFound):
        store.get("a", "short", now=151)
    assert [f.id for f in store.all_files(now=600)] == ["forever"]


def test_held_bytes_count_until_released_or_expired() -> None:
    store = FileStore()
    stored(store, "f", size=10)
    store.hold("upload_1", "a", 100, expires_at=1000)
    store.hold("upload_1", "a", 50, expires_at=1000)  # a second Part of the same Upload
    assert store.usage("a", now=0) == (1, 160)
    assert store.release("upload_1") == 150 and store.release("upload_1") == 0
    store.hold("upload_2", "a", 7, expires_at=20)
    assert store.usage("a", now=19)[1] == 17 and store.usage("a", now=20)[1] == 10
