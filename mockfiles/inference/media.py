"""Deterministic stand-ins for the endpoints that answer with something other than text:
embeddings (vectors), moderations (scores) and images (PNG pictures).

Vectors derive from a hash of the model and the input: the same text always gets the same
unit vector, two texts get unrelated ones. A shortened vector (``dimensions``) is the full
one cut and renormalised, as OpenAI's text-embedding-3 models do.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import struct
import sys
import zlib
from array import array
from typing import Any

from mockfiles.inference import bounds
from mockfiles.inference.text import Answer, Payload, content_text, invalid, token, tokens

# Native dimensions per model (OpenAI's embeddings guide; DashScope's text-embedding docs).
EMBEDDING_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    "text-embedding-v4": 1024,
    "text-embedding-v3": 1024,
    "text-embedding-v2": 1536,
    "text-embedding-v1": 1536,
}
DEFAULT_DIMENSIONS = 1536
FIXED_DIMENSIONS = ("text-embedding-ada-002",)  # models that refuse `dimensions`
BAD_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."

MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
IMAGE_CATEGORIES = frozenset(
    {"self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "violence", "violence/graphic"}
)
DEFAULT_MODERATION_MODEL = "omni-moderation-latest"

IMAGE_TOKENS_PER_MEGAPIXEL = 1056  # gpt-image-1, medium quality, 1024x1024
PALETTE = (0x4C72B0, 0xDD8452, 0x55A868, 0xC44E52, 0x8172B3, 0x937860, 0xDA8BC3, 0x8C8C8C)


# --- /v1/embeddings ----------------------------------------------------------------------------


def _inputs(value: Any) -> list[Any] | None:
    """The inputs of a request: strings or token arrays; None when the input is unusable."""
    if isinstance(value, str):
        return [value] if value else None
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [value]
    if all(isinstance(v, str) and v for v in value) or all(isinstance(v, list) and v for v in value):
        return value
    return None


def check_embeddings(body: Payload) -> Answer | None:
    if body.get("input") is None:
        return invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if _inputs(body["input"]) is None:
        return invalid(BAD_INPUT, "input")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        return invalid(f"Invalid value: '{fmt}'. Supported values are: 'float' and 'base64'.", "encoding_format")
    if "dimensions" in body and body["dimensions"] is not None:
        model, wanted = body["model"], body["dimensions"]
        native = EMBEDDING_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
        if model in FIXED_DIMENSIONS:
            return invalid("This model does not support specifying dimensions.", "dimensions")
        if isinstance(wanted, bool) or not isinstance(wanted, int) or not 1 <= wanted <= native:
            return invalid(
                f"Invalid value for 'dimensions': expected an integer between 1 and {native}, got {wanted!r}.",
                "dimensions",
                "invalid_value",
            )
    return None


def vector(model: str, key: str, dimensions: int) -> list[float]:
    """A unit vector from a hash of the model and the input; shortened ones are the full one cut."""
    native = EMBEDDING_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
    values = array("h")
    values.frombytes(hashlib.shake_256(f"{model}\0{key}".encode()).digest(2 * native)[: 2 * dimensions])
    if sys.byteorder == "big":
        values.byteswap()  # the same vectors on every machine
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def embeddings(body: Payload, ident: bytes, created: int) -> Payload:
    model: str = body["model"]
    inputs = _inputs(body["input"]) or []
    dimensions = body.get("dimensions") or EMBEDDING_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    prompt = 0
    for i, item in enumerate(inputs):
        key = item if isinstance(item, str) else json.dumps(item)
        prompt += tokens(item) if isinstance(item, str) else len(item)
        values = vector(model, key, dimensions)
        embedding: Any = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode() if as_base64 else values
        data.append({"object": "embedding", "index": i, "embedding": embedding})
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": prompt, "total_tokens": prompt}}


# --- /v1/moderations -----------------------------------------------------------------------------


def check_moderations(body: Payload) -> Answer | None:
    given = body.get("input")
    if given is None:
        return invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if not isinstance(given, (str, list)) or (isinstance(given, list) and not given):
        return invalid(BAD_INPUT, "input")
    return None


def moderations(body: Payload, ident: bytes, created: int) -> Payload:
    given = body["input"]
    if isinstance(given, list) and given and all(isinstance(part, dict) for part in given):
        text, extra = content_text(given)
        results = [_moderation(text, with_image=extra > 0)]  # one multimodal input, one result
    else:
        items = given if isinstance(given, list) else [given]
        results = [_moderation(item if isinstance(item, str) else json.dumps(item), False) for item in items]
    model = body.get("model") or DEFAULT_MODERATION_MODEL
    return {"id": "modr-" + token(ident, "moderation", "0123456789abcdef", 32), "model": model, "results": results}


def _moderation(text: str, with_image: bool) -> dict[str, Any]:
    """Nothing flagged; tiny scores derived from the text."""
    raw = hashlib.shake_256(text.encode()).digest(2 * len(MODERATION_CATEGORIES))
    scores = {
        name: round((raw[2 * i] * 256 + raw[2 * i + 1]) / 65535 * 1e-3, 8)
        for i, name in enumerate(MODERATION_CATEGORIES)
    }
    applied = {
        name: ["text", "image"] if with_image and name in IMAGE_CATEGORIES else ["text"]
        for name in MODERATION_CATEGORIES
    }
    return {
        "flagged": False,
        "categories": dict.fromkeys(MODERATION_CATEGORIES, False),
        "category_scores": scores,
        "category_applied_input_types": applied,
    }


# --- /v1/images/generations and /v1/images/edits -------------------------------------------------


def check_images(body: Payload) -> Answer | None:
    prompt = body.get("prompt")
    if prompt is None:
        return invalid("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    if not isinstance(prompt, str) or not prompt:
        return invalid("Invalid 'prompt': expected a non-empty string.", "prompt", "invalid_value")
    refusal = bounds.check_image_request(body)
    return None if refusal is None else invalid(*refusal)


def images(body: Payload, ident: bytes, created: int) -> Payload:
    """``n`` single-colour PNGs of the requested size, the colour chosen by the prompt."""
    model = str(body.get("model") or "")
    width, height = bounds.image_size(body)
    n: int = body.get("n", 1)
    colour = PALETTE[hashlib.sha256(body["prompt"].encode()).digest()[0] % len(PALETTE)]
    picture = png_base64(width, height, colour)
    out: Payload = {"created": created, "data": [{"b64_json": picture} for _ in range(n)]}
    if model.startswith("gpt-image"):
        text = tokens(body["prompt"])
        images = body.get("image")
        given = IMAGE_TOKENS_PER_MEGAPIXEL * (len(images) if isinstance(images, list) else 1 if images else 0)
        output = n * max(1, round(IMAGE_TOKENS_PER_MEGAPIXEL * width * height / (1024 * 1024)))
        out.update(
            background=body.get("background") if body.get("background") in ("transparent", "opaque") else "opaque",
            output_format="png",
            quality=body.get("quality") if body.get("quality") in ("low", "medium", "high") else "medium",
            size=f"{width}x{height}",
            usage={
                "input_tokens": text + given,
                "input_tokens_details": {"image_tokens": given, "text_tokens": text},
                "output_tokens": output,
                "total_tokens": text + given + output,
            },
        )
    return out


@functools.lru_cache(maxsize=16)
def png_base64(width: int, height: int, colour: int) -> str:
    """A single-colour PNG, base64 encoded: one bit per pixel and a palette of that one colour, so
    that even a 1792x1024 picture is a few hundred bytes (a real one is megabytes; a stand-in need
    only decode to the right size and colour)."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then every pixel palette index 0
    header = struct.pack(">IIBBBBB", width, height, 1, 3, 0, 0, 0)  # 1 bit, indexed colour
    png = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"PLTE", colour.to_bytes(3, "big"))
        + _png_chunk(b"IDAT", zlib.compress(row * height, 9))
        + _png_chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
