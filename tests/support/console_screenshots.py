"""Screenshots of every page of the web console, for docs/console.md:

    python -m tests.support.console_screenshots [DIRECTORY]   # default docs/console

A server is filled through the openai SDK (two accounts, a flaky-upload scenario, a refused
request, an expiring file, two vector stores (one ingested, one ingesting), a completed batch, a
pending and a completed Upload, fine-tuning jobs succeeded, failed and running, a retry test the SDK
gets through, and a naive httpx client that retries a 400), then each tab is shot in headless
Chromium (tests/support/browser.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx
import openai

from mockfiles import MockFilesServer
from tests.support.batching import CHAT, chat_file
from tests.support.browser import browser_missing, chromium

SCENARIO = """\
seed: 7
faults:
  - name: flaky-uploads
    match: {endpoint: files.create}
    times: 2
    status: 503
    headers: {retry-after-ms: 20}
  - name: slow-downloads
    match: {endpoint: files.content}
    delay: 40ms
batches:
  timing: {in_progress: 10m}
  requests:
    - match: {custom_id: q-2}
      status: 500
vector_stores:
  ingestion: 2m
  files:
    - match: {filename: "scan-*"}
      fail: unsupported_file
fine_tuning:
  organization: acme
  timing: {validating_files: 20s, queued: 40s, running: 9m}
  jobs:
    - match: {suffix: "nightly-*"}
      timing: {running: 20m}
"""
BAD_SCENARIO = SCENARIO.replace("    status: 503", "    statuz: 503")


def fill(server: MockFilesServer) -> None:
    httpx.put(server.url + "/_mockfiles/scenario", content=SCENARIO).raise_for_status()
    alice = server.client(api_key="sk-alice-0123456789-ABCD")
    bob = server.client(api_key="sk-bob-9876543210-WXYZ", max_retries=0)
    data = alice.files.create(file=("train.jsonl", b'{"messages": []}\n' * 40), purpose="fine-tune")
    alice.files.create(file=("notes.txt", b"meeting notes\n" * 100), purpose="assistants")
    alice.files.content(data.id).read()
    for _ in range(2):
        try:
            bob.files.create(file=("report.pdf", b"%PDF-1.4" * 500), purpose="assistants")
        except openai.InternalServerError:
            pass
    bob.files.create(file=("report.pdf", b"%PDF-1.4" * 500), purpose="assistants")
    bob.files.create(
        file=("batch_input.jsonl", b"{}\n" * 10),
        purpose="batch",
        extra_body={"expires_after": {"anchor": "created_at", "seconds": 86400}},
    )
    try:
        bob.files.retrieve("file-does-not-exist")
    except openai.NotFoundError:
        pass
    alice.files.list()
    fill_batches_uploads_retries(server, alice, bob)
    fill_vector_stores(server, alice)  # after the batches: their clock moves would end the ingestion


def fill_vector_stores(server: MockFilesServer, alice: openai.OpenAI) -> None:
    """A handbook store ingested (one file failed), and a second store still ingesting."""
    docs = {
        "leave-policy.md": b"# Leave\n\nEmployees get 25 days of paid leave per year.\n" * 20,
        "expenses.md": b"# Expenses\n\nTravel expenses are refunded within 30 days.\n" * 30,
        "scan-2019.pdf": b"%PDF-1.4 scanned pages",
    }
    ids = [alice.files.create(file=(name, text), purpose="assistants").id for name, text in docs.items()]
    handbook = alice.vector_stores.create(
        name="employee-handbook",
        file_ids=ids,
        metadata={"team": "hr"},
        expires_after={"anchor": "last_active_at", "days": 30},
    )
    alice.vector_stores.files.update(ids[0], vector_store_id=handbook.id, attributes={"year": 2024, "public": True})
    server.advance(120)
    alice.vector_stores.search(handbook.id, query="paid leave")
    fresh = alice.vector_stores.create(name="support-faq", file_ids=ids[:1])
    alice.vector_stores.file_batches.create(fresh.id, file_ids=ids[1:2])


def fill_batches_uploads_retries(server: MockFilesServer, alice: openai.OpenAI, bob: openai.OpenAI) -> None:
    made = alice.files.create(file=("questions.jsonl", chat_file("q-1", "q-2", "q-3")), purpose="batch")
    batch = alice.batches.create(
        input_file_id=made.id, endpoint=CHAT, completion_window="24h", metadata={"run": "nightly-eval"}
    )
    fill_fine_tuning(alice, bob)
    server.advance(600)  # the batch runs to completed on the emulator clock (and the jobs run)
    assert alice.batches.retrieve(batch.id).status == "completed"
    alice.batches.create(input_file_id=made.id, endpoint=CHAT, completion_window="24h")  # in progress for 10 min
    whole = bob.uploads.create(bytes=12, filename="corpus.jsonl", mime_type="application/jsonl", purpose="fine-tune")
    parts = [bob.uploads.parts.create(upload_id=whole.id, data=chunk).id for chunk in (b"0123456", b"789ab")]
    bob.uploads.complete(upload_id=whole.id, part_ids=parts)
    pending = alice.uploads.create(
        bytes=64 * 1024 * 1024, filename="video-frames.bin", mime_type="application/octet-stream", purpose="assistants"
    )
    alice.uploads.parts.create(upload_id=pending.id, data=b"\0" * 1024 * 1024)
    # a retry test the SDK gets through: a 503, then the operation
    flaky = server.retry_test({"files.retrieve": ["return-503"], "files.list": ["return-429-retry-after-300ms"]})
    tested = server.client(api_key="sk-alice-0123456789-ABCD", default_headers=flaky.headers)
    tested.files.retrieve(made.id)
    tested.files.list()
    # a naive client that retries everything at once, a 400 included
    final = server.retry_test({"files.retrieve": ["return-400"]})
    with httpx.Client(base_url=server.base_url, headers={"authorization": "Bearer sk-alice-0123456789-ABCD"}) as naive:
        for _ in range(2):
            if naive.get(f"/files/{made.id}", headers=final.headers).status_code == 200:
                break


def fill_fine_tuning(alice: openai.OpenAI, bob: openai.OpenAI) -> None:
    from tests.support.fine_tuning import chat_file as examples

    training = alice.files.create(file=("support.jsonl", examples(20)), purpose="fine-tune")
    validation = alice.files.create(file=("support-valid.jsonl", examples(4)), purpose="fine-tune")
    alice.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=training.id, validation_file=validation.id, suffix="support-bot"
    )
    few = bob.files.create(file=("tiny.jsonl", examples(3)), purpose="fine-tune")
    bob.fine_tuning.jobs.create(model="gpt-4.1-mini", training_file=few.id)
    alice.fine_tuning.jobs.create(
        model="gpt-4.1-nano", training_file=training.id, suffix="nightly-v2", metadata={"run": "nightly"}
    )


def settle(driver: Any, seconds: float = 2.5) -> None:
    time.sleep(seconds)  # the page's polls have run


def shoot(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with MockFilesServer(rate_limits=False) as server, chromium() as driver:
        driver.set_window_size(1400, 860)
        fill(server)

        def tab(name: str, file: str) -> None:
            driver.find_element("css selector", f'nav a[data-tab="{name}"]').click()
            settle(driver)
            shots.append(directory / file)
            driver.save_screenshot(str(shots[-1]))

        driver.get(server.url + "/_mockfiles/")
        settle(driver)
        tab("files", "files.png")
        tab("requests", "requests.png")
        driver.execute_script(
            "const s = document.getElementById('filter-fault'); s.value = 'yes'; s.dispatchEvent(new Event('change'))"
        )
        shots.append(directory / "requests-faults.png")
        driver.save_screenshot(str(shots[-1]))
        tab("batches", "batches.png")
        tab("uploads", "uploads.png")
        tab("vector-stores", "vector-stores.png")
        driver.find_element("css selector", 'nav a[data-tab="fine-tuning"]').click()
        settle(driver)
        driver.find_elements("css selector", "#fine-tuning details.events summary")[-1].click()  # the running job's
        settle(driver)
        shots.append(directory / "fine-tuning.png")
        driver.save_screenshot(str(shots[-1]))
        driver.set_window_size(1400, 1100)
        driver.find_element("css selector", 'nav a[data-tab="retries"]').click()
        settle(driver)
        # the flagged call's attempts, unfolded
        driver.find_element("css selector", "#retries tr.flagged .attempts-detail summary").click()
        settle(driver)
        shots.append(directory / "retries.png")
        driver.save_screenshot(str(shots[-1]))
        driver.set_window_size(1400, 860)
        driver.find_element("css selector", 'nav a[data-tab="scenario"]').click()
        settle(driver)
        editor = driver.find_element("id", "scenario-text")
        editor.clear()
        editor.send_keys(BAD_SCENARIO)
        driver.find_element("id", "scenario-check").click()
        settle(driver, 1)
        shots.append(directory / "scenario.png")
        driver.save_screenshot(str(shots[-1]))
        tab("clock", "clock.png")

    with MockFilesServer(admin_token="console-token") as server, chromium() as driver:
        driver.set_window_size(1400, 500)
        driver.get(server.url + "/_mockfiles/")
        settle(driver, 1.5)
        shots.append(directory / "login.png")
        driver.save_screenshot(str(shots[-1]))
    return shots


def main(argv: list[str]) -> int:
    missing = browser_missing()
    if missing:
        print(f"no browser: {missing}", file=sys.stderr)
        return 1
    for path in shoot(Path(argv[0] if argv else "docs/console")):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
