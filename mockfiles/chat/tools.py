"""The tools ``POST /v1/responses`` accepts in ``tools``, and the seam where more are added.

A tool is registered under its ``type`` (``Tools.register("file_search", tool)``): the service
asks it to ``check`` each tool entry of that type in a request (raise the API's refusal: an unknown
vector store, say) and then to ``run`` once per entry before the answer is made, giving output items
that come before the assistant's message in ``output`` (a ``file_search_call``), documents the
answer reads and names like files (search results), annotations for the answer's text
(``file_citation``) and tokens that count in the usage. A type no tool is registered for is refused
with the API's ``Invalid value`` and the registered types as the choices.

``function`` tools are known from the start: they are accepted and never called (the stand-in
answers with text).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mockfiles.chat.prompt import Prompt, kind
from mockfiles.core.errors import InvalidType, InvalidValue, MissingParameter
from mockfiles.inference.documents import Document


@dataclass(frozen=True)
class ToolCall:
    """One tool entry of one request, as a tool runs it."""

    account: str
    prompt: Prompt
    tool: Mapping[str, Any]  # the entry as the request gave it
    index: int  # its place in ``tools``
    ident: bytes  # the request's identity: for stable ids of the items it makes (inference.text.token)
    read: tuple[Document, ...] = ()  # what the answer names before this tool's documents (the request's
    # own files, then the earlier tools'): where its annotations' ``index`` falls in the answer's text


@dataclass(frozen=True)
class ToolResult:
    items: tuple[dict[str, Any], ...] = ()  # output items before the message
    documents: tuple[Document, ...] = ()  # what the answer reads and names
    annotations: tuple[dict[str, Any], ...] = ()  # on the answer's output_text
    tokens: int = 0  # prompt tokens the tool adds


class Tool(Protocol):
    def check(self, account: str, tool: Mapping[str, Any], param: str) -> None:
        """Refuse an entry the API would refuse (raise a domain error naming ``param``)."""
        ...

    def run(self, call: ToolCall) -> ToolResult: ...


class FunctionTool:
    """``{"type": "function", "name": …, "parameters": …}``: accepted, never called."""

    def check(self, account: str, tool: Mapping[str, Any], param: str) -> None:
        name = tool.get("name")
        if name is None:
            raise MissingParameter(f"{param}.name")
        if not isinstance(name, str):
            raise InvalidType(f"{param}.name", expected="a string", got=kind(name))

    def run(self, call: ToolCall) -> ToolResult:
        return ToolResult()


class Tools:
    """The registered tools by type (one emulator's; a reset starts again from ``function``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tools: dict[str, Tool] = {"function": FunctionTool()}

    def register(self, type_name: str, tool: Tool) -> None:
        with self._lock:
            self._tools[type_name] = tool

    def types(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._tools)

    def check(self, account: str, tools: tuple[dict[str, Any], ...]) -> None:
        for i, entry in enumerate(tools):
            kind_of = entry["type"]
            tool = self._get(kind_of)
            if tool is None:
                raise InvalidValue(f"tools[{i}].type", str(kind_of), self.types())
            tool.check(account, entry, f"tools[{i}]")

    def run(self, account: str, prompt: Prompt, ident: bytes, read: tuple[Document, ...] = ()) -> list[ToolResult]:
        """Each entry run in turn; ``read``: the documents the request read itself."""
        results = []
        for i, entry in enumerate(prompt.tools):
            tool = self._get(entry["type"])
            if tool is not None:
                result = tool.run(ToolCall(account, prompt, entry, i, ident, read))
                results.append(result)
                read += result.documents
        return results

    def _get(self, type_name: object) -> Tool | None:
        with self._lock:
            return self._tools.get(type_name) if isinstance(type_name, str) else None
