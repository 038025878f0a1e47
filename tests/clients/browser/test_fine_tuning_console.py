"""The console's Fine-tuning tab in a real browser (headless Chromium, as tests/clients/browser/test_console.py):
every account's jobs with their status, progress, files and model, a failed job's error, and a
job's events opened on demand and followed as the job runs, the model it made in the Models tab;
markup in the data stays text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockfiles import MockFilesServer
from tests.clients.browser.test_console import Console, browser, wait
from tests.support.browser import requires_browser
from tests.support.fine_tuning import chat_file, upload

pytestmark = requires_browser
__all__ = ["browser"]  # the module's browser fixture, shared

HOSTILE = "<img src=x onerror=alert(5)>"


@pytest.fixture
def server() -> Iterator[MockFilesServer]:
    scenario = {"fine_tuning": {"timing": {"running": "1000s"}}}
    with MockFilesServer(rate_limits=False, scenario=scenario) as running:
        yield running


def test_the_fine_tuning_tab_lists_jobs_and_follows_their_events(browser: Any, server: MockFilesServer) -> None:
    client = server.client()
    training = upload(client, chat_file(10))
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=training, suffix="console", metadata={"note": HOSTILE}
    )
    broken = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=upload(client, chat_file(3), "few.jsonl")
    )
    server.advance(505)  # 50 of 100 steps
    page = Console(browser, server)
    page.tab("fine-tuning")
    box = page.css('#fine-tuning .collection[data-route="/fine-tuning"]')[0]
    wait(lambda: job.id in box.text and broken.id in box.text, "both jobs")
    row = box.find_element("css selector", f'tr[data-id="{job.id}"]')
    assert "running" in row.text and "step 50/100" in row.text and "gpt-4o-mini-2024-07-18" in row.text
    assert "batch_size 1" in row.text and "n_epochs 10" in row.text and "supervised" in row.text
    assert server.account_id(server.api_key) in row.text and HOSTILE in row.text
    assert row.find_elements("css selector", f'a.file-link[data-file-id="{training}"]')
    failed = box.find_element("css selector", f'tr[data-id="{broken.id}"]').text
    assert "failed" in failed and "invalid_n_examples: Training file has 3 example(s)" in failed
    row.find_element("css selector", "details.events summary").click()
    wait(lambda: "Step 50/100: training loss=" in page.text("fine-tuning"), "the job's events")
    server.advance(500)
    wait(lambda: "The job has successfully completed" in page.text("fine-tuning"), "the events followed as the job ran")
    done = box.find_element("css selector", f'tr[data-id="{job.id}"]').text
    finished = client.fine_tuning.jobs.retrieve(job.id)
    assert "succeeded" in done and str(finished.fine_tuned_model) in done
    assert box.find_elements("css selector", f'a.file-link[data-file-id="{finished.result_files[0]}"]')
    page.tab("models")
    models = page.css('#models .collection[data-route="/models"]')[0]
    wait(lambda: str(finished.fine_tuned_model) in models.text, "the fine-tuned model among the models")
    assert server.account_id(server.api_key) in models.text and "gpt-4o-mini-2024-07-18" in models.text
    assert page.css("img") == [] and page.no_alert()
