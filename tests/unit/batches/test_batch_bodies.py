"""The result bodies a batch writes: deterministic, and exactly what the openai SDK's own models
accept (validated strictly, with no field the SDK does not know)."""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any, TypeVar

import pytest
from openai import BaseModel
from openai.types import Completion, CreateEmbeddingResponse, ImagesResponse, ModerationCreateResponse
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from mockfiles.inference import text as inference
from mockfiles.inference.media import EMBEDDING_DIMENSIONS, vector
from mockfiles.inference.text import Answer, check, run, tokens, usage_of

M = TypeVar("M", bound=BaseModel)
IDENT = b"batch_x:0"
CREATED = 1_700_000_000


def strictly(model: type[M], body: dict[str, Any]) -> M:
    """The SDK's model, validated in strict mode, with every field of the body known to it."""
    parsed = model.model_validate(body, strict=True)
    no_extras(parsed, model.__name__)
    return parsed


def no_extras(value: object, where: str) -> None:
    if isinstance(value, BaseModel):
        assert not value.model_extra, f"{where}: fields the SDK does not know: {sorted(value.model_extra)}"
        for name in type(value).model_fields:
            no_extras(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            no_extras(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            no_extras(item, f"{where}.{key}")


def answer(url: str, body: dict[str, Any], ident: bytes = IDENT) -> dict[str, Any]:
    assert check(url, body) is None
    result = run(url, body, ident, CREATED)
    assert result.status == 200
    return result.body


CHAT = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is the capital of France?"},
    ],
}


def test_chat_completion_is_the_sdks_chat_completion() -> None:
    body = answer("/v1/chat/completions", CHAT)
    parsed = strictly(ChatCompletion, body)
    assert parsed.id.startswith("chatcmpl-") and len(parsed.id) == len("chatcmpl-") + 29
    assert (parsed.object, parsed.created, parsed.model) == ("chat.completion", CREATED, "gpt-4o-mini")
    message = parsed.choices[0].message
    assert (message.role, message.content, message.refusal, message.annotations) == (
        "assistant",
        "Echo: What is the capital of France?",
        None,
        [],
    )
    assert parsed.choices[0].finish_reason == "stop"
    usage = parsed.usage
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    # 3 priming + (3 + role + text) per message: "You are terse." ~4, the question ~8
    assert usage.prompt_tokens == 3 + (3 + 2 + 4) + (3 + 1 + 8)
    assert usage.completion_tokens == tokens("Echo: What is the capital of France?") == 9  # 36 characters
    assert usage.prompt_tokens_details and usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details and usage.completion_tokens_details.reasoning_tokens == 0


def test_bodies_are_deterministic_and_ids_follow_the_line() -> None:
    first = answer("/v1/chat/completions", CHAT)
    assert answer("/v1/chat/completions", json.loads(json.dumps(CHAT))) == first
    other_line = answer("/v1/chat/completions", CHAT, ident=b"batch_x:1")
    assert other_line["id"] != first["id"] and other_line["choices"] == first["choices"]


def test_token_estimates_follow_text_length() -> None:
    assert [tokens(t) for t in ("", "a", "abcd", "abcde", "x" * 400, "日本語のテキスト")] == [0, 1, 1, 2, 100, 8]


def test_max_tokens_cuts_the_reply() -> None:
    long = {**CHAT, "messages": [{"role": "user", "content": "word " * 200}], "max_completion_tokens": 20}
    body = answer("/v1/chat/completions", long)
    parsed = strictly(ChatCompletion, body)
    assert parsed.choices[0].finish_reason == "length"
    assert parsed.usage and parsed.usage.completion_tokens <= 20
    assert (parsed.choices[0].message.content or "").startswith("Echo: word word")


def test_n_choices_and_multimodal_content() -> None:
    parts = [{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    body = answer("/v1/chat/completions", {"model": "gpt-4o", "n": 3, "messages": [{"role": "user", "content": parts}]})
    parsed = strictly(ChatCompletion, body)
    assert [c.index for c in parsed.choices] == [0, 1, 2]
    assert parsed.choices[2].message.content == "Echo: Describe"
    assert parsed.usage and parsed.usage.completion_tokens == 3 * tokens("Echo: Describe")
    assert parsed.usage.prompt_tokens == 3 + 3 + 1 + tokens("Describe") + 85


def test_json_output_when_asked_for() -> None:
    as_object = answer("/v1/chat/completions", {**CHAT, "response_format": {"type": "json_object"}})
    assert json.loads(as_object["choices"][0]["message"]["content"]) == {"reply": "What is the capital of France?"}
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "population": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["capital", "port"]}},
            "region": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"name": {"const": "IDF"}}}]},
        },
        "required": ["city", "population", "tags", "region"],
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "city", "schema": schema, "strict": True}}
    body = answer("/v1/chat/completions", {**CHAT, "response_format": fmt})
    assert json.loads(body["choices"][0]["message"]["content"]) == {
        "city": "What is the capital of France?",
        "population": 0,
        "tags": ["capital"],
        "region": None,
    }


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "m"}, "messages", "missing_required_parameter"),
        ({"model": "m", "messages": []}, "messages", "invalid_value"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]", "invalid_type"),
        ({**CHAT, "n": 0}, "n", "invalid_value"),
    ],
)
def test_a_malformed_chat_body_is_a_400_in_openais_envelope(body: dict[str, Any], param: str, code: str) -> None:
    refused = check("/v1/chat/completions", body)
    assert isinstance(refused, Answer) and refused.status == 400 and not refused.ok
    error = refused.body["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert error["message"]


def test_responses_is_the_sdks_response() -> None:
    request = {
        "model": "gpt-4.1-mini",
        "instructions": "Be brief.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Tell me a joke"}]}],
    }
    parsed = strictly(Response, answer("/v1/responses", request))
    assert parsed.id.startswith("resp_") and parsed.object == "response" and parsed.status == "completed"
    assert parsed.output_text == "Echo: Tell me a joke"
    assert parsed.instructions == "Be brief."
    assert parsed.usage and parsed.usage.input_tokens == 3 + tokens("Tell me a joke") + tokens("Be brief.")
    assert parsed.usage.total_tokens == parsed.usage.input_tokens + parsed.usage.output_tokens
    short = strictly(Response, answer("/v1/responses", {"model": "m", "input": "x " * 100, "max_output_tokens": 5}))
    assert short.status == "incomplete" and short.incomplete_details and short.usage
    assert short.incomplete_details.reason == "max_output_tokens" and short.usage.output_tokens <= 5
    assert check("/v1/responses", {"model": "m"}) is not None


def test_completions_is_the_sdks_completion() -> None:
    parsed = strictly(Completion, answer("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": ["a", "b"]}))
    assert parsed.id.startswith("cmpl-") and parsed.object == "text_completion"
    assert [(c.index, c.text) for c in parsed.choices] == [(0, " Echo: a"), (1, " Echo: b")]
    long = strictly(Completion, answer("/v1/completions", {"model": "m", "prompt": "z " * 100}))
    assert long.choices[0].finish_reason == "length"  # the endpoint's default max_tokens is 16
    assert long.usage and long.usage.completion_tokens <= 16


def test_embeddings_are_unit_vectors_of_the_models_dimension() -> None:
    for model, dimension in (("text-embedding-3-small", 1536), ("text-embedding-3-large", 3072)):
        parsed = strictly(CreateEmbeddingResponse, answer("/v1/embeddings", {"model": model, "input": "hello"}))
        values = parsed.data[0].embedding
        assert len(values) == dimension == EMBEDDING_DIMENSIONS[model]
        assert math.isclose(math.fsum(v * v for v in values), 1.0, rel_tol=1e-9)
    ada = answer("/v1/embeddings", {"model": "text-embedding-ada-002", "input": "hello"})
    assert len(ada["data"][0]["embedding"]) == 1536


def test_embeddings_one_per_input_same_text_same_vector() -> None:
    body = {"model": "text-embedding-3-small", "input": ["cat", "dog", "cat"]}
    parsed = strictly(CreateEmbeddingResponse, answer("/v1/embeddings", body))
    vectors = [d.embedding for d in parsed.data]
    assert [d.index for d in parsed.data] == [0, 1, 2]
    assert vectors[0] == vectors[2] != vectors[1]
    assert parsed.usage.prompt_tokens == 3 == parsed.usage.total_tokens
    assert (
        vectors[0]
        == answer("/v1/embeddings", {"model": "text-embedding-3-small", "input": "cat"})["data"][0]["embedding"]
    )


def test_embeddings_dimensions_cut_and_renormalise() -> None:
    body = {"model": "text-embedding-3-large", "input": "hello", "dimensions": 256}
    short = answer("/v1/embeddings", body)["data"][0]["embedding"]
    full = vector("text-embedding-3-large", "hello", 3072)
    norm = math.sqrt(math.fsum(v * v for v in full[:256]))
    assert len(short) == 256 and all(math.isclose(a, b / norm) for a, b in zip(short, full[:256], strict=True))
    refused = check("/v1/embeddings", {"model": "text-embedding-ada-002", "input": "x", "dimensions": 8})
    assert refused and refused.body["error"]["message"] == "This model does not support specifying dimensions."
    assert check("/v1/embeddings", {"model": "text-embedding-3-small", "input": "x", "dimensions": 1537})


def test_embeddings_in_base64_are_the_same_floats() -> None:
    body = {"model": "text-embedding-3-small", "input": "hello", "encoding_format": "base64"}
    packed = answer("/v1/embeddings", body)["data"][0]["embedding"]
    values = struct.unpack("<1536f", base64.b64decode(packed))
    assert all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7)
        for a, b in zip(values, vector(body["model"], "hello", 1536), strict=True)
    )


@pytest.mark.parametrize("given", ["", [], [""], [1, "a"], {"text": "x"}])
def test_bad_embedding_input_is_a_400(given: object) -> None:
    refused = check("/v1/embeddings", {"model": "text-embedding-3-small", "input": given})
    assert refused and refused.status == 400 and refused.body["error"]["param"] == "input"


def test_moderations_is_the_sdks_moderation_response() -> None:
    parsed = strictly(
        ModerationCreateResponse, answer("/v1/moderations", {"model": "omni-moderation-latest", "input": ["a", "b"]})
    )
    assert parsed.id.startswith("modr-") and len(parsed.results) == 2
    assert not parsed.results[0].flagged and not any(parsed.results[0].categories.model_dump().values())
    assert all(0 <= s < 0.001 for s in parsed.results[0].category_scores.model_dump().values())
    assert parsed.results[0].category_applied_input_types.violence == ["text"]
    parts = [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    mixed = strictly(
        ModerationCreateResponse, answer("/v1/moderations", {"model": "omni-moderation-latest", "input": parts})
    )
    assert len(mixed.results) == 1 and mixed.results[0].category_applied_input_types.violence == ["text", "image"]


def test_images_are_the_sdks_images_response_with_real_pngs() -> None:
    body = {"model": "gpt-image-1", "prompt": "a red fox", "n": 2, "size": "1536x1024"}
    parsed = strictly(ImagesResponse, answer("/v1/images/generations", body))
    assert parsed.created == CREATED and parsed.data and len(parsed.data) == 2
    png = base64.b64decode(parsed.data[0].b64_json or "")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and struct.unpack(">II", png[16:24]) == (1536, 1024)
    assert parsed.usage and parsed.usage.total_tokens == parsed.usage.input_tokens + parsed.usage.output_tokens
    edit = strictly(
        ImagesResponse, answer("/v1/images/edits", {"model": "dall-e-2", "prompt": "a hat", "size": "256x256"})
    )
    assert edit.usage is None and edit.data and edit.data[0].b64_json
    assert check("/v1/images/generations", {"model": "m"}) and check(
        "/v1/images/generations", {**body, "size": "9x99999"}
    )


def test_usage_of_reads_every_endpoints_usage() -> None:
    chat = answer("/v1/chat/completions", CHAT)["usage"]
    assert usage_of({"usage": chat}) == (chat["prompt_tokens"], chat["completion_tokens"], 0, 0)
    response = {"usage": {"input_tokens": 5, "output_tokens": 2, "input_tokens_details": {"cached_tokens": 1}}}
    assert usage_of(response) == (5, 2, 1, 0)
    assert usage_of({"data": []}) == (0, 0, 0, 0) == usage_of({"usage": {"prompt_tokens": "x"}})


def test_every_supported_endpoint_has_a_stand_in() -> None:
    from mockfiles.core.profiles import AZURE_BATCH_URLS, DASHSCOPE_BATCH_URLS, OPENAI_BATCH_URLS

    assert set(OPENAI_BATCH_URLS) | set(DASHSCOPE_BATCH_URLS) | set(AZURE_BATCH_URLS) == set(inference.endpoints())
