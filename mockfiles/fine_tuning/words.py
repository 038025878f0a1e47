"""The Fine-tuning API's refusals as the error table words them (assembled in ``core/error_table.py``).

``fine_tune_not_found`` and ``model_not_available`` are the words clients were seen matching;
the validation rows follow OpenAI's validation phrasing; the file rows are choices (docs/fine_tuning.md).
"""

from __future__ import annotations

from mockfiles.core.wording import Row

ROWS: dict[str, Row] = {
    "fine_tune_not_found": Row("Could not find fine tune: {job_id}", "fine_tune_not_found"),
    "unrecognized_argument": Row("Unrecognized request argument supplied: {param}"),
    "model_not_available": Row(
        "Model {model} is not available for fine-tuning or does not exist.", "model_not_available"
    ),
    "method_not_supported": Row(
        "Model {model} cannot be fine-tuned with the '{method}' method. Supported methods: {methods!q}.",
        "invalid_value",
    ),
    "string_above_max_length": Row(
        "Invalid '{param}': string too long. Expected a string with maximum length {limit}, "
        "but got a string with length {length} instead.",
        "string_above_max_length",
    ),
    "empty_string": Row(
        "Invalid '{param}': empty string. Expected a string with minimum length 1, but got an empty string instead.",
        "empty_string",
    ),
    "decimal_not_above": Row(
        "Invalid '{param}': decimal below minimum value. Expected a value > {low}, but got {value} instead.",
        "decimal_below_min_value",
    ),
    "decimal_above_max": Row(
        "Invalid '{param}': decimal above maximum value. Expected a value <= {high}, but got {value} instead.",
        "decimal_above_max_value",
    ),
    "array_above_max_length": Row(
        "Invalid '{param}': array too long. Expected an array with maximum length {limit}, "
        "but got an array with length {length} instead.",
        "array_above_max_length",
    ),
    "hyperparameters_twice": Row(
        "Specify hyperparameters either in 'method' or in the deprecated top-level 'hyperparameters', not both.",
        "invalid_value",
    ),
    "method_other_settings": Row(
        "Invalid 'method.{given}': the method's type is '{kind}', so only 'method.{kind}' can be set.",
        "invalid_value",
    ),
    "ft_file_missing": Row("Invalid '{param}': no file with id '{file_id}' in this account.", "file_not_found"),
    "ft_file_purpose": Row(
        "Invalid '{param}': the file '{file_id}' has purpose '{purpose}'; fine-tuning reads files uploaded with "
        "purpose 'fine-tune'.",
        "invalid_file_purpose",
    ),
    "ft_file_not_ready": Row("File {file_id} is not ready", "file_not_ready"),
    "ft_file_failed": Row(
        "Invalid '{param}': the file '{file_id}' could not be processed (status 'error').", "invalid_file"
    ),
    "metadata_filter": Row(
        "Invalid 'metadata': filter with metadata[key]=value, or metadata=null for jobs without metadata."
    ),
    "unknown_job_cursor": Row("Invalid 'after': no fine-tuning job with id '{after}'."),
    "unknown_event_cursor": Row("Invalid 'after': no event with id '{after}' in this fine-tuning job."),
    "unknown_checkpoint_cursor": Row("Invalid 'after': no checkpoint with id '{after}' in this fine-tuning job."),
    "fine_tune_not_cancellable": Row("Cannot cancel a fine-tuning job that has already {status}: {job_id}"),
    "fine_tune_not_pausable": Row(
        "Cannot pause a fine-tuning job with status '{status}': only a running job can be paused: {job_id}"
    ),
    "fine_tune_not_resumable": Row(
        "Cannot resume a fine-tuning job with status '{status}': only a paused job can be resumed: {job_id}"
    ),
}
