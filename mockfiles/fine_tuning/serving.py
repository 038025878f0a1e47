"""The fine-tuned models as the model routes know them: the Fine-tuning service as a source of
the model registry (chat/models.py's ``ModelSource``).

A job's model (and each checkpoint's) is a model of its account from the moment the job has made
it on the emulator clock until it is deleted (``DELETE /v1/models/{model}``) or the emulator is
reset: ``GET /v1/models`` lists it, ``GET /v1/models/{model}`` finds it, and Chat Completions and
Responses answer with it, reading what its base model reads. Another account's, or an ``ft:`` name
no job made, is not found: the routes refuse it as OpenAI does (``model_not_found``). Only OpenAI's
family has them (DashScope's compatible mode has no Fine-tuning API).
"""

from __future__ import annotations

from dataclasses import replace

from mockfiles.chat.models import Family, Model, Models, derived
from mockfiles.fine_tuning.models import ALIASES, FineTunedModel
from mockfiles.fine_tuning.service import FineTuning

ALIAS_OF = {snapshot: alias for alias, snapshot in ALIASES.items()}
NO_FILES = ("gpt-3.5-turbo", "babbage-002", "davinci-002")  # bases that read no file parts


class FineTunedModels:
    """The Fine-tuning service's models, shaped as the registry's."""

    def __init__(self, service: FineTuning, registry: Models) -> None:
        self.service = service
        self.registry = registry

    def models_of(self, account: str, family: Family) -> list[Model]:
        if family != "openai":
            return []
        return [self._model(made) for made in self.service.models(account)]

    def everyone(self) -> list[tuple[str, Model]]:
        return [(account, self._model(made)) for account, made in self.service.all_models()]

    def _model(self, made: FineTunedModel) -> Model:
        """The model as its base model is (what it reads), named and owned as the job made it."""
        registry = self.registry
        base = registry.built_in(made.base, "openai") or registry.built_in(ALIAS_OF.get(made.base, ""), "openai")
        if base is None:
            base = Model(made.base, 0, "system", "openai", reads_files=not made.base.startswith(NO_FILES))
        return replace(derived(made.id, base, owned_by=made.owned_by, created=made.created), base=made.base)
