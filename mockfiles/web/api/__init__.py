"""Handlers: what each endpoint does, one module per API and dialect family.

A handler module gives, for one dialect, the handler of each endpoint it serves there:
``handlers(api, dialect) -> dict[Endpoint, Handler]``. A handler is an ``async def (request,
exchange) -> Response`` that reads the request's parameters, calls the domain and shapes the
answer with its dialect. Authentication, the rate limit and the fault decision have already
happened (front.py); an upload's handler asks for its fault decision once its form is read
(``api.front.admit_form``). Errors are raised, never answered here: the application renders them.

The routes come from the registry (``core/registry.py``): every endpoint, in every dialect that
serves it, at the dialect's prefix plus the endpoint's path, answered by the module it names.
The control routes under ``/_mockfiles`` (``mockfiles/web/control``) declare their own.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from mockfiles.core.registry import Endpoint
from mockfiles.core.scheduler import Job, Superseded
from mockfiles.emulator import Emulator
from mockfiles.web.dialects.azure import AzureDialect, AzureV1Dialect
from mockfiles.web.dialects.dashscope_compatible import CompatibleDialect
from mockfiles.web.dialects.dashscope_native import NativeDialect
from mockfiles.web.dialects.openai import OpenAIDialect
from mockfiles.web.exchange import Exchange
from mockfiles.web.front import Front
from mockfiles.web.routing import Handler, Operation, Route, route

T = TypeVar("T")

CONTROL_MODULES = ("admin", "retries", "console")  # mockfiles/web/control: the routes under /_mockfiles


@dataclass(frozen=True)
class Api:
    """What handlers are given: the emulator (its services), the front layer, the dialects."""

    emulator: Emulator
    front: Front
    openai: OpenAIDialect
    compatible: CompatibleDialect
    native: NativeDialect
    azure: AzureDialect
    azure_v1: AzureV1Dialect

    def dialect(self, name: str) -> Any:
        """The dialect called ``name`` in the registry."""
        return {d.name: d for d in (self.openai, self.compatible, self.native, self.azure, self.azure_v1)}[name]

    async def work(self, ex: Exchange, account: str, job: Job[T]) -> T:
        """A job run by the emulator's scheduler in the account's turns, awaited without holding up
        the event loop; a reset meanwhile drops it, and the request with it."""
        try:
            return await asyncio.wrap_future(self.emulator.scheduler.submit(account, job))
        except Superseded:
            await ex.drop_if_stale()
            raise


def handlers_of(api: Api, module: str, dialect: str) -> Mapping[Endpoint, Handler]:
    """What a handler module answers in one dialect."""
    declare: Callable[[Api, Any], Mapping[Endpoint, Handler]] = importlib.import_module(f"{__name__}.{module}").handlers
    return declare(api, api.dialect(dialect))


def mount(api: Api) -> list[Route]:
    """Every route: each endpoint of the registry where it is served, then the control routes."""
    made: dict[tuple[str, str], Mapping[Endpoint, Handler]] = {}
    paths: dict[str, dict[str, Operation]] = {}
    for endpoint in Endpoint:
        for dialect, module in endpoint.served:
            if (module, dialect) not in made:
                made[module, dialect] = handlers_of(api, module, dialect)
            path = api.dialect(dialect).prefix + endpoint.path
            paths.setdefault(path, {})[endpoint.method] = Operation(made[module, dialect][endpoint], endpoint)
    routes = [route(path, **operations) for path, operations in paths.items()]
    for name in CONTROL_MODULES:
        declare: Callable[[Api], list[Route]] = importlib.import_module(f"mockfiles.web.control.{name}").routes
        routes += declare(api)
    return routes
