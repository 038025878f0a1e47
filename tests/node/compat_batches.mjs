// DashScope compatible mode's batch rules with the official `openai` npm client: a list that
// matches nothing (its `data` is null), a 14-day window, the ds_name filter, and a refused download
// of an input file. Prints one JSON line.
//
//   node compat_batches.mjs '{"base_url": ".../compatible-mode/v1", "api_key": "...", "jsonl": "..."}'
import OpenAI, { toFile } from "openai";

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base_url, apiKey: spec.api_key, maxRetries: 0 });

const input = await client.files.create({ file: await toFile(Buffer.from(spec.jsonl), "in.jsonl"), purpose: "batch" });
const created = await client.batches.create({
  input_file_id: input.id,
  endpoint: "/v1/chat/completions",
  completion_window: "14d",
  metadata: { ds_name: "node job" },
});
await client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
const empty = [];
for await (const item of client.batches.list({ input_file_ids: "nothing" })) empty.push(item.id);
const named = [];
for await (const item of client.batches.list({ ds_name: "NODE" })) named.push(item.id);
let download = null;
try {
  await client.files.content(input.id);
} catch (err) {
  download = { status: err.status, error: err.constructor.name };
}
console.log(JSON.stringify({ empty, created, named, download }));
