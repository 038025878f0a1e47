"""The web console in a real browser: headless Chromium (Debian's), driven by Selenium through
Debian's chromedriver, against a real server filled through the openai SDK. Skipped, saying why,
only where no browser can be had (tests/support/browser.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.batching import CHAT, chat_file
from tests.support.browser import chromium, requires_browser

pytestmark = requires_browser

XSS = "<img src=x onerror=alert(1)>.txt"
WAIT = 20.0  # seconds a condition may take to show (a deadline, not a timing assertion)


def wait(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            value = condition()
        except Exception:  # an element not there yet, or replaced while read
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.05)


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


class Console:
    """The console page as a person uses it."""

    def __init__(self, driver: Any, server: MockFilesServer) -> None:
        self.driver = driver
        self.server = server
        driver.get(server.url + "/_mockfiles/")
        wait(lambda: "profile" in self.text("server"), "the server's line")
        driver.execute_script("window.loadedOnce = true")  # gone if the page reloads

    def by_id(self, element_id: str) -> Any:
        return self.driver.find_element("id", element_id)

    def text(self, element_id: str) -> str:
        return str(self.by_id(element_id).text)

    def css(self, selector: str) -> list[Any]:
        return list(self.driver.find_elements("css selector", selector))

    def tab(self, name: str) -> None:
        self.css(f'nav a[data-tab="{name}"]')[0].click()
        wait(lambda: self.by_id(name).is_displayed(), f"the {name} panel")

    def select(self, element_id: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.by_id(element_id)).select_by_value(value)

    def attribute_of_all(self, selector: str, name: str) -> list[str]:
        """One attribute of every element matching ``selector``, read in one script: the page redraws
        its tables as it polls, so elements found one call earlier may be gone (stale) the next."""
        values: list[str] = self.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map((e) => e.getAttribute(arguments[1]))",
            selector,
            name,
        )
        return values

    def journal_seqs(self) -> list[int]:
        return [int(seq) for seq in self.attribute_of_all("#requests-table tbody tr", "data-seq")]

    def file_ids(self) -> list[str]:
        return self.attribute_of_all("#files-body tr[data-file]", "data-file")

    def not_reloaded(self) -> bool:
        return bool(self.driver.execute_script("return window.loadedOnce === true"))

    def no_alert(self) -> bool:
        from selenium.common.exceptions import NoAlertPresentException

        try:
            _ = self.driver.switch_to.alert
        except NoAlertPresentException:
            return True
        return False


def test_files_per_account_with_masked_keys_and_a_hostile_filename_as_text(
    browser: Any, server: MockFilesServer
) -> None:
    one = server.client(api_key="sk-console-one-ABCD")
    two = server.client(api_key="sk-console-two-WXYZ")
    hostile = one.files.create(file=(XSS, b"<script>alert(2)</script>"), purpose="assistants")
    plain = two.files.create(file=("train.jsonl", b'{"a": 1}\n'), purpose="fine-tune")
    page = Console(browser, server)
    wait(lambda: set(page.file_ids()) == {hostile.id, plain.id}, "both files")
    accounts = {block.get_attribute("data-account"): block.text for block in page.css("#files-body .account")}
    assert set(accounts) == {server.account_id("sk-console-one-ABCD"), server.account_id("sk-console-two-WXYZ")}
    one_block = accounts[server.account_id("sk-console-one-ABCD")]
    assert "sk-c…ABCD" in one_block and "sk-console-one-ABCD" not in page.text("files-body")
    assert XSS in one_block and "25 B" in one_block and "assistants" in one_block and "processed" in one_block
    assert "fine-tune" in accounts[server.account_id("sk-console-two-WXYZ")]
    assert page.css("#files-body img") == [] and page.css("img") == []  # the filename stayed text
    page.tab("requests")
    wait(lambda: XSS in page.text("requests-table"), "the upload's filename in the journal")
    assert page.css("img") == [] and page.no_alert()


def test_a_new_request_appears_live_with_its_rule_and_timings(browser: Any, server: MockFilesServer) -> None:
    server.use_scenario(
        {
            "faults": [
                {"name": "flaky-list", "match": {"endpoint": "files.list"}, "times": 1, "status": 503, "delay": "10ms"}
            ]
        }
    )
    page = Console(browser, server)
    page.tab("requests")
    assert page.journal_seqs() == []
    client = server.client(max_retries=0)
    with pytest.raises(openai.InternalServerError):
        client.files.list()
    wait(lambda: page.journal_seqs() == [1], "the first request, live")
    row = page.css('#requests-table tr[data-seq="1"]')[0].text
    assert "GET /v1/files" in row and "files.list" in row and "503" in row
    assert "flaky-list" in row and "status 503" in row and "delay 10 ms" in row and " ms" in row
    client.files.list()
    wait(lambda: page.journal_seqs() == [2, 1], "the second request, newest first")
    assert page.not_reloaded()


def test_filters_by_endpoint_status_and_fault(browser: Any, server: MockFilesServer) -> None:
    server.use_scenario({"faults": [{"match": {"endpoint": "files.create"}, "times": 1, "status": 503}]})
    client = server.client(max_retries=0)
    with pytest.raises(openai.InternalServerError):
        client.files.create(file=b"x", purpose="assistants")  # 1: 503 by faults[0]
    client.files.create(file=b"x", purpose="assistants")  # 2: 200
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve("file-missing")  # 3: 404
    client.files.list()  # 4: 200
    page = Console(browser, server)
    page.tab("requests")
    wait(lambda: page.journal_seqs() == [4, 3, 2, 1], "every request")
    page.select("filter-endpoint", "files.create")
    assert page.journal_seqs() == [2, 1]
    page.select("filter-status", "5xx")
    assert page.journal_seqs() == [1]
    page.select("filter-endpoint", "")
    page.select("filter-status", "4xx")
    assert page.journal_seqs() == [3]
    page.select("filter-status", "2xx")
    assert page.journal_seqs() == [4, 2]
    page.select("filter-status", "")
    page.select("filter-fault", "yes")
    assert page.journal_seqs() == [1]
    assert "faults[0]" in page.css('#requests-table tr[data-seq="1"]')[0].text
    page.select("filter-fault", "no")
    assert page.journal_seqs() == [4, 3, 2]
    assert "3 of 4 requests" in page.text("requests-count")


def test_download_and_delete_a_file(browser: Any, server: MockFilesServer) -> None:
    client = server.client()
    created = client.files.create(file=("report.csv", b"a,b\n1,2\n"), purpose="assistants")
    page = Console(browser, server)
    wait(lambda: page.file_ids() == [created.id], "the file")
    page.css(f'tr[data-file="{created.id}"] button.download')[0].click()
    downloaded = Path(browser.downloads) / "report.csv"
    wait(lambda: downloaded.exists() and downloaded.read_bytes() == b"a,b\n1,2\n", "the downloaded bytes")
    page.css(f'tr[data-file="{created.id}"] button.delete')[0].click()
    wait(lambda: "No files stored." in page.text("files-body"), "the file gone from the page")
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)


def test_the_scenario_editor_checks_before_applying(browser: Any, server: MockFilesServer) -> None:
    page = Console(browser, server)
    page.tab("scenario")
    editor = page.by_id("scenario-text")
    editor.clear()
    editor.send_keys("seed: 1\nfaults:\n  - match: {endpoint: files.create}\n    statuz: 503\n")
    page.by_id("scenario-check").click()
    message = wait(lambda: page.text("scenario-message"), "the check's message")
    assert message == "<PUT /_mockfiles/scenario>:4: unknown key 'statuz' in faults[0]; did you mean 'status'?"
    page.by_id("scenario-apply").click()
    wait(
        lambda: (
            page.text("scenario-message") == message
            and page.by_id("scenario-message").get_attribute("class") == "error"
        ),
        "the refusal",
    )
    assert server.emulator.scenario.faults == ()  # a bad scenario is never applied
    editor.clear()
    editor.send_keys("seed: 1\nfaults:\n  - match: {endpoint: files.create}\n    status: 503\n")
    page.by_id("scenario-check").click()
    wait(lambda: page.text("scenario-message") == "Valid.", "the good scenario checked")
    assert server.emulator.scenario.faults == ()  # checked only
    page.by_id("scenario-apply").click()
    wait(lambda: page.text("scenario-message").startswith("Applied."), "the good scenario applied")
    with pytest.raises(openai.InternalServerError):
        server.client(max_retries=0).files.create(file=b"x", purpose="assistants")
    assert page.text("scenario-source") == "<PUT /_mockfiles/scenario>"


def test_advancing_the_clock_expires_a_file_on_screen(browser: Any, server: MockFilesServer) -> None:
    client = server.client()
    lasting = client.files.create(file=b"keep", purpose="assistants")
    brief = client.files.create(
        file=b"gone soon", purpose="assistants", extra_body={"expires_after": {"anchor": "created_at", "seconds": 3600}}
    )
    page = Console(browser, server)
    wait(lambda: set(page.file_ids()) == {lasting.id, brief.id}, "both files")
    assert "never" in page.css(f'tr[data-file="{lasting.id}"]')[0].text
    page.tab("clock")
    before = page.text("clock-iso")
    amount = page.by_id("advance-amount")
    amount.clear()
    amount.send_keys("2")
    page.select("advance-unit", "3600")
    page.by_id("advance-form").submit()
    wait(lambda: page.text("clock-message") == "Advanced by 7200 s.", "the advance")
    wait(lambda: page.text("clock-iso") != before and "7200" in page.text("clock-offset"), "the new time")
    page.tab("files")
    wait(lambda: page.file_ids() == [lasting.id], "the expired file gone")


def test_reset_empties_every_panel(browser: Any, server: MockFilesServer) -> None:
    client = server.client()
    client.files.create(file=b"x", purpose="assistants")
    page = Console(browser, server)
    page.tab("requests")
    wait(lambda: page.journal_seqs() == [1], "the upload")
    page.tab("clock")
    page.by_id("reset").click()
    wait(lambda: page.text("reset-message") == "Reset.", "the reset")
    assert server.emulator.files.all_files() == [] and server.requests() == []
    page.tab("files")
    wait(lambda: "No files stored." in page.text("files-body"), "no files")
    page.tab("requests")
    wait(lambda: page.journal_seqs() == [], "an empty journal")
    client.files.list()
    wait(lambda: page.journal_seqs() == [1], "the journal counting again from 1")


def made_through_the_sdk(server: MockFilesServer, route: str) -> str | None:
    """Something for the panel to list, made with the SDK, on a server that serves the route:
    its id (None where there is nothing the SDK can make for it)."""
    client = server.client()
    if route == "/uploads":
        return str(client.uploads.create(bytes=3, filename="part.txt", mime_type="text/plain", purpose="assistants").id)
    if route == "/batches":
        made = client.files.create(file=("in.jsonl", chat_file("a", "b")), purpose="batch")
        batch = client.batches.create(input_file_id=made.id, endpoint=CHAT, completion_window="24h")
        return str(batch.id)
    return None


@pytest.mark.parametrize(
    "tab, route", [("batches", "/batches"), ("uploads", "/uploads"), ("retries", "/calls"), ("retries", "/retry-tests")]
)
def test_batches_uploads_and_retries_panels(browser: Any, server: MockFilesServer, tab: str, route: str) -> None:
    served = httpx.get(server.url + "/_mockfiles" + route).status_code != 404
    made = made_through_the_sdk(server, route) if served else None
    page = Console(browser, server)
    page.tab(tab)
    box = page.css(f'#{tab} .collection[data-route="{route}"]')[0]
    if not served:
        wait(lambda: "Not available on this server" in box.text, "not available")
    elif made is not None:
        wait(lambda: made in box.text, f"{made} listed")
    else:
        wait(lambda: box.text == "None." or box.find_elements("css selector", "table"), "the list")


def test_the_token_login(browser: Any) -> None:
    with MockFilesServer(admin_token="s3cret-token") as server:
        created = server.client().files.create(file=("a.txt", b"a"), purpose="assistants")
        browser.get(server.url + "/_mockfiles/")
        page = Console.__new__(Console)
        page.driver, page.server = browser, server
        browser.execute_script("sessionStorage.clear()")
        browser.refresh()
        wait(lambda: page.by_id("login").is_displayed(), "the login form")
        assert not page.by_id("panels").is_displayed() and "s3cret" not in browser.page_source
        page.by_id("token").send_keys("wrong")
        page.by_id("login-form").submit()
        wait(lambda: page.text("login-error") == "That token was refused.", "the refusal")
        page.by_id("token").send_keys("s3cret-token")
        page.by_id("login-form").submit()
        wait(lambda: page.file_ids() == [created.id], "the files, once logged in")
        assert browser.execute_script("return sessionStorage.getItem('mockfiles-admin-token')") == "s3cret-token"
        assert browser.get_cookies() == []  # a bearer token from script, no cookie another site could ride
        page.by_id("logout").click()
        wait(lambda: page.by_id("login").is_displayed(), "the login form again")
        assert browser.execute_script("return sessionStorage.getItem('mockfiles-admin-token')") is None


def test_a_stopped_server_then_a_new_one_on_its_port(browser: Any) -> None:
    """The page only polls: stopping the server leaves nothing held open (its thread ends); the
    page says the server is gone and picks up the next one on the same address, journal and all."""
    first = MockFilesServer().start()
    port = first.port
    try:
        for _ in range(3):
            first.client().files.list()
        page = Console(browser, first)
        page.tab("requests")
        wait(lambda: page.journal_seqs() == [3, 2, 1], "the first server's requests")
    finally:
        thread = first._thread
        first.stop()
    assert thread is not None and not thread.is_alive()
    wait(lambda: page.text("server") == "server not reachable: retrying", "the page noticing")
    with MockFilesServer(port=port) as second:
        second.client().files.list()
        wait(lambda: page.journal_seqs() == [1], "the new server's journal, from its start")
        wait(lambda: "profile openai" in page.text("server"), "the server line back")
        assert page.not_reloaded()


def test_markup_in_a_scenario_stays_text(browser: Any, server: MockFilesServer) -> None:
    name = "<img src=x onerror=alert(3)>"
    server.use_scenario({"faults": [{"name": name, "match": {"endpoint": "files.list"}, "times": 1, "status": 500}]})
    with pytest.raises(openai.InternalServerError):
        server.client(max_retries=0).files.list()
    page = Console(browser, server)
    page.tab("requests")
    wait(lambda: name in page.text("requests-table"), "the rule's name in the journal")
    page.tab("scenario")
    wait(lambda: name in page.by_id("scenario-text").get_attribute("value"), "the rule's name in the editor")
    assert page.css("img") == [] and page.no_alert()


def test_the_retries_tab_renders_attempts_and_verdicts(browser: Any, server: MockFilesServer) -> None:
    """A call the SDK retried well shows "ok"; a naive client that retries a 400 at once shows the
    verdict's problem codes; attempts read as a sequence, the instruction that answered each."""
    client = server.client()
    kept = client.files.create(file=("kept.txt", b"kept"), purpose="assistants")
    good = server.retry_test({"files.retrieve": ["return-503"]})
    server.client(default_headers=good.headers).files.retrieve(kept.id)
    bad = server.retry_test({"files.retrieve": ["return-400"]})
    with httpx.Client(base_url=server.base_url, headers={"authorization": f"Bearer {server.api_key}"}) as naive:
        statuses = [naive.get(f"/files/{kept.id}", headers=bad.headers).status_code for _ in range(2)]
    assert statuses == [400, 200]
    server.use_scenario(
        {"faults": [{"name": "flaky-list", "match": {"endpoint": "files.list"}, "times": 1, "status": 503}]}
    )
    client.files.list()  # a 503 from the scenario's rule, then the list
    calls = {c["retry_test"]: c for c in server.calls() if c["retry_test"]}
    (listed,) = [c for c in server.calls() if c["endpoint"] == "files.list"]
    good_call, bad_call = calls[good.id], calls[bad.id]
    page = Console(browser, server)
    page.tab("retries")

    def row(call_id: str) -> Any:
        return page.css(f'#retries .collection[data-route="/calls"] tr[data-id="{call_id}"]')[0]

    wait(lambda: row(bad_call["id"]) and row(good_call["id"]), "both calls")
    flagged = row(bad_call["id"])
    codes = [p.get_attribute("data-problem") for p in flagged.find_elements("css selector", "td.verdict .problem")]
    assert codes == [p["problem"] for p in bad_call["verdict"]["problems"]] and "retried_non_retryable" in codes
    assert "a 400 is final" in flagged.find_element("css selector", "td.verdict").text
    sequence = " ".join(flagged.find_element("css selector", ".sequence").text.split())
    assert sequence.startswith("400 return-400 → +") and sequence.endswith(" ms 200"), sequence
    fine = row(good_call["id"])
    assert fine.find_element("css selector", "td.verdict").text == "ok"
    waited = good_call["attempts"][1]["waited"] * 1000
    shown = " ".join(fine.find_element("css selector", ".sequence").text.split())
    match = re.fullmatch(r"503 return-503 → \+(\d+) ms 200", shown)
    assert match and abs(int(match[1]) - waited) <= 0.5, (shown, waited)  # JavaScript rounds halves up, Python to even
    fine.find_element("css selector", ".attempts-detail summary").click()
    detail = wait(lambda: fine.find_element("css selector", ".attempts-detail table").text, "the attempts' detail")
    assert "answered by" in detail and "return-503" in detail
    by_rule = " ".join(row(listed["id"]).find_element("css selector", ".sequence").text.split())
    assert by_rule == f"503 flaky-list → +{round(listed['attempts'][1]['waited'] * 1000)} ms 200"
    tests = page.css('#retries .collection[data-route="/retry-tests"]')[0]
    wait(lambda: good.id in tests.text and bad.id in tests.text, "both retry tests")
    test_row = tests.find_element("css selector", f'tr[data-id="{bad.id}"]')
    assert "files.retrieve" in test_row.text and "return-400" in test_row.text and "0 of 1 left" in test_row.text
    assert "completed" in test_row.text and "1 with problems" in test_row.text


def test_the_batches_tab_links_the_batch_files(browser: Any, server: MockFilesServer) -> None:
    client = server.client()
    made = client.files.create(file=("in.jsonl", chat_file("a", "b")), purpose="batch")
    batch = client.batches.create(input_file_id=made.id, endpoint=CHAT, completion_window="24h")
    server.advance(600)
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.output_file_id is not None
    output = client.files.retrieve(done.output_file_id)
    page = Console(browser, server)
    page.tab("batches")
    box = page.css('#batches .collection[data-route="/batches"]')[0]
    wait(lambda: batch.id in box.text, "the batch")
    row = box.find_element("css selector", f'tr[data-id="{batch.id}"]')
    assert "completed" in row.text and "2 done · 0 failed · 2 total" in row.text and CHAT in row.text
    assert server.account_id(server.api_key) in row.text
    row.find_element("css selector", f'a.file-link[data-file-id="{output.id}"]').click()
    downloaded = Path(browser.downloads) / output.filename
    expected = client.files.content(output.id).read()
    wait(lambda: downloaded.exists() and downloaded.read_bytes() == expected, "the output file downloaded")
    assert page.css(f'#batches a.file-link[data-file-id="{made.id}"]')  # the input file, linked too
    client.files.delete(output.id)
    wait(lambda: f"{output.id} (gone)" in page.text("batches"), "the deleted output file shown as gone")


def test_the_uploads_tab_shows_parts_and_held_bytes(browser: Any, server: MockFilesServer) -> None:
    client = server.client()
    pending = client.uploads.create(bytes=10, filename="half.bin", mime_type="text/plain", purpose="assistants")
    client.uploads.parts.create(upload_id=pending.id, data=b"01234")
    page = Console(browser, server)
    page.tab("uploads")
    box = page.css('#uploads .collection[data-route="/uploads"]')[0]
    wait(lambda: pending.id in box.text, "the Upload")
    row = box.find_element("css selector", f'tr[data-id="{pending.id}"]').text
    assert "half.bin" in row and "assistants" in row and "10 B" in row and "1 part · 5 B held" in row
    assert "pending" in row


def test_markup_in_batches_uploads_and_calls_stays_text(browser: Any, server: MockFilesServer) -> None:
    hostile = "<img src=x onerror=alert(4)>"
    client = server.client(max_retries=0)
    made = client.files.create(file=("in.jsonl", chat_file(hostile, "b")), purpose="batch")
    batch = client.batches.create(
        input_file_id=made.id, endpoint=CHAT, completion_window="24h", metadata={"note": hostile}
    )
    upload = client.uploads.create(bytes=3, filename=hostile + ".txt", mime_type="text/plain", purpose="assistants")
    test = server.retry_test({"files.retrieve": ["return-503"]})
    with pytest.raises(openai.InternalServerError):
        server.client(max_retries=0, default_headers=test.headers).files.retrieve(f"file-{hostile}")
    page = Console(browser, server)
    for tab, shown in (("batches", batch.id), ("uploads", upload.id), ("retries", test.id)):
        page.tab(tab)
        wait(lambda shown=shown, tab=tab: shown in page.text(tab), f"{shown} listed")
        assert hostile in page.text(tab), tab
    assert hostile in page.text("retries") and "return-503" in page.text("retries")
    assert page.css("img") == [] and page.no_alert()


def test_model_requests_and_the_models_tab(browser: Any, server: MockFilesServer) -> None:
    from mockfiles.chat.models import derived

    client = server.client(max_retries=0)
    made = client.files.create(file=("report.txt", b"Quarterly report\n"), purpose="user_data")
    content = [{"type": "file", "file": {"file_id": made.id}}, {"type": "text", "text": "Total?"}]
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": content}], stream=True
    ).close()
    base = server.emulator.models.find(server.api_key, "gpt-4o-mini", "openai")
    assert base is not None
    server.emulator.models.add(
        derived("ft:gpt-4o-mini:org::console", base, owned_by="user-x", created=0), server.api_key
    )
    page = Console(browser, server)
    page.tab("requests")
    wait(lambda: made.id in page.text("requests-table"), "the model request with its file")
    row = page.css("#requests-table .prompted")[0].text
    assert row.startswith("gpt-4o-mini · stream · " + made.id) and " tokens" in row
    page.tab("models")
    box = page.css('#models .collection[data-route="/models"]')[0]
    wait(lambda: "ft:gpt-4o-mini:org::console" in box.text, "the registered model")
    tuned = [r.text for r in box.find_elements("css selector", "tr") if "ft:gpt-4o-mini:org::console" in r.text][0]
    assert "gpt-4o-mini" in tuned and server.account_id(server.api_key) in tuned and "file parts, input_file" in tuned
    assert "every account" in box.text and "fileid://" in box.text
