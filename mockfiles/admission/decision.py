"""Fault decisions: what is to happen to one request besides (or instead of) its answer.

A decision source looks at a request (``RequestView``) and returns a frozen ``Decision``, or None
when it has nothing to say. The scenario's fault rules are one source (``chaos.Chaos``); queued
retry-test instructions can be another. Deciding knows nothing of sockets or event loops: the
front layer (``front.py``) asks the sources, the transport layer (``transport.py``) carries the
decision out, and the journal keeps its ``label`` and ``action``.

The front layer asks at two moments: on ``arrival`` (before any of the body is read) and, for an
upload, once its ``form`` is read (its ``purpose`` and ``filename`` known), for a model request once
its ``prompt`` is read (its ``model``, the files it names and its text known). A source that
``reads_forms`` (the scenario's rules, which can match a purpose, a filename or a model) decides
uploads and model requests at the second; the others decide every request on arrival (retry
instructions that act part-way through an upload's body must be known before it is read). A
request gets at most one decision: the first a source gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from mockfiles.core.errors import MockFilesError
from mockfiles.files.service import Outcome

Stage = Literal["arrival", "form", "prompt"]
Drop = Literal["reset", "hold"]  # no answer: the connection is reset, or held until the client gives up
After = Literal["truncate", "reset_after_commit", "malformed_json"]  # done to the operation's answer
Direction = Literal["request", "response"]
ErrorForm = Literal["json", "html"]  # the error in the dialect's envelope, or a proxy's HTML page


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one request, in the order it happens: ``delay``, then one of ``error`` (an
    answer instead of the operation), ``drop`` (no answer at all) or the operation, whose answer
    then gets ``after`` and whose upload ends as ``outcome`` says.

    Effects counted in bytes of a body (``at_bytes`` of the ``request`` upload or the ``response``
    download) wait for that many bytes: an error or a reset part-way through an upload, a broken
    download, a ``stall`` of that many seconds. ``at_bytes`` None: at once (a ``truncate`` then cuts
    the first piece of the answer in half)."""

    label: str  # the journal's ``rule``: a fault rule's name (or faults[i]), an instruction's text
    action: str  # the journal's ``action``: "status 503", "reset", "timeout", "truncate", "delay"…
    index: int | None = None  # the journal's ``fault``: the scenario rule's position
    delay: float = 0.0  # seconds before anything else
    error: MockFilesError | None = None
    error_form: ErrorForm = "json"
    drop: Drop | None = None
    hold: float = 0.0  # the longest a ``hold`` lasts (the client usually gives up first)
    after: After | None = None
    outcome: Outcome | None = None
    at_bytes: int | None = None
    body: Direction | None = None
    stall: float = 0.0
    rate: float = 0.0  # bytes per second the ``body`` is dribbled at (0: as fast as it goes)
    at_events: int | None = None  # a streamed answer is cut (a reset) after this many events
    notes: tuple[tuple[str, object], ...] = ()  # more journal fields (a retry test's id, what is left of its queue)

    @property
    def shaping(self) -> bool:
        """Whether it only slows the request down (a delay, a bandwidth): an upload's form can still
        get a decision of its own."""
        return (
            self.error is None
            and self.drop is None
            and self.after is None
            and self.outcome is None
            and self.at_bytes is None
            and self.at_events is None
            and not self.stall
        )

    @property
    def instead(self) -> bool:
        """Whether the request is answered (or dropped) instead of being done: its rate-limit slot
        is given back, since a test of retries expects the retry, not the fault, to meet the limit."""
        return self.error is not None or self.drop is not None


class RequestView(NamedTuple):
    """What a decision source looks at: the request as the front layer knows it at ``stage`` (a
    named tuple: made for every request while a scenario has fault rules, so it must be cheap)."""

    stage: Stage
    endpoint: str
    upload: bool  # the endpoint's body is an upload (endpoints.py): its form comes at the "form" stage
    method: str
    path: str
    dialect: str
    key: str | None
    headers: Mapping[str, str]  # lower-case names; the first of a repeated header
    purpose: str | None = None  # an upload's, from the "form" stage on
    filename: str | None = None
    model: str | None = None  # a model request's, at the "prompt" stage
    file_ids: tuple[str, ...] = ()  # the files it names
    filenames: tuple[str, ...] = ()  # their names, where known
    prompt: str | None = None  # its messages' text


class DecisionSource(Protocol):
    reads_forms: bool  # it decides an upload once its form is read (else: every request on arrival)

    def decide(self, view: RequestView) -> Decision | None:
        """A decision for this request, or None (the next source is asked)."""
        ...
