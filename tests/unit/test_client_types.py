"""What a user's ``mypy --strict`` sees of the clients a server makes: the openai SDK's own types."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

USER_CODE = """
from mockfiles import MockFilesServer

def use(server: MockFilesServer) -> None:
    reveal_type(server.client())
    reveal_type(server.async_client())
    reveal_type(server.azure_client())
    reveal_type(server.async_azure_client())
    reveal_type(server.requests("files.create"))
    reveal_type(server.calls())
    files = server.client().files.list()
    files.data[0].not_a_field
"""


def test_a_users_strict_mypy_sees_the_sdk_types(tmp_path: Path) -> None:
    code = tmp_path / "user_code.py"
    code.write_text(textwrap.dedent(USER_CODE))
    out, _, status = api.run(["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(code)])
    revealed = [line.split("Revealed type is ")[1] for line in out.splitlines() if "Revealed type is" in line]
    names = [shown.strip('"').rsplit(".", 1)[-1] for shown in revealed[:4]]
    assert names == ["OpenAI", "AsyncOpenAI", "AzureOpenAI", "AsyncAzureOpenAI"], out
    assert all(shown.strip('"').startswith("openai.") for shown in revealed[:4]), out
    assert revealed[4] == '"list[dict[str, Any]]"' and revealed[5].startswith('"list[TypedDict('), out
    assert '"FileObject" has no attribute "not_a_field"' in out, out  # the SDK's model, not Any
    assert status == 1
