"""A Chat Completions body read into a ``Prompt``: OpenAI's (``/v1/chat/completions``) and DashScope
compatible mode's (``/compatible-mode/v1/chat/completions``), checked as each service checks it.

OpenAI's messages carry text and file parts: ``{"type": "file", "file": {"file_id": …}}`` or
``{"file_data": "data:application/pdf;base64,…", "filename": …}``, in a user message, to a model
that reads files. DashScope's Qwen-Long reads files from system messages whose whole content is
``fileid://a`` or ``fileid://a,fileid://b``, and wants every message's content as a string.
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
    fileid_refs,
    is_fileid,
    kind,
    one_of,
    parts_of,
    positive,
    required,
    stream_settings,
)
from mockfiles.core.errors import InvalidRequest, InvalidType, InvalidValue, MissingParameter

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
USER_PARTS = ("text", "image_url", "input_audio", "refusal", "audio", "file")
NO_FILE_PARTS = ("text", "image_url", "input_audio", "refusal", "audio")  # a model that reads no files
ROLE_PARTS = {"system": ("text",), "developer": ("text",), "tool": ("text",), "assistant": ("text", "refusal")}
DASHSCOPE_PARTS = ("text", "image_url", "input_audio", "video", "video_url")
MAX_FILES = 100  # DashScope: "Too many files provided." from 100 files on
N_MAX = 128


def read_chat(body: Payload, model: Model) -> Prompt:
    messages = required(body, "messages")
    if not isinstance(messages, list):
        raise InvalidType("messages", expected="an array", got=kind(messages))
    if not messages:
        raise InvalidRequest("empty_array", param="messages")
    read: list[Message] = []
    refs: list[FileRef] = []
    for i, message in enumerate(messages):
        path = f"messages[{i}]"
        if not isinstance(message, dict):
            raise InvalidType(path, expected="an object", got=kind(message))
        role = one_of(required(message, "role", f"{path}.role"), f"{path}.role", ROLES)
        text, extra, found = _content(message.get("content"), role, path, i, model)
        read.append(Message(role, text, extra, "name" in message))
        refs += found
    if model.reads_fileid and len(refs) >= MAX_FILES:
        raise InvalidRequest("ds_too_many_files")
    stream, include_usage = stream_settings(body)
    n = positive(body, "n", N_MAX) or 1
    limit = positive(body, "max_completion_tokens") or positive(body, "max_tokens")
    return Prompt(
        "chat",
        model.id,
        tuple(read),
        tuple(refs),
        stream=stream,
        include_usage=include_usage,
        n=n,
        max_tokens=limit,
        text_format=body.get("response_format"),
        body=body,
    )


def _content(content: object, role: str, path: str, index: int, model: Model) -> tuple[str, int, list[FileRef]]:
    """A message's text, its non-text tokens and the files it names."""
    if content is None:
        return "", 0, []  # an assistant's tool calls, say
    if model.reads_fileid:  # Qwen-Long: strings only; a system message may name files
        if not isinstance(content, str):
            raise InvalidRequest("ds_not_a_string", index=index)
        if role == "system" and is_fileid(content):
            return "", 0, fileid_refs(content, index)
        return content, 0, []
    if isinstance(content, str):
        return content, 0, []
    texts: list[str] = []
    extra = 0
    refs: list[FileRef] = []
    for j, part in enumerate(parts_of(content, f"{path}.content")):
        here = f"{path}.content[{j}]"
        kind_of = required(part, "type", f"{here}.type")
        allowed = _parts(role, model)
        if not isinstance(kind_of, str) or kind_of not in allowed:
            if kind_of == "file" and role == "user" and model.family == "openai" and not model.reads_files:
                raise InvalidValue(f"{here}.type", kind_of, NO_FILE_PARTS, reason="part_type_unread")
            one_of(kind_of, f"{here}.type", allowed)
        if kind_of in ("text", "refusal"):
            value = required(part, kind_of, f"{here}.{kind_of}")
            if not isinstance(value, str):
                raise InvalidType(f"{here}.{kind_of}", expected="a string", got=kind(value))
            texts.append(value)
        elif kind_of == "file":
            refs.append(_file_part(part, here, index))
        else:
            extra += IMAGE_TOKENS  # an image or audio part, at a flat rate
    return "\n".join(texts), extra, refs


def _parts(role: str, model: Model) -> tuple[str, ...]:
    if model.family == "dashscope":
        return DASHSCOPE_PARTS
    if role in ROLE_PARTS:
        return ROLE_PARTS[role]
    return USER_PARTS if model.reads_files else NO_FILE_PARTS


def _file_part(part: dict[str, Any], here: str, index: int) -> FileRef:
    given = required(part, "file", f"{here}.file")
    if not isinstance(given, dict):
        raise InvalidType(f"{here}.file", expected="an object", got=kind(given))
    filename = given.get("filename")
    if filename is not None and not isinstance(filename, str):
        raise InvalidType(f"{here}.file.filename", expected="a string", got=kind(filename))
    for source in ("file_id", "file_data"):
        value = given.get(source)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidType(f"{here}.file.{source}", expected="a string", got=kind(value))
        if not value:
            raise MissingParameter(f"{here}.file.{source}")
        return FileRef(f"{here}.file.{source}", source, value, filename, index=index)
    raise InvalidValue(f"{here}.file", "", ("file_id", "file_data"), reason="file_part_source")
