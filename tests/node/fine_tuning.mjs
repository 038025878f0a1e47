// Runs a fine-tuning job with the official `openai` npm client against mockfiles and prints one
// JSON line: the job as created, as retrieved at each poll (the Python side moves the emulator
// clock between polls through the admin route), its events and checkpoints paged by the client,
// the results file's first line, the ids listed by metadata, a chat completion with the new model
// and the fine-tuned models listed, and the errors of a refused create and of a cancel of the
// finished job.
//
//   node fine_tuning.mjs '{"base_url": "...", "admin_url": "...", "api_key": "...", "jsonl": "{...}\n..."}'
import OpenAI, { toFile } from "openai";

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base_url, apiKey: spec.api_key, maxRetries: 0 });

async function advance(seconds) {
  const response = await fetch(`${spec.admin_url}/clock`, { method: "POST", body: JSON.stringify({ advance: seconds }) });
  if (!response.ok) throw new Error(`advance: ${response.status}`);
}

function failure(err) {
  return { status: err.status, error: err.constructor.name, code: err.code ?? null, param: err.param ?? null, message: err.error?.message ?? null };
}

const training = await client.files.create({ file: await toFile(Buffer.from(spec.jsonl), "train.jsonl"), purpose: "fine-tune" });
const created = await client.fineTuning.jobs.create({
  model: "gpt-4o-mini",
  training_file: training.id,
  suffix: "node",
  metadata: { client: "node" },
  method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2 } } },
});
const statuses = [];
let job = created;
let pausedOnce = false;
while (!["succeeded", "failed", "cancelled"].includes(job.status)) {
  job = await client.fineTuning.jobs.retrieve(created.id);
  statuses.push(job.status);
  if (job.status === "running" && !pausedOnce) {
    pausedOnce = true;
    const paused = await client.fineTuning.jobs.pause(job.id);
    statuses.push(paused.status);
    const resumed = await client.fineTuning.jobs.resume(job.id);
    statuses.push(resumed.status);
  }
  await advance(300);
}
const events = [];
for await (const event of client.fineTuning.jobs.listEvents(job.id, { limit: 10 })) events.push(event);
const checkpoints = [];
for await (const checkpoint of client.fineTuning.jobs.checkpoints.list(job.id, { limit: 1 })) checkpoints.push(checkpoint);
const results = await (await client.files.content(job.result_files[0])).text();
const listed = [];
for await (const item of client.fineTuning.jobs.list({ metadata: { client: "node" }, limit: 1 })) listed.push(item.id);
const chat = await client.chat.completions.create({ model: job.fine_tuned_model, messages: [{ role: "user", content: "hi" }] });
const models = [];
for await (const model of client.models.list()) models.push(model.id);
let refused = null;
try {
  await client.fineTuning.jobs.create({ model: "gpt-9", training_file: training.id });
} catch (err) {
  refused = failure(err);
}
let cancel = null;
try {
  await client.fineTuning.jobs.cancel(job.id);
} catch (err) {
  cancel = failure(err);
}
console.log(
  JSON.stringify({
    created,
    statuses,
    job,
    events: events.map((e) => ({ message: e.message, type: e.type, level: e.level })),
    checkpoints: checkpoints.map((c) => [c.step_number, c.fine_tuned_model_checkpoint]),
    results_header: Buffer.from(results, "base64").toString().split("\n")[0],
    listed,
    chat: { model: chat.model, content: chat.choices[0].message.content },
    models: models.filter((id) => id.startsWith("ft:")),
    refused,
    cancel,
  }),
);
