"""Retry tests' refusals as the error table words them (assembled in ``core/error_table.py``)."""

from __future__ import annotations

from mockfiles.core.wording import Row

ROWS: dict[str, Row] = {
    "retry_test_not_object": Row(
        'a retry test is a JSON object like {{"instructions": {{"files.create": ["return-503"]}}}}, got {got}'
    ),
    "retry_test_unknown_key": Row("unknown key {key!r} in the retry test; expected 'instructions'"),
    "retry_test_no_instructions": Row('a retry test needs "instructions": {{endpoint: [instruction, ...]}}'),
    "retry_test_instructions_type": Row(
        '"instructions" must be an object mapping endpoints to lists of instructions, got {got}'
    ),
    "retry_test_too_many": Row("a retry test holds at most {limit} instructions, got {total}"),
    "retry_test_unknown_endpoint": Row("unknown endpoint {endpoint!r} in instructions; {hint!h}endpoints: {endpoints}"),
    "retry_test_queue_type": Row('{param} must be a list of instructions like ["return-503"], got {got}'),
    "retry_test_bad_instruction": Row("{param}: {detail}"),
    "no_such_retry_test": Row(
        "no retry test '{test_id}': it was never created, was deleted, or was dropped (oldest first)"
    ),
    "instruction_not_text": Row("an instruction must be a string like 'return-503', got {value!r}"),
    "instruction_unknown": Row("unknown instruction '{text}'; instructions: {forms}"),
    "instruction_unknown_near": Row("unknown instruction '{text}'; did you mean '{hint}'? Instructions: {forms}"),
    "instruction_retry_after": Row(
        "'{text}': Retry-After takes whole numbers up to a day; write e.g. -retry-after-2s or -retry-after-1500ms"
    ),
    "instruction_status": Row("'{text}': {digits} is not an error status; use 400 to 599"),
    "instruction_kib": Row("'{text}': {kib}K is more than any body the emulator takes (at most {limit}K)"),
    "instruction_seconds": Row("'{text}': {number}{unit} is longer than {limit:g} s, the longest hold"),
    "instruction_not_download": Row("'{text}' breaks a downloaded body; it applies to {downloads}, not {endpoint}"),
    "instruction_no_body": Row(
        "'{text}' stalls a body counted in KiB; it applies to uploads ({uploads}) and downloads ({downloads}), "
        "not {endpoint}; use delay-<dur> for a slow answer"
    ),
    "instruction_not_upload": Row("'{text}' acts part-way through an upload; it applies to {uploads}, not {endpoint}"),
    "instruction_not_json": Row("'{text}' mangles a JSON answer; {endpoint} answers with the file's bytes, not JSON"),
}
