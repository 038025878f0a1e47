"""Application code that builds its own clients finds the emulator by itself: the ``mockfiles_env``
fixture (set for one test, put back after it), ``server.environment()`` / ``patch_environment()``,
and ``mockfiles env`` (``eval "$(mockfiles env)"``), each tried with app code that never says
mockfiles: the openai SDK (sync and async), the dashscope SDK, and the Node SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dashscope
import pytest

from mockfiles import MockFilesServer
from mockfiles.environment import CLIENTS
from tests.http.server.test_serve_harness import spawn, stop, wait_for
from tests.support.node_clients import HERE as NODE_DIR
from tests.support.node_clients import NODE, requires_node

pytest_plugins = ["pytester"]
MOCKFILES = (sys.executable, "-m", "mockfiles")
VARIABLES = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_COMPATIBLE_BASE_URL")
VARIABLES += ("DASHSCOPE_API_KEY",)

# Application code: it builds its own clients from the environment, and never mentions mockfiles.
APP = """
import asyncio

import dashscope
from openai import AsyncOpenAI, OpenAI


def upload_report(name: str, data: bytes, purpose: str = "assistants") -> str:
    return OpenAI().files.create(file=(name, data), purpose=purpose).id


def report_names() -> list[str]:
    return sorted(f.filename for f in OpenAI().files.list())


def count_async() -> int:
    async def count() -> int:
        return len([f async for f in AsyncOpenAI().files.list()])

    return asyncio.run(count())


def upload_document(path: str) -> str:
    answer = dashscope.Files.upload(file_path=path, purpose="file-extract")
    assert answer.status_code == 200, answer
    return answer.output["uploaded_files"][0]["file_id"]
"""

DOWNSTREAM = """
import os

import dashscope
import pytest

import app


def test_app_code_reaches_the_emulator(mockfiles_env):
    file_id = app.upload_report("report.txt", b"quarterly numbers")
    assert app.report_names() == ["report.txt"]
    assert app.count_async() == 1
    [entry] = mockfiles_env.requests("files.create")
    assert entry["file_id"] == file_id and entry["account"] == mockfiles_env.account_id(mockfiles_env.api_key)
    assert mockfiles_env.client().files.content(file_id).read() == b"quarterly numbers"


@pytest.mark.mockfiles(profile="dashscope")
def test_the_dashscope_sdk_too(mockfiles_env, tmp_path):
    document = tmp_path / "notes.txt"
    document.write_text("hello")
    file_id = app.upload_document(str(document))
    assert [e["dialect"] for e in mockfiles_env.requests()] == ["dashscope-native"]
    assert app.report_names() == ["notes.txt"]  # the same account, seen through /v1
    assert file_id == mockfiles_env.requests()[0]["file_id"]


@pytest.mark.mockfiles(profile="dashscope")
def test_a_dashscope_profile_points_the_openai_sdk_at_compatible_mode(mockfiles_env):
    assert os.environ["OPENAI_BASE_URL"].endswith("/compatible-mode/v1")
    app.upload_report("doc.txt", b"text", purpose="file-extract")
    assert mockfiles_env.requests()[0]["dialect"] == "dashscope-compatible"


@pytest.mark.mockfiles(api_keys=["sk-configured"])
def test_the_key_is_one_the_server_accepts(mockfiles_env):
    assert os.environ["OPENAI_API_KEY"] == "sk-configured" == dashscope.api_key
    assert app.report_names() == []


def test_after_those_tests_everything_is_as_it_was():
    assert os.environ["OPENAI_BASE_URL"] == "https://example.invalid/v1"
    assert os.environ["OPENAI_API_KEY"] == "sk-the-developers-own"
    for name in ("DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_COMPATIBLE_BASE_URL", "DASHSCOPE_API_KEY"):
        assert name not in os.environ
    assert dashscope.base_http_api_url == "https://dashscope.aliyuncs.com/api/v1"
    assert dashscope.api_key is None


def test_the_plain_fixture_sets_nothing(mockfiles):
    assert os.environ["OPENAI_BASE_URL"] == "https://example.invalid/v1"
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_the_fixture_points_app_code_at_the_emulator_and_puts_everything_back(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://example.invalid/v1")  # a developer's own settings
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-developers-own")
    for name in ("DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_COMPATIBLE_BASE_URL", "DASHSCOPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(app=APP, test_app=DOWNSTREAM)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", *workers)
    result.assert_outcomes(passed=6)


def test_the_server_gives_its_environment_and_patches_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-before")
    before = (dashscope.base_http_api_url, dashscope.base_compatible_api_url, dashscope.api_key)
    with MockFilesServer(profile="dashscope", api_keys=["sk-k"]) as server:
        wanted = server.environment()
        assert wanted == {
            "OPENAI_BASE_URL": server.url + "/compatible-mode/v1",
            "OPENAI_API_KEY": "sk-k",
            "DASHSCOPE_HTTP_BASE_URL": server.url + "/api/v1",
            "DASHSCOPE_COMPATIBLE_BASE_URL": server.url + "/compatible-mode/v1",
            "DASHSCOPE_API_KEY": "sk-k",
        }
        with server.patch_environment() as patched:
            assert patched == wanted
            assert {name: os.environ[name] for name in wanted} == wanted
            assert dashscope.base_http_api_url == server.url + "/api/v1"
            assert (dashscope.base_compatible_api_url, dashscope.api_key) == (
                server.url + "/compatible-mode/v1",
                "sk-k",
            )
            from openai import OpenAI

            assert OpenAI().files.list().data == []  # the SDK's own defaults, from the environment
        assert "OPENAI_BASE_URL" not in os.environ and os.environ["DASHSCOPE_API_KEY"] == "sk-before"
        assert (dashscope.base_http_api_url, dashscope.base_compatible_api_url, dashscope.api_key) == before


def test_every_client_library_is_one_entry() -> None:
    assert [client.name for client in CLIENTS] == ["openai", "dashscope"]


# --- mockfiles env ---------------------------------------------------------------------------------


def env(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*MOCKFILES, "env", *args], capture_output=True, text=True, timeout=60)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def test_env_prints_shell_exports_for_the_default_server() -> None:
    assert env().stdout == (
        "export OPENAI_BASE_URL=http://127.0.0.1:8000/v1\n"
        "export OPENAI_API_KEY=sk-mockfiles-test\n"
        "export DASHSCOPE_HTTP_BASE_URL=http://127.0.0.1:8000/api/v1\n"
        "export DASHSCOPE_COMPATIBLE_BASE_URL=http://127.0.0.1:8000/compatible-mode/v1\n"
        "export DASHSCOPE_API_KEY=sk-mockfiles-test\n"
    )


HOSTILE_KEY = 'sk-it\'s a "key" with $HOME, `cmd` and \\ in it'


def test_sh_exports_survive_eval_whatever_the_key() -> None:
    script = 'eval "$(' + " ".join(MOCKFILES) + ' env --port 9123 --api-key "$1")"; env'
    done = subprocess.run(["sh", "-c", script, "sh", HOSTILE_KEY], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = dict(line.split("=", 1) for line in done.stdout.splitlines() if line.startswith(VARIABLES))
    assert seen["OPENAI_API_KEY"] == seen["DASHSCOPE_API_KEY"] == HOSTILE_KEY
    assert seen["OPENAI_BASE_URL"] == "http://127.0.0.1:9123/v1"


def test_the_other_forms() -> None:
    assert (
        env("--format", "fish", "--port", "1").stdout.splitlines()[0]
        == "set -gx OPENAI_BASE_URL 'http://127.0.0.1:1/v1';"
    )
    # in fish's single quotes only \\ and \' are escapes
    assert (
        env("--format", "fish", "--api-key", "a'b\\c").stdout.splitlines()[1] == "set -gx OPENAI_API_KEY 'a\\'b\\\\c';"
    )
    assert env("--format", "powershell", "--api-key", "it's").stdout.splitlines()[1] == "$env:OPENAI_API_KEY = 'it''s'"
    assert env("--format", "dotenv", "--api-key", 'a "b"').stdout.splitlines()[:2] == [
        "OPENAI_BASE_URL=http://127.0.0.1:8000/v1",
        'OPENAI_API_KEY="a \\"b\\""',
    ]
    assert env("--unset").stdout.split() == ["unset", *" unset ".join(VARIABLES).split()]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "http://127.0.0.1:8000/v1"], "--url is the server's root (http://127.0.0.1:8000), not a base URL"),
        (["--url", "127.0.0.1:8000"], "--url must be an http:// or https:// URL, got '127.0.0.1:8000'"),
        (["--port", "70000"], "--port must be 1–65535, got 70000"),
        (["--api-key", ""], "--api-key must not be empty"),
        (["--ready-file", "/nonexistent/ready.json"], "no ready file at /nonexistent/ready.json"),
        (["--unset", "--format", "dotenv"], "--unset needs a shell"),
        (["--", "/nonexistent/app"], "cannot run /nonexistent/app"),
    ],
)
def test_env_refuses_what_cannot_work(args: list[str], message: str) -> None:
    done = env(*args, check=False)
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.startswith("mockfiles env: ") and message in done.stderr
    assert "Traceback" not in done.stderr


def test_env_from_the_ready_file_and_app_code_in_a_shell(tmp_path: Path) -> None:
    """A developer's loop: `mockfiles serve` in one terminal, `eval "$(mockfiles env)"` and the app in another."""
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "main.py").write_text(
        "import app\n"
        "print(app.upload_report('a.txt', b'abc', 'file-extract'))\n"
        "print(app.report_names(), app.count_async())\n"
    )
    ready = tmp_path / "ready.json"
    process = spawn("--quiet", "--ready-file", str(ready), "--profile", "dashscope")
    try:
        url = wait_for(ready, process)["url"]
        assert wait_for(ready, process)["environment"]["OPENAI_BASE_URL"] == url + "/compatible-mode/v1"
        script = f'eval "$({" ".join(MOCKFILES)} env --ready-file {ready})" && {sys.executable} main.py'
        done = subprocess.run(
            ["sh", "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=clean()
        )
        assert done.returncode == 0, done.stderr
        file_id, listed = done.stdout.splitlines()
        assert file_id.startswith("file-fe-") and listed == "['a.txt'] 1"  # the dashscope profile's ids
        ran = subprocess.run(
            [*MOCKFILES, "env", "--url", url, "--", sys.executable, "-c", "import app; print(app.report_names())"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=clean(),
        )
        assert ran.returncode == 0 and ran.stdout == "['a.txt']\n", ran.stderr
    finally:
        stop(process)


def clean() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DASHSCOPE_"))}


NODE_APP = """
import OpenAI from "openai";
const client = new OpenAI(); // OPENAI_BASE_URL and OPENAI_API_KEY, as the SDK reads them
const file = await client.files.create({ file: new File(["from node"], "node.txt"), purpose: "assistants" });
const names = [];
for await (const f of client.files.list()) names.push(f.filename);
console.log(JSON.stringify({ id: file.id, names }));
"""


@requires_node
def test_node_app_code_with_the_shell_environment(tmp_path: Path) -> None:
    app = NODE_DIR / f"app-{os.getpid()}.mjs"  # beside node_modules, so that "openai" resolves
    app.write_text(NODE_APP)
    with MockFilesServer(rate_limits=False) as server:
        try:
            script = f'eval "$({" ".join(MOCKFILES)} env --url {server.url})" && {NODE} {app}'
            done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=120, env=clean())
        finally:
            app.unlink()
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert answer["names"] == ["node.txt"]
        assert server.requests("files.create")[0]["file_id"] == answer["id"]
        assert server.requests()[0]["key"] == "sk-m…test"
