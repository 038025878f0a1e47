"""JSON responses, encoded with one reused encoder.

Starlette's JSONResponse passes non-default options to ``json.dumps``, which then
builds a new encoder for every response; on the hot path that is measurable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class JSONResponse(Response):
    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(_encode(content).encode("utf-8"), status_code, headers)
