"""JSON responses, encoded by orjson.

On the hot path the standard library's encoder cost more than everything else a
retrieve does (about 6 µs for one file object, against 0.5 µs); the output is the
same compact UTF-8 JSON.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
