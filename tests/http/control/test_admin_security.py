"""The admin surface shows no API key, cannot be left open by mistake, and cannot be taken
over by a scenario put at run time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import openai
import pytest

import mockfiles as package
from mockfiles import MockFilesServer, ScenarioError, load_scenario
from mockfiles.core.accounts import account_id, key_hint

pytestmark = pytest.mark.mockfiles(rate_limits=False)

SECRET = "sk-proj-VERYSECRETKEY1234567890abcdefXYZW"
OTHER = "sk-proj-ANOTHERSECRET0987654321zyxwvuQRST"


def use(server: MockFilesServer, key: str) -> openai.OpenAI:
    return server.client(api_key=key, max_retries=0)


# --- keys are masked, accounts have stable ids ---------------------------------------------------


def test_account_ids_are_stable_and_keys_are_masked() -> None:
    assert account_id("sk-mockfiles-test") == "acct_1e7c80bd52e5ff45"  # the same in every run, on every machine
    assert package.account_id(SECRET) == MockFilesServer.account_id(SECRET) == account_id(SECRET)
    assert account_id(SECRET) != account_id(OTHER)
    assert key_hint(SECRET) == "sk-pr…XYZW"
    assert key_hint("sk-test-1") == "sk…-1"  # a short key shows a quarter at each end
    assert key_hint("k1") == "…"
    for key in ("abcdefgh", "0123456789abcdef", "0123456789abcdefghi", "0123456789abcdefghij", SECRET):
        visible = len(key_hint(key)) - 1
        assert visible <= len(key) // 2  # at least half of it stays hidden


def test_admin_routes_and_the_journal_show_no_key(mockfiles: MockFilesServer) -> None:
    uploaded = {}
    for key in (SECRET, OTHER):
        uploaded[key] = use(mockfiles, key).files.create(file=b"x", purpose="assistants").id
        use(mockfiles, key).files.list()
    files = httpx.get(mockfiles.url + "/_mockfiles/files")
    journal = httpx.get(mockfiles.url + "/_mockfiles/requests")
    for text in (files.text, journal.text, json.dumps(mockfiles.requests())):
        assert "VERYSECRETKEY" not in text and "ANOTHERSECRET" not in text
    by_id = {f["id"]: f for f in files.json()["data"]}
    for key, file_id in uploaded.items():
        assert by_id[file_id]["account"] == mockfiles.account_id(key)
        assert by_id[file_id]["key"] == key_hint(key)
    entries = journal.json()["data"]
    assert {(e["account"], e["key"]) for e in entries} == {(account_id(k), key_hint(k)) for k in (SECRET, OTHER)}
    assert [e["account"] for e in mockfiles.requests()] == [e["account"] for e in entries]


def test_a_refused_key_is_journaled_without_an_account(mockfiles: MockFilesServer) -> None:
    mockfiles.reset(api_keys=[SECRET])
    with pytest.raises(openai.AuthenticationError):
        use(mockfiles, OTHER).files.list()
    [entry] = mockfiles.requests()
    assert (entry["status"], entry["account"], entry["key"]) == (401, None, None)
    assert "ANOTHERSECRET" not in json.dumps(entry)


@pytest.mark.mockfiles(
    scenario={
        "auth": {"keys": [SECRET, OTHER]},
        "faults": [{"match": {"key": SECRET, "endpoint": "files.list"}, "status": 503}],
    }
)
def test_the_scenario_shown_masks_keys(mockfiles: MockFilesServer) -> None:
    shown = httpx.get(mockfiles.url + "/_mockfiles/scenario")
    assert "VERYSECRETKEY" not in shown.text and "ANOTHERSECRET" not in shown.text
    scenario = shown.json()["scenario"]
    assert scenario["auth"]["keys"] == [key_hint(SECRET), key_hint(OTHER)]
    assert scenario["faults"][0]["match"]["key"] == key_hint(SECRET)
    with pytest.raises(openai.InternalServerError):
        use(mockfiles, SECRET).files.list()  # the rule itself still matches on the real key


# --- an admin token that cannot work is refused ----------------------------------------------------


@pytest.mark.parametrize("token", ["", " ", "two words", "tab\there", "pässword"])
def test_an_unusable_admin_token_is_refused(token: str) -> None:
    with pytest.raises(ValueError, match="the admin token must"):
        MockFilesServer(admin_token=token)


def test_an_empty_api_key_is_refused() -> None:
    with pytest.raises(ValueError, match="API keys must be non-empty"):
        MockFilesServer(api_keys=[""])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('admin: {token: ""}\n', "x.yaml:1: admin.token must not be empty"),
        ("admin: {token: ' padded '}\n", "x.yaml:1: admin.token must be printable ASCII without spaces"),
    ],
)
def test_an_unusable_admin_token_in_a_scenario_is_a_scenario_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path.parent}/{message}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--admin-token", ""], "mockfiles: the admin token must not be empty"),
        (["--api-key", ""], "mockfiles: API keys must be non-empty strings"),
        (["--seed", str(2**64)], f"mockfiles: the seed must be between 0 and {2**63 - 1}, got {2**64}"),
    ],
    ids=["empty-token", "empty-key", "huge-seed"],
)
def test_serve_refuses_settings_that_cannot_work(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockfiles", "serve", "--port", "0", *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip() == message


# --- serve says what it serves and whether the admin routes are open ---------------------------------


def serve_lines(*args: str) -> list[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockfiles", "serve", "--port", "0", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    stdout = process.stdout
    assert stdout is not None
    lines: list[str] = []

    def read() -> None:  # in a thread, so that a missing line fails the test instead of hanging it
        for line in stdout:
            lines.append(line.rstrip("\n"))
            if "admin routes" in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=30)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=10)
    return lines


def test_serve_prints_the_base_urls_of_its_profile_and_that_admin_is_open() -> None:
    first, *rest = serve_lines()
    url = first.split("serving on ")[1].split()[0]
    assert first == f"mockfiles serving on {url} (profile openai)"
    assert rest == [
        f"  OpenAI:                     OpenAI SDK base_url              {url}/v1  <- profile openai",
        f"  DashScope compatible mode:  OpenAI SDK base_url              {url}/compatible-mode/v1",
        f"  DashScope native API:       dashscope SDK base_http_api_url  {url}/api/v1",
        f"  Azure OpenAI:               AzureOpenAI azure_endpoint       {url}",
        f"  Azure OpenAI v1:            OpenAI SDK base_url              {url}/openai/v1",
        f'  app environment:            shell                            eval "$(mockfiles env --url {url})"',
        f"  web console:                                                 {url}/_mockfiles/",
        "  browsers (CORS):            the API answers pages of any origin (--cors-origin ORIGIN limits it)",
        "  admin routes (/_mockfiles/*): open, no token needed (--admin-token TOKEN closes them)",
    ]


def test_serve_with_the_dashscope_profile_and_a_token() -> None:
    first, *rest = serve_lines(
        "--profile",
        "dashscope",
        "--admin-token",
        "s3cret",
        "--api-key",
        "sk-only",
        "--cors-origin",
        "http://localhost:*",
    )
    url = first.split("serving on ")[1].split()[0]
    assert first.endswith("(profile dashscope)")
    assert rest == [
        f"  OpenAI:                     OpenAI SDK base_url              {url}/v1",
        f"  DashScope compatible mode:  OpenAI SDK base_url              {url}/compatible-mode/v1  <- profile dashscope",
        f"  DashScope native API:       dashscope SDK base_http_api_url  {url}/api/v1  <- profile dashscope",
        f"  Azure OpenAI:               AzureOpenAI azure_endpoint       {url}",
        f"  Azure OpenAI v1:            OpenAI SDK base_url              {url}/openai/v1",
        f'  app environment:            shell                            eval "$(mockfiles env --url {url} --profile dashscope --api-key KEY)"',
        f"  web console:                                                 {url}/_mockfiles/",
        "  browsers (CORS):            the API answers pages of http://localhost:*",
        "  admin routes (/_mockfiles/*): need 'Authorization: Bearer <admin token>'",
    ]
    assert "s3cret" not in "\n".join(rest) and "sk-only" not in "\n".join(rest)


# --- a runtime scenario cannot take the admin routes over ---------------------------------------------


def put(server: MockFilesServer, text: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.put(server.url + "/_mockfiles/scenario", content=text, headers=headers)


def health(server: MockFilesServer, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(server.url + "/_mockfiles/health", headers=headers).status_code


def test_put_cannot_change_the_start_up_token_or_keys_and_says_so() -> None:
    with MockFilesServer(admin_token="operator", api_keys=["sk-start"], rate_limits=False) as server:
        r = put(server, "admin: {token: intruder}\nauth: {keys: [sk-other]}\nseed: 3\n", token="operator")
        assert r.status_code == 200
        ignored = r.json()["ignored"]
        assert set(ignored) == {"admin.token", "auth.keys"}
        assert "start-up" in ignored["admin.token"] and "--api-key" in ignored["auth.keys"]
        assert (health(server, "operator"), health(server, "intruder")) == (200, 401)
        assert use(server, "sk-start").files.list().data == []
        assert (
            httpx.get(server.url + "/_mockfiles/scenario", headers={"Authorization": "Bearer operator"}).json()[
                "ignored"
            ]
            == ignored
        )


def test_the_start_up_token_wins_over_the_start_up_scenarios() -> None:
    with MockFilesServer(admin_token="flag", scenario={"admin": {"token": "file"}}) as server:
        assert (health(server, "flag"), health(server, "file")) == (200, 401)
        shown = httpx.get(server.url + "/_mockfiles/scenario", headers={"Authorization": "Bearer flag"}).json()
        assert shown["ignored"] == {
            "admin.token": "the admin token given at start-up (--admin-token, admin_token=) wins"
        }


def test_put_cannot_lock_out_an_operator_who_set_no_token(mockfiles: MockFilesServer) -> None:
    r = put(mockfiles, "admin: {token: lockout}\n")
    assert r.status_code == 200 and "admin.token" in r.json()["ignored"]
    assert health(mockfiles) == 200  # still open: the operator chose no token at start-up


def test_a_start_up_scenario_token_survives_put_and_delete(tmp_path: Path) -> None:
    with MockFilesServer(scenario={"admin": {"token": "from-file"}}) as server:
        assert health(server) == 401
        assert put(server, "faults: []\n", token="from-file").json()["ignored"] == {}
        assert (health(server), health(server, "from-file")) == (401, 200)
        httpx.delete(server.url + "/_mockfiles/scenario", headers={"Authorization": "Bearer from-file"})
        assert (health(server), health(server, "from-file")) == (401, 200)
        server.use_scenario({"admin": {"token": "python"}})
        assert (health(server, "python"), health(server, "from-file")) == (401, 200)
        assert server.emulator.ignored == {
            "admin.token": "the admin token is set at start-up (--admin-token, admin_token=, or the start-up scenario); "
            "a scenario put at run time cannot change it"
        }


def test_a_put_scenario_may_change_the_keys_when_none_were_given_at_start_up(mockfiles: MockFilesServer) -> None:
    r = put(mockfiles, "auth: {keys: [sk-runtime]}\n")
    assert r.status_code == 200 and r.json()["ignored"] == {}
    assert r.json()["scenario"] == {"auth": {"keys": [key_hint("sk-runtime")]}}
    assert use(mockfiles, "sk-runtime").files.list().data == []
    with pytest.raises(openai.AuthenticationError):
        use(mockfiles, "sk-else").files.list()


@pytest.mark.parametrize("path", ["/_mockfiles/health", "/_mockfiles/requests", "/_mockfiles/retry-tests"])
@pytest.mark.parametrize(
    ("authorization", "message", "code"),
    [
        (
            None,
            "This route needs the admin token: send it as Authorization: Bearer <token> (mockfiles serve --admin-token).",
            None,
        ),
        (
            "Basic abc",
            "This route needs the admin token: send it as Authorization: Bearer <token> (mockfiles serve --admin-token).",
            None,
        ),
        ("Bearer wrong", "Incorrect admin token.", "invalid_admin_token"),
    ],
)
def test_an_admin_refusal_names_the_admin_token(
    path: str, authorization: str | None, message: str, code: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with MockFilesServer(admin_token="s3cret") as server:
        response = httpx.get(server.url + path, headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
        }
        assert "API key" not in response.text and "s3cret" not in response.text
        assert httpx.get(server.url + path, headers={"Authorization": "Bearer s3cret"}).status_code == 200
