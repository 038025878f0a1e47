"""The openai SDK clients a server hands out (``MockFilesServer.client()`` and ``async_client()``).

**One client per server and options, handed out again.** A suite that calls ``client()`` in each
of its tests gets the same client each time, as long as the options are the same: the same
keyword arguments, and the same of what the server adds (its API key, which a test's marker may
change; in process or over a socket; its URL). Between tests the server's state is reset; the
client keeps nothing that needs it. A client is made afresh when the one made before cannot be
handed out again:

- it was closed (``with server.client() as client:`` closes it at the end of the block);
- its settings were changed since (``client.api_key = ...``, ``max_retries``, ``timeout``,
  ``webhook_secret``, any other public attribute the SDK gives it, ``base_url``, its default
  headers or query, its HTTP client's headers): what it was made with is checked on each hand-out;
- the server was stopped since (its in-process requests go to the server of that run);
- an async client over a socket is handed out again only within the event loop it was first handed
  out in: its connections belong to that loop (asyncio's transports cannot be used from another
  one, as pytest-asyncio's loop per test would), so another loop gets its own client, and outside
  a running loop ``async_client()`` always makes one. The client kept for a loop is closed when
  that loop shuts down its asynchronous generators (``asyncio.run`` and pytest-asyncio do, before
  they close it): its connections end on their own loop, with no socket left for the garbage
  collector to find open. In process there are no connections: an async client serves every loop.

``fresh=True`` makes a new client every time, kept by no one but the caller. At most ``KEPT``
clients are kept per server (the least recently handed out go first).

**A new client costs well under a millisecond.** The SDK's own default HTTP client builds a TLS
context when it is made (loading the trusted certificates: 20–50 ms), which a loopback ``http://``
URL never uses. A client over a socket is given the SDK's default HTTP client (its timeouts,
limits, proxies from the environment) with one TLS context made once per process by the HTTP
library's own ``create_ssl_context()``: the same context it would have made, made once. A client
given its own ``http_client`` is left as it is.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Hashable, Mapping
from functools import cache, cached_property
from types import ModuleType
from typing import Any

KEPT = 32  # clients kept per server


def openai_module() -> ModuleType:
    """The ``openai`` package, which mockfiles itself does not need: only ``client()`` does."""
    try:
        import openai
    except ModuleNotFoundError as exc:
        if exc.name != "openai":
            raise
        raise ModuleNotFoundError(
            "client() and async_client() need the openai package, which is not installed: "
            "pip install openai (or pip install 'mockfiles[openai]')",
            name="openai",
        ) from None
    return openai


def frozen(value: object) -> Hashable:
    """An option's value as a key: mappings and sequences by their contents, anything else that
    hashes as itself, and what does not (an ``httpx.Timeout``) by its identity."""
    if isinstance(value, Mapping):
        return ("mapping", tuple(sorted((str(k), frozen(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("sequence", tuple(frozen(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))  # the entry keeps the options, so the id stays this object's
    return (type(value), value)


def public_names(client: Any) -> tuple[str, ...]:
    """The public attributes the SDK gives a client (its key, organization, retries, timeout,
    webhook secret, ...), not its resources (cached properties, set once they are first used)."""
    cls = type(client)
    return tuple(
        sorted(
            name
            for name in vars(client)
            if not name.startswith("_") and not isinstance(getattr(cls, name, None), cached_property)
        )
    )


def settings(client: Any, names: tuple[str, ...]) -> tuple[object, ...]:
    """What a client was made with, as a test could change it afterwards: its public attributes
    (``names``), its URL, its default headers and query, its HTTP client and that client's headers."""
    values = vars(client)
    http = getattr(client, "_client", None)
    http_headers = getattr(http, "headers", None)
    return (
        [values.get(name, MISSING) for name in names],
        client.base_url,  # replaced, never changed in place: the same object while unchanged
        dict(getattr(client, "_custom_headers", None) or {}),
        dict(getattr(client, "_custom_query", None) or {}),
        http,
        http_headers.raw if http_headers is not None else None,
    )


MISSING = object()


class LoopClients:
    """The async clients over a socket handed out in one event loop: closed there when the loop
    shuts down its asynchronous generators (``asyncio.run`` and pytest-asyncio do before they
    close it), by an asynchronous generator started in it (the loop holds it weakly: this keeps it)."""

    def __init__(self) -> None:
        self.clients: list[Any] = []
        self.watcher = self._closing()
        step = self.watcher.__anext__()  # the running loop's hooks now know it
        try:
            step.send(None)  # up to its ``yield``, which awaits nothing
        except StopIteration:
            pass

    async def _closing(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            for client in self.clients:
                await client.close()


class Kept:
    """A client handed out, with what it must still be to be handed out again."""

    __slots__ = ("client", "names", "settings", "loop", "options")

    def __init__(self, client: Any, loop: asyncio.AbstractEventLoop | None, options: dict[str, Any]) -> None:
        self.client = client
        self.names = public_names(client)
        self.settings = settings(client, self.names)
        self.loop = loop
        self.options = options

    def usable(self, loop: asyncio.AbstractEventLoop | None) -> bool:
        client = self.client
        return not client.is_closed() and self.loop is loop and settings(client, self.names) == self.settings


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Clients:
    """The clients one server hands out, by kind, connection and options (``MockFilesServer``)."""

    def __init__(self) -> None:
        self._kept: OrderedDict[Hashable, Kept] = OrderedDict()
        self._lock = threading.Lock()
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopClients] = weakref.WeakKeyDictionary()

    def get(
        self,
        kind: tuple[str, bool],
        in_process: bool,
        url: str,
        options: dict[str, Any],
        make: Callable[[dict[str, Any]], Any],
        fresh: bool = False,
    ) -> Any:
        """The client of ``kind`` (its family, ``openai`` or ``azure``, and whether it is async) for
        these options: the one kept, if it can be handed out again, else one ``make`` makes (from a
        copy of ``options``), kept unless ``fresh``."""
        if fresh:
            return make(dict(options))
        asynchronous = kind[1]
        key = (kind, in_process, url, frozen(options))
        loop = running_loop() if asynchronous and not in_process else None  # connections belong to a loop
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept.usable(loop):
                self._kept.move_to_end(key)
                return kept.client
        client = make(dict(options))
        if asynchronous and not in_process and loop is None:
            return client  # which loop will use it is not known: it cannot be handed out again
        with self._lock:
            if loop is not None:  # its connections end with the loop
                if loop not in self._loops:
                    self._loops[loop] = LoopClients()
                self._loops[loop].clients.append(client)
            self._kept[key] = Kept(client, loop, options)
            self._kept.move_to_end(key)
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return client

    def forget(self) -> None:
        """The server stopped: nothing made so far is handed out again (not closed: who holds one
        gets the error a stopped server gives)."""
        with self._lock:
            self._kept.clear()


def socket_http_client(openai: ModuleType, asynchronous: bool) -> Any:
    """The SDK's default HTTP client, with the process's one TLS context (``shared_tls``). A sync
    one is the SDK's own subclass that closes its connections when it is collected; an async one
    is not: that subclass closes them on whatever loop runs then, and a client dropped for another
    loop has its connections on a loop that is gone (they are closed with their sockets)."""
    default = openai.DefaultAsyncHttpxClient if asynchronous else openai.DefaultHttpxClient
    tls = shared_tls(library_of(default))
    wrapper = None if asynchronous else getattr(openai._base_client, "SyncHttpxClientWrapper", None)
    client_class = wrapper if isinstance(wrapper, type) and issubclass(wrapper, default) else default
    return client_class() if tls is None else client_class(verify=tls)


def library_of(client_class: type) -> str:
    """The HTTP library (httpx, or httpx2 from openai 3) an SDK's client class is built on."""
    for base in client_class.__mro__:
        root = base.__module__.partition(".")[0]
        if root in ("httpx", "httpx2"):
            return root
    raise TypeError(f"{client_class.__name__} is not an httpx or httpx2 client")


@cache
def shared_tls(library: str) -> Any:
    """The TLS context ``library`` (httpx or httpx2) makes for a client by default, made once (or
    None where the library has no ``create_ssl_context``: each client then makes its own)."""
    import importlib

    create = getattr(importlib.import_module(library), "create_ssl_context", None)
    return create() if create is not None else None
