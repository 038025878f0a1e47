"""The model routes' refusals as the error table words them (assembled in ``core/error_table.py``).

Where the real words are known they are used exactly (sources in docs/chat.md, "Refusals"):
OpenAI's ``model_not_found``, "This is not a chat model…", the empty array, the JSON body, Chat's
``file_data`` MIME type, Responses' "context stuffing" and ``file_data`` types, "Invalid Value:
'file'" for a model that reads no files, the requests- and tokens-per-minute refusals; DashScope's
file texts for Qwen-Long and its "Input should be a valid string". The others are choices, marked
there.
"""

from __future__ import annotations

from mockfiles.core.wording import Fields, Row, Say

DS = "invalid_parameter_error"  # DashScope compatible mode's code for every invalid parameter
VISIT = "Visit https://platform.openai.com/account/rate-limits to learn more."
EXAMPLE_PDF = "data:application/pdf;base64,SGVsbG8sIFdvcmxkIQ=="
FILE_DATA = (
    "Invalid file data: '{param}'. Expected a base64-encoded data URL with an application/pdf MIME type "
    f"(e.g. '{EXAMPLE_PDF}'), but got "
)
DS_QUOTA = Say("Allocated quota exceeded, please increase your quota limit.", "limit_requests", "limit_requests")
DS_RATE_LIMITED = Say(
    "You have exceeded your current request limit. For details, see: "
    "https://help.aliyun.com/zh/model-studio/error-code#rate-limit",
    code="limit_requests",
    type="limit_requests",
)


def _ds(message: str) -> Row:
    """A DashScope refusal: its own words, code ``invalid_parameter_error`` (compatible mode)."""
    return Row(message, DS, compatible=Say(message, DS))


def _supported(what: str, f: Fields) -> str:
    extensions = f.get("extensions")
    listed = ", ".join(str(e) for e in extensions) if isinstance(extensions, (list, tuple)) else ""
    got = f.get("extension") or "none"
    return f"Invalid input: Expected {what} type to be a supported format: {listed} but got {got}."


def _not_chat(f: Fields) -> str:
    if f.get("route") == "v1/chat/completions":
        return (
            "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
            "Did you mean to use v1/completions?"
        )
    return f"The model `{f.get('model')}` is not supported in the {f.get('route')} endpoint."


ROWS: dict[str, Row] = {
    # --- the body and the model ---
    "body_not_json": Row(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
        "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you "
        "have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)"
    ),
    "model_not_found": Row("The model `{model}` does not exist or you do not have access to it.", "model_not_found"),
    "not_a_chat_model": Row(_not_chat),
    "empty_array": Row(
        "Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        "empty_array",
    ),
    "string_too_long": Row(
        "Invalid '{param}': string too long. Expected a string with maximum length {limit}, "
        "but got a string with length {length} instead.",
        "string_above_max_length",
    ),
    "stream_options_without_stream": Row(
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "invalid_value"
    ),
    "part_type_unread": Row(  # a file part to a model that reads none (openai/openai-dotnet #393)
        "Invalid Value: '{value}'. Supported values are: {choices!q}.", "invalid_value"
    ),
    # --- file parts and input_file ---
    "file_part_source": Row("Invalid '{param}': expected one of {choices!q}, but got none of them.", "invalid_value"),
    "file_data_not_pdf": Row(FILE_DATA + "unsupported MIME type '{mime}'.", "invalid_value"),
    "file_data_not_data_url": Row(FILE_DATA + "a value that is not a data URL.", "invalid_value"),
    "file_data_not_base64": Row(FILE_DATA + "data that is not valid base64.", "invalid_value"),
    "input_file_data_type": Row(
        "The file type you uploaded is not supported. Please try again with a pdf", "unsupported_file"
    ),
    "input_file_type": Row(lambda f: _supported("context stuffing file", f), "unsupported_file"),
    "input_image_type": Row(lambda f: _supported("image", f), "unsupported_file"),
    "input_file_url": Row("Invalid '{param}': expected an http or https URL, but got '{value}'.", "invalid_value"),
    # --- DashScope's Qwen-Long (fileid://) ---
    "ds_not_a_string": _ds("Input error. Input should be a valid string: input.messages.{index}.content"),
    "ds_too_many_files": _ds("Too many files provided."),
    "ds_file_invalid": _ds("Invalid file [id:{file_id}]."),
    "ds_file_gone": _ds("File [id:{file_id}] cannot be found."),
    "ds_file_processing": _ds("File parsing in progress, please try again later."),
    "ds_file_parse_error": _ds("File：{file_id} parsing error"),
    "ds_file_format": _ds("File [id:{file_id}] format is not supported."),
    "ds_file_size": _ds("File [id:{file_id}] exceeds size limit."),
    "ds_file_blank": _ds("File [id:{file_id}] content blank."),
    "ds_too_long": _ds("Total message token length exceed model limit ({limit} tokens)."),
    # --- the inference rate class ---
    "rate_limited_rpm": Row(
        "Rate limit reached for {endpoint} in organization {organization} on requests per min (RPM): "
        "Limit {limit}, Used {limit}, Requested 1. Please try again in {retry_after!d}. " + VISIT,
        "rate_limit_exceeded",
        compatible=DS_RATE_LIMITED,
    ),
    "rate_limited_tpm": Row(
        "Rate limit reached for {model} in organization {organization} on tokens per min (TPM): "
        "Limit {limit}, Used {used}, Requested {requested}. Please try again in {retry_after!d}. " + VISIT,
        "rate_limit_exceeded",
        openai=Say(type="tokens"),
        compatible=DS_QUOTA,
    ),
    "request_too_large_tpm": Row(
        "Request too large for {model} in organization {organization} on tokens per min (TPM): "
        "Limit {limit}, Requested {requested}. The input or output tokens must be reduced in order to run "
        "successfully. " + VISIT,
        "rate_limit_exceeded",
        openai=Say(type="tokens"),
        compatible=DS_QUOTA,
    ),
}
