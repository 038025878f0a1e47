"""Running the official ``openai`` npm client (tests/node) from the Python tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parents[1] / "node"  # tests/node
NODE = shutil.which("node")


def node_missing() -> str | None:
    """Why the Node client cannot run here, or None when it can: what is missing, and the command
    that brings it (tests/support/skips.py gathers these into the run's last lines)."""
    if NODE is None:
        return "node is not installed (as root: apt-get install nodejs npm; then: cd tests/node && npm ci)"
    if not (HERE / "node_modules" / "openai").is_dir():
        return "tests/node/node_modules is missing (cd tests/node && npm ci)"
    return None


requires_node = pytest.mark.skipif(node_missing() is not None, reason=node_missing() or "")


def node_uploads(
    base_url: str, api_key: str, uploads: list[dict[str, Any]], max_retries: int = 0
) -> dict[str, list[Any]]:
    """What the Node client saw: ``uploads``, for each upload {"ok", "status", "id" | "error",
    "message"}; ``responses``, the status of every response its fetch got, retries included
    (None for a connection that failed)."""
    spec = {"base_url": base_url, "api_key": api_key, "max_retries": max_retries, "uploads": uploads}
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HERE / "upload.mjs"), json.dumps(spec)], capture_output=True, text=True, timeout=120, cwd=HERE
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, list[Any]] = json.loads(done.stdout)
    return results
