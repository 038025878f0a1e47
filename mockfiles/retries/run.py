"""Running one conformance case (retry_cases.py) against a client: its retry test created, the file
it needs in place, what the client's call came to captured, and the verdict checked.

The pytest plugin's ``retry_case`` fixture hands one ``CaseRun`` per shipped case to a user's test::

    def test_my_client_retries(retry_case):
        client = MyClient(base_url=..., headers=retry_case.headers, timeout=retry_case.timeout)
        with retry_case.capture():
            my_upload(client, retry_case.content)   # or list / retrieve / download / delete

and checks the case once the test returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from mockfiles.retries.cases import SUCCESS, Case, CaseReport, ClientResult, check_case

if TYPE_CHECKING:
    from mockfiles.server import MockFilesServer

PURPOSE = "assistants"
FILENAME = "retry-case.txt"
DEFAULT_TIMEOUT = 30.0  # seconds: the read timeout for cases that do not need a short one


class CaseRun:
    """One case against one server: ``headers`` to send, the ``file_id`` to retrieve, download or
    delete (made beforehand, without the retry-test header), ``content`` and ``filename`` to upload,
    ``timeout`` to use as the client's read timeout."""

    def __init__(self, server: MockFilesServer, case: Case) -> None:
        self.server = server
        self.case = case
        self.test = server.retry_test(case.document)
        self.content = (b"mockfiles retry case\n" * (case.file_size // 21 + 1))[: case.file_size]
        self.filename = FILENAME
        self.purpose = PURPOSE
        self.file_id: str | None = None
        if case.needs_file:
            stored = server.emulator.files.create(
                server.api_key, purpose=PURPOSE, filename=FILENAME, chunks=[self.content], size=len(self.content)
            )
            self.file_id = stored.id
        self.result: ClientResult | None = None

    @property
    def id(self) -> str:
        return self.case.id

    @property
    def operation(self) -> str:
        """``upload``, ``list``, ``retrieve``, ``download`` or ``delete``."""
        return self.case.operation

    @property
    def headers(self) -> dict[str, str]:
        return self.test.headers

    @property
    def timeout(self) -> float:
        """The read timeout the client must use: the case's (cases that hold a request), else 30 s."""
        return self.case.client_timeout or DEFAULT_TIMEOUT

    @contextmanager
    def capture(self) -> Iterator[None]:
        """Run the client's call inside: what it raises is the case's result, not the test's error."""
        try:
            yield
        except Exception as exc:
            self.result = ClientResult.from_exception(exc)
        else:
            self.result = SUCCESS

    def check(self, result: ClientResult | None = None) -> CaseReport:
        """The case's report for ``result`` (else what ``capture`` saw; else a success)."""
        if result is not None:
            self.result = result
        return check_case(self.case, self.result or SUCCESS, self.test.view())

    def __repr__(self) -> str:
        return f"<CaseRun {self.case.id}>"
