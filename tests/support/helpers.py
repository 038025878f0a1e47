"""Helpers the tests share: batch input lines and files, and a raw multipart upload."""

from __future__ import annotations

import json

import httpx


def batch_line(custom_id: str, url: str = "/v1/chat/completions", model: str = "gpt-4o-mini") -> dict[str, object]:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": {"model": model, "messages": []}}


def jsonl(*objects: object) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


def batch_file(n: int = 2) -> bytes:
    return jsonl(*(batch_line(str(i)) for i in range(n)))


def upload(
    http: httpx.Client, content: bytes = b"hello", purpose: str = "assistants", filename: str = "a.txt", **data: str
) -> httpx.Response:
    return http.post("/v1/files", files={"file": (filename, content)}, data={"purpose": purpose, **data})


WEB_FRAMEWORKS = {"starlette", "uvicorn", "multipart", "python_multipart", "orjson", "httptools", "uvloop", "httpx"}


def imported_modules(module: str, seen: set[str] | None = None) -> set[str]:
    """The top-level names of every module ``module`` (``mockfiles.batches.service``) imports,
    following the package's own modules to theirs (read from the source, nothing is imported)."""
    import ast
    from pathlib import Path

    seen = set() if seen is None else seen
    seen.add(module)
    root = Path(__file__).parents[2]
    path = root / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = root / module.replace(".", "/") / "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
        names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
        for name in names:
            if name.startswith("mockfiles.") or name == "mockfiles":
                if name not in seen:
                    found |= imported_modules(name, seen)
            else:
                found.add(name.split(".")[0])
    return found
