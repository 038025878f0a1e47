"""Deterministic stand-ins for the model endpoints a batch runs and the model routes answer.

Each request body gives the same response body every time: the text and vectors derive from the
input (and the files it names, inference/documents.py) only, the ids from ``ident`` (the batch and
the line, or the request), the timestamps from ``created``. Nothing here is random. The shapes are
the ones the openai SDK types (``ChatCompletion``, ``Response``, ``Completion``, ``ModerationCreateResponse``,
``CreateEmbeddingResponse``, ``ImagesResponse``); tests validate them with those models. Token counts
are estimates: about 4 characters of English per token, one per character of other scripts.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockfiles.inference import bounds
from mockfiles.inference.documents import Document, describe

Payload = dict[str, Any]
HEX = "0123456789abcdef"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
IMAGE_PART_TOKENS = 85  # a low-detail image part
COMPLETIONS_DEFAULT_MAX_TOKENS = 16  # the legacy completions endpoint's documented default
CHAT_LIMITS = ("max_completion_tokens", "max_tokens")  # the first one given applies
COMPLETION_DETAILS = ("reasoning_tokens", "audio_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens")


@dataclass(frozen=True, slots=True)
class Answer:
    """What one request got: a status and a body (an error envelope when status >= 400)."""

    status: int
    body: Payload

    @property
    def ok(self) -> bool:
        return self.status < 400


def invalid(message: str, param: str | None = None, code: str | None = None) -> Answer:
    """A 400 in OpenAI's error envelope."""
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return Answer(400, {"error": error})


def token(ident: bytes, tag: str, alphabet: str, length: int) -> str:
    """``length`` characters of ``alphabet`` derived from ``ident`` and ``tag``: stable ids."""
    return hashlib.shake_256(ident + tag.encode()).digest(length).translate(_table(alphabet)).decode()


@functools.cache
def _table(alphabet: str) -> bytes:
    """A bytes.translate table mapping every byte onto the alphabet (an id per line: fast)."""
    return bytes(ord(alphabet[b % len(alphabet)]) for b in range(256))


def tokens(text: str) -> int:
    """Estimated tokens of a text: ASCII at 4 characters per token, anything else at 1."""
    if not text:
        return 0
    ascii_count = len(text.encode("ascii", "ignore"))
    return max(1, -(-ascii_count // 4) + len(text) - ascii_count)


def truncate(text: str, limit: int) -> str:
    """The longest prefix of ``text`` (roughly) within ``limit`` tokens."""
    cut = text[: limit * 4]
    return cut if tokens(cut) <= limit else text[:limit]


def content_text(content: Any) -> tuple[str, int]:
    """The text of a message's content (a string or a list of parts) and the tokens of its
    non-text parts (images, audio)."""
    if isinstance(content, str):
        return content, 0
    texts: list[str] = []
    extra = 0
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, dict) and part.get("type") not in ("file", "input_file"):  # files: their documents
                extra += IMAGE_PART_TOKENS
    return "\n".join(texts), extra


def reply_to(text: str, documents: Sequence[Document] = ()) -> str:
    """The assistant's answer: a line naming each file the request read (its id, name, size, word
    count and first line: documents.describe), then the last user text, echoed, so that a test can
    tell which request (and which files) an answer belongs to."""
    return "\n".join([*(describe(d) for d in documents), f"Echo: {text}"])


def structured(fmt: Any, text: str) -> str | None:
    """The reply as JSON when the request asked for JSON output, else None."""
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_object":
        return json.dumps({"reply": text}, ensure_ascii=False)
    if fmt.get("type") == "json_schema":
        schema = fmt.get("schema") if "schema" in fmt else (fmt.get("json_schema") or {}).get("schema")
        return json.dumps(instance(schema, text), ensure_ascii=False)
    return None


def instance(schema: Any, text: str, depth: int = 0) -> Any:
    """A small value that fits a JSON Schema (types, enum, const, properties, items, anyOf)."""
    if not isinstance(schema, dict) or depth > 8:
        return text
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for union in ("anyOf", "oneOf"):
        if isinstance(schema.get(union), list) and schema[union]:
            return instance(schema[union][0], text, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return {}
        return {name: instance(sub, text, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        return [instance(schema.get("items"), text, depth + 1)]
    return {"integer": 0, "number": 0.0, "boolean": False, "null": None}.get(str(kind), text)


def fingerprint(model: str) -> str:
    return "fp_" + hashlib.sha256(model.encode()).hexdigest()[:10]


# --- /v1/chat/completions ----------------------------------------------------------------------


def check_chat(body: Payload) -> Answer | None:
    messages = body.get("messages")
    if messages is None:
        return invalid("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not isinstance(messages, list) or not messages:
        return invalid("Invalid 'messages': expected a non-empty array of messages.", "messages", "invalid_value")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            return invalid(
                f"Invalid 'messages[{i}]': expected an object with a role.", f"messages[{i}]", "invalid_type"
            )
    return refused(bounds.check_n(body) or bounds.check_max_tokens(body, *CHAT_LIMITS))


def refused(refusal: bounds.Refusal | None) -> Answer | None:
    return None if refusal is None else invalid(*refusal)


def chat(body: Payload, ident: bytes, created: int, documents: Sequence[Document] = ()) -> Payload:
    messages: list[dict[str, Any]] = body["messages"]
    prompt = 3  # every reply is primed with <|start|>assistant<|message|>
    last = ""
    for message in messages:
        text, extra = content_text(message.get("content"))
        prompt += 3 + tokens(message["role"]) + tokens(text) + extra + (1 if "name" in message else 0)
        if message["role"] == "user" or not last:
            last = text
    prompt += sum(d.tokens for d in documents)
    reply = structured(body.get("response_format"), last) or reply_to(last, documents)
    limit = bounds.output_limit(body, *CHAT_LIMITS)
    return chat_body(body["model"], reply, prompt, limit, body.get("n", 1), ident, created)


def chat_body(model: str, reply: str, prompt: int, limit: Any, n: int, ident: bytes, created: int) -> Payload:
    """A ``ChatCompletion`` of ``n`` choices answering ``reply`` (cut to ``limit`` tokens)."""
    reply, completion, finish = limited(reply, limit)
    choices: list[dict[str, Any]] = [
        {
            "index": i,
            "message": {"role": "assistant", "content": reply, "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": finish,
        }
        for i in range(n)
    ]
    return {
        "id": "chatcmpl-" + token(ident, "chat", BASE62, 29),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion * n,
            "total_tokens": prompt + completion * n,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": dict.fromkeys(COMPLETION_DETAILS, 0),
        },
        "service_tier": "default",
        "system_fingerprint": fingerprint(model),
    }


def limited(reply: str, limit: Any) -> tuple[str, int, str]:
    """The reply cut to a max-tokens limit: (text, tokens, finish reason)."""
    count = tokens(reply)
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < count:
        reply = truncate(reply, limit)
        return reply, tokens(reply), "length"
    return reply, count, "stop"


# --- /v1/responses -------------------------------------------------------------------------------


def check_responses(body: Payload) -> Answer | None:
    if "input" not in body and "prompt" not in body:
        return invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    return refused(bounds.check_max_tokens(body, "max_output_tokens"))


def responses(body: Payload, ident: bytes, created: int, documents: Sequence[Document] = ()) -> Payload:
    items = body.get("input")
    prompt = 0
    last = ""
    if isinstance(items, str):
        prompt, last = tokens(items), items
    elif isinstance(items, list):
        for item in items:
            text, extra = content_text(item.get("content") if isinstance(item, dict) else None)
            prompt += 3 + tokens(text) + extra
            if not isinstance(item, dict) or item.get("role", "user") == "user" or not last:
                last = text
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        prompt += tokens(instructions)
    prompt += sum(d.tokens for d in documents)
    given_text = body.get("text")
    text_config: dict[str, Any] = given_text if isinstance(given_text, dict) else {}
    reply = structured(text_config.get("format"), last) or reply_to(last, documents)
    return response_body(body, reply, prompt, ident, created)


def response_body(
    body: Mapping[str, Any],
    reply: str,
    prompt: int,
    ident: bytes,
    created: int,
    *,
    before: Sequence[dict[str, Any]] = (),
    annotations: Sequence[dict[str, Any]] = (),
    tools: Sequence[Any] = (),
) -> Payload:
    """A ``Response`` answering ``reply`` to a request ``body`` (its model, instructions, limits and
    text format are echoed); ``before``: output items ahead of the message (a tool's calls)."""
    instructions = body.get("instructions")
    given_text = body.get("text")
    text_config: dict[str, Any] = given_text if isinstance(given_text, dict) else {}
    reply, completion, finish = limited(reply, bounds.output_limit(body, "max_output_tokens"))
    incomplete = finish == "length"
    content = {"type": "output_text", "text": reply, "annotations": list(annotations), "logprobs": []}
    message = {
        "id": "msg_" + token(ident, "message", HEX, 48),
        "type": "message",
        "status": "incomplete" if incomplete else "completed",
        "role": "assistant",
        "content": [content],
    }
    metadata = body.get("metadata")
    return {
        "id": "resp_" + token(ident, "response", HEX, 48),
        "object": "response",
        "created_at": created,
        "status": "incomplete" if incomplete else "completed",
        "completed_at": created,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": instructions if isinstance(instructions, str) else None,
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body["model"],
        "output": [*before, message],
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "temperature": 1.0,
        "text": {"format": text_config.get("format") or {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": list(tools),
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        },
        "user": None,
        "metadata": metadata if isinstance(metadata, dict) else {},
    }


# --- /v1/completions (legacy) --------------------------------------------------------------------


def check_completions(body: Payload) -> Answer | None:
    if body.get("prompt") is None:
        return invalid("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    return refused(bounds.check_n(body) or bounds.check_max_tokens(body, "max_tokens"))


def completions(body: Payload, ident: bytes, created: int) -> Payload:
    given = body["prompt"]
    prompts = given if isinstance(given, list) and all(isinstance(p, str) for p in given) and given else [given]
    limit = body.get("max_tokens", COMPLETIONS_DEFAULT_MAX_TOKENS)
    n: int = body.get("n", 1)
    choices: list[dict[str, Any]] = []
    prompt_tokens = completion_tokens = 0
    for prompt in prompts:
        text = prompt if isinstance(prompt, str) else ""
        prompt_tokens += tokens(text) if isinstance(prompt, str) else len(prompt) if isinstance(prompt, list) else 1
        reply, count, finish = limited(" " + reply_to(text), limit)
        for _ in range(n):
            choices.append({"text": reply, "index": len(choices), "logprobs": None, "finish_reason": finish})
            completion_tokens += count
    return {
        "id": "cmpl-" + token(ident, "completion", BASE62, 29),
        "object": "text_completion",
        "created": created,
        "model": body["model"],
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": fingerprint(body["model"]),
    }


# --- dispatch ------------------------------------------------------------------------------------

Check = Callable[[Payload], "Answer | None"]
Run = Callable[[Payload, bytes, int], Payload]


@functools.cache
def endpoints() -> dict[str, tuple[Check, Run]]:
    """Each endpoint's check and run (the media ones import this module's helpers)."""
    from mockfiles.inference import media

    return {
        "/v1/chat/completions": (check_chat, chat),
        "/v1/chat/ds-test": (check_chat, chat),  # DashScope's test endpoint: a chat completion, no inference
        "/v1/responses": (check_responses, responses),
        "/v1/completions": (check_completions, completions),
        "/v1/embeddings": (media.check_embeddings, media.embeddings),
        "/chat/completions": (check_chat, chat),  # Azure's api-version routes name them without /v1
        "/embeddings": (media.check_embeddings, media.embeddings),
        "/v1/moderations": (media.check_moderations, media.moderations),
        "/v1/images/generations": (media.check_images, media.images),
        "/v1/images/edits": (media.check_images, media.images),
    }


def check(url: str, body: Payload) -> Answer | None:
    """The 400 the endpoint would answer to this body, or None when it would run it.
    Cheap: a batch's validation calls it for every line, to know which lines will fail."""
    return endpoints()[url][0](body)


def run(url: str, body: Payload, ident: bytes, created: int, documents: Sequence[Document] = ()) -> Answer:
    """The endpoint's answer to a body that ``check`` accepted (``documents``: the files it names)."""
    if documents:  # a chat or responses body whose parts named files
        return Answer(200, (responses if url == "/v1/responses" else chat)(body, ident, created, documents))
    return Answer(200, endpoints()[url][1](body, ident, created))


def usage_of(body: Payload) -> tuple[int, int, int, int]:
    """(input, output, cached, reasoning) tokens of a response body, whatever its endpoint."""
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return 0, 0, 0, 0
    given = _int(usage.get("input_tokens", usage.get("prompt_tokens")))
    output = _int(usage.get("output_tokens", usage.get("completion_tokens")))
    details = usage.get("input_tokens_details") or usage.get("prompt_tokens_details") or {}
    out_details = usage.get("output_tokens_details") or usage.get("completion_tokens_details") or {}
    cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else 0
    reasoning = _int(out_details.get("reasoning_tokens")) if isinstance(out_details, dict) else 0
    return given, output, cached, reasoning


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
