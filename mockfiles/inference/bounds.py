"""How large a stand-in answer may be: as large as the real model's, never larger.

- **Output tokens**: a model writes at most its maximum output (OpenAI's model pages: 16,384 for
  gpt-4o and gpt-4o-mini, 32,768 for gpt-4.1, 100,000 for the o-series, 128,000 for gpt-5, 4,096 for
  gpt-3.5; 16,384 for a model not listed). ``max_tokens``, ``max_completion_tokens`` and
  ``max_output_tokens`` may ask for less, never for more: more is OpenAI's 400 ("max_tokens is too
  large: 100000. This model supports at most 16384 completion tokens, whereas you provided 100000.").
- **Choices**: ``n`` is 1 to 128 (chat, completions), as the API's schema says.
- **Images**: each model's sizes and most pictures per request (OpenAI's images reference): dall-e-2
  256, 512 or 1024 square, up to 10; dall-e-3 1024x1024, 1792x1024 or 1024x1792, exactly 1; gpt-image
  models 1024x1024, 1536x1024, 1024x1536 or ``auto``, up to 10 (a model not listed: gpt-image's).

So a request's answer is bounded whatever its input: an echo of a 1 MB message is cut at the
model's maximum, and no line asks for a 2048x2048 picture ten times.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockfiles.core.echoes import echoed

Body = Mapping[str, Any]  # a request body, read only
Refusal = tuple[str, str, str]  # a 400's message, param and code (text.invalid makes the answer)


def invalid(message: str, param: str, code: str) -> Refusal:
    return message, param, code


# (model name prefix, most output tokens), the longest prefix of a family first
MAX_OUTPUT = (
    ("gpt-3.5", 4_096),
    ("gpt-4o", 16_384),
    ("gpt-4.1", 32_768),
    ("gpt-4-turbo", 4_096),
    ("gpt-4", 8_192),
    ("gpt-5", 128_000),
    ("o1-mini", 65_536),
    ("o1", 100_000),
    ("o3", 100_000),
    ("o4", 100_000),
)
DEFAULT_MAX_OUTPUT = 16_384
MAX_CHOICES = 128
IMAGE_RULES: tuple[tuple[str, tuple[str, ...], int], ...] = (  # (model prefix, sizes, most pictures)
    ("dall-e-2", ("256x256", "512x512", "1024x1024"), 10),
    ("dall-e-3", ("1024x1024", "1792x1024", "1024x1792"), 1),
    ("gpt-image", ("1024x1024", "1536x1024", "1024x1536", "auto"), 10),
)


def max_output(model: object) -> int:
    """The most tokens a model writes in one answer."""
    name = model if isinstance(model, str) else ""
    return next((tokens for prefix, tokens in MAX_OUTPUT if name.startswith(prefix)), DEFAULT_MAX_OUTPUT)


def check_max_tokens(body: Body, *names: str) -> Refusal | None:
    """Each given limit on output tokens: an integer from 1 to the model's maximum."""
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            return invalid(f"Invalid type for '{name}': expected an integer.", name, "invalid_type")
        if value < 1:
            below = f"Expected a value >= 1, but got {echoed(value)} instead."
            return invalid(f"Invalid '{name}': integer below minimum value. {below}", name, "integer_below_min_value")
        most = max_output(body.get("model"))
        if value > most:
            shown = echoed(value)
            return invalid(
                f"{name} is too large: {shown}. This model supports at most {most} completion tokens, "
                f"whereas you provided {shown}.",
                name,
                "invalid_value",
            )
    return None


def output_limit(body: Body, *names: str) -> int:
    """The output tokens an answer may take: the first limit given, else the model's maximum."""
    for name in names:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return min(value, max_output(body.get("model")))
    return max_output(body.get("model"))


def check_n(body: Body) -> Refusal | None:
    n = body.get("n", 1)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CHOICES:
        return invalid(
            f"Invalid 'n': expected an integer between 1 and {MAX_CHOICES}, got {echoed(n)!r}.", "n", "invalid_value"
        )
    return None


def image_rules(model: object) -> tuple[tuple[str, ...], int]:
    """A model's image sizes and its most pictures per request."""
    name = model if isinstance(model, str) else ""
    for prefix, sizes, most in IMAGE_RULES:
        if name.startswith(prefix):
            return sizes, most
    return IMAGE_RULES[-1][1], IMAGE_RULES[-1][2]


def check_image_request(body: Body) -> Refusal | None:
    """``n`` and ``size`` as the model takes them."""
    sizes, most = image_rules(body.get("model"))
    n = body.get("n", 1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        wanted = f"expected an integer between 1 and {most}, got {echoed(n)!r}"
        return invalid(f"Invalid 'n': {wanted}.", "n", "invalid_value")
    if n > most:
        if most == 1:
            return invalid("You must provide n=1 for this model.", "n", "invalid_value")
        return invalid(
            f"Invalid 'n': integer above maximum value. Expected a value <= {most}, but got {echoed(n)} instead.",
            "n",
            "integer_above_max_value",
        )
    size: Any = body.get("size")
    if size is not None and size not in sizes:
        listed = ", ".join(f"'{s}'" for s in sizes[:-1]) + f", and '{sizes[-1]}'"
        shown = echoed(str(size))
        return invalid(f"Invalid value: '{shown}'. Supported values are: {listed}.", "size", "invalid_value")
    return None


def image_size(body: Body) -> tuple[int, int]:
    """The pixels of an accepted request's pictures (``auto`` and none: 1024x1024)."""
    size = body.get("size")
    if not isinstance(size, str) or size == "auto":
        return 1024, 1024
    width, _, height = size.partition("x")
    return int(width), int(height)
