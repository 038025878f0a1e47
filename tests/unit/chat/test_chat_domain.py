"""The model routes' domain on its own: what a stand-in reads of a file (documents.py), the one file
check's additions (deleted files, blank content), the token budget, the models registry and the
Responses tools seam."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any

import pytest

from mockfiles.admission.ratelimit import TokenBudget
from mockfiles.chat.models import Models, derived
from mockfiles.chat.prompt import ModelRequest
from mockfiles.chat.reading import QWEN_LONG, summary_of
from mockfiles.chat.tools import ToolCall, ToolResult
from mockfiles.core.errors import InvalidRequest, InvalidValue, NotFound
from mockfiles.emulator import Emulator, Settings
from mockfiles.files.use import Use, check_use
from mockfiles.inference.documents import Document, Summary, describe, summarize
from tests.support.chatting import docx, pdf


def zipped(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        (
            "a.txt",
            [b"\xef\xbb\xbf\n\n  First line  \nsecond"],
            Summary(True, "First line", 3, 6),
        ),  # 23 ASCII characters
        ("a.md", [b"one tw", b"o three\nfo", b"ur"], Summary(True, "one two three", 4, 5)),  # words across chunks
        ("a.txt", [b"\xe4\xbd\xa0\xe5\xa5\xbd world"], Summary(True, "\u4f60\u597d world", 2, 4)),  # 2 CJK + 6 ASCII
        ("a.txt", [b" \n\t\n"], Summary(True, "", 0, 1)),
        ("a.bin", [b"\x00\x01\x02text"], Summary(False, "", 0, 0)),
        ("photo.png", [b"Some text"], Summary(False, "", 0, 0)),
        ("r.pdf", [pdf("Quarterly report", "Total: 42")], Summary(True, "Quarterly report", 4, 7)),
        ("r.pdf", [pdf("Compressed (text)", compressed=True)], Summary(True, "Compressed (text)", 2, 5)),
        ("r.pdf", [b"%PDF-1.4\n%%EOF"], Summary(True, "", 0, 0)),
        ("d.docx", [docx("Title", "Body text here")], Summary(True, "Title", 4, 6)),
        ("d.docx", [b"not a zip"], Summary(True, "", 0, 0)),
        (
            "s.xlsx",
            [zipped({"xl/sharedStrings.xml": "<sst><si><t>Name</t></si><si><t>Total &amp; tax</t></si></sst>"})],
            Summary(True, "Name", 4, 5),
        ),
        (
            "p.pptx",
            [
                zipped(
                    {
                        "ppt/slides/slide10.xml": "<a:p><a:t>Ten</a:t></a:p>",
                        "ppt/slides/slide2.xml": "<a:p><a:t>Two</a:t></a:p>",
                    }
                )
            ],
            Summary(True, "Two", 2, 2),
        ),
        (
            "b.epub",
            [zipped({"OEBPS/ch1.xhtml": "<html><body><h1>Chapter 1</h1><p>It began.</p></body></html>"})],
            Summary(True, "Chapter 1", 4, 5),
        ),
    ],
)
def test_what_a_stand_in_reads_of_a_file(filename: str, content: list[bytes], expected: Summary) -> None:
    assert summarize(filename, content) == expected


def test_the_answer_line_of_each_kind_of_file() -> None:
    summary = Summary(True, "Hello", 1234, 2000)
    assert (
        describe(Document("file_id", "file-1", "a.txt", 5000, summary))
        == 'File file-1 "a.txt": 5,000 bytes, 1,234 words, first line "Hello".'
    )
    assert (
        describe(Document("file_data", "", "a.pdf", 10, Summary(True, "", 0, 0)))
        == 'File data "a.pdf": 10 bytes, no text.'
    )
    assert (
        describe(Document("file_id", "file-2", "a.mobi", 10, Summary(False, "", 0, 0)))
        == 'File file-2 "a.mobi": 10 bytes, no text extracted.'
    )
    assert (
        describe(Document("file_url", "https://x/a.pdf", "a.pdf", None, None))
        == 'File URL https://x/a.pdf "a.pdf": not fetched.'
    )
    assert describe(Document("file_id", "file-3", "cat.png", 7, None, image=True)) == 'Image file-3 "cat.png": 7 bytes.'


def test_the_check_tells_a_deleted_file_from_one_never_had_when_the_consumer_asks() -> None:
    emulator = Emulator(Settings(profile="dashscope"))
    files = emulator.files
    kept = files.create("sk-a", purpose="file-extract", filename="a.txt", chunks=[b"x y"], size=3)
    gone = files.create("sk-a", purpose="file-extract", filename="b.txt", chunks=[b"x"], size=1)
    files.delete("sk-a", gone.id)
    for file_id, reason in ((gone.id, "ds_file_gone"), ("file-fe-never", "ds_file_invalid")):
        with pytest.raises(InvalidRequest) as raised:
            check_use(files, "sk-a", file_id, QWEN_LONG)
        assert raised.value.reason == reason and raised.value.status == 400
    with pytest.raises(InvalidRequest) as raised:
        check_use(files, "sk-b", kept.id, QWEN_LONG)  # another account's: never had
    assert raised.value.reason == "ds_file_invalid"
    plain = Use("input_file_id")  # a consumer that does not word it apart: missing either way (404)
    with pytest.raises(NotFound) as missing:
        check_use(files, "sk-a", gone.id, plain)
    assert missing.value.reason == "no_such_file"
    assert check_use(files, "sk-a", kept.id, QWEN_LONG) is kept and summary_of(kept).words == 2


def test_a_blank_file_is_empty_to_a_consumer_that_needs_content() -> None:
    files = Emulator(Settings(profile="dashscope")).files
    blank = files.create("k", purpose="file-extract", filename="a.txt", chunks=[b"   \n"], size=4)
    with pytest.raises(InvalidRequest) as raised:
        check_use(files, "k", blank.id, QWEN_LONG)
    assert raised.value.reason == "ds_file_blank" and raised.value.message == f"File [id:{blank.id}] content blank."


def test_the_token_budget() -> None:
    budget = TokenBudget()
    first = budget.take("k", 60, 100, 60.0, 0.0)
    assert (first.allowed, first.remaining, first.reset, first.used) == (True, 40, 60.0, 0)
    later = budget.take("k", 30, 100, 60.0, 10.0)
    assert (later.allowed, later.remaining, later.reset) == (True, 10, 50.0)
    refused = budget.take("k", 50, 100, 60.0, 20.0)
    assert (refused.allowed, refused.used, refused.requested, refused.remaining) == (False, 90, 50, 10)
    assert refused.retry_after == 40.0  # the first 60 tokens leave the window at 60 s
    assert budget.take("other", 50, 100, 60.0, 20.0).allowed  # per key
    assert budget.take("k", 101, 100, 60.0, 20.0).retry_after == float("inf")  # larger than the budget
    assert budget.take("k", 50, 100, 60.0, 61.0).allowed  # the window rolled on
    assert budget.take("k", 1, 100, 60.0, 0.0).allowed  # the clock moved back: afresh


def test_models_registered_for_one_account_or_all() -> None:
    models = Models()
    base = models.find("a", "gpt-4o-mini", "openai")
    assert base is not None and base.reads_files and models.find("a", "gpt-4o-mini", "dashscope") is None
    tuned = derived("ft:gpt-4o-mini:org::x", base, owned_by="user-1", created=5)
    assert (tuned.base, tuned.reads_files, tuned.family) == ("gpt-4o-mini", True, "openai")
    models.add(tuned, "a")
    assert models.find("a", tuned.id, "openai") == tuned and models.find("b", tuned.id, "openai") is None
    assert [m.id for m in models.listing("a", "openai")][-1] == tuned.id
    assert models.remove(tuned.id, "openai", "a") and not models.remove(tuned.id, "openai", "a")
    models.add(derived("shared-model", base, owned_by="x", created=1))
    assert models.find("b", "shared-model", "openai") is not None


class Search:
    """A stand-in for a tool another service registers (file_search over vector stores)."""

    def check(self, account: str, tool: Mapping[str, Any], param: str) -> None:
        if not tool.get("vector_store_ids"):
            raise InvalidValue(f"{param}.vector_store_ids", "", ("vs_…",))

    def run(self, call: ToolCall) -> ToolResult:
        item = {
            "id": "fs_1",
            "type": "file_search_call",
            "status": "completed",
            "queries": [call.prompt.question],
            "results": None,
        }
        found = Document("file_id", "file-found", "kb.txt", 10, Summary(True, "Knowledge", 1, 3))
        return ToolResult(
            items=(item,),
            documents=(found,),
            annotations=({"type": "file_citation", "file_id": "file-found", "filename": "kb.txt", "index": 0},),
        )


def test_the_responses_tools_seam() -> None:
    from mockfiles.chat import objects

    emulator = Emulator()
    chat = emulator.chat
    chat.tools.register("file_search", Search())
    body = {
        "model": "gpt-4o",
        "input": "What do we know?",
        "tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}],
    }
    asked = chat.ask("k", ModelRequest.parse(body), "openai", "responses.create")
    reply = chat.answer(chat.read(asked, b"id"), b"id", 0)
    shaped = objects.response(reply)
    assert [item["type"] for item in shaped["output"]] == ["file_search_call", "message"]
    assert (
        shaped["output"][1]["content"][0]["text"]
        == 'File file-found "kb.txt": 10 bytes, 1 words, first line "Knowledge".\nEcho: What do we know?'
    )
    assert shaped["output"][1]["content"][0]["annotations"][0]["type"] == "file_citation"
    assert shaped["usage"]["input_tokens"] == 3 + 4 + 3  # the message and the document found
    kinds = [e["type"] for e in objects.response_events(reply)]
    assert kinds[2:4] == ["response.output_item.added", "response.output_item.done"]  # the tool's call first
    with pytest.raises(InvalidValue):
        chat.ask("k", ModelRequest.parse({**body, "tools": [{"type": "file_search"}]}), "openai", "responses.create")
    with pytest.raises(InvalidValue) as raised:
        chat.ask("k", ModelRequest.parse({**body, "tools": [{"type": "web_search"}]}), "openai", "responses.create")
    assert raised.value.message == "Invalid value: 'web_search'. Supported values are: 'function' and 'file_search'."
