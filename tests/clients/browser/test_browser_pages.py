"""Web pages against the emulator in headless Chromium (Debian's, through Selenium): a front end
served from another origin uploads and lists files through the openai SDK's browser build (the
Node SDK's ESM build in tests/node, served to the page), and a page of another site can neither
change the admin routes nor read them, not even under a rebound domain name."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx
import pytest

from mockfiles import MockFilesServer
from tests.support.browser import chromium, requires_browser
from tests.support.node_clients import HERE as NODE_DIR
from tests.support.node_clients import requires_node

pytestmark = [requires_browser, requires_node]
WAIT = 30.0  # seconds a page may take to report (a deadline, not a timing assertion)

FRONT_END = """<!doctype html>
<html><head><meta charset="utf-8"><title>a front end</title></head>
<body>
<script type="module">
import OpenAI from "/openai/index.mjs";

const server = new URLSearchParams(location.search).get("server");
const client = new OpenAI({ baseURL: server + "/v1", apiKey: "sk-browser-page", dangerouslyAllowBrowser: true, maxRetries: 0 });

async function run() {
  const file = await client.files.create({
    file: new File(["bytes from a browser"], "from-the-page.txt", { type: "text/plain" }),
    purpose: "assistants",
  });
  const names = [];
  for await (const f of client.files.list()) names.push(f.filename);
  let missing = null;
  try {
    await client.files.retrieve("file-does-not-exist");
  } catch (err) {
    missing = { status: err.status, message: err.message, requestId: err.requestID ?? err.request_id ?? null };
  }
  return { id: file.id, names, missing };
}

run().then(
  (result) => { window.result = { ok: true, ...result }; },
  (err) => { window.result = { ok: false, name: err.constructor.name, message: String(err.message) }; },
);
</script>
</body></html>
"""


class Pages(http.server.SimpleHTTPRequestHandler):
    """The front end's own server (another origin): its page, and the SDK's ESM build under /openai/."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
    }

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if path.startswith("/openai/"):
            return str(NODE_DIR / "node_modules" / "openai" / path.removeprefix("/openai/"))
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def front_end(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("front-end")
    (root / "index.html").write_text(FRONT_END)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Pages, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}"  # localhost: another origin than the emulator's 127.0.0.1
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(flags=("--host-resolver-rules=MAP rebound.test 127.0.0.1",)) as driver:
        yield driver


def wait(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.05)


def page_result(browser: Any, front_end: str, server_url: str) -> dict[str, Any]:
    browser.get(f"{front_end}/index.html?server={server_url}")
    result: dict[str, Any] = wait(lambda: browser.execute_script("return window.result || null"), "the page's result")
    return result


def test_a_page_of_another_origin_uploads_and_lists_through_the_sdks_browser_build(
    browser: Any, front_end: str
) -> None:
    with MockFilesServer(rate_limits=False) as server:
        result = page_result(browser, front_end, server.url)
        assert result["ok"], result
        assert result["names"] == ["from-the-page.txt"]
        [upload] = server.requests("files.create")
        assert upload["file_id"] == result["id"] and upload["filename"] == "from-the-page.txt"
        assert upload["account"] == server.account_id("sk-browser-page")
        content = server.client(api_key="sk-browser-page").files.content(result["id"]).read()
        assert content == b"bytes from a browser"
        # the error of a 404 is readable too, with the request id the server exposes (X-Request-ID)
        missing = result["missing"]
        assert missing["status"] == 404 and "No such File object: file-does-not-exist" in missing["message"]
        assert missing["requestId"] == server.requests("files.retrieve")[0]["request_id"]
        endpoints = ["files.create", "files.list", "files.retrieve", "files.content"]  # preflights are not journaled
        assert [e["endpoint"] for e in server.requests()] == endpoints


def test_an_origin_not_allowed_is_stopped_by_the_browser(browser: Any, front_end: str) -> None:
    with MockFilesServer(rate_limits=False, cors_origins=["http://app.example"]) as server:
        result = page_result(browser, front_end, server.url)
        assert not result["ok"] and result["name"] == "APIConnectionError", result
        assert server.requests() == []  # refused at the preflight: the upload was never sent


PROBE = """
const server = arguments[0], done = arguments[arguments.length - 1];
const outcome = {};
await fetch(server + "/_mockfiles/reset", { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: "x" });
await fetch(server + "/_mockfiles/clock", { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: '{"advance": 86400}' });
try { await fetch(server + "/_mockfiles/files"); outcome.read = "read"; } catch (err) { outcome.read = err.name; }
try { await fetch(server + "/_mockfiles/reset", { method: "POST" }); outcome.cors = "sent"; } catch (err) { outcome.cors = err.name; }
done(outcome);
"""


def test_a_page_of_another_site_cannot_reset_advance_or_read_the_admin_routes(browser: Any, front_end: str) -> None:
    with MockFilesServer(rate_limits=False) as server:
        kept = server.client().files.create(file=b"still here", purpose="assistants")
        browser.get(f"{front_end}/index.html?server=none")  # any page of the other origin
        browser.set_script_timeout(WAIT)
        outcome = browser.execute_async_script("(async () => {" + PROBE + "})()", server.url)
        assert outcome == {"read": "TypeError", "cors": "TypeError"}  # no CORS on the admin routes
        assert [f.id for f in server.client().files.list()] == [kept.id]  # the no-cors POSTs were refused
        assert server.emulator.clock.offset == 0


def test_a_rebound_domain_gets_nothing_from_the_admin_routes(browser: Any) -> None:
    """The page of a DNS-rebinding attack reaches the server under its own name (Chromium resolves
    rebound.test to 127.0.0.1 here): the admin routes refuse that Host."""
    with MockFilesServer(rate_limits=False) as server:
        secret = server.client(api_key="sk-victim").files.create(file=b"payroll", purpose="assistants")
        browser.get(f"http://rebound.test:{server.port}/_mockfiles/files/{secret.id}/content")
        text = wait(lambda: browser.find_element("tag name", "body").text, "the answer")
        assert "host_not_allowed" in text and "payroll" not in text
        browser.get(f"http://rebound.test:{server.port}/_mockfiles/")
        assert "host_not_allowed" in browser.find_element("tag name", "body").text
        browser.get(f"http://localhost:{server.port}/_mockfiles/files")  # the same server under a name of this machine
        assert secret.id in browser.find_element("tag name", "body").text
        assert httpx.get(server.url + "/_mockfiles/files").status_code == 200


def test_the_console_keeps_working_under_each_loopback_name(browser: Any) -> None:
    with MockFilesServer(rate_limits=False) as server:
        server.client().files.create(file=b"x", purpose="assistants")
        for host in ("127.0.0.1", "localhost"):
            browser.get(f"http://{host}:{server.port}/_mockfiles/#clock")
            wait(lambda: "profile" in browser.find_element("id", "server").text, "the console's header")
            browser.find_element("id", "reset").click()  # a same-origin POST: Chromium sends Origin, it matches Host
            wait(lambda: browser.find_element("id", "reset-message").text == "Reset.", "the reset")
            assert server.client().files.list().data == []
            server.client().files.create(file=b"x", purpose="assistants")
