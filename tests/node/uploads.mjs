// One file through the Uploads API with the official `openai` npm client: create, its Parts sent
// concurrently, complete (in the order given, with the md5), the File's bytes read back; then,
// when asked, one Part over 64 MiB to the same Upload's successor. Prints one JSON line.
//
//   node uploads.mjs '{"base_url": "...", "api_key": "...", "parts": [100000, 100000, 5],
//                      "oversized": 67108865}'
import { createHash } from "node:crypto";
import OpenAI, { toFile } from "openai";

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base_url, apiKey: spec.api_key, maxRetries: 0 });
const pieces = spec.parts.map((size, i) => Buffer.alloc(size, 97 + (i % 26)));
const whole = Buffer.concat(pieces);

const upload = await client.uploads.create({
  bytes: whole.length,
  filename: "data.jsonl",
  mime_type: "application/jsonl",
  purpose: "fine-tune",
});
const parts = await Promise.all(
  pieces.map(async (piece) => client.uploads.parts.create(upload.id, { data: await toFile(piece, "upload") })),
);
const done = await client.uploads.complete(upload.id, {
  part_ids: parts.map((part) => part.id),
  md5: createHash("md5").update(whole).digest("hex"),
});
const content = Buffer.from(await (await client.files.content(done.file.id)).arrayBuffer());
const result = {
  status: done.status,
  file_bytes: done.file.bytes,
  same: Buffer.compare(content, whole) === 0,
  parts: parts.length,
};

if (spec.oversized) {
  const big = await client.uploads.create({
    bytes: spec.oversized,
    filename: "big.jsonl",
    mime_type: "application/jsonl",
    purpose: "fine-tune",
  });
  try {
    await client.uploads.parts.create(big.id, { data: await toFile(Buffer.alloc(spec.oversized), "upload") });
    result.oversized = { status: 200 };
  } catch (err) {
    result.oversized = {
      status: err instanceof OpenAI.APIError && err.status !== undefined ? err.status : null,
      error: err?.constructor?.name ?? String(err),
      message: String(err?.message ?? err).slice(0, 300),
    };
  }
}
process.stdout.write(JSON.stringify(result) + "\n");
