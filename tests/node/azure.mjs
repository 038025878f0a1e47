// The official `openai` npm client's AzureOpenAI against mockfiles (profile azure): upload, wait,
// a batch run to its end, the output's lines, and the error a bad api-version gets. Prints one JSON line.
//
//   node azure.mjs '{"endpoint": "...", "api_key": "...", "jsonl": "{...}\n"}'
import { AzureOpenAI, toFile } from "openai";

const spec = JSON.parse(process.argv[2]);
const client = new AzureOpenAI({ endpoint: spec.endpoint, apiKey: spec.api_key, apiVersion: "2024-10-21", maxRetries: 0 });

const input = await client.files.create({ file: await toFile(Buffer.from(spec.jsonl), "in.jsonl"), purpose: "batch" });
const ready = await client.files.waitForProcessing(input.id, { pollInterval: 10 });
let batch = await client.batches.create({ input_file_id: input.id, endpoint: "/chat/completions", completion_window: "24h" });
while (!["completed", "failed", "expired", "cancelled"].includes(batch.status)) {
  batch = await client.batches.retrieve(batch.id);
}
const output = await (await client.files.content(batch.output_file_id)).text();
const wrong = new AzureOpenAI({ endpoint: spec.endpoint, apiKey: spec.api_key, apiVersion: "1999-01-01", maxRetries: 0 });
let refused = null;
try {
  await wrong.files.list();
} catch (err) {
  refused = { status: err.status, error: err.error ?? null };
}
console.log(JSON.stringify({ input, ready, batch, lines: output.trim().split("\n").map((l) => JSON.parse(l)), refused }));
