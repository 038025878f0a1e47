"""A ``Reply`` as each API shapes it: OpenAI's ``ChatCompletion`` and its stream of
``chat.completion.chunk``s, DashScope compatible mode's variants of both, and the ``Response`` with
its stream of events (``response.created`` … ``response.completed``). The SDKs' models take them in
strict mode; the edge writes the events as server-sent events.

The answer streams a word at a time: each ``content`` delta (Chat) or ``response.output_text.delta``
(Responses) is one word and the whitespace after it, so a test knows how many events an answer
makes (a fault rule can cut a stream after so many).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from mockfiles.chat.service import Reply
from mockfiles.inference.text import chat_body, response_body

Event = dict[str, Any]
PIECE = re.compile(r"\s*\S+\s*|\s+")


def pieces(text: str) -> list[str]:
    """The deltas an answer streams in: a word each (with the whitespace around it)."""
    return PIECE.findall(text) or [""]


def dashscope_id(ident: bytes) -> str:
    """``chatcmpl-`` and a UUID, as DashScope's compatible mode names completions (stable per request)."""
    return "chatcmpl-" + str(uuid.UUID(bytes=uuid.uuid5(uuid.NAMESPACE_OID, ident.hex()).bytes))


# --- Chat Completions ------------------------------------------------------------------------------


def completion(reply: Reply) -> dict[str, Any]:
    asked = reply.reading.asked
    prompt = asked.prompt
    body = chat_body(
        prompt.model, reply.text, reply.reading.prompt_tokens, prompt.max_tokens, prompt.n, reply.ident, reply.created
    )
    if asked.family == "dashscope":
        body["id"] = dashscope_id(reply.ident)
        body["system_fingerprint"] = None
        del body["service_tier"]
        for choice in body["choices"]:
            choice["message"] = {"role": "assistant", "content": choice["message"]["content"]}
        body["usage"] = _dashscope_usage(body["usage"])
    return body


def _dashscope_usage(usage: dict[str, Any]) -> dict[str, Any]:
    keep = ("prompt_tokens", "completion_tokens", "total_tokens")
    return {**{k: usage[k] for k in keep}, "prompt_tokens_details": {"cached_tokens": 0}}


def chunks(reply: Reply) -> list[Event]:
    """The stream of a Chat Completion: a first chunk with the role, a chunk per word, a last
    chunk with the finish reason (per choice), then the usage when ``include_usage`` asked for it."""
    asked = reply.reading.asked
    prompt = asked.prompt
    whole = completion(reply)
    dashscope = asked.family == "dashscope"
    text, _, finish = reply.shown
    head: dict[str, Any] = {"id": whole["id"], "object": "chat.completion.chunk", "created": whole["created"]}
    head["model"] = whole["model"]
    if not dashscope:
        head["service_tier"] = "default"
    head["system_fingerprint"] = whole["system_fingerprint"]
    if prompt.include_usage:
        head["usage"] = None

    def chunk(index: int, delta: dict[str, Any], finish_reason: str | None = None) -> Event:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**head, "choices": [choice]}

    first: dict[str, Any] = {"role": "assistant", "content": ""}
    if not dashscope:
        first["refusal"] = None
    events: list[Event] = []
    for index in range(prompt.n):
        events.append(chunk(index, dict(first)))
        events += [chunk(index, {"content": piece}) for piece in pieces(text) if piece]
        events.append(chunk(index, {}, finish))
    if prompt.include_usage:
        events.append({**head, "choices": [], "usage": whole["usage"]})
    return events


# --- Responses -------------------------------------------------------------------------------------


def response(reply: Reply) -> dict[str, Any]:
    prompt = reply.reading.asked.prompt
    tools = reply.reading.tools
    before = [item for t in tools for item in t.items]
    annotations = [a for t in tools for a in t.annotations]
    return response_body(
        prompt.body,
        reply.text,
        reply.reading.prompt_tokens,
        reply.ident,
        reply.created,
        before=before,
        annotations=annotations,
        tools=prompt.tools,
    )


def response_events(reply: Reply) -> list[Event]:
    """The stream of a Response, as the API sends it: created, in progress, each output item added
    and done (a tool's, then the message with its text part and a delta per word), completed (or
    incomplete, when ``max_output_tokens`` cut the answer)."""
    whole = response(reply)
    pending = {**whole, "status": "in_progress", "completed_at": None, "usage": None, "output": []}
    pending["incomplete_details"] = None
    events: list[Event] = [
        {"type": "response.created", "response": pending},
        {"type": "response.in_progress", "response": pending},
    ]
    for index, item in enumerate(whole["output"]):
        if item["type"] != "message":
            events.append({"type": "response.output_item.added", "output_index": index, "item": item})
            events.append({"type": "response.output_item.done", "output_index": index, "item": item})
            continue
        events += _message_events(item, index)
    final = "response.incomplete" if whole["status"] == "incomplete" else "response.completed"
    events.append({"type": final, "response": whole})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def _message_events(item: dict[str, Any], index: int) -> list[Event]:
    part = item["content"][0]
    item_id = item["id"]
    at = {"item_id": item_id, "output_index": index, "content_index": 0}
    empty = {**part, "text": "", "annotations": []}
    events: list[Event] = [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {"type": "response.content_part.added", **at, "part": empty},
    ]
    for piece in pieces(part["text"]):
        if piece:
            events.append({"type": "response.output_text.delta", **at, "delta": piece, "logprobs": []})
    events.append({"type": "response.output_text.done", **at, "text": part["text"], "logprobs": []})
    events.append({"type": "response.content_part.done", **at, "part": part})
    events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return events
