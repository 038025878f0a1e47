// Runs a batch with the official `openai` npm client against mockfiles and prints one JSON line:
// the batch as created, as retrieved once ended, the output file's lines, the ids listed by the
// client's auto-pagination, and the error a cancel of the ended batch raised.
//
//   node batch.mjs '{"base_url": "...", "api_key": "...", "jsonl": "{...}\n{...}\n"}'
import OpenAI, { toFile } from "openai";

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base_url, apiKey: spec.api_key, maxRetries: 0 });

const input = await client.files.create({
  file: await toFile(Buffer.from(spec.jsonl), "in.jsonl"),
  purpose: "batch",
});
const created = await client.batches.create({
  input_file_id: input.id,
  endpoint: "/v1/chat/completions",
  completion_window: "24h",
});
let batch = created;
while (!["completed", "failed", "expired", "cancelled"].includes(batch.status)) {
  batch = await client.batches.retrieve(batch.id);
}
const output = await (await client.files.content(batch.output_file_id)).text();
const listed = [];
for await (const item of client.batches.list({ limit: 1 })) listed.push(item.id);
let cancel = null;
try {
  await client.batches.cancel(batch.id);
} catch (err) {
  cancel = { status: err.status, error: err.constructor.name, message: err.error?.message ?? null };
}
console.log(
  JSON.stringify({ created, batch, lines: output.trim().split("\n").map((line) => JSON.parse(line)), listed, cancel }),
);
