// Runs one retry conformance case's operation with the official `openai` npm client and its default
// retry policy, and prints one JSON line: {"ok": true} or the error's status, class and message.
//
//   node retry_case.mjs '{"base_url": "...", "api_key": "...", "headers": {"x-retry-test-id": "..."},
//                         "timeout_ms": 30000, "operation": "upload", "file_id": "file-...",
//                         "bytes": 1024, "filename": "retry-case.txt", "purpose": "assistants"}'
import OpenAI, { toFile } from "openai";

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({
  baseURL: spec.base_url,
  apiKey: spec.api_key,
  defaultHeaders: spec.headers,
  timeout: spec.timeout_ms,
  maxRetries: spec.max_retries ?? 2,
});

async function run() {
  switch (spec.operation) {
    case "upload": {
      const file = await toFile(Buffer.alloc(spec.bytes, "x"), spec.filename);
      return client.files.create({ file, purpose: spec.purpose });
    }
    case "list":
      return client.files.list();
    case "retrieve":
      return client.files.retrieve(spec.file_id);
    case "download": {
      const response = await client.files.content(spec.file_id);
      return (await response.arrayBuffer()).byteLength;
    }
    case "delete":
      return client.files.delete(spec.file_id);
  }
  throw new Error(`unknown operation ${spec.operation}`);
}

let out;
try {
  await run();
  out = { ok: true };
} catch (err) {
  out = {
    ok: false,
    status: err instanceof OpenAI.APIError && err.status !== undefined ? err.status : null,
    error: err?.constructor?.name ?? String(err),
    message: String(err?.message ?? err).slice(0, 300),
  };
}
process.stdout.write(JSON.stringify(out) + "\n");
