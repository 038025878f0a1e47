"""The Vector Stores domain on its own, no HTTP: chunking by estimated tokens, text read out of each
file type, paging, attribute filters, BM25 as the index computes it, the scenario section (parsed
with file, line and key in every error, and in the JSON Schema), the cascade through the Files
store, and a reset that closes the index."""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml

from mockfiles import ScenarioError
from mockfiles.emulator import Emulator, Settings
from mockfiles.inference.text import tokens
from mockfiles.scenarios.scenario import scenario_from_text
from mockfiles.scenarios.vector_stores import Failure, VectorStoreSettings
from mockfiles.vector_stores.attributes import parse_filter
from mockfiles.vector_stores.chunks import Chunking, spans
from mockfiles.vector_stores.index import SearchIndex, row_id
from mockfiles.vector_stores.params import Paging, page_of
from mockfiles.vector_stores.query import Search
from mockfiles.vector_stores.requests import CreateStore
from mockfiles.vector_stores.search import Searching
from mockfiles.vector_stores.store_files import StoreFiles
from mockfiles.vector_stores.text import Unreadable, extract
from tests.support.vectoring import CATS, DOGS, docx, pdf, pptx

SCHEMA = json.loads(resources.files("mockfiles.scenarios").joinpath("schema.json").read_text())
KEY = "sk-domain"


# --- chunks ----------------------------------------------------------------------------------------


def test_chunks_hold_whole_words_within_the_token_limit_and_overlap() -> None:
    text = " ".join(f"word{i:04d}" for i in range(2000))  # 9 characters a word and a space
    cut = spans(text, Chunking(200, 100, auto=False))
    pieces = cut.texts(text)
    assert all(tokens(p) <= 200 for p in pieces) and all(p == p.strip() or p.endswith(" ") for p in pieces)
    assert all(p.split()[0].startswith("word") and len(p.split()[0]) == 8 for p in pieces)  # no word cut at a start
    assert pieces[0].startswith("word0000") and pieces[-1].endswith("word1999")
    for a, b in zip(pieces, pieces[1:], strict=False):
        shared = set(a.split()) & set(b.split())
        assert 35 <= len(shared) <= 45  # 100 tokens: 400 characters, about 40 words of 10
    assert spans(text, Chunking(200, 0, auto=False)).texts(text)[1].startswith(pieces[0].split()[-1][:4])


def test_other_scripts_count_a_token_a_character() -> None:
    text = "日本語の文章です。" * 300
    pieces = spans(text, Chunking(100, 0, auto=False)).texts(text)
    assert all(len(p) <= 100 for p in pieces) and "".join(pieces) == text


def test_nothing_but_whitespace_has_no_chunks_and_a_short_text_one() -> None:
    assert len(spans(" \n\t ", Chunking())) == 0
    assert spans("  hello  ", Chunking()).texts("  hello  ") == ["hello  "]


# --- text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "text"),
    [
        ("a.txt", "héllo".encode(), "héllo"),
        ("a.md", b"\xef\xbb\xbfbom", "bom"),
        ("a.txt", "utf16".encode("utf-16"), "utf16"),
        ("a.pdf", pdf("A (nested) string", "line two"), "A (nested) string\nline two"),
        ("a.docx", docx("one", "two"), "one\ntwo"),
        (
            "a.pptx",
            pptx(*(f"s{i}" for i in range(1, 12))),
            "\n".join(f"s{i}" for i in range(1, 12)),
        ),  # slide 10 after 9
        ("a.html", b"<style>x{}</style><h1>T&eacute;</h1>body", " \nTé\nbody"),
        ("a.doc", b"\x00\x01Legacy Word text\x00\x02ab\x00", "Legacy Word text"),
    ],
)
def test_text_read_out_of_each_type(name: str, data: bytes, text: str) -> None:
    assert extract(name, data) == text


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.txt", b"\xff\xfe\x00\xd8"),
        ("a.txt", b"a\x00b"),
        ("a.md", b"\xc3("),
        ("a.pdf", b"%PDX"),
        ("a.pptx", b"PK\x03\x04junk"),
    ],
)
def test_bytes_that_are_not_their_type(name: str, data: bytes) -> None:
    with pytest.raises(Unreadable):
        extract(name, data)


# --- paging and filters ----------------------------------------------------------------------------


def test_page_of_in_both_orders_with_cursors_and_a_filter() -> None:
    ids = [f"f{i}" for i in range(6)]

    def page(**kw: Any) -> tuple[list[str], bool]:
        paging = Paging(kw.pop("limit", 2), kw.pop("order", "asc"), kw.pop("after", None), kw.pop("before", None), None)
        return page_of(ids, paging, "file", kw.pop("keep", None))

    assert page() == (["f0", "f1"], True)
    assert page(after="f3") == (["f4", "f5"], False)
    assert page(order="desc", after="f3") == (["f2", "f1"], True)
    assert page(before="f3") == (["f1", "f2"], True)
    assert page(after="f0", before="f3", limit=5) == (["f1", "f2"], False)
    assert page(keep=lambda i: i in ("f1", "f4"), limit=5) == (["f1", "f4"], False)
    assert page(keep=lambda i: i != "f2", after="f2") == (["f3", "f4"], True)


def test_filters_compare_like_with_like() -> None:
    attributes = {"n": 3, "f": 2.5, "s": "2024-05-01", "b": True}
    cases = [
        ({"type": "eq", "key": "n", "value": 3.0}, True),
        ({"type": "eq", "key": "n", "value": "3"}, False),
        ({"type": "eq", "key": "b", "value": 1}, False),  # a boolean is not a number
        ({"type": "gt", "key": "s", "value": "2024-01-01"}, True),  # ISO dates compare as strings
        ({"type": "lte", "key": "f", "value": 2.5}, True),
        ({"type": "lt", "key": "b", "value": True}, False),
        ({"type": "in", "key": "n", "value": [1, 3]}, True),
        ({"type": "nin", "key": "absent", "value": [1]}, True),
        ({"type": "or", "filters": []}, False),
        ({"type": "and", "filters": []}, True),
    ]
    for given, expected in cases:
        assert parse_filter(given).matches(attributes) is expected, given


# --- the index -------------------------------------------------------------------------------------


def test_bm25_as_the_index_computes_it() -> None:
    index = SearchIndex()
    with index.lock:
        index.add(1, [(1, ["apple banana apple", "banana cherry", "cherry date elderberry fig"])])
        index.add(1, [(2, ["apple apple apple apple"])])  # indexed, not counted: a file still in progress
        ranked = index.rank(1, ["apple"], {1})
    n, average = 3, 9 / 3
    idf = math.log(1 + (n - 1 + 0.5) / (1 + 0.5))
    tf, length = 2, 3
    expected = idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / average)) / (idf * 2.2)
    assert ranked == [(pytest.approx(expected), row_id(1, 0))]
    with index.lock:
        assert [rowid for _, rowid in index.rank(1, ["apple"], {1, 2})] == [row_id(2, 0), row_id(1, 0)]
        two = index.rank(1, ["banana", "cherry"], {1, 2})
        assert [rowid for _, rowid in two] == [row_id(1, 1), row_id(1, 0), row_id(1, 2)]
        index.remove(1, [(1, ["apple banana apple", "banana cherry", "cherry date elderberry fig"])])
        assert index.rank(1, ["apple"], {1}) == []
        index.add(1, [(3, ["Café crème"])])
        assert index.rank(1, ["café"], {3})[0][1] == row_id(3, 0) and index.rank(1, ["cafe"], {3}) == []
    index.close()
    assert index.rank(1, ["café"], {3}) == []


def test_query_words_and_stopwords() -> None:
    search = Search.parse({"query": "What IS the Return-Policy, for items_bought?", "rewrite_query": True})
    assert search.terms == ("return", "policy", "items", "bought") and search.queries == ("return policy items bought",)
    only_stopwords = Search.parse({"query": "Who is it?"})
    assert only_stopwords.terms == ("who", "is", "it") and only_stopwords.queries == ("Who is it?",)


# --- the scenario section --------------------------------------------------------------------------

GOOD = """\
seed: 3
vector_stores:
  ingestion: {base: 2s, per_mib: 500ms}
  cascade_lag: 30s
  write_limit: 300
  write_window: 1m
  poll_after: 250ms
  files:
    - match: {filename: "scan-*.pdf", store: "legal*", purpose: [assistants, user_data]}
      fail: unsupported_file
    - match: {filename: "big-*"}
      delay: 10m
      fail: {code: server_error, message: Boom.}
    - probability: 0.5
      fail: invalid_file
"""


def test_the_section_is_parsed_and_valid_for_the_schema() -> None:
    settings = scenario_from_text(GOOD, "vs.yaml").vector_stores
    assert (settings.base, settings.per_mib, settings.cascade_lag) == (2, 0.5, 30)
    assert (settings.write_limit, settings.write_window, settings.poll_after) == (300, 60, 0.25)
    first, second, third = settings.files
    assert first.fail == Failure("unsupported_file", "The file type is not supported.")
    assert first.purposes == frozenset({"assistants", "user_data"}) and first.store == "legal*"
    assert second.fail == Failure("server_error", "Boom.") and second.delay == 600
    assert third.fail == Failure("invalid_file", "The file could not be parsed because it is too large.")
    assert settings.ingestion(2 * 1024 * 1024) == 3.0
    assert settings.rule_for(3, "file-x", "scan-1.pdf", "legal-2024", "assistants") is first
    assert settings.rule_for(3, "file-x", "scan-1.pdf", "misc", "assistants") is not first
    drawn = [settings.rule_for(3, f"file-{i}", "a.txt", "s", "assistants") is third for i in range(400)]
    assert 150 < sum(drawn) < 250 and drawn == [
        settings.rule_for(3, f"file-{i}", "a.txt", "s", "assistants") is third for i in range(400)
    ]
    jsonschema.validate(yaml.safe_load(GOOD), SCHEMA)
    assert scenario_from_text("vector_stores: {ingestion: 5s}").vector_stores.ingestion(10**9) == 5
    assert VectorStoreSettings().ingestion(0) == 0.1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("vector_stores: {ingest: 1s}", "vs.yaml:1: unknown key 'ingest' in vector_stores; did you mean 'ingestion'?"),
        (
            "vector_stores:\n  files:\n    - match: {filename: a}\n",
            "vs.yaml:3: vector_stores.files[0] does nothing: give it a delay, a fail, or both",
        ),
        (
            "vector_stores:\n  files:\n    - fail: crashed\n",
            "vs.yaml:3: unknown code 'crashed' in vector_stores.files[0].fail; choose one of server_error, unsupported_file, invalid_file",
        ),
        (
            "vector_stores:\n  files:\n    - fail: {message: x}\n",
            "vs.yaml:3: vector_stores.files[0].fail needs a code, one of server_error, unsupported_file, invalid_file",
        ),
        ("vector_stores: {write_limit: 0}", "vs.yaml:1: vector_stores.write_limit must be at least 1, got 0"),
        ("vector_stores: {cascade_lag: soon}", "vs.yaml:1: vector_stores.cascade_lag:"),
        (
            "vector_stores:\n  files:\n    - {match: {name: x}, delay: 1s}\n",
            "vs.yaml:3: unknown key 'name' in vector_stores.files[0].match",
        ),
    ],
)
def test_bad_sections_say_where(text: str, error: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(text, "vs.yaml")
    assert str(info.value).startswith(error), str(info.value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), SCHEMA)


# --- the service through the emulator ------------------------------------------------------------


def test_the_cascade_and_the_reset_through_the_domain() -> None:
    emulator = Emulator(Settings(seed=11, scenario={"vector_stores": {"ingestion": 0}}))
    files, service = emulator.files, emulator.vector_stores
    cats = files.create(KEY, purpose="assistants", filename="cats.txt", chunks=[CATS], size=len(CATS))
    dogs = files.create(KEY, purpose="user_data", filename="dogs.md", chunks=[DOGS], size=len(DOGS))
    store = service.create(KEY, CreateStore.parse({"name": "domain", "file_ids": [cats.id, dogs.id]}))
    assert store["id"] == "vs_" + store["id"][3:] and store["file_counts"]["completed"] == 2
    hits = Searching(service).search(KEY, [store["id"]], Search.parse({"query": "cat purrs"}))
    assert [h.file.file_id for h in hits] == [cats.id]
    files.delete(KEY, cats.id)
    assert service.retrieve(KEY, store["id"])["file_counts"]["total"] == 1
    assert StoreFiles(service).page(KEY, store["id"], Paging(20, "asc", None, None, None))["data"][0]["id"] == dogs.id
    same = Emulator(Settings(seed=11, scenario={"vector_stores": {"ingestion": 0}}))
    again = [
        same.files.create(KEY, purpose="user_data", filename=f.filename, chunks=f.chunks, size=f.size)
        for f in (cats, dogs)
    ]
    assert [f.id for f in again] == [cats.id, dogs.id]  # ids come from the seed, stores' too
    assert same.vector_stores.create(KEY, CreateStore.parse({"file_ids": [again[0].id]}))["id"] == store["id"]
    index = service.index
    emulator.reset()
    assert index.closed and emulator.vector_stores is not service and len(emulator.vector_stores) == 0
