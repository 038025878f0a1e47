// Runs a few operations with the official `openai` npm client and no retries, and prints one JSON
// line: for each, "ok" or the error's class and message. Used to measure what the Node client sees
// for each kind of fault (docs/scenarios.md).
//
//   node probe.mjs '{"base_url": "...", "api_key": "...", "timeout_ms": 500,
//                    "steps": [{"op": "list"}, {"sleep_ms": 200}, {"op": "download", "file_id": "file-..."}]}'
import OpenAI, { toFile } from "openai";

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base_url, apiKey: spec.api_key, timeout: spec.timeout_ms, maxRetries: 0 });
const out = [];
for (const step of spec.steps) {
  if (step.sleep_ms) {
    await new Promise((resolve) => setTimeout(resolve, step.sleep_ms));
    continue;
  }
  try {
    if (step.op === "list") await client.files.list();
    else if (step.op === "retrieve") await client.files.retrieve(step.file_id);
    else if (step.op === "download") await (await client.files.content(step.file_id)).arrayBuffer();
    else if (step.op === "upload")
      await client.files.create({ file: await toFile(Buffer.alloc(step.bytes, "x"), "a.txt"), purpose: "assistants" });
    out.push("ok");
  } catch (err) {
    out.push(`${err?.constructor?.name ?? err}: ${String(err?.message ?? err).slice(0, 80)}`);
  }
}
process.stdout.write(JSON.stringify(out) + "\n");
