"""The layers: the domain imports no web framework, not even through the package, and the
package imports its server only when it is asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mockfiles

WEB = ("starlette", "uvicorn", "multipart", "python_multipart", "orjson", "httptools", "uvloop", "httpx")
EDGE = ("mockfiles.web", "mockfiles.inprocess", "mockfiles.server")  # the only places that may load one


def domain_modules() -> list[str]:
    """Every module of the package outside the edge, found from the folders."""
    root = Path(mockfiles.__file__).parent
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name != "mockfiles.__main__" and not name.startswith(EDGE):
            names.append(name)
    return names


REPORT = """
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({web!r}))
print(",".join(loaded))
"""
CHECK = "import sys, {module}" + REPORT


def loaded_after(statement: str) -> str:
    result = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.rstrip("\n")


def test_no_domain_module_loads_a_web_framework() -> None:
    modules = domain_modules()
    assert {"mockfiles.files.service", "mockfiles.batches.service", "mockfiles.emulator", "mockfiles.cli"} <= set(
        modules
    )
    imports = "; ".join(f"import {m}" for m in modules)
    assert (
        loaded_after(
            CHECK.format(module="mockfiles", web=WEB).replace("import sys, mockfiles", f"import sys; {imports}")
        )
        == ""
    )


@pytest.mark.parametrize("module", ["mockfiles", "mockfiles.files.store", "mockfiles.emulator", "mockfiles.cli"])
def test_importing_loads_no_web_framework(module: str) -> None:
    assert loaded_after(CHECK.format(module=module, web=WEB)) == ""


def test_the_server_is_imported_when_first_asked_for() -> None:
    statement = CHECK.format(module="mockfiles", web=WEB) + "mockfiles.MockFilesServer" + REPORT.format(web=WEB)
    before, after = loaded_after(statement).split("\n")
    assert before == "" and "starlette" in after and "uvicorn" in after


def test_the_packages_names() -> None:
    assert mockfiles.__version__ == "0.1.0" and set(mockfiles.__all__) <= set(dir(mockfiles))
    assert mockfiles.MockFilesServer.__module__ == "mockfiles.server"
    family = (mockfiles.ScenarioError, mockfiles.StartupError, mockfiles.RetryConformanceError)
    assert all(issubclass(e, mockfiles.MockFilesException) for e in family)
    assert issubclass(mockfiles.ScenarioError, ValueError) and issubclass(
        mockfiles.RetryConformanceError, AssertionError
    )
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        mockfiles.nothing  # noqa: B018


def test_each_module_reads_in_one_sitting() -> None:
    """No module of the package is longer than 400 lines."""
    root = Path(mockfiles.__file__).parent
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
