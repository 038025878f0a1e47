"""The models the model routes answer for, per family (OpenAI's, DashScope's), and the one place
where more are registered.

``GET /v1/models`` lists the OpenAI family, ``GET /compatible-mode/v1/models`` DashScope's; the
chat routes refuse a model that is not in their family's list (``model_not_found``) or that does
not chat (an embeddings model). Each model says what it reads: OpenAI's file parts and
``input_file`` (``reads_files``), Qwen-Long's ``fileid://`` system messages (``reads_fileid``).

**Registering models** (the seam for fine-tuning, or a test's own names): ``Models.add(model,
account)`` makes a model known to one account (``account`` None: to every account) until the
emulator is reset; ``derived(name, base, ...)`` makes a model that reads what its base reads, as a
fine-tuned ``ft:gpt-4o-mini-2024-07-18:org::abc123`` does::

    base = emulator.models.find(account, "gpt-4o-mini-2024-07-18", "openai")
    emulator.models.add(derived("ft:gpt-4o-mini-2024-07-18:org::abc123", base, owned_by="user-…"), account)

A service whose models come and go with its own state is a **source** instead
(``Models.add_source``): asked afresh on every find and listing, outside the registry's lock. The
Fine-tuning service is one (fine_tuning/serving.py): a job's model exists once the job has
succeeded on the emulator clock, and no more once it is deleted.

The Batches stand-ins answer any model name; the lists show the ones they are usually given.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Literal, Protocol

Family = Literal["openai", "dashscope"]
Kind = Literal["chat", "embedding", "moderation", "image", "test"]
FAMILY_OF_DIALECT: dict[str, Family] = {"openai": "openai", "dashscope-compatible": "dashscope"}
QWEN_LONG_CONTEXT = 10_000_000  # tokens: "Total message token length exceed model limit (10000000 tokens)."


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    created: int
    owned_by: str
    family: Family
    kind: Kind = "chat"
    reads_files: bool = False  # OpenAI's file parts (Chat) and input_file (Responses)
    reads_fileid: bool = False  # DashScope's ``fileid://`` system messages (Qwen-Long)
    context: int | None = None  # tokens a request may hold in all (None: not checked)
    base: str | None = None  # the model it was derived from (fine-tuned)

    @property
    def chats(self) -> bool:
        return self.kind in ("chat", "test")


def derived(name: str, base: Model, *, owned_by: str, created: int) -> Model:
    """A model made from ``base`` (fine-tuned): it reads what the base reads."""
    return replace(base, id=name, owned_by=owned_by, created=created, base=base.id)


def _openai(name: str, created: int, owned_by: str = "system", kind: Kind = "chat", files: bool = True) -> Model:
    return Model(name, created, owned_by, "openai", kind, reads_files=files and kind == "chat")


def _qwen(name: str, kind: Kind = "chat", long: bool = False) -> Model:
    context = QWEN_LONG_CONTEXT if long else None
    return Model(name, 1_700_000_000, "system", "dashscope", kind, reads_fileid=long, context=context)


BUILT_IN: tuple[Model, ...] = (
    _openai("gpt-4o", 1715367049),
    _openai("gpt-4o-2024-08-06", 1722814719),
    _openai("gpt-4o-mini", 1721172741),
    _openai("gpt-4o-mini-2024-07-18", 1721172717),
    _openai("gpt-4.1", 1744316542),
    _openai("gpt-4.1-mini", 1744318173),
    _openai("gpt-4.1-nano", 1744321707),
    _openai("gpt-5", 1754425777),
    _openai("gpt-5-mini", 1754425928),
    _openai("gpt-5-nano", 1754426384),
    _openai("o3", 1744225308),
    _openai("o4-mini", 1744225351),
    _openai("gpt-3.5-turbo", 1677610602, "openai", files=False),
    _openai("text-embedding-3-small", 1705948997, kind="embedding"),
    _openai("text-embedding-3-large", 1705953180, kind="embedding"),
    _openai("text-embedding-ada-002", 1671217299, "openai-internal", kind="embedding"),
    _openai("omni-moderation-latest", 1731689265, kind="moderation"),
    _openai("gpt-image-1", 1745517030, kind="image"),
    _qwen("qwen-long", long=True),
    _qwen("qwen-long-latest", long=True),
    _qwen("qwen-doc-turbo", long=True),
    _qwen("qwen-plus"),
    _qwen("qwen-max"),
    _qwen("qwen-turbo"),
    _qwen("qwen-flash"),
    _qwen("qwen3-max"),
    _qwen("text-embedding-v4", kind="embedding"),
    _qwen("text-embedding-v3", kind="embedding"),
    _qwen("text-embedding-v2", kind="embedding"),
    _qwen("text-embedding-v1", kind="embedding"),
    _qwen("batch-test-model", kind="test"),
)


class ModelSource(Protocol):
    """Models an account has because another service made them (fine-tuned models)."""

    def models_of(self, account: str, family: Family) -> list[Model]:
        """The account's models of a family, as they are now."""
        ...

    def everyone(self) -> list[tuple[str, Model]]:
        """Every account's models (the account, the model), for the control routes."""
        ...


class Models:
    """The built-in models and those registered since the last reset (per account, or for all),
    and the models of the sources (``add_source``)."""

    def __init__(self, built_in: tuple[Model, ...] = BUILT_IN) -> None:
        self._lock = threading.Lock()
        self._all: dict[tuple[Family, str], Model] = {(m.family, m.id): m for m in built_in}
        self._accounts: dict[str, dict[tuple[Family, str], Model]] = {}
        self._sources: list[ModelSource] = []

    def add_source(self, source: ModelSource) -> None:
        """Ask ``source`` too, on every find and listing, for the models it has made."""
        self._sources.append(source)

    def built_in(self, model_id: str, family: Family) -> Model | None:
        """A model known to every account (built in or registered so), without asking the sources."""
        with self._lock:
            return self._all.get((family, model_id))

    def add(self, model: Model, account: str | None = None) -> None:
        """Make ``model`` known to ``account`` (None: to every account); a model of the same name
        and family is replaced."""
        with self._lock:
            table = self._all if account is None else self._accounts.setdefault(account, {})
            table[(model.family, model.id)] = model

    def remove(self, model_id: str, family: Family, account: str | None = None) -> bool:
        """Forget a registered model (a fine-tuned model deleted); whether there was one."""
        with self._lock:
            table = self._all if account is None else self._accounts.get(account, {})
            return table.pop((family, model_id), None) is not None

    def find(self, account: str, model_id: str, family: Family) -> Model | None:
        with self._lock:
            own = self._accounts.get(account)
            found = own.get((family, model_id)) if own else None
            found = found or self._all.get((family, model_id))
        if found is not None or not self._sources:
            return found
        return next((m for s in self._sources for m in s.models_of(account, family) if m.id == model_id), None)

    def listing(self, account: str, family: Family) -> list[Model]:
        """The models an account sees in a family: the shared ones, then its own, each by name."""
        with self._lock:
            shared = [m for (f, _), m in self._all.items() if f == family]
            own = [m for (f, _), m in self._accounts.get(account, {}).items() if f == family]
        own += [m for source in self._sources for m in source.models_of(account, family)]
        names = {m.id for m in own}
        return [m for m in shared if m.id not in names] + own

    def everyone(self) -> list[tuple[str | None, Model]]:
        """Every model with the account it belongs to (None: every account's), for the control routes."""
        with self._lock:
            shared: list[tuple[str | None, Model]] = [(None, m) for m in self._all.values()]
            own = [(account, m) for account, table in self._accounts.items() for m in table.values()]
        made: list[tuple[str | None, Model]] = [(a, m) for source in self._sources for a, m in source.everyone()]
        return shared + own + made


def model_object(model: Model) -> dict[str, object]:
    """The SDK's ``Model``: ``{id, object: "model", created, owned_by}``."""
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": model.owned_by}
