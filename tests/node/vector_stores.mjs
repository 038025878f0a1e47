// Vector stores with the official `openai` npm client against mockfiles, and prints one JSON line:
// a store made, files uploaded and polled until ingested (uploadAndPoll, fileBatches.uploadAndPoll,
// which wait as openai-poll-after-ms says), a search, the files listed by auto-pagination, a file's
// parsed content, the store after its File was deleted, and the errors of two refusals.
//
//   node vector_stores.mjs '{"base_url": "...", "api_key": "...", "files": {"name.md": "text", ...}}'
import OpenAI, { toFile } from "openai";

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base_url, apiKey: spec.api_key, maxRetries: 0 });
const [first, ...rest] = Object.entries(spec.files);

async function refusal(call) {
  try {
    await call();
    return null;
  } catch (err) {
    return { status: err.status, error: err.constructor.name, code: err.code ?? null, message: err.error?.message ?? null };
  }
}

const store = await client.vectorStores.create({ name: "node", metadata: { client: "node" } });
const single = await client.vectorStores.files.uploadAndPoll(store.id, await toFile(Buffer.from(first[1]), first[0]));
const batch = await client.vectorStores.fileBatches.uploadAndPoll(store.id, {
  files: await Promise.all(rest.map(([name, text]) => toFile(Buffer.from(text), name))),
});
const results = [];
for await (const result of client.vectorStores.search(store.id, { query: spec.query, max_num_results: 2 })) {
  results.push({ file_id: result.file_id, filename: result.filename, score: result.score, text: result.content[0].text });
}
const listed = [];
for await (const file of client.vectorStores.files.list(store.id, { limit: 1 })) listed.push(file.id);
const content = [];
for await (const part of client.vectorStores.files.content(single.id, { vector_store_id: store.id })) content.push(part.text);
await client.files.delete(single.id);
const after = await client.vectorStores.retrieve(store.id);
const png = await client.files.create({ file: await toFile(Buffer.from("\x89PNG"), "chart.png"), purpose: "assistants" });
const unsupported = await refusal(() => client.vectorStores.files.create(store.id, { file_id: png.id }));
const missing = await refusal(() => client.vectorStores.retrieve("vs_missing"));
console.log(JSON.stringify({ store, single, batch, results, listed, content, after, unsupported, missing }));
