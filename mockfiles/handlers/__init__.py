"""Handlers: what each endpoint does, one module per API and dialect family.

A handler module declares its routes with ``routes(api) -> list[Route]``: each route's
operations name the endpoint they serve (endpoints.py) and the handler, an ``async def (request,
exchange) -> Response`` that reads the request's parameters, calls the domain and shapes the
answer with its dialect. Authentication, the rate limit and the fault decision have already
happened (front.py); an upload's handler asks for its fault decision once its form is read
(``api.front.admit_form``). Errors are raised, never answered here: the application renders them.

The application mounts every module the registry names (``endpoints.HANDLER_MODULES``) and the
control routes (``admin``), so adding an endpoint is its registry line and its handler.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..dialects.dashscope_compatible import CompatibleDialect
from ..dialects.dashscope_native import NativeDialect
from ..dialects.openai import OpenAIDialect
from ..emulator import Emulator
from ..endpoints import HANDLER_MODULES
from ..front import Front
from ..routes import Route
from ..scheduler import Job, Superseded
from ..transport import Exchange

T = TypeVar("T")


@dataclass(frozen=True)
class Api:
    """What handlers are given: the emulator (its services), the front layer, the dialects."""

    emulator: Emulator
    front: Front
    openai: OpenAIDialect
    compatible: CompatibleDialect
    native: NativeDialect

    async def work(self, ex: Exchange, account: str, job: Job[T]) -> T:
        """A job run by the emulator's scheduler in the account's turns, awaited without holding up
        the event loop; a reset meanwhile drops it, and the request with it."""
        try:
            return await asyncio.wrap_future(self.emulator.scheduler.submit(account, job))
        except Superseded:
            await ex.drop_if_stale()
            raise


def mount(api: Api) -> list[Route]:
    """Every route: each handler module the registry names, then the control routes."""
    routes: list[Route] = []
    for name in (*HANDLER_MODULES, "admin", "retry_admin", "console"):
        module = importlib.import_module(f"{__name__}.{name}")
        declare: Callable[[Api], list[Route]] = module.routes
        routes += declare(api)
    return routes
