"""The layers: the domain imports no web framework, not even through the package, and the
package imports its server only when it is asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mockfiles

WEB = ("starlette", "uvicorn", "multipart", "python_multipart", "orjson", "httptools", "uvloop", "httpx")
DOMAIN = (
    "accounts",
    "attempts",
    "auth",
    "batch_input",
    "batch_params",
    "batch_run",
    "batch_scenario",
    "batch_store",
    "batch_timeline",
    "batches",
    "calls",
    "chaos",
    "clock",
    "decisions",
    "digest",
    "document",
    "emulator",
    "endpoints",
    "error_table",
    "errors",
    "faults",
    "ids",
    "inference",
    "inference_media",
    "journal",
    "lifecycle",
    "located",
    "profiles",
    "ratelimit",
    "record",
    "retry_cases",
    "retry_instructions",
    "retry_report",
    "retry_tests",
    "scenario",
    "store",
    "timeouts",
    "units",
    "upload_requests",
    "uploads",
    "validation",
    "verdicts",
    "version",
    "wording",
    "cli",
)
REPORT = """
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({web!r}))
print(",".join(loaded))
"""
CHECK = "import sys, {module}" + REPORT


def loaded_after(statement: str) -> str:
    result = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.rstrip("\n")


def test_no_domain_module_loads_a_web_framework() -> None:
    imports = "; ".join(f"import mockfiles.{m}" for m in DOMAIN)
    assert (
        loaded_after(
            CHECK.format(module="mockfiles", web=WEB).replace("import sys, mockfiles", f"import sys; {imports}")
        )
        == ""
    )


@pytest.mark.parametrize("module", ["mockfiles", "mockfiles.store", "mockfiles.emulator", "mockfiles.cli"])
def test_importing_loads_no_web_framework(module: str) -> None:
    assert loaded_after(CHECK.format(module=module, web=WEB)) == ""


def test_the_server_is_imported_when_first_asked_for() -> None:
    statement = CHECK.format(module="mockfiles", web=WEB) + "mockfiles.MockFilesServer" + REPORT.format(web=WEB)
    before, after = loaded_after(statement).split("\n")
    assert before == "" and "starlette" in after and "uvicorn" in after


def test_the_packages_names() -> None:
    assert mockfiles.__version__ == "0.1.0" and set(mockfiles.__all__) <= set(dir(mockfiles))
    assert mockfiles.MockFilesServer.__module__ == "mockfiles.server"
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        mockfiles.nothing  # noqa: B018
