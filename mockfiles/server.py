"""Running the emulator: uvicorn on a socket we bind ourselves, in a background
thread (``MockFilesServer``) or in the foreground (``serve``)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypedDict, cast

import uvicorn

from mockfiles.announce import connectable_url
from mockfiles.clients import Clients, openai_module, socket_http_client
from mockfiles.core.accounts import account_id
from mockfiles.core.clock import real_monotonic_clock
from mockfiles.core.journal import Entry
from mockfiles.core.timeouts import SHUTDOWN_GRACE
from mockfiles.emulator import DataPath, Emulator, Settings
from mockfiles.environment import DEFAULT_API_KEY, Target, patched, variables
from mockfiles.exceptions import StartupError
from mockfiles.inprocess import transports as inprocess
from mockfiles.inprocess.channel import Server as InMemoryServer
from mockfiles.inprocess.channel import connection_of
from mockfiles.inprocess.transports import AsyncInProcessTransport, InProcessTransport
from mockfiles.retries.handle import RetryTest, retry_document
from mockfiles.retries.verdicts import CallDict
from mockfiles.scenarios.scenario import Scenario, ScenarioSource
from mockfiles.web.app import MockFilesApp, build_app
from mockfiles.web.browsers import BrowserPolicy
from mockfiles.web.listen import bind, check_port
from mockfiles.web.protocol import protocol_class
from mockfiles.web.refusals import Answers
from mockfiles.web.serial import Serialized
from mockfiles.web.stopping import GracefulServer, close_loop

if TYPE_CHECKING:  # the SDK's types for the clients below; it is imported when one is made
    import openai

AZURE_API_VERSION = "2024-10-21"  # the GA version azure_client() sends unless told
STARTUP_TIMEOUT = 15.0


class ServerOptions(TypedDict, total=False):
    """``MockFilesServer``'s keyword arguments (the pytest plugin's ``mockfiles_options``)."""

    scenario: ScenarioSource | None
    profile: str | None
    host: str
    port: int
    seed: int | None
    api_keys: Iterable[str] | None
    rate_limits: bool | None
    admin_token: str | None
    header_timeout: float | None
    body_timeout: float | None
    in_process: bool
    cors_origins: Iterable[str] | None
    allowed_hosts: Iterable[str] | None
    data_dir: DataPath | None


def freeze_proof_loop(factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> asyncio.AbstractEventLoop:
    """An event loop whose timers run on real time even while a test freezes time
    with freezegun (which patches ``time.monotonic``, the asyncio loop's clock)."""
    loop = factory() if factory is not None else asyncio.new_event_loop()
    try:
        loop.time = real_monotonic_clock()  # type: ignore[method-assign]
    except AttributeError:  # uvloop: its clock is libuv's, which freezegun does not touch
        pass
    return loop


def uvicorn_config(
    app: Any, host: str, *, quiet: bool, answers: Answers | None = None, grace: float = 2.0, **options: Any
) -> uvicorn.Config:
    """mockfiles' uvicorn settings; ``answers`` words the connection's own refusals (431, 408) and
    gives its timeouts (mockfiles/protocol.py); ``grace``: seconds a stop waits for requests in
    flight (mockfiles/stopping.py)."""
    return uvicorn.Config(
        app,
        host=host,
        http=protocol_class(answers, quiet=quiet),
        lifespan="off",
        log_level="warning" if quiet else "info",
        log_config=None if quiet else uvicorn.config.LOGGING_CONFIG,
        access_log=not quiet,
        proxy_headers=False,  # nothing here depends on the client's address: no X-Forwarded-* parsing per request
        timeout_graceful_shutdown=grace,  # type: ignore[arg-type]  # typed int; asyncio.timeout takes 0.5 as well
        **options,
    )


def _loop_factory(config: uvicorn.Config) -> Callable[[], asyncio.AbstractEventLoop] | None:
    get = getattr(config, "get_loop_factory", None)
    return get() if get is not None else None


class MockFilesServer:
    """An emulator on a free loopback port, served from a background thread.

    >>> with MockFilesServer() as server:
    ...     client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key)
    """

    def __init__(
        self,
        scenario: ScenarioSource | None = None,
        profile: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        api_keys: Iterable[str] | None = None,
        rate_limits: bool | None = None,
        admin_token: str | None = None,
        header_timeout: float | None = None,
        body_timeout: float | None = None,
        in_process: bool = False,
        cors_origins: Iterable[str] | None = None,
        allowed_hosts: Iterable[str] | None = None,
        data_dir: DataPath | None = None,
    ) -> None:
        check_port(port)
        self.browsers = BrowserPolicy.for_server(host, cors_origins, allowed_hosts)  # ValueError for a bad origin
        keys = tuple(api_keys) if api_keys is not None else None
        settings = Settings(scenario, profile, seed, keys, rate_limits, admin_token, header_timeout, body_timeout)
        self.emulator = Emulator(replace(settings, data_dir=data_dir))
        self.host = host
        self._port = port
        self._server: GracefulServer | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.in_process = in_process  # what client() and async_client() give by default
        self._in_memory: InMemoryServer | None = None
        self._clients = Clients()

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> MockFilesServer:
        if self._thread is not None:
            return self
        self.emulator.check_open()
        sock = bind(self.host, self._port)
        self._port = sock.getsockname()[1]
        app = build_app(self.emulator, self.browsers)
        # each step of a request holds the emulator's lock, as an in-process request's does (web/serial.py)
        config = uvicorn_config(Serialized(app, self.emulator.lock), self.host, quiet=True, answers=app)
        self._server = GracefulServer(config, on_stop=self.emulator.shutdown)
        self._thread = threading.Thread(
            target=self._run, args=(sock, config), name=f"mockfiles:{self._port}", daemon=True
        )
        self._thread.start()
        clock = real_monotonic_clock()
        deadline = clock() + STARTUP_TIMEOUT
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                self._thread = None
                raise StartupError(f"the server did not start: {self._error!r}")
            if clock() > deadline:
                self.stop()
                raise StartupError(f"the server did not start within {STARTUP_TIMEOUT:.0f}s")
            time.sleep(0.002)
        return self

    def _run(self, sock: socket.socket, config: uvicorn.Config) -> None:
        loop = freeze_proof_loop(_loop_factory(config))
        asyncio.set_event_loop(loop)
        try:
            assert self._server is not None
            loop.run_until_complete(self._server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by start() or stop()
            self._error = exc
        finally:
            sock.close()
            if self._in_memory is not None:  # in-process requests have the same grace period
                self._in_memory.shutdown(config.timeout_graceful_shutdown or 0)
            close_loop(loop)

    def stop(self) -> None:
        if self._thread is None or self._server is None:
            return
        self._clients.forget()
        self.emulator.shutdown()
        self._server.exit_soon()
        self._thread.join(timeout=10)
        self._thread = None
        self._in_memory = None
        self.emulator.close()

    def __enter__(self) -> MockFilesServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- where it is --------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return connectable_url(self.host, self._port)

    @property
    def base_url(self) -> str:
        """The OpenAI SDK's ``base_url``."""
        return self.url + "/v1"

    @property
    def api_key(self) -> str:
        """A key the server accepts: the first configured one, else a default."""
        keys = self.emulator.keys
        return sorted(keys)[0] if keys else DEFAULT_API_KEY

    # --- control ------------------------------------------------------------------

    def reset(self, **overrides: Any) -> None:
        """Fresh state (files, journal, clock, rate windows, fault counters); keyword
        arguments (scenario, profile, seed, api_keys, rate_limits) set this configuration."""
        if "api_keys" in overrides and overrides["api_keys"] is not None:
            overrides["api_keys"] = tuple(overrides["api_keys"])
        self.emulator.reset(**overrides)

    def use_scenario(self, scenario: ScenarioSource | None) -> Scenario:
        """Replace the active scenario, keeping the stored files and the journal."""
        return self.emulator.use_scenario(scenario)

    def advance(self, seconds: float) -> float:
        """Move the emulator's clock forward; returns the new emulator time."""
        return self.emulator.advance(seconds)

    def requests(self, endpoint: str | Iterable[str] | None = None, *, after: int = 0) -> list[Entry]:
        """The request journal, oldest first: every entry, or those of ``endpoint`` (a name such as
        ``files.create``, or several), and only those after the entry numbered ``after`` (``seq``)."""
        return self.emulator.journal.entries(endpoint, after=after)

    def requests_for(self, endpoint: str | Iterable[str]) -> list[Entry]:
        """``requests(endpoint)``, by the name earlier versions documented."""
        return self.requests(endpoint)

    def retry_test(self, instructions: Mapping[str, object]) -> RetryTest:
        """A new retry test: ``{"files.create": ["return-503", "return-503"]}`` (or the whole
        ``{"instructions": {...}}`` document); pass its ``headers`` to the client. docs/retries.md."""
        return RetryTest(self.emulator, self.emulator.retry_tests.create(retry_document(instructions)))

    def calls(self, retry_test: str | None = None) -> list[CallDict]:
        """The journal's requests grouped into logical calls, each with its retry verdict: every
        call, or those of one retry test (its id)."""
        return self.emulator.calls(retry_test)

    def environment(self) -> dict[str, str]:
        """The variables that point client libraries here (``OPENAI_BASE_URL``, ``DASHSCOPE_*``...)."""
        return variables(Target(self.url, self.emulator.profile.name, self.api_key))

    def patch_environment(self) -> AbstractContextManager[dict[str, str]]:
        """``environment()`` in ``os.environ`` (and the dashscope SDK's settings) within, then put back."""
        return patched(Target(self.url, self.emulator.profile.name, self.api_key))

    @staticmethod
    def account_id(key: str) -> str:
        """The ``account`` that the journal and ``/_mockfiles/files`` show for an API key:
        ``acct_`` + 16 hex digits, the same in every run (the key itself is never shown)."""
        return account_id(key)

    def client(self, *, in_process: bool | None = None, fresh: bool = False, **options: Any) -> openai.OpenAI:
        """An ``openai.OpenAI`` client pointed at this server (``options`` are the SDK's); the same
        one on every call with the same options while it can be used (mockfiles/clients.py: not
        after it is closed, its settings changed, or the server stopped), ``fresh=True`` a new one.
        ``in_process`` (default: the server's ``in_process``) sends its requests to the application
        without a socket."""
        return cast("openai.OpenAI", self._client(False, in_process, fresh, options))

    def async_client(
        self, *, in_process: bool | None = None, fresh: bool = False, **options: Any
    ) -> openai.AsyncOpenAI:
        """An ``openai.AsyncOpenAI`` client pointed at this server (as ``client``; over a socket,
        handed out again only within the event loop it was first handed out in)."""
        return cast("openai.AsyncOpenAI", self._client(True, in_process, fresh, options))

    def azure_client(
        self, *, in_process: bool | None = None, fresh: bool = False, **options: Any
    ) -> openai.AzureOpenAI:
        """An ``openai.AzureOpenAI`` client with this server as its ``azure_endpoint`` (the
        ``/openai`` routes; ``api_version`` defaults to ``2024-10-21``), handed out as ``client``'s."""
        options.setdefault("api_version", AZURE_API_VERSION)
        return cast("openai.AzureOpenAI", self._client(False, in_process, fresh, options, azure=True))

    def async_azure_client(
        self, *, in_process: bool | None = None, fresh: bool = False, **options: Any
    ) -> openai.AsyncAzureOpenAI:
        """An ``openai.AsyncAzureOpenAI`` client (as ``azure_client``)."""
        options.setdefault("api_version", AZURE_API_VERSION)
        return cast("openai.AsyncAzureOpenAI", self._client(True, in_process, fresh, options, azure=True))

    def _client(
        self, asynchronous: bool, in_process: bool | None, fresh: bool, options: dict[str, Any], azure: bool = False
    ) -> Any:
        inside = in_process if in_process is not None else self.in_process
        options.setdefault("api_key", self.api_key)
        if inside:
            self._in_memory_server()  # the server must be running: said now, not at the first request

        def make(given: dict[str, Any]) -> Any:
            openai = openai_module()
            if inside:
                default = openai.DefaultAsyncHttpxClient if asynchronous else openai.DefaultHttpxClient
                given.setdefault("http_client", self._sdk_http_client(default, asynchronous))
            elif "http_client" not in given:
                given["http_client"] = socket_http_client(openai, asynchronous)
            if azure:
                return (openai.AsyncAzureOpenAI if asynchronous else openai.AzureOpenAI)(
                    azure_endpoint=self.url, **given
                )
            return (openai.AsyncOpenAI if asynchronous else openai.OpenAI)(base_url=self.base_url, **given)

        kind = ("azure" if azure else "openai", asynchronous)
        return self._clients.get(kind, bool(inside), self.url, options, make, fresh)

    def transport(self, flavour: str | None = None) -> InProcessTransport:
        """An httpx or httpx2 transport (by default the installed openai SDK's library: httpx2 from
        openai 3) that sends requests to this server's application without a socket:
        ``httpx2.Client(transport=server.transport(), base_url=server.url)``."""
        return InProcessTransport(self._in_memory_server(), inprocess.flavour(flavour))

    def async_transport(self, flavour: str | None = None) -> AsyncInProcessTransport:
        """``transport`` for ``httpx.AsyncClient``."""
        return AsyncInProcessTransport(self._in_memory_server(), inprocess.flavour(flavour))

    def _sdk_http_client(self, client_class: Any, asynchronous: bool) -> Any:
        """The SDK's own default http client (its timeouts and limits) over an in-process transport."""
        flavour = inprocess.flavour_of(client_class)
        server = self._in_memory_server()
        transport = AsyncInProcessTransport(server, flavour) if asynchronous else InProcessTransport(server, flavour)
        return client_class(transport=transport, trust_env=False)

    def _in_memory_server(self) -> InMemoryServer:
        """The application in-memory requests reach (made on first use, while the server runs)."""
        if self._in_memory is None:
            if self._thread is None:
                raise RuntimeError("the server is not running: start() it before asking for an in-process client")
            app = MockFilesApp(self.emulator, connections=connection_of, browsers=self.browsers)
            self._in_memory = InMemoryServer(app, self.emulator.lock)
        return self._in_memory

    def __repr__(self) -> str:
        return f"<MockFilesServer {self.url} profile={self.emulator.profile.name}>"


def serve(
    emulator: Emulator,
    host: str,
    port: int,
    *,
    announce: Callable[[str], None],
    quiet: bool = False,
    grace: float = SHUTDOWN_GRACE,
    browsers: BrowserPolicy | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM, then stop gracefully, waiting at most
    ``grace`` seconds for requests in flight; ``announce`` gets the URL once connections are accepted."""
    sock = bind(host, port)
    url = connectable_url(host, sock.getsockname()[1])
    app = build_app(emulator, browsers if browsers is not None else BrowserPolicy.for_server(host))
    try:
        serve_app(app, sock, lambda: announce(url), quiet=quiet, answers=app, grace=grace, on_stop=emulator.shutdown)
    finally:
        emulator.shutdown()


def serve_app(
    app: Any,
    sock: socket.socket,
    announce: Callable[[], None],
    *,
    quiet: bool,
    answers: Answers | None = None,
    grace: float = SHUTDOWN_GRACE,
    on_stop: Callable[[], None] = lambda: None,
) -> None:
    """Any ASGI app on a bound socket, with mockfiles' uvicorn settings, until Ctrl-C or SIGTERM
    (which uvicorn turns into a graceful stop, then raises again)."""
    host = sock.getsockname()[0]
    config = uvicorn_config(app, host, quiet=quiet, answers=answers, grace=grace)
    server = GracefulServer(config, on_stop=on_stop, announce=announce)
    loop = freeze_proof_loop(_loop_factory(server.config))
    try:
        loop.run_until_complete(server.serve(sockets=[sock]))
    finally:
        sock.close()
        close_loop(loop)
