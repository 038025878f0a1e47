"""The console's tools in headless Chromium: the Files tab filtered by account and id, the journal
exported as JSON lines, a journal row's links to the file, batch or Upload it touched, "copy as
curl" (the command run again, with curl), masked keys told apart by their account, ids that do not
wrap."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockfiles import MockFilesServer
from tests.clients.browser.test_console import Console, wait
from tests.support.batching import CHAT, chat_file
from tests.support.browser import chromium, requires_browser

pytestmark = requires_browser

CURL_USER, NODE_USER = "sk-curl-user", "sk-node-user"  # both mask to sk-…ser


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    downloads = tmp_path_factory.mktemp("downloads")
    with chromium(downloads) as driver:
        driver.downloads = downloads
        yield driver


@pytest.fixture
def server() -> Iterator[MockFilesServer]:
    with MockFilesServer(rate_limits=False) as running:
        yield running


def click(page: Console, selector: str) -> None:
    """Click the first element ``selector`` finds, again if the page redrew it under the click."""

    def once() -> bool:
        page.css(selector)[0].click()
        return True

    wait(once, f"a click on {selector}")


def shown_files(page: Console) -> list[str]:
    return page.file_ids()


def test_files_filtered_by_account_and_id(browser: Any, server: MockFilesServer) -> None:
    curl, node = server.client(api_key=CURL_USER), server.client(api_key=NODE_USER)
    a = curl.files.create(file=("alpha.txt", b"a"), purpose="assistants")
    b = curl.files.create(file=("beta.txt", b"b"), purpose="assistants")
    c = node.files.create(file=("gamma.txt", b"c"), purpose="assistants")
    page = Console(browser, server)
    wait(lambda: set(shown_files(page)) == {a.id, b.id, c.id}, "every file")
    options = {o.get_attribute("value"): o.text for o in page.css("#files-account option")}
    curl_account, node_account = server.account_id(CURL_USER), server.account_id(NODE_USER)
    assert options[curl_account] != options[node_account]  # the same masked key, told apart by the account
    assert options[curl_account] == f"sk-…ser · {curl_account[:13]}"
    page.select("files-account", node_account)
    wait(lambda: shown_files(page) == [c.id], "only that account's file")
    assert page.text("files-count") == "1 of 3 files"
    page.select("files-account", curl_account)
    wait(lambda: set(shown_files(page)) == {a.id, b.id}, "the other account's files")
    box = page.by_id("files-id")
    box.send_keys(b.id[-6:])
    wait(lambda: shown_files(page) == [b.id], "the file by a piece of its id")
    box.clear()
    box.send_keys("ALPHA")
    wait(lambda: shown_files(page) == [a.id], "the file by its filename")
    box.clear()
    box.send_keys("file-nothing-like-it")
    wait(lambda: "No file matches file-nothing-like-it" in page.text("files-body"), "nothing")
    browser.get(server.url + f"/_mockfiles/#files?id={c.id}")  # a link straight to one file
    wait(lambda: shown_files(page) == [c.id], "the file the link names")
    assert page.by_id("files-id").get_attribute("value") == c.id


def test_masked_keys_in_the_journal_are_told_apart_by_their_account(browser: Any, server: MockFilesServer) -> None:
    server.client(api_key=CURL_USER).files.list()
    server.client(api_key=NODE_USER).files.list()
    page = Console(browser, server)
    page.tab("requests")
    wait(lambda: page.journal_seqs() == [2, 1], "both requests")
    keys = [cell.text for cell in page.css("#requests-table td.key")]
    assert keys == [f"sk-…ser {server.account_id(NODE_USER)[:13]}", f"sk-…ser {server.account_id(CURL_USER)[:13]}"]
    assert page.css("#requests-table td.key .who")[0].get_attribute("title") == server.account_id(NODE_USER)


def touched_links(page: Console, seq: int) -> list[tuple[str, str]]:
    return [
        (a.get_attribute("data-tab"), a.get_attribute("data-id"))
        for a in page.css(f'#requests-table tr[data-seq="{seq}"] a.touched-link')
    ]


def test_a_journal_row_links_to_the_file_batch_or_upload_it_touched(browser: Any, server: MockFilesServer) -> None:
    client = server.client(max_retries=0)
    made = client.files.create(file=("in.jsonl", chat_file("a", "b")), purpose="batch")  # 1
    batch = client.batches.create(input_file_id=made.id, endpoint=CHAT, completion_window="24h")  # 2
    other = client.batches.create(input_file_id=made.id, endpoint=CHAT, completion_window="24h")  # 3
    upload = client.uploads.create(bytes=3, filename="u.txt", mime_type="text/plain", purpose="assistants")  # 4
    client.files.retrieve(made.id)  # 5
    page = Console(browser, server)
    page.tab("requests")
    wait(lambda: page.journal_seqs() == [5, 4, 3, 2, 1], "every request")
    assert touched_links(page, 1) == [("files", made.id)]
    assert touched_links(page, 2) == [("batches", batch.id), ("files", made.id)]
    assert touched_links(page, 4) == [("uploads", upload.id)]
    assert touched_links(page, 5) == [("files", made.id)]  # read from its path
    click(page, '#requests-table tr[data-seq="2"] a[data-tab="batches"]')
    wait(lambda: page.by_id("batches").is_displayed(), "the Batches tab")
    wait(lambda: page.attribute_of_all("#batches tr[data-id]", "data-id") == [batch.id], "that batch only")
    assert other.id not in page.text("batches") and "show all" in page.text("batches")
    click(page, "#batches .focus a")
    wait(
        lambda: set(page.attribute_of_all("#batches tr[data-id]", "data-id")) == {batch.id, other.id},
        "all batches again",
    )
    browser.back()
    page.tab("requests")
    click(page, '#requests-table tr[data-seq="4"] a.touched-link')
    wait(lambda: page.attribute_of_all("#uploads tr[data-id]", "data-id") == [upload.id], "that Upload only")
    page.tab("requests")
    click(page, '#requests-table tr[data-seq="1"] a.touched-link')
    wait(lambda: page.by_id("files").is_displayed() and page.file_ids() == [made.id], "that file, in the Files tab")


def test_the_journal_exports_as_json_lines(browser: Any, server: MockFilesServer) -> None:
    client = server.client(max_retries=0)
    for n in range(3):
        client.files.create(file=(f"f{n}.txt", b"x"), purpose="assistants")
    client.files.list()
    page = Console(browser, server)
    page.tab("requests")
    wait(lambda: len(page.journal_seqs()) == 4, "every request")
    page.select("filter-endpoint", "files.create")
    exported = Path(browser.downloads) / f"mockfiles-requests-{server.emulator.generation}.jsonl"
    exported.unlink(missing_ok=True)
    page.by_id("requests-export").click()
    wait(lambda: exported.exists() and exported.read_text().count("\n") == 3, "the exported file")
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3]
    assert lines == json.loads(json.dumps(server.requests("files.create")))
    assert page.by_id("requests-export").get_attribute("data-exported") == "3"


def run_curl(command: str, key: str, where: Path) -> None:
    """The copied command as a person runs it: the key from the environment (``mockfiles env`` sets it)."""
    env = {**os.environ, "OPENAI_API_KEY": key, "DASHSCOPE_API_KEY": key}
    done = subprocess.run(
        ["bash", "-c", command + " --fail-with-body --silent --show-error"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=where,
        env=env,
    )
    assert done.returncode == 0, (command, done.stdout, done.stderr)


def copy_as_curl(page: Console, seq: int) -> str:
    click(page, f'#requests-table tr[data-seq="{seq}"] button.copy-curl')
    return str(wait(lambda: page.css(f'#requests-table tr[data-seq="{seq}"] pre.curl')[0].text, "the curl command"))


def test_copy_as_curl_sends_the_same_request_again(browser: Any, server: MockFilesServer, tmp_path: Path) -> None:
    key = "sk-curl-tester"
    client = server.client(api_key=key, max_retries=0)
    made = client.files.create(file=("report.csv", b"a,b\n"), purpose="assistants")  # 1
    batch_input = client.files.create(file=("in.jsonl", chat_file("q")), purpose="batch")  # 2
    client.batches.create(
        input_file_id=batch_input.id, endpoint=CHAT, completion_window="24h", metadata={"run": "it's 1"}
    )  # 3
    client.files.delete(made.id)  # 4
    native = httpx.get(
        server.url + "/api/v1/files", params={"page_size": 5}, headers={"Authorization": f"Bearer {key}"}
    )  # 5
    assert native.status_code == 200
    (tmp_path / "report.csv").write_bytes(b"a,b\n")
    page = Console(browser, server)
    page.tab("requests")
    wait(lambda: page.journal_seqs() == [5, 4, 3, 2, 1], "every request")
    upload = copy_as_curl(page, 1)
    assert upload == (
        f"curl '{server.url}/v1/files' -H \"Authorization: Bearer $OPENAI_API_KEY\" -F 'purpose=assistants' -F 'file=@report.csv'"
    )
    run_curl(upload, key, tmp_path)
    wait(lambda: page.journal_seqs()[0] == 6, "the request curl sent, in the journal")
    assert page.css('#requests-table tr[data-seq="1"] pre.curl')[0].text == upload  # still shown, the table redrawn
    again = server.requests()[-1]
    assert (again["endpoint"], again["filename"], again["purpose"], again["account"]) == (
        "files.create",
        "report.csv",
        "assistants",
        server.account_id(key),
    )
    create = copy_as_curl(page, 3)
    assert "--data-raw" in create and "it'\\''s 1" in create
    run_curl(create, key, tmp_path)
    assert server.requests()[-1]["endpoint"] == "batches.create" and server.requests()[-1]["status"] == 200
    assert len(client.batches.list().data) == 2
    delete = copy_as_curl(page, 4)
    assert delete.startswith(f"curl -X DELETE '{server.url}/v1/files/{made.id}'")
    listing = copy_as_curl(page, 5)
    assert listing == f"curl '{server.url}/api/v1/files?page_size=5' -H \"Authorization: Bearer $DASHSCOPE_API_KEY\""
    run_curl(listing, key, tmp_path)
    assert server.requests()[-1]["query"] == "page_size=5" and server.requests()[-1]["status"] == 200
    assert page.css('#requests-table tr[data-seq="5"] .curl-note')[0].text in ("copied", "select it to copy")


def one_line(page: Console, selector: str) -> list[bool]:
    """For each element: whether its text sits on one line (the boxes of a wrapped text start at several heights)."""
    lines: list[bool] = page.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((e) => {"
        "  const r = document.createRange(); r.selectNodeContents(e);"
        "  return new Set([...r.getClientRects()].map((box) => Math.round(box.bottom))).size === 1; })",
        selector,
    )
    return lines


def test_ids_do_not_wrap_even_in_a_narrow_window(browser: Any, server: MockFilesServer) -> None:
    client = server.client(max_retries=0)
    made = client.files.create(file=("in.jsonl", chat_file("a")), purpose="batch")
    client.batches.create(input_file_id=made.id, endpoint=CHAT, completion_window="24h", metadata={"k": "v" * 200})
    client.uploads.create(bytes=3, filename="u" * 120 + ".txt", mime_type="text/plain", purpose="assistants")
    browser.set_window_size(640, 900)
    try:
        page = Console(browser, server)
        wait(lambda: page.file_ids(), "the files")
        assert all(one_line(page, "#files-body .id")), "a file id wrapped"
        for tab in ("batches", "uploads"):
            page.tab(tab)
            wait(lambda tab=tab: page.css(f"#{tab} tr[data-id]"), f"the {tab}")
            ids = one_line(page, f"#{tab} .id")
            assert ids and all(ids), f"an id wrapped in {tab}"
        page.tab("requests")
        wait(lambda: page.journal_seqs(), "the journal")
        assert all(one_line(page, "#requests-table .id")) and all(one_line(page, "#requests-table .who"))
    finally:
        browser.set_window_size(1400, 900)
