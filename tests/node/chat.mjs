// Reads an uploaded file through the model routes with the official `openai` npm client and prints
// one JSON line: a chat completion with a file part, the same streamed (its text and last chunk's
// usage), a response with input_file, the same streamed (its event types and final text), the model
// retrieved, and the error a file of another purpose raised (status, class, param).
//
//   node chat.mjs '{"base_url": "...", "api_key": "...", "text": "Quarterly report\n..."}'
import OpenAI, { toFile } from "openai";

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.base_url, apiKey: spec.api_key, maxRetries: 0 });

const file = await client.files.create({ file: await toFile(Buffer.from(spec.text), "report.txt"), purpose: "user_data" });
const messages = [{ role: "user", content: [{ type: "file", file: { file_id: file.id } }, { type: "text", text: "What is the total?" }] }];

const completion = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
let streamedText = "";
let usage = null;
for await (const chunk of await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true, stream_options: { include_usage: true } })) {
  if (chunk.choices.length && chunk.choices[0].delta.content) streamedText += chunk.choices[0].delta.content;
  if (chunk.usage) usage = chunk.usage;
}

const input = [{ role: "user", content: [{ type: "input_file", file_id: file.id }, { type: "input_text", text: "Sum?" }] }];
const response = await client.responses.create({ model: "gpt-4o-mini", input });
const events = [];
let final = null;
for await (const event of await client.responses.create({ model: "gpt-4o-mini", input, stream: true })) {
  events.push(event.type);
  if (event.type === "response.completed") final = event.response;
}

const wrong = await client.files.create({ file: await toFile(Buffer.from('{"a": 1}\n'), "in.jsonl"), purpose: "batch" });
let refusal = null;
try {
  await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: [{ type: "file", file: { file_id: wrong.id } }] }] });
} catch (err) {
  refusal = { status: err.status, error: err.constructor.name, param: err.param ?? null, code: err.code ?? null };
}

console.log(
  JSON.stringify({
    file_id: file.id,
    completion: completion.choices[0].message.content,
    streamed: streamedText,
    usage,
    response: response.output_text,
    events,
    final: final?.output.find((item) => item.type === "message")?.content[0].text ?? null,
    model: (await client.models.retrieve("gpt-4o-mini")).id,
    refusal,
  }),
);
