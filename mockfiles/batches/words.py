"""The Batches API's refusals as the error table words them (assembled in ``core/error_table.py``)."""

from __future__ import annotations

from mockfiles.core.wording import Row, Say

# Azure OpenAI's words for a batch whose input file is not ready (Microsoft Q&A 2203029, observed).
AZURE_NOT_PROCESSED = Say(
    "The input file '{file_id}' is in '{phase}' state. Only files with status 'Processed' are accepted for batch "
    "inferencing. Please check the file status and try again",
    code="invalidPayload",
)

ROWS: dict[str, Row] = {
    "metadata_type": Row(
        "Invalid type for 'metadata': expected a metadata object, but got {got} instead.", "invalid_type"
    ),
    "metadata_pairs": Row(
        "Invalid 'metadata': too many properties. Expected an object with at most {limit} properties, "
        "but got an object with {count} properties instead.",
        "object_above_max_properties",
    ),
    "metadata_key": Row(
        "Invalid property name in 'metadata': '{key}' is too long. Expected a string with maximum length "
        "{limit}, but got a string with length {length} instead.",
        "property_name_above_max_length",
    ),
    "metadata_value": Row(
        "Invalid 'metadata.{key}': string too long. Expected a string with maximum length {limit}, "
        "but got a string with length {length} instead.",
        "string_above_max_length",
    ),
    "batch_input_purpose": Row(
        "Invalid 'input_file_id': the file '{file_id}' has purpose '{purpose}'; a batch needs purpose 'batch'.",
        "invalid_value",
    ),
    "batch_input_processing": Row(
        "Invalid 'input_file_id': the file '{file_id}' is still being processed (status 'uploaded').",
        "invalid_value",
        azure=AZURE_NOT_PROCESSED,
    ),
    "batch_input_failed": Row(
        "Invalid 'input_file_id': the file '{file_id}' could not be processed (status 'error').",
        "invalid_value",
        azure=AZURE_NOT_PROCESSED,
    ),
    "window_range": Row(
        "Invalid 'completion_window': expected a whole number of hours or days from {low}h to {high}h "
        "(such as '24h', '48h' or '14d'), but got '{value}' instead.",
        "invalid_value",
    ),
    "too_many_file_ids": Row(
        "Invalid 'input_file_ids': at most {limit} file ids, separated by commas, but got {count}.", "invalid_value"
    ),
    "no_such_batch": Row("No batch found with id '{batch_id}'."),
    "unknown_batch_cursor": Row("Invalid 'after': no batch with id '{after}'."),
    "batch_not_cancellable": Row("Cannot cancel a batch with status '{status}'."),
}
