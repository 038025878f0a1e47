"""A model request as the stand-in model reads it, whatever its API: the messages' text, the files
they name, and how the answer is asked for (streamed, how many choices, how long).

``messages.py`` reads a Chat Completions body into a ``Prompt``, ``inputs.py`` a Responses body;
both check the body as the real API does and raise its refusals (``core/errors.py``, worded in
``chat/words.py``), naming the parameter by its path (``messages[1].content[0].file.file_data``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mockfiles.core.errors import InvalidRequest, InvalidType, InvalidValue, MissingParameter
from mockfiles.core.validation import check_range
from mockfiles.inference.text import IMAGE_PART_TOKENS, tokens

Api = Literal["chat", "responses"]
Source = Literal["file_id", "file_data", "file_url"]
Payload = Mapping[str, Any]


@dataclass(frozen=True)
class ModelRequest:
    """A Chat Completions or Responses body: the model it names, and the rest of the body, which is
    read into a ``Prompt`` once the model is found (what it may hold depends on the model)."""

    model: str
    body: Payload

    @classmethod
    def parse(cls, body: Payload) -> ModelRequest:
        name = body.get("model")
        if name is None:
            raise MissingParameter("model")
        if not isinstance(name, str):
            raise InvalidType("model", expected="a string", got=kind(name))
        return cls(name, body)


@dataclass(frozen=True, slots=True)
class FileRef:
    """One file a request names, and where (``param``: the part's path)."""

    param: str
    source: Source
    value: str  # the file id, the inline data (a data URL, or base64), or the URL
    filename: str | None = None
    image: bool = False  # an image part (Responses' input_image with a file_id)
    index: int = 0  # the message it is in (DashScope's refusals name it)


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    text: str
    extra_tokens: int = 0  # non-text parts (images, audio) counted at a flat rate
    named: bool = False  # a ``name`` field (one token more, as the Batches stand-in counts)


@dataclass(frozen=True)
class Prompt:
    api: Api
    model: str
    messages: tuple[Message, ...]
    refs: tuple[FileRef, ...] = ()
    stream: bool = False
    include_usage: bool = False
    n: int = 1
    max_tokens: int | None = None
    text_format: Any = None  # response_format (Chat) or text.format (Responses)
    instructions: str | None = None
    tools: tuple[dict[str, Any], ...] = ()
    body: Payload = field(default_factory=dict)

    @property
    def question(self) -> str:
        """The text the answer echoes: the last user message's (else the first message's)."""
        last = ""
        for message in self.messages:
            if message.role == "user" or not last:
                last = message.text
        return last

    @property
    def text(self) -> str:
        """Every message's text, for matching (a scenario's ``prompt`` glob)."""
        return "\n".join(m.text for m in self.messages if m.text)

    def tokens(self) -> int:
        """The prompt's tokens before any file is read, as the Batches stand-ins count them."""
        if self.api == "responses":
            count = sum(3 + tokens(m.text) + m.extra_tokens for m in self.messages)
            return count + (tokens(self.instructions) if self.instructions else 0)
        count = 3  # every reply is primed with <|start|>assistant<|message|>
        return count + sum(3 + tokens(m.role) + tokens(m.text) + m.extra_tokens + int(m.named) for m in self.messages)


# --- reading a JSON body, as the real APIs word what is wrong with it ------------------------------


def kind(value: object) -> str:
    """A JSON value's kind as OpenAI's messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {int: "an integer", float: "a number", str: "a string", list: "an array", dict: "an object"}.get(
        type(value), "a value"
    )


def required(body: Payload, name: str, path: str | None = None) -> Any:
    value = body.get(name)
    if value is None:
        raise MissingParameter(path or name)
    return value


def string(body: Payload, name: str, path: str | None = None, *, optional: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if optional:
            return None
        raise MissingParameter(path or name)
    if not isinstance(value, str):
        raise InvalidType(path or name, expected="a string", got=kind(value))
    return value


def boolean(body: Payload, name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidType(name, expected="a boolean", got=kind(value))
    return value


def positive(body: Payload, name: str, high: int | None = None) -> int | None:
    """An optional integer >= 1 (and <= ``high``)."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(name, expected="an integer", got=kind(value))
    check_range(value, name, 1, high if high is not None else 2**31 - 1)
    return value


def one_of(value: object, path: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise InvalidType(path, expected="a string", got=kind(value))
    if value not in choices:
        raise InvalidValue(path, value, choices)
    return value


def parts_of(content: object, path: str) -> list[dict[str, Any]]:
    """A message's content as a list of parts (an object each), or the API's refusal."""
    if not isinstance(content, list):
        raise InvalidType(path, expected="one of a string or array of objects", got=kind(content))
    for j, part in enumerate(content):
        if not isinstance(part, dict):
            raise InvalidType(f"{path}[{j}]", expected="an object", got=kind(part))
    return content


def stream_settings(body: Payload) -> tuple[bool, bool]:
    """(stream, include_usage): ``stream_options`` only with ``stream``."""
    stream = boolean(body, "stream")
    options = body.get("stream_options")
    if options is None:
        return stream, False
    if not isinstance(options, dict):
        raise InvalidType("stream_options", expected="an object", got=kind(options))
    if not stream:
        raise InvalidRequest("stream_options_without_stream", param="stream_options")
    include = options.get("include_usage", False)
    if not isinstance(include, bool):
        raise InvalidType("stream_options.include_usage", expected="a boolean", got=kind(include))
    return stream, include


IMAGE_TOKENS = IMAGE_PART_TOKENS
FILEID = "fileid://"


def is_fileid(content: object) -> bool:
    """Whether a system message's content names files for Qwen-Long (``fileid://…``)."""
    return isinstance(content, str) and content.lstrip().startswith(FILEID)


def fileid_refs(content: str, index: int) -> list[FileRef]:
    """The files of ``fileid://a`` or ``fileid://a,fileid://b`` in message ``index`` (a piece without
    the prefix names a file DashScope cannot find, as a mistyped id does)."""
    refs = []
    for piece in content.split(","):
        piece = piece.strip()
        if piece:
            file_id = piece[len(FILEID) :] if piece.startswith(FILEID) else piece
            refs.append(FileRef(f"messages[{index}].content", "file_id", file_id, index=index))
    return refs
