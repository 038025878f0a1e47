"""The console's Vector stores tab in headless Chromium: each store with its files and their
statuses, as the clock moves them; markup in names stays text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockfiles import MockFilesServer
from tests.clients.browser.test_console import Console, wait
from tests.support.browser import chromium, requires_browser
from tests.support.vectoring import CATS, DOGS, upload

pytestmark = requires_browser
HOSTILE = "<img src=x onerror=alert(5)>"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@pytest.fixture
def server() -> Iterator[MockFilesServer]:
    scenario = {
        "vector_stores": {"ingestion": "1m", "files": [{"match": {"filename": "bad*"}, "fail": "server_error"}]}
    }
    with MockFilesServer(rate_limits=False, scenario=scenario) as running:
        yield running


def test_the_tab_shows_each_store_with_its_files(browser: Any, server: MockFilesServer) -> None:
    client = server.client()
    cats, bad = upload(client, "cats.txt", CATS), upload(client, "bad.md", DOGS)
    store = client.vector_stores.create(name=HOSTILE, description="pets", file_ids=[cats, bad])
    client.vector_stores.files.update(cats, vector_store_id=store.id, attributes={"kind": HOSTILE})
    page = Console(browser, server)
    page.tab("vector-stores")
    box = page.css('#vector-stores .collection[data-route="/vector-stores"]')[0]
    wait(lambda: store.id in box.text, "the store")
    row = box.find_element("css selector", f'tr[data-id="{store.id}"]')
    assert HOSTILE in row.text and "pets" in row.text and server.account_id(server.api_key) in row.text
    assert "in_progress" in row.text and "0 completed · 2 in progress" in row.text
    files = {
        tr.get_attribute("data-id"): tr.text for tr in row.find_elements("css selector", "td.store-files tr[data-id]")
    }
    assert set(files) == {cats, bad} and "cats.txt" in files[cats] and HOSTILE in files[cats]
    server.advance(60)
    wait(lambda: "1 completed · 0 in progress" in page.text("vector-stores"), "the files ingested")
    row = box.find_element("css selector", f'tr[data-id="{store.id}"]')
    failed = row.find_element("css selector", f'td.store-files tr[data-id="{bad}"]').text
    assert "failed" in failed and "server_error: An internal error occurred while processing the file." in failed
    assert "completed" in row.find_element("css selector", f'td.store-files tr[data-id="{cats}"]').text
    assert page.no_alert() and page.not_reloaded()
    client.files.delete(cats)
    wait(lambda: cats not in page.text("vector-stores"), "the deleted File gone from its store")
