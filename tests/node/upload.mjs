// Uploads files to mockfiles with the official `openai` npm client, one after another, and prints
// one JSON line: what the client saw for each upload (the file id, or the error's status and class),
// and every HTTP response its fetch received, retries included (null for a failed connection).
//
//   node upload.mjs '{"base_url": "...", "api_key": "...", "max_retries": 0,
//                     "uploads": [{"bytes": 100000, "purpose": "assistants", "api_key": "other"}]}'
//
// A connection error shows as {"ok": false, "status": null, "error": "APIConnectionError"}: exactly
// what the Python tests look for, since the client retries those with its own backoff instead of
// following the server's retry-after-ms.
import OpenAI, { toFile } from "openai";

const spec = JSON.parse(process.argv[2]);
const clients = new Map();
const responses = [];

async function watchedFetch(url, init) {
  if (!String(url).startsWith("http")) return fetch(url, init); // toFile reads data: URLs with fetch too
  try {
    const response = await fetch(url, init);
    responses.push(response.status);
    return response;
  } catch (err) {
    responses.push(null);
    throw err;
  }
}

function clientFor(apiKey) {
  if (!clients.has(apiKey)) {
    clients.set(
      apiKey,
      new OpenAI({
        baseURL: spec.base_url,
        apiKey,
        maxRetries: spec.max_retries ?? 2,
        timeout: spec.timeout_ms ?? 30000,
        fetch: watchedFetch,
      }),
    );
  }
  return clients.get(apiKey);
}

const results = [];
for (const upload of spec.uploads) {
  const client = clientFor(upload.api_key ?? spec.api_key);
  const file = await toFile(Buffer.alloc(upload.bytes, "x"), upload.filename ?? "data.txt");
  try {
    const created = await client.files.create({ file, purpose: upload.purpose ?? "assistants" });
    results.push({ ok: true, status: 200, id: created.id });
  } catch (err) {
    results.push({
      ok: false,
      status: err instanceof OpenAI.APIError && err.status !== undefined ? err.status : null,
      error: err?.constructor?.name ?? String(err),
      message: String(err?.message ?? err).slice(0, 300),
    });
  }
}
process.stdout.write(JSON.stringify({ uploads: results, responses }) + "\n");
