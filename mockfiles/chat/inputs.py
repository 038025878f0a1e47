"""A Responses body (``POST /v1/responses``) read into a ``Prompt``, checked as OpenAI checks it.

``input`` is a string, or a list of items: messages whose content is a string or parts
(``input_text``, ``input_image``, ``input_file`` with ``file_id``, ``file_data`` or ``file_url``),
and the items a conversation carries back (function calls and their outputs, reasoning), which add
their text and nothing else. ``tools`` are checked by the tools the service knows (chat/tools.py).
"""

from __future__ import annotations

from typing import Any

from mockfiles.chat.models import Model
from mockfiles.chat.prompt import (
    IMAGE_TOKENS,
    FileRef,
    Message,
    Payload,
    Prompt,
    boolean,
    kind,
    one_of,
    parts_of,
    required,
    string,
)
from mockfiles.core.errors import InvalidType, InvalidValue, MissingParameter
from mockfiles.core.validation import check_range

ITEMS = ("message", "function_call", "function_call_output", "reasoning", "item_reference")
ROLES = ("user", "assistant", "system", "developer")
PARTS = ("input_text", "input_image", "output_text", "refusal", "input_file", "computer_screenshot", "summary_text")
FILE_SOURCES = ("file_id", "file_data", "file_url")
MAX_OUTPUT_TOKENS_MIN = 16  # the API refuses a smaller max_output_tokens


def read_responses(body: Payload, model: Model) -> Prompt:
    given = required(body, "input")
    messages: list[Message] = []
    refs: list[FileRef] = []
    if isinstance(given, str):
        messages.append(Message("user", given))
    elif isinstance(given, list):
        for i, item in enumerate(given):
            message, found = _item(item, f"input[{i}]", i)
            messages.append(message)
            refs += found
    else:
        raise InvalidType("input", expected="one of a string or array of input items", got=kind(given))
    instructions = string(body, "instructions", optional=True)
    limit = body.get("max_output_tokens")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise InvalidType("max_output_tokens", expected="an integer", got=kind(limit))
        check_range(limit, "max_output_tokens", MAX_OUTPUT_TOKENS_MIN, 2**31 - 1)
    text = body.get("text")
    if text is not None and not isinstance(text, dict):
        raise InvalidType("text", expected="an object", got=kind(text))
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise InvalidType("tools", expected="an array", got=kind(tools))
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise InvalidType(f"tools[{i}]", expected="an object", got=kind(tool))
        required(tool, "type", f"tools[{i}].type")
    return Prompt(
        "responses",
        model.id,
        tuple(messages),
        tuple(refs),
        stream=boolean(body, "stream"),
        include_usage=True,  # a Response always carries its usage (response.completed)
        max_tokens=limit,
        text_format=(text or {}).get("format"),
        instructions=instructions,
        tools=tuple(tools),
        body=body,
    )


def _item(item: object, path: str, index: int) -> tuple[Message, list[FileRef]]:
    if not isinstance(item, dict):
        raise InvalidType(path, expected="an object", got=kind(item))
    item_type = item.get("type", "message")
    one_of(item_type, f"{path}.type", ITEMS)
    if item_type == "function_call_output":
        output = item.get("output")
        return Message("tool", output if isinstance(output, str) else ""), []
    if item_type != "message":
        return Message("assistant", ""), []  # a call or reasoning carried back: no text of its own
    role = one_of(required(item, "role", f"{path}.role"), f"{path}.role", ROLES)
    content = required(item, "content", f"{path}.content")
    if isinstance(content, str):
        return Message(role, content), []
    texts: list[str] = []
    extra = 0
    refs: list[FileRef] = []
    for j, part in enumerate(parts_of(content, f"{path}.content")):
        here = f"{path}.content[{j}]"
        part_type = one_of(required(part, "type", f"{here}.type"), f"{here}.type", PARTS)
        if part_type in ("input_text", "output_text", "summary_text", "refusal"):
            field = "refusal" if part_type == "refusal" else "text"
            value = required(part, field, f"{here}.{field}")
            if not isinstance(value, str):
                raise InvalidType(f"{here}.{field}", expected="a string", got=kind(value))
            texts.append(value)
        elif part_type == "input_file":
            refs.append(_input_file(part, here, index))
        elif part_type == "input_image" and part.get("file_id") is not None:
            refs.append(_source(part, here, "file_id", index, image=True))
            extra += IMAGE_TOKENS
        else:
            extra += IMAGE_TOKENS  # an image by URL, a screenshot
    return Message(role, "\n".join(texts), extra), refs


def _input_file(part: dict[str, Any], here: str, index: int) -> FileRef:
    filename = part.get("filename")
    if filename is not None and not isinstance(filename, str):
        raise InvalidType(f"{here}.filename", expected="a string", got=kind(filename))
    for source in FILE_SOURCES:
        if part.get(source) is not None:
            return _source(part, here, source, index)
    raise InvalidValue(here, "", FILE_SOURCES, reason="file_part_source")


def _source(part: dict[str, Any], here: str, source: str, index: int, image: bool = False) -> FileRef:
    value = part[source]
    if not isinstance(value, str):
        raise InvalidType(f"{here}.{source}", expected="a string", got=kind(value))
    if not value:
        raise MissingParameter(f"{here}.{source}")
    filename = part.get("filename")
    name = filename if isinstance(filename, str) else None
    return FileRef(f"{here}.{source}", source, value, name, image=image, index=index)  # type: ignore[arg-type]
