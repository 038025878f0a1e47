"""The models routes (``GET /models``, ``GET /models/{model}``) for OpenAI's ``/v1`` and DashScope's
``/compatible-mode/v1``: the models each family's model routes answer for (chat/models.py), the
account's own (fine-tuned) ones included."""

from __future__ import annotations

from starlette.requests import Request

from mockfiles.chat.models import FAMILY_OF_DIALECT, model_object
from mockfiles.core.errors import NotFound
from mockfiles.core.registry import Endpoint
from mockfiles.web.api import Api
from mockfiles.web.dialects.openai import OpenAIDialect
from mockfiles.web.exchange import Exchange
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Handler


def handlers(api: Api, dialect: OpenAIDialect) -> dict[Endpoint, Handler]:
    family = FAMILY_OF_DIALECT[dialect.name]

    async def listing(request: Request, ex: Exchange) -> JSONResponse:
        models = api.emulator.models.listing(ex.record.key or "", family)
        return JSONResponse({"object": "list", "data": [model_object(m) for m in models]})

    async def retrieve(request: Request, ex: Exchange) -> JSONResponse:
        name = ex.record.details["model"] = request.path_params["model"]
        model = api.emulator.models.find(ex.record.key or "", name, family)
        if model is None:
            raise NotFound("model_not_found", param="model", model=name)
        return JSONResponse(model_object(model))

    return {Endpoint.MODELS_LIST: listing, Endpoint.MODELS_RETRIEVE: retrieve}
