"""What web pages may do, over HTTP as a browser sends it: CORS preflights answered and CORS
headers on every API answer (origins configurable, open by default on loopback), and admin routes
that a page of another site can neither change (a foreign Origin) nor read (a foreign Host, as a
DNS-rebinding page sends). Tests/test_browser_pages.py does the same from headless Chromium."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from mockfiles import MockFilesServer
from mockfiles.web.browsers import BrowserPolicy, host_name, same_origin

pytestmark = pytest.mark.mockfiles(rate_limits=False)

PAGE = "http://localhost:5173"  # a front end under development
SDK_HEADERS = "authorization,content-type,x-stainless-arch,x-stainless-lang,x-stainless-retry-count"


def preflight(url: str, origin: str = PAGE, method: str = "POST", headers: str | None = SDK_HEADERS) -> httpx.Response:
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        sent["Access-Control-Request-Headers"] = headers
    return httpx.options(url, headers=sent)


# --- the API: CORS ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/files",
        "/v1/files/file-abc/content",
        "/compatible-mode/v1/files",
        "/api/v1/files",
        "/v1/batches",
        "/v1/uploads/upload_x/parts",
        "/v1/nowhere",
    ],
)
def test_a_preflight_on_any_api_route_is_answered_and_not_journaled(mockfiles: MockFilesServer, path: str) -> None:
    answer = preflight(mockfiles.url + path)
    assert answer.status_code == 204 and answer.content == b""
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["access-control-allow-methods"] == "GET, POST, DELETE"
    assert answer.headers["access-control-allow-headers"] == SDK_HEADERS  # Authorization included: named, not *
    assert answer.headers["access-control-max-age"] == "600"
    assert mockfiles.requests() == []  # not an API call: not journaled, no rate limit, no fault


@pytest.mark.mockfiles(rate_limits=True, scenario={"faults": [{"match": {"method": "OPTIONS"}, "status": 503}]})
def test_preflights_take_no_rate_limit_and_no_fault(mockfiles: MockFilesServer) -> None:
    assert all(preflight(mockfiles.url + "/v1/files").status_code == 204 for _ in range(30))
    assert mockfiles.client().files.list().data == []


def test_every_api_answer_to_a_page_carries_cors_headers_errors_included(mockfiles: MockFilesServer) -> None:
    key = {"Authorization": f"Bearer {mockfiles.api_key}", "Origin": PAGE}
    uploaded = httpx.post(
        mockfiles.url + "/v1/files", headers=key, files={"file": ("a.txt", b"hi")}, data={"purpose": "assistants"}
    )
    listed = httpx.get(mockfiles.url + "/v1/files", headers=key)
    missing = httpx.get(mockfiles.url + "/v1/files/file-nope", headers=key)
    no_key = httpx.get(mockfiles.url + "/v1/files", headers={"Origin": PAGE})
    content = httpx.get(mockfiles.url + f"/v1/files/{uploaded.json()['id']}/content", headers=key)
    native = httpx.get(mockfiles.url + "/api/v1/files", headers=key)
    for answer, status in (
        (uploaded, 200),
        (listed, 200),
        (missing, 404),
        (no_key, 401),
        (content, 200),
        (native, 200),
    ):
        assert answer.status_code == status
        assert answer.headers["access-control-allow-origin"] == "*", answer
    assert listed.headers["access-control-expose-headers"] == "X-Request-ID"  # as api.openai.com
    assert (
        "access-control-allow-origin"
        not in httpx.get(mockfiles.url + "/v1/files", headers={"Authorization": "Bearer k"}).headers
    )


def test_a_plain_options_request_is_still_405(mockfiles: MockFilesServer) -> None:
    answer = httpx.options(mockfiles.url + "/v1/files", headers={"Origin": PAGE})  # no Access-Control-Request-Method
    assert answer.status_code == 405 and set(answer.headers["allow"].split(", ")) == {"GET", "POST", "HEAD"}


def test_configured_origins_are_the_only_ones() -> None:
    with MockFilesServer(cors_origins=["http://localhost:*", "https://app.example.com"], rate_limits=False) as server:
        for origin in ("http://localhost:3000", "http://localhost:5173", "https://app.example.com"):
            answer = preflight(server.url + "/v1/files", origin)
            assert answer.status_code == 204
            assert answer.headers["access-control-allow-origin"] == origin
            assert "Origin" in answer.headers.get_list("vary")
        for origin in ("http://evil.example", "https://app.example.com.evil.example", "null", "http://localhost"):
            refused = preflight(server.url + "/v1/files", origin)
            assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
            assert refused.json()["error"] == {
                "message": f"Pages of {origin} may not call this server: allow the origin with --cors-origin (cors_origins=).",
                "type": "invalid_request_error",
                "param": None,
                "code": "cors_origin_not_allowed",
            }
            simple = httpx.get(server.url + "/v1/files", headers={"Origin": origin, "Authorization": "Bearer k"})
            assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers
        native = preflight(server.url + "/api/v1/files", "http://evil.example")
        assert native.status_code == 403 and native.json()["code"] == "AccessDenied"  # in the path's dialect


def test_no_cors_by_default_on_a_server_bound_beyond_loopback() -> None:
    assert BrowserPolicy.for_server("127.0.0.1").cors_origins == ("*",)
    assert BrowserPolicy.for_server("::1").cors_origins == ("*",)
    assert BrowserPolicy.for_server("0.0.0.0").cors_origins == ()
    assert BrowserPolicy.for_server("0.0.0.0", ["*"]).cors_origins == ("*",)
    with MockFilesServer(host="0.0.0.0", rate_limits=False) as server:
        assert preflight(server.url + "/v1/files").status_code == 403
        plain = httpx.get(server.url + "/v1/files", headers={"Origin": PAGE, "Authorization": "Bearer k"})
        assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers


@pytest.mark.parametrize("origin", ["localhost:5173", "http://localhost:5173/app", "ftp://x", ""])
def test_an_origin_that_could_never_match_is_refused_at_start(origin: str) -> None:
    with pytest.raises(ValueError, match="CORS origin"):
        MockFilesServer(cors_origins=[origin])
    done = subprocess.run(
        [sys.executable, "-m", "mockfiles", "serve", "--port", "0", "--cors-origin", origin],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.startswith(f"mockfiles: CORS origin {origin!r}: ")


# --- the admin routes: no foreign Origin changes state -----------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_mockfiles/reset", b""),
        ("POST", "/_mockfiles/clock", b'{"advance": 3600}'),
        ("PUT", "/_mockfiles/scenario", b"faults: [{match: {endpoint: files.list}, status: 503}]"),
        ("DELETE", "/_mockfiles/scenario", b""),
        ("DELETE", "/_mockfiles/files/{id}", b""),
        ("POST", "/_mockfiles/retry-tests", b'{"instructions": {"files.list": ["return-503"]}}'),
    ],
)
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost:5173"])
def test_a_page_of_another_origin_cannot_change_anything(
    mockfiles: MockFilesServer, method: str, path: str, body: bytes, origin: str
) -> None:
    """A form or a text/plain fetch needs no preflight: the server itself refuses it."""
    stored = mockfiles.client().files.create(file=b"keep me", purpose="assistants")
    now = mockfiles.emulator.clock.now()
    headers = {"Origin": origin, "Content-Type": "text/plain"}
    answer = httpx.request(method, mockfiles.url + path.format(id=stored.id), content=body, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "origin_not_allowed"
    assert f"{method} from a page of another origin ({origin})" in answer.json()["error"]["message"]
    assert "access-control-allow-origin" not in answer.headers
    assert [f.id for f in mockfiles.client().files.list()] == [stored.id]  # nothing reset, nothing deleted
    assert mockfiles.emulator.clock.now() - now < 60 and mockfiles.emulator.scenario.faults == ()
    assert httpx.get(mockfiles.url + "/_mockfiles/retry-tests").json()["data"] == []


def test_the_servers_own_pages_curl_and_tests_still_change_state(mockfiles: MockFilesServer) -> None:
    url = mockfiles.url
    assert httpx.post(url + "/_mockfiles/clock", json={"advance": 1}).status_code == 200  # no Origin: curl, SDKs
    assert httpx.post(url + "/_mockfiles/reset", headers={"Origin": url}).status_code == 200  # the console
    port = url.rsplit(":", 1)[1]
    same = {"Origin": f"http://localhost:{port}", "Host": f"localhost:{port}"}  # the console opened as localhost
    assert httpx.post(url + "/_mockfiles/reset", headers=same).status_code == 200
    assert (
        httpx.get(url + "/_mockfiles/files", headers={"Origin": "http://evil.example"}).status_code == 200
    )  # a read: the browser keeps it from the page


def test_no_cors_on_the_admin_routes_without_a_token(mockfiles: MockFilesServer) -> None:
    read = httpx.get(mockfiles.url + "/_mockfiles/files", headers={"Origin": PAGE})
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers  # the page cannot read it
    refused = preflight(mockfiles.url + "/_mockfiles/files", method="GET", headers="authorization")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "cors_admin_refused"
    assert "access-control-allow-origin" not in refused.headers


def test_with_a_token_an_allowed_page_may_call_the_admin_routes() -> None:
    token = {"Authorization": "Bearer s3cret"}
    with MockFilesServer(admin_token="s3cret", cors_origins=[PAGE], rate_limits=False) as server:
        answer = preflight(server.url + "/_mockfiles/reset", headers="authorization")
        assert answer.status_code == 204
        assert answer.headers["access-control-allow-origin"] == PAGE
        assert answer.headers["access-control-allow-methods"] == "GET, POST, PUT, DELETE"
        assert answer.headers["access-control-allow-headers"] == "authorization"
        reset = httpx.post(server.url + "/_mockfiles/reset", headers={"Origin": PAGE, **token})
        assert reset.status_code == 200 and reset.headers["access-control-allow-origin"] == PAGE
        no_token = httpx.post(server.url + "/_mockfiles/reset", headers={"Origin": PAGE})
        assert (
            no_token.status_code == 401 and no_token.headers["access-control-allow-origin"] == PAGE
        )  # readable refusal
        other = httpx.post(server.url + "/_mockfiles/reset", headers={"Origin": "http://evil.example", **token})
        assert other.status_code == 403 and other.json()["error"]["code"] == "origin_not_allowed"
        assert preflight(server.url + "/_mockfiles/reset", "http://evil.example").status_code == 403


# --- the admin routes: only this server's names (DNS rebinding) ----------------------------------------


def rebound(server: MockFilesServer, host: str, path: str = "/_mockfiles/files") -> httpx.Response:
    """What a page on a rebound domain sends: the server's address, another name in Host."""
    return httpx.get(server.url + path, headers={"Host": host})


def test_a_rebound_name_cannot_read_any_account(mockfiles: MockFilesServer) -> None:
    secret = mockfiles.client(api_key="sk-victim").files.create(file=b"payroll", purpose="assistants")
    port = mockfiles.port
    for path in (
        "/_mockfiles/files",
        f"/_mockfiles/files/{secret.id}/content",
        "/_mockfiles/requests",
        "/_mockfiles/",
        "/_mockfiles/calls",
    ):
        answer = rebound(mockfiles, f"attacker.example:{port}", path)
        assert answer.status_code == 403, path
        assert b"payroll" not in answer.content
        assert answer.json()["error"] == {
            "message": "The admin routes do not answer to the name 'attacker.example' (a page of another site can "
            "reach this server under a name of its own). Use this server's address or localhost, or allow the "
            "name: --allowed-host attacker.example.",
            "type": "invalid_request_error",
            "param": None,
            "code": "host_not_allowed",
        }
    assert (
        mockfiles.client(api_key="sk-victim").files.content(secret.id).read() == b"payroll"
    )  # the API: its key decides


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "LOCALHOST.:{port}",
        "app.localhost:{port}",
        "[::1]:{port}",
        "192.168.1.20:{port}",
        "127.0.0.1",
    ],
)
def test_loopback_names_and_addresses_are_answered(mockfiles: MockFilesServer, host: str) -> None:
    assert rebound(mockfiles, host.format(port=mockfiles.port)).status_code == 200


def test_more_names_can_be_allowed() -> None:
    with MockFilesServer(allowed_hosts=["devbox.lan", "*.internal.example"]) as server:
        assert rebound(server, f"devbox.lan:{server.port}").status_code == 200
        assert rebound(server, f"ci.internal.example:{server.port}").status_code == 200
        assert rebound(server, f"internal.example.evil:{server.port}").status_code == 403
    with MockFilesServer(allowed_hosts=["*"]) as server:
        assert rebound(server, "anything.example").status_code == 200


def test_the_host_check_reads_names_as_browsers_send_them() -> None:
    assert host_name("Example.COM:8000") == "example.com"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("localhost.") == "localhost"
    assert host_name("::1") == "::1"
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert same_origin("http://example.com", "example.com:80")
    assert not same_origin("https://127.0.0.1:8000", "127.0.0.2:8000")
    assert not same_origin("null", "127.0.0.1:8000")
    policy = BrowserPolicy.for_server("devbox.lan")
    assert policy.host_allowed("devbox.lan:8000") and not policy.host_allowed("other.lan:8000")
