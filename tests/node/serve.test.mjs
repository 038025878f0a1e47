// A Node test runner starting `mockfiles serve` and using it with the official openai client.
//
//   cd tests/node && npm ci && node --test serve.test.mjs
//
// `mockfiles serve --port 0 --ready-file PATH` picks a free port and, once it accepts connections,
// writes PATH (atomically) as JSON: {"url", "base_urls": {"openai", "dashscope-compatible",
// "dashscope-native"}, "admin_url", "console_url", "admin_open", "pid", "profile", ...}. It removes
// the file when it exits (SIGTERM or Ctrl-C). Set MOCKFILES to the command if it is not on PATH.
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI, { toFile } from "openai";

let server;
let ready;

async function waitForReadyFile(path, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (child.exitCode !== null) throw new Error(`mockfiles exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error("mockfiles did not start");
    await sleep(20);
  }
  return JSON.parse(readFileSync(path, "utf8"));
}

before(async () => {
  const readyFile = join(mkdtempSync(join(tmpdir(), "mockfiles-")), "ready.json");
  server = spawn(process.env.MOCKFILES ?? "mockfiles", ["serve", "--port", "0", "--quiet", "--ready-file", readyFile], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  ready = await waitForReadyFile(readyFile, server);
});

after(async () => {
  server.kill("SIGTERM");
  await once(server, "exit");
});

beforeEach(async () => {
  // a fresh emulator for each test: no files, an empty journal, the clock back to now
  const reset = await fetch(`${ready.admin_url}/reset`, { method: "POST" });
  assert.equal(reset.status, 200);
});

test("upload, list, download and delete with the openai client", async () => {
  const client = new OpenAI({ baseURL: ready.base_urls.openai, apiKey: "sk-node-test" });
  const file = await client.files.create({
    file: await toFile(Buffer.from('{"prompt": "hi"}\n'), "train.jsonl"),
    purpose: "fine-tune",
  });
  assert.match(file.id, /^file-/);
  assert.equal(file.bytes, 17);

  const listed = await client.files.list();
  assert.deepEqual(
    listed.data.map((f) => f.id),
    [file.id],
  );
  const content = await client.files.content(file.id);
  assert.equal(await content.text(), '{"prompt": "hi"}\n');
  assert.equal((await client.files.delete(file.id)).deleted, true);
});

test("the journal shows what the client sent", async () => {
  const client = new OpenAI({ baseURL: ready.base_urls.openai, apiKey: "sk-node-test" });
  await assert.rejects(client.files.retrieve("file-missing"), { status: 404 });
  const journal = await (await fetch(`${ready.admin_url}/requests`)).json();
  assert.deepEqual(
    journal.data.map((e) => [e.endpoint, e.status]),
    [["files.retrieve", 404]],
  );
});
