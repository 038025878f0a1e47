"""The model routes: Chat Completions (OpenAI's ``/v1/chat/completions``, DashScope compatible
mode's ``/compatible-mode/v1/chat/completions``) and Responses (``/v1/responses``).

The Chat service (chat/service.py) checks the body and finds the model (``ask``), the fault rules
decide once the prompt is known (they can match its model, files and text), the files are read
(``read``: in a worker thread when one is large or inline), the answer is made, its tokens charged
to the key's budget, and it is sent as JSON or, with ``stream: true``, as server-sent events.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from mockfiles.chat import objects
from mockfiles.chat.prompt import ModelRequest
from mockfiles.chat.service import Chat, Reply
from mockfiles.core.errors import InvalidRequest
from mockfiles.core.registry import Endpoint
from mockfiles.web.api import Api
from mockfiles.web.dialects.openai import OpenAIDialect
from mockfiles.web.exchange import Exchange
from mockfiles.web.json_body import JsonBody
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Handler
from mockfiles.web.streams import EventStream, data_events, typed_events

BODY = JsonBody(
    80 * 1024 * 1024,  # inline file data of 73,400,320 characters, and the messages around it
    empty=None,
    keep=False,  # the journal notes the model, the files and the usage instead
    thread_above=1024 * 1024,
    not_json=lambda: InvalidRequest("body_not_json"),
)


def handlers(api: Api, dialect: OpenAIDialect) -> dict[Endpoint, Handler]:
    routes = ChatAPI(api, dialect)
    served: dict[Endpoint, Handler] = {Endpoint.CHAT_COMPLETIONS_CREATE: routes.chat_completion}
    if dialect.name == "openai":
        served[Endpoint.RESPONSES_CREATE] = routes.response
    return served


class ChatAPI:
    def __init__(self, api: Api, dialect: OpenAIDialect) -> None:
        self.api = api
        self.dialect = dialect

    @property
    def chat(self) -> Chat:
        return self.api.emulator.chat  # a reset makes a new one

    async def chat_completion(self, request: Request, ex: Exchange) -> Response:
        reply = await self.answer(request, ex, Endpoint.CHAT_COMPLETIONS_CREATE)
        if reply.reading.asked.prompt.stream:
            return EventStream(data_events(objects.chunks(reply)))
        return JSONResponse(objects.completion(reply))

    async def response(self, request: Request, ex: Exchange) -> Response:
        reply = await self.answer(request, ex, Endpoint.RESPONSES_CREATE)
        if reply.reading.asked.prompt.stream:
            return EventStream(typed_events(objects.response_events(reply)))
        return JSONResponse(objects.response(reply))

    async def answer(self, request: Request, ex: Exchange, endpoint: Endpoint) -> Reply:
        chat, record = self.chat, ex.record
        asked_for = ModelRequest.parse(await BODY.read(request, record))
        asked = chat.ask(record.key or "", asked_for, self.dialect.name, endpoint.id)
        details = record.details
        details.update(model=asked.model.id, stream=asked.prompt.stream)
        file_ids, filenames = chat.named_files(asked)
        if file_ids:
            details["files"] = [i or "file_data" for i in file_ids]
        await self.api.front.admit_prompt(ex, asked.model.id, file_ids, filenames, asked.prompt.text)
        await ex.drop_if_stale()  # not into a store reset meanwhile
        ident = record.request_id.encode()
        reading = await asyncio.to_thread(chat.read, asked, ident) if chat.heavy(asked) else chat.read(asked, ident)
        reply = chat.answer(reading, ident, int(self.api.emulator.clock.now()))
        self.api.front.take_tokens(ex, reply.total_tokens, asked.model.id)
        details["usage"] = {"prompt_tokens": reading.prompt_tokens, "completion_tokens": reply.completion_tokens}
        if reply.rule is not None:
            details["answer_rule"] = reply.rule
        return reply
