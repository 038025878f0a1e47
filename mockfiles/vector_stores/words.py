"""The Vector Stores API's refusals as the error table words them (assembled in ``core/error_table.py``).

Observed on the real service: the unsupported extension's 400 (stdapi-ai/stdapi.ai #275), the 404s
of a store (``No vector store found with id 'vs_…'.``) and of a file in one (``No file found with id
'file-…' in vector store 'vs_…'.``), the wrong id prefix (``Expected an ID that begins with
'vsfb_'.``), the expired store (``Vector store 'vs_…' has expired``); OpenAI's validation wording
for arrays, strings and objects. The others are choices (docs/vector_stores.md).
"""

from __future__ import annotations

from mockfiles.core.wording import Fields, Row

SUPPORTED_FILES = "https://platform.openai.com/docs/assistants/tools/file-search/supported-files"


def _unsupported(fields: Fields) -> str:
    extension = fields.get("extension") or "none"
    return f"Files with extensions [{extension}] are not supported for retrieval. See {SUPPORTED_FILES}"


ROWS: dict[str, Row] = {
    "no_such_vector_store": Row("No vector store found with id '{vector_store_id}'."),
    "no_such_vector_store_file": Row("No file found with id '{file_id}' in vector store '{vector_store_id}'."),
    "no_such_vector_store_file_batch": Row(
        "No vector store file batch found with id '{batch_id}' in vector store '{vector_store_id}'."
    ),
    "id_prefix": Row("Invalid '{param}': '{value}'. Expected an ID that begins with '{prefix}'.", "invalid_value"),
    "vector_store_expired": Row("Vector store '{vector_store_id}' has expired.", "vector_store_expired"),
    "vector_store_unsupported_file": Row(_unsupported, "unsupported_file"),
    "unknown_vector_store_cursor": Row("Invalid '{param}': no {what} with id '{value}'."),
    "array_too_long": Row(
        "Invalid '{param}': array too long. Expected an array with maximum length {limit}, "
        "but got an array with length {length} instead.",
        "array_above_max_length",
    ),
    "array_empty": Row(
        "Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        "empty_array",
    ),
    "empty_string": Row(
        "Invalid '{param}': empty string. Expected a string with minimum length 1, but got an empty string instead.",
        "empty_string",
    ),
    "batch_ids_and_files": Row(
        "Invalid request: 'file_ids' and 'files' cannot be given together. Give one or the other.",
        "invalid_request",
    ),
    "batch_nothing": Row("Missing required parameter: give 'file_ids' or 'files'.", "missing_required_parameter"),
    "chunk_overlap_too_large": Row(
        "Invalid 'chunking_strategy.static.chunk_overlap_tokens': must be at most half of "
        "'max_chunk_size_tokens' ({half}), but got {value} instead.",
        "invalid_value",
    ),
    "attributes_pairs": Row(
        "Invalid '{param}': too many properties. Expected an object with at most {limit} properties, "
        "but got an object with {count} properties instead.",
        "object_above_max_properties",
    ),
    "attributes_key": Row(
        "Invalid property name in '{param}': '{property}' is too long. Expected a string with maximum length "
        "{limit}, but got a string with length {length} instead.",
        "property_name_above_max_length",
    ),
    "attributes_value": Row(
        "Invalid '{param}': string too long. Expected a string with maximum length {limit}, "
        "but got a string with length {length} instead.",
        "string_above_max_length",
    ),
    "decimal_below_minimum": Row(
        "Invalid '{param}': decimal below minimum value. Expected a value >= {low}, but got {value} instead.",
        "decimal_below_min_value",
    ),
    "decimal_above_maximum": Row(
        "Invalid '{param}': decimal above maximum value. Expected a value <= {high}, but got {value} instead.",
        "decimal_above_max_value",
    ),
    "filters_too_deep": Row("Invalid 'filters': nested more than {limit} levels deep.", "invalid_value"),
    "vector_store_batch_not_cancellable": Row(
        "Cannot cancel vector store file batch with status '{status}'.", "invalid_request"
    ),
    "vector_store_writes_limited": Row(
        "Rate limit reached for writes to vector store {vector_store_id} (vector_stores.files and "
        "vector_stores.file_batches) on requests per {per}: Limit {limit}, Used {limit}, Requested 1. "
        "Please try again in {retry_after!d}. Visit https://platform.openai.com/account/rate-limits to learn more.",
        "rate_limit_exceeded",
    ),
}
