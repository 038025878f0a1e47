"""The model routes' service: Chat Completions (OpenAI's and DashScope compatible mode's) and
Responses, answered by deterministic stand-ins that read the files a request names.

One request goes through it in three steps, which the edge calls in turn (the fault decision, which
can match the request's model, files and text, comes between the first two):

1. ``ask``: the body checked as the API checks it, its model found (``models.py``), its tools
   checked (``tools.py``): an ``Asked``;
2. ``read``: every file it names read through the one file check (``reading.py``), a scenario's
   parse failures applied, the tools run, the prompt's tokens counted (Qwen-Long refuses a prompt
   over its context): a ``Reading``;
3. ``answer``: the scenario's scripted answer if one matches (``chat:`` section), else the
   stand-in's, which names each file read and echoes the question (``inference/text.py``): a
   ``Reply``, which ``objects.py`` shapes as the API's objects and stream events.

Knows nothing of HTTP; the clock gives ``created``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockfiles.chat.inputs import read_responses
from mockfiles.chat.messages import read_chat
from mockfiles.chat.models import FAMILY_OF_DIALECT, Family, Model, Models
from mockfiles.chat.prompt import ModelRequest, Prompt
from mockfiles.chat.reading import Reader
from mockfiles.chat.tools import ToolResult, Tools
from mockfiles.core.errors import InvalidRequest, NotFound
from mockfiles.files.service import Files
from mockfiles.files.store import StoredFile
from mockfiles.inference.documents import Document
from mockfiles.inference.text import limited, reply_to, structured
from mockfiles.scenarios.chat import ChatSettings

HEAVY_BYTES = 1024 * 1024  # files and inline data larger than this are read in a worker thread
ROUTES = {"chat.completions.create": "v1/chat/completions", "responses.create": "v1/responses"}


@dataclass(frozen=True)
class Asked:
    """A request whose body and model were checked."""

    account: str
    endpoint: str  # chat.completions.create or responses.create
    family: Family
    model: Model
    prompt: Prompt


@dataclass(frozen=True)
class Reading:
    """A request whose files were read."""

    asked: Asked
    documents: tuple[Document, ...]
    tools: tuple[ToolResult, ...]
    prompt_tokens: int


@dataclass(frozen=True)
class Reply:
    """The answer to one request, before the API shapes it."""

    reading: Reading
    text: str  # the whole answer, before the request's token limit cuts it
    ident: bytes  # what the answer's ids derive from (the request id)
    created: int
    rule: str | None = None  # the scenario answer rule that scripted it
    shown: tuple[str, int, str] = field(init=False)  # (text, completion tokens, finish reason) within the limit

    def __post_init__(self) -> None:
        object.__setattr__(self, "shown", limited(self.text, self.reading.asked.prompt.max_tokens))

    @property
    def completion_tokens(self) -> int:
        return self.shown[1] * self.reading.asked.prompt.n

    @property
    def total_tokens(self) -> int:
        return self.reading.prompt_tokens + self.completion_tokens


class Chat:
    def __init__(self, files: Files, models: Models, settings: ChatSettings | None = None) -> None:
        self.files = files
        self.models = models
        self.tools = Tools()
        self.settings = settings or ChatSettings()

    def configure(self, settings: ChatSettings) -> None:
        """The scenario's ``chat:`` section, for requests from now on."""
        self.settings = settings

    # --- 1. the body and its model ------------------------------------------------------------

    def ask(self, account: str, request: ModelRequest, dialect: str, endpoint: str) -> Asked:
        family = FAMILY_OF_DIALECT[dialect]
        model = self.model(account, request.model, family, endpoint)
        if endpoint == "responses.create":
            prompt = read_responses(request.body, model)
            self.tools.check(account, prompt.tools)
        else:
            prompt = read_chat(request.body, model)
        return Asked(account, endpoint, family, model, prompt)

    def model(self, account: str, name: str, family: Family, endpoint: str) -> Model:
        model = self.models.find(account, name, family)
        if model is None:
            raise NotFound("model_not_found", param="model", model=name)
        if not model.chats:
            raise NotFound("not_a_chat_model", param="model", model=name, route=ROUTES[endpoint])
        return model

    def named_files(self, asked: Asked) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The ids and names of the files a request names, as far as they are known before they are
        checked (for the fault rules to match)."""
        reader = Reader(self.files, asked.account, asked.family)
        ids, names = [], []
        for ref in asked.prompt.refs:
            ids.append(ref.value if ref.source != "file_data" else "")
            stored = reader.stored(ref)
            name = stored.filename if stored is not None else ref.filename
            if name:
                names.append(name)
        return tuple(ids), tuple(names)

    def heavy(self, asked: Asked) -> bool:
        """Whether reading its files takes long enough to belong off the event loop: inline data to
        decode, or a large stored file read for the first time."""
        reader = Reader(self.files, asked.account, asked.family)
        for ref in asked.prompt.refs:
            if ref.source == "file_data" and len(ref.value) > HEAVY_BYTES:
                return True
            stored = reader.stored(ref)
            if stored is not None and stored.summary is None and stored.size > HEAVY_BYTES:
                return True
        return False

    # --- 2. its files ----------------------------------------------------------------------------

    def read(self, asked: Asked, ident: bytes) -> Reading:
        prompt = asked.prompt
        reader = Reader(self.files, asked.account, asked.family, self._parse_fails(asked))
        documents = tuple(reader.read(ref, prompt.api) for ref in prompt.refs)
        tools = tuple(self.tools.run(asked.account, prompt, ident, documents)) if prompt.tools else ()
        tokens = prompt.tokens() + sum(d.tokens for d in documents)
        tokens += sum(t.tokens + sum(d.tokens for d in t.documents) for t in tools)
        context = asked.model.context
        if context is not None and tokens > context:
            raise InvalidRequest("ds_too_long", limit=context)
        return Reading(asked, documents, tools, tokens)

    def _parse_fails(self, asked: Asked) -> Any:
        settings = self.settings
        if not any(rule.parse_error for rule in settings.answers):
            return None
        text = asked.prompt.text

        def fails(f: StoredFile) -> bool:
            return settings.parse_fails(asked.endpoint, asked.model.id, text, f.id, f.filename) is not None

        return fails

    # --- 3. the answer ---------------------------------------------------------------------------

    def answer(self, reading: Reading, ident: bytes, created: int) -> Reply:
        asked = reading.asked
        prompt = asked.prompt
        documents = reading.documents + tuple(d for t in reading.tools for d in t.documents)
        files = [(d.ref, d.filename) for d in documents]
        rule = self.settings.answer_for(asked.endpoint, asked.model.id, prompt.text, files)
        if rule is not None and rule.text is not None:
            return Reply(reading, rule.text, ident, created, rule.label)
        text = structured(prompt.text_format, prompt.question) or reply_to(prompt.question, documents)
        return Reply(reading, text, ident, created)
