"""The limits and defaults of each real service the emulator can play.

Every value is documented, with its source, in docs/profiles.md; a scenario can
override any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from mockfiles.core import ids

MiB = 1024**2
GiB = 1024**3
HOUR = 3600
DAY = 86400

# The endpoints a batch can run. OpenAI also documents /v1/videos, left out here: a video job's
# result is a download this emulator does not serve (docs/batches.md).
OPENAI_BATCH_URLS = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
)
DASHSCOPE_TEST_URL = "/v1/chat/ds-test"  # with model batch-test-model: DashScope's inference-free test run
DASHSCOPE_BATCH_URLS = (
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/responses",
    DASHSCOPE_TEST_URL,
)
DASHSCOPE_EXTRACT_TYPES = (
    ".txt",
    ".docx",
    ".pdf",
    ".xlsx",
    ".epub",
    ".mobi",
    ".md",
    ".csv",
    ".json",
    ".bmp",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
)


@dataclass(frozen=True)
class IdShape:
    """How the ids of one purpose look: a prefix and a run of random characters."""

    prefix: str = "file-"
    alphabet: str = ids.BASE58
    length: int = 22
    uuid: bool = False  # 32 hex characters shown as an RFC 4122 version 4 UUID (ids.as_uuid)

    def make(self, token: str) -> str:
        return self.prefix + (ids.as_uuid(token) if self.uuid else token)


@dataclass(frozen=True)
class PurposeRules:
    max_bytes: int
    extensions: tuple[str, ...] | None = None  # None: any file type
    expires_after: int | None = None  # default lifetime in seconds; None: never expires
    content: str | None = None  # "batch" or "fine-tune": what the file holds (checked where it is used, not here)
    processing_delay: float = 0.0  # seconds on the emulator clock from uploaded to processed
    id_shape: IdShape = IdShape()
    dialects: tuple[str, ...] | None = None  # the dialects that accept this purpose; None: all


@dataclass(frozen=True)
class BatchRules:
    """What the Batches API of one service accepts and hands out."""

    urls: tuple[str, ...]  # the endpoints a batch can run
    id_shape: IdShape  # batch ids
    output_id_shape: IdShape  # output file ids (and error file ids, unless error_id_shape says)
    output_expires_after: int | None  # default lifetime of output and error files; None: never expire
    max_requests: int = 50_000
    max_embedding_inputs: int = 50_000  # over all the requests of an /v1/embeddings batch
    expires: bool = True  # False: a batch runs past its completion window (Azure) instead of expiring
    deployments: bool = False  # True: a line's body.model names a deployment (Azure: the scenario lists them)
    test_url: str | None = None  # an endpoint that runs no inference, with its own smaller limit
    test_max_requests: int = 100
    error_id_shape: IdShape | None = None  # error file ids; None: as output files'
    # completion_window: None, "24h" only (OpenAI); else whole hours or days within (low, high) hours
    window_hours: tuple[int, int] | None = None
    metadata_limits: tuple[tuple[str, int], ...] = ()  # metadata keys with a shorter value limit


@dataclass(frozen=True)
class UploadRules:
    """The Uploads API: one file sent as Parts, then assembled (OpenAPI ``createUpload`` and
    ``addUploadPart``: "an Upload can accept at most 8 GB in total and expires after an hour",
    "Each Part can be at most 64 MB"). "MB"/"GB" are read as MiB/GiB, as every documented
    limit here: the SDK's own default part, ``DEFAULT_PART_SIZE = 67108864``, is 64 MiB and
    must fit; 8 GiB is then exactly 128 such parts."""

    max_bytes: int = 8 * GiB  # an Upload's declared size, and the most its Parts may hold together
    max_part_bytes: int = 64 * MiB
    max_parts: int = 10_000  # Parts one Upload may take (S3's multipart limit; OpenAI publishes none)
    lifetime: int = HOUR  # seconds from created_at to expires_at; an ended Upload is remembered as long
    # Purposes whose file limit is the purpose's own and binds an Upload too (OpenAI's `batch`:
    # "The Batch API only supports .jsonl files up to 200 MB"); the others' limit is that of a
    # single POST /files (512 MB), which Uploads exist to go beyond. None: every purpose's.
    capped_purposes: tuple[str, ...] | None = None
    id_shape: IdShape = IdShape("upload_", alphabet=ids.HEX, length=32)
    part_id_shape: IdShape = IdShape("part_", alphabet=ids.HEX, length=32)


@dataclass(frozen=True)
class RateLimits:
    """Requests per key in a rolling window, by request class (endpoints.py names each endpoint's)."""

    upload: int | None = 3  # files.create per rolling second, per key; None: unlimited
    query: int | None = 10  # list/retrieve/content/delete together, per rolling second, per key
    window: float = 1.0
    # DashScope meters batch calls apart, per minute: batches.create, retrieve and cancel each up to
    # ``batch``, batches.list up to ``batch_list``. None: those endpoints count as queries, as on OpenAI.
    batch: int | None = None
    batch_list: int | None = None
    batch_window: float = 60.0
    # The model routes (chat.completions.create, responses.create), metered as the real services
    # meter inference: requests and tokens per rolling minute, per key. Off (None) unless a scenario
    # or a profile sets them.
    inference: int | None = None  # requests per inference_window
    tokens: int | None = None  # prompt and answer tokens per inference_window
    inference_window: float = 60.0

    def of(self, kind: str) -> tuple[str, int | None, float]:
        """The class a request of ``kind`` counts in, its limit and its window."""
        if kind == "upload":
            return "upload", self.upload, self.window
        if kind == "batch" and self.batch is not None:
            return "batch", self.batch, self.batch_window
        if kind == "batch_list" and self.batch_list is not None:
            return "batch_list", self.batch_list, self.batch_window
        if kind == "inference":
            return "inference", self.inference, self.inference_window
        return "query", self.query, self.window


@dataclass(frozen=True)
class Profile:
    name: str
    purposes: dict[str, PurposeRules]
    max_files: int | None
    max_total_bytes: int | None
    rate_limits: RateLimits | None
    batches: BatchRules
    uploads: UploadRules = UploadRules()
    max_files_without_expiry: int | None = None  # Azure: files with no expires_after count apart
    expires_after_min: int = 3600  # the least ``expires_after.seconds`` accepted

    @cached_property
    def max_file_bytes(self) -> int:
        return max(rules.max_bytes for rules in self.purposes.values())


OPENAI_BATCHES = BatchRules(
    urls=OPENAI_BATCH_URLS,
    id_shape=IdShape("batch_", alphabet=ids.HEX, length=32),
    output_id_shape=IdShape(),
    output_expires_after=30 * DAY,
)
DASHSCOPE_BATCHES = BatchRules(
    urls=DASHSCOPE_BATCH_URLS,
    id_shape=IdShape("batch_", alphabet=ids.HEX, length=32, uuid=True),
    output_id_shape=IdShape("file-batch_output-", alphabet=ids.HEX, length=24),
    output_expires_after=None,
    test_url=DASHSCOPE_TEST_URL,
    error_id_shape=IdShape("file-batch_error-", alphabet=ids.HEX, length=24),
    window_hours=(24, 336),
    metadata_limits=(("ds_name", 100), ("ds_description", 200)),
)


def openai_profile() -> Profile:
    any_file = PurposeRules(max_bytes=512 * MiB)
    return Profile(
        name="openai",
        purposes={
            "assistants": any_file,
            "batch": PurposeRules(200 * MiB, (".jsonl",), expires_after=30 * DAY, content="batch"),
            "fine-tune": PurposeRules(512 * MiB, (".jsonl",), content="fine-tune"),
            "vision": any_file,
            "user_data": any_file,
            "evals": any_file,
        },
        max_files=None,
        max_total_bytes=2_500_000_000_000,
        rate_limits=RateLimits(upload=3, query=10),
        batches=OPENAI_BATCHES,
        uploads=UploadRules(capped_purposes=("batch",)),
    )


def dashscope_profile() -> Profile:
    return Profile(
        name="dashscope",
        purposes={
            "file-extract": PurposeRules(150 * MiB, DASHSCOPE_EXTRACT_TYPES, id_shape=_hex24("file-fe-")),
            "batch": PurposeRules(500 * MiB, (".jsonl",), content="batch", id_shape=_hex24("file-batch-")),
            "fine-tune": PurposeRules(
                300 * MiB,
                (".jsonl",),
                content="fine-tune",
                id_shape=_hex24("file-ft-"),
                dialects=("dashscope-native", "openai"),
            ),
        },
        max_files=10_000,
        max_total_bytes=100 * 1024**3,
        rate_limits=RateLimits(upload=3, query=10, batch=1000, batch_list=100),
        batches=DASHSCOPE_BATCHES,
    )


def _hex24(prefix: str) -> IdShape:
    return IdShape(prefix, alphabet=ids.HEX, length=24)


AZURE_BATCH_URLS = ("/chat/completions", "/embeddings", "/v1/chat/completions", "/v1/embeddings")
AZURE_BATCHES = BatchRules(
    urls=AZURE_BATCH_URLS,
    id_shape=IdShape("batch_", alphabet=ids.HEX, length=32, uuid=True),
    output_id_shape=IdShape("file-", alphabet=ids.HEX, length=32),
    output_expires_after=None,
    max_requests=100_000,
    expires=False,
    deployments=True,
)


def azure_profile() -> Profile:
    """Azure OpenAI (docs/azure.md has each value's source)."""
    any_file = PurposeRules(max_bytes=512 * MiB, id_shape=_hex32())
    return Profile(
        name="azure",
        purposes={
            "assistants": any_file,
            "batch": PurposeRules(200 * MiB, (".jsonl",), content="batch", id_shape=_hex32()),
            "fine-tune": PurposeRules(512 * MiB, (".jsonl",), content="fine-tune", id_shape=_hex32()),
            "vision": any_file,
            "user_data": any_file,
            "evals": any_file,
        },
        max_files=10_000,
        max_total_bytes=None,
        rate_limits=RateLimits(upload=3, query=10),
        batches=AZURE_BATCHES,
        uploads=UploadRules(capped_purposes=("batch",)),
        max_files_without_expiry=500,
        expires_after_min=3 * DAY,
    )


def _hex32() -> IdShape:
    return IdShape("file-", alphabet=ids.HEX, length=32)


PROFILES = {"openai": openai_profile, "dashscope": dashscope_profile, "azure": azure_profile}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]()
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None
