"""Running a batch's requests: deciding which fail (when the batch is validated) and writing
the output and error files (when it ends).

Both passes read the input file line by line from the store's chunks. The first decides each
request's fate once (the batch's scenario rules, then the endpoint's own checks and the files it
names) and keeps the fates decided compactly (``Decided``: the indexes of those requests, and
for each a number naming one of the distinct fates); the second writes them, and runs the
others. The request counts shown while the batch runs so agree with the files it ends with.

Output lines (OpenAI's batch output format)::

    {"id": "batch_req_…", "custom_id": "…", "response": {"status_code": 200, "request_id": "req_…",
     "body": {…}}, "error": null}

A request the endpoint refused goes to the error file with its 4xx/5xx ``response``; one
that failed with no response (``request_timeout``, ``batch_expired``, ``batch_cancelled``,
``storage_limit_exceeded``) with ``"response": null`` and ``"error": {"code", "message"}``.

Both passes are jobs for the emulator's scheduler (scheduler.py): generators that yield every
``STEP`` lines, so that the thread running them can give another account its turn. The output
is held to the room its account has left (``room``): from the first answer that does not fit,
the requests that succeeded go to the error file as ``storage_limit_exceeded`` instead.
"""

from __future__ import annotations

import json
import logging
from array import array
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from mockfiles.batches.input import Limits, Request, Validation, read_requests
from mockfiles.batches.timeline import Timeline
from mockfiles.chat.reading import LineFiles
from mockfiles.inference import text as inference
from mockfiles.inference.text import HEX, Answer
from mockfiles.scenarios.batches import LINE_ERRORS, BatchSettings, LineFailure

log = logging.getLogger("mockfiles")
CHUNK_BYTES = 64 * 1024  # output files are stored as chunks of about this size
STEP = 128  # lines between two yields of a job (scheduler.py)
STORAGE_FULL = LineFailure(
    "storage_limit_exceeded",
    "The result of this request could not be stored: the account has reached its storage limit.",
)
SERVER_ERROR = {
    "message": "The server had an error while processing your request. Sorry about that!",
    "type": "server_error",
    "param": None,
    "code": None,
}


@dataclass(frozen=True, slots=True)
class Usage:
    """Token totals over a batch's successful requests (the SDK's ``BatchUsage`` has them so)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    def plus(self, body: dict[str, Any]) -> Usage:
        """These totals and one answer's ``usage``."""
        given, output, cached, reasoning = inference.usage_of(body)
        return Usage(
            self.input_tokens + given,
            self.output_tokens + output,
            self.cached_tokens + cached,
            self.reasoning_tokens + reasoning,
        )


Fate = Answer | LineFailure  # what a request gets without running: an answer, or a failure with none


@dataclass(frozen=True)
class Decided:
    """The requests whose fate validation decided, kept compactly: their indexes (sorted), and for
    each the position of its fate among ``fates`` (each distinct fate kept once: a rule's, a
    refusal's). A request not among them runs."""

    at: array[int] = field(default_factory=lambda: array("I"))
    which: array[int] = field(default_factory=lambda: array("I"))
    fates: tuple[Fate, ...] = ()

    def each(self, count: int) -> Iterator[Fate | None]:
        """The fate of requests 0 to ``count - 1`` in turn (None: it runs)."""
        at, which, fates = self.at, self.which, self.fates
        k, end = 0, len(at)
        for index in range(count):
            if k < end and at[k] == index:
                yield fates[which[k]]
                k += 1
            else:
                yield None


NOTHING_DECIDED = Decided()
WIDEST = {"B": 0xFF + 1, "H": 0xFFFF + 1, "I": -1}  # the first position a typecode cannot hold
WIDER = {"B": "H", "H": "I"}


@dataclass(frozen=True)
class Plan:
    """What validation found and decided; the input's chunks are kept (not copied) until
    the results are written."""

    validation: Validation
    failing: array[int]  # sorted indexes of the requests that will fail (``decided.at`` itself, often)
    chunks: tuple[bytes, ...]
    decided: Decided = NOTHING_DECIDED  # the fates known without running (let go once the results are written)
    files: LineFiles | None = None  # the files its lines name, read once (None once the results are written)

    @property
    def valid(self) -> bool:
        return not self.validation.errors

    @property
    def total(self) -> int:
        return self.validation.count if self.valid else 0


class Fates:
    """The distinct fates of one batch's requests as validation decides them, each kept once
    (a rule's by the rule, a model's refusal by the model, any other by what it says), and the
    requests they befall."""

    def __init__(self) -> None:
        self.decided = Decided(array("I"), array("B"), ())  # ``which`` widens as the fates grow (few, usually)
        self._fates: list[Fate] = []
        self._known: dict[object, int] = {}
        self.failing = array("I")
        self.all_fail = True  # every fate decided is a failure: ``failing`` is then ``decided.at``

    def note(self, index: int, key: object, make: Callable[[], Fate]) -> None:
        decided = self.decided
        position = self._known.get(key)
        if position is None:
            fate = make()
            position = self._known[key] = len(self._fates)
            self._fates.append(fate)
            if position == WIDEST[decided.which.typecode]:
                decided = self.decided = replace(decided, which=array(WIDER[decided.which.typecode], decided.which))
            if self.all_fail and not fails(fate):  # from now on, failing is an array of its own
                self.all_fail = False
                self.failing = array("I", decided.at)
        decided.at.append(index)
        decided.which.append(position)
        if not self.all_fail and fails(self._fates[position]):
            self.failing.append(index)

    def done(self) -> tuple[Decided, array[int]]:
        """What was decided, and the sorted indexes of the requests that fail (one array when
        every fate decided fails, as is usual)."""
        decided = replace(self.decided, fates=tuple(self._fates))
        return decided, decided.at if self.all_fail else self.failing


def decide(
    request: Request,
    settings: BatchSettings,
    seed: int,
    fates: Fates,
    files: LineFiles | None = None,
    unknown: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Note a request's fate when that is known without running it: a scenario rule's effect, the
    refusal of a fine-tuned model the account does not have (``unknown``), the endpoint's refusal
    of a malformed body, or the refusal of a file it names (the model routes' one file check:
    chat/reading.py). Nothing is noted for a request that runs."""
    rule = settings.rule_for(seed, request.custom_id, request.url, request.model)
    if rule is not None:
        fates.note(request.index, ("rule", rule.index), rule.effect)
        return
    if request.model in unknown:
        fates.note(request.index, ("model", request.model), lambda: model_not_found(request.model))
        return
    refused = inference.check(request.url, request.body)
    if refused is None and files is not None:
        read = files.read(request.url, request.body)
        refused = read if isinstance(read, Answer) else None
    if refused is not None:
        answer = refused
        fates.note(request.index, said(answer), lambda: answer)


def said(answer: Answer) -> object:
    """What tells a refusal from another: its status and error (any other body: all of it)."""
    error = answer.body.get("error")
    if len(answer.body) == 1 and isinstance(error, dict):
        key = (answer.status, tuple(error.items()))
        try:
            hash(key)
        except TypeError:  # an error holding a list or an object
            pass
        else:
            return key
    return (answer.status, json.dumps(answer.body, sort_keys=True))


def model_not_found(model: str) -> Answer:
    """OpenAI's answer to a model that does not exist or is another account's (a 404)."""
    message = f"The model `{model}` does not exist or you do not have access to it."
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": "model_not_found"}
    return Answer(404, {"error": error})


def fails(decided: Fate | None) -> bool:
    return isinstance(decided, LineFailure) or (decided is not None and not decided.ok)


def planning(
    chunks: tuple[bytes, ...],
    endpoint: str,
    limits: Limits,
    settings: BatchSettings,
    seed: int,
    files: LineFiles | None = None,
    known: Callable[[str], bool] = lambda model: False,
) -> Generator[None, None, Plan]:
    """Validate the input and note which requests will fail (one pass over the file): a job. The
    files its lines name are checked now, as the batch is validated. ``known`` says whether the
    account has a fine-tuned model (``ft:…``), asked once per name: the others are answered whatever
    their name."""
    validation = Validation(endpoint, limits)
    fates = Fates()
    unknown: set[str] = set()
    asked: set[str] = set()
    for request in validation.requests(chunks):
        model = request.model
        if model.startswith("ft:") and model not in asked:
            asked.add(model)
            if not known(model):
                unknown.add(model)
        decide(request, settings, seed, fates, files, unknown)
        if request.index % STEP == 0:
            yield
    decided, failing = fates.done()
    return Plan(validation, failing, chunks, decided, files)


class ChunkWriter:
    """A JSONL file built line by line into chunks of about CHUNK_BYTES: never one big copy."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.lines = 0
        self._buffer = bytearray()

    @property
    def written(self) -> int:
        """Bytes written so far, the buffer's included."""
        return self.size + len(self._buffer)

    def write(self, line: bytes) -> None:
        """One line, already JSON (``encode``)."""
        self._buffer += line
        self.lines += 1
        if len(self._buffer) >= CHUNK_BYTES:
            self._flush()

    def close(self) -> tuple[bytes, ...]:
        self._flush()
        return tuple(self.chunks)

    def _flush(self) -> None:
        if self._buffer:
            self.chunks.append(bytes(self._buffer))
            self.size += len(self._buffer)
            self._buffer.clear()


@dataclass
class Results:
    output: ChunkWriter = field(default_factory=ChunkWriter)
    errors: ChunkWriter = field(default_factory=ChunkWriter)
    usage: Usage = field(default_factory=Usage)
    full_from: int | None = None  # the first request whose answer did not fit the account's room
    late: array[int] = field(default_factory=lambda: array("I"))  # requests planned to succeed that failed

    def failing(self, planned: array[int]) -> array[int]:
        """The sorted indexes of every failed request: those planned, and those that failed late."""
        if not self.late:
            return planned
        return array("I", sorted({*planned, *self.late}))

    @property
    def size(self) -> int:
        return self.output.written + self.errors.written


def building(the_plan: Plan, timeline: Timeline, batch_id: str, room: int) -> Generator[None, None, Results]:
    """The output and error files of a batch that has ended (a job): the requests done by the time
    work stopped ran; the others get the final status's code (batch_expired or batch_cancelled).
    Answers go to the output file while they fit in ``room`` bytes (the files' total); from the
    first that does not, successes are ``storage_limit_exceeded`` failures."""
    results = Results()
    final, at = timeline.final
    done = timeline.done(at)
    stop_code = "batch_expired" if final == "expired" else "batch_cancelled"
    decided = the_plan.decided.each(the_plan.total)
    for request, answer in zip(_requests(the_plan), decided, strict=True):
        ident = f"{batch_id}:{request.index}".encode()
        line_id = "batch_req_" + inference.token(ident, "line", HEX, 32)
        if request.index % STEP == 0:
            yield
        if request.index >= done:
            results.errors.write(_failure(line_id, request.custom_id, LineFailure(stop_code, LINE_ERRORS[stop_code])))
            continue
        if isinstance(answer, LineFailure):
            results.errors.write(_failure(line_id, request.custom_id, answer))
            continue
        line, answered = _answered(request, answer, ident, line_id, timeline, the_plan.files)
        if not answered.ok:
            results.errors.write(line)
            if answer is None:  # the stand-in itself failed
                results.late.append(request.index)
        elif results.full_from is None and results.size + len(line) <= room:
            results.output.write(line)
            results.usage = results.usage.plus(answered.body)
        else:
            results.full_from = request.index if results.full_from is None else results.full_from
            results.errors.write(_failure(line_id, request.custom_id, STORAGE_FULL))
            results.late.append(request.index)
    return results


def _answered(
    request: Request, decided: Answer | None, ident: bytes, line_id: str, timeline: Timeline, files: LineFiles | None
) -> tuple[bytes, Answer]:
    """A request's output line and its answer: the endpoint's stand-in (reading the files it names)
    unless a rule decided it. A body that cannot be answered or written back (which validation keeps
    out) is the 500 the real service answers for its own failures, not a batch that cannot end."""
    request_id = "req_" + inference.token(ident, "request", HEX, 32)
    try:
        answer = decided or _run(request, ident, timeline, files)
        response = {"status_code": answer.status, "request_id": request_id, "body": answer.body}
        return encode({"id": line_id, "custom_id": request.custom_id, "response": response, "error": None}), answer
    except (TypeError, ValueError, RecursionError) as exc:
        log.warning("mockfiles: batch request %s answered 500: %s", line_id, exc)
        answer = Answer(500, {"error": SERVER_ERROR})
        response = {"status_code": 500, "request_id": request_id, "body": answer.body}
        return encode({"id": line_id, "custom_id": request.custom_id, "response": response, "error": None}), answer


def _run(request: Request, ident: bytes, timeline: Timeline, files: LineFiles | None) -> Answer:
    read = files.read(request.url, request.body) if files is not None else ()
    documents = read if isinstance(read, tuple) else ()
    return inference.run(request.url, request.body, ident, int(timeline.line_time(request.index)), documents)


def encode(line: dict[str, Any]) -> bytes:
    """One JSONL line, as OpenAI's documented output lines are spaced, UTF-8 as it is. What a line
    can echo was read by orjson (batch_input): no lone surrogate, no NaN, no integer beyond 64 bits."""
    return json.dumps(line, ensure_ascii=False).encode() + b"\n"


def _requests(the_plan: Plan) -> Iterable[Request]:
    return read_requests(the_plan.chunks) if the_plan.valid else ()


def _failure(line_id: str, custom_id: str, failure: LineFailure) -> bytes:
    return encode(
        {
            "id": line_id,
            "custom_id": custom_id,
            "response": None,
            "error": {"code": failure.code, "message": failure.message},
        }
    )
