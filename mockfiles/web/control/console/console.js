// The mockfiles console: reads the control routes (/_mockfiles/*) and shows them. Everything the
// server sends is put in the page as text (textContent), never parsed as HTML.
"use strict";

const ADMIN = "/_mockfiles";
const TOKEN_KEY = "mockfiles-admin-token";
const JOURNAL_POLL_MS = 1000;
const PANEL_POLL_MS = 2000;
const MAX_ROWS = 2000; // journal rows kept in the page
const MAX_CALLS = 500; // calls shown in the Retries tab, newest first

const state = {
  tab: "files",
  params: new URLSearchParams(),
  seq: 0,
  generation: null,
  entries: [],
  endpoints: new Set(),
  seen: 0,
  unreachable: false,
  opened: new Set(), // journal entries unfolded, by seq
  curls: new Map(), // journal entries whose curl command is shown, by seq
};

// --- small helpers ----------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function $(id) {
  return document.getElementById(id);
}

function when(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

function size(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function shortAccount(account) {
  // acct_ + 16 hex digits; the first 8 tell accounts apart on a page (the whole id in the tooltip)
  return account ? account.slice(0, 13) : "";
}

function who(key, account) {
  // a masked key alone can collide (sk-curl-user and sk-node-user both show as sk-…ser): the account beside it cannot
  if (!key && !account) return el("span", { text: "—" });
  return el(
    "span",
    { class: "who nowrap", title: account || "" },
    el("span", { class: "mono", text: key || "—" }),
    account ? el("span", { class: "muted mono account-tag", text: ` ${shortAccount(account)}` }) : null,
  );
}

function idText(id, attrs = {}) {
  return el("span", { class: "mono id", ...attrs, text: id });
}

class Unauthorized extends Error {}
class Unavailable extends Error {}

async function admin(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(ADMIN + path, { ...options, headers });
  if (response.status === 401) throw new Unauthorized();
  if (response.status === 404 && !options.method) throw new Unavailable();
  return response;
}

async function adminJSON(path, options) {
  const response = await admin(path, options);
  const body = await response.json();
  if (!response.ok) {
    const error = body.error || body;
    throw new Error(error.message || JSON.stringify(error));
  }
  return body;
}

function guarded(task) {
  return async (...args) => {
    try {
      await task(...args);
    } catch (err) {
      if (err instanceof Unauthorized) showLogin(sessionStorage.getItem(TOKEN_KEY) ? "That token was refused." : "");
      else throw err;
    }
  };
}

// --- login -----------------------------------------------------------------------------------

function showLogin(message) {
  $("login").hidden = false;
  $("panels").hidden = true;
  $("login-error").textContent = message;
  $("server").textContent = "admin token needed";
  $("token").focus();
}

function hideLogin() {
  $("login").hidden = true;
  $("panels").hidden = false;
  $("logout").hidden = !sessionStorage.getItem(TOKEN_KEY);
}

// --- tabs ------------------------------------------------------------------------------------

function showTab() {
  // #files, or #files?id=file-abc&account=acct_…: a tab, and what it is narrowed to (a journal row's links)
  const [wanted, query] = (location.hash.slice(1) || "files").split("?");
  state.tab = document.querySelector(`nav a[data-tab="${CSS.escape(wanted)}"]`) ? wanted : "files";
  state.params = new URLSearchParams(query || "");
  if (state.tab === "files") {
    $("files-id").value = state.params.get("id") || "";
    state.accountWanted = state.params.get("account") || "";
    $("files-account").value = state.accountWanted;
  }
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.id !== state.tab;
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.tab === state.tab);
  }
  window.scrollTo(0, 0); // the tab's link is an anchor: keep the header in view, not the section's top
  if (state.tab === "requests") {
    state.seen = state.entries.length;
    updateBadge();
  }
  refreshPanel();
}

// --- header: the server and its clock ----------------------------------------------------------

async function refreshHeader() {
  const [health, clock] = await Promise.all([adminJSON("/health"), adminJSON("/clock")]);
  hideLogin();
  $("server").textContent = `${health.version} · profile ${health.profile} · ${health.files} files`;
  $("clock-now").textContent = `emulator time ${when(clock.now)}`;
  $("clock-iso").textContent = when(clock.now);
  $("clock-offset").textContent = clock.offset ? `(${clock.offset} s ahead of real time)` : "(real time)";
}

// --- files -----------------------------------------------------------------------------------

async function refreshFiles() {
  const body = await adminJSON("/files");
  state.files = body.data;
  renderFiles();
}

function updateAccounts(files) {
  // the accounts seen, as options of the filter (the chosen one kept, even before its files arrive)
  const select = $("files-account");
  const chosen = select.value || state.accountWanted || "";
  const accounts = new Map(files.map((f) => [f.account, f.key]));
  if (chosen && !accounts.has(chosen)) accounts.set(chosen, "");
  const options = [el("option", { value: "", text: "any" })];
  for (const [account, key] of [...accounts].sort()) {
    options.push(el("option", { value: account, text: key ? `${key} · ${shortAccount(account)}` : account }));
  }
  select.replaceChildren(...options);
  select.value = chosen;
}

function fileMatches(file) {
  const account = $("files-account").value;
  const text = $("files-id").value.trim().toLowerCase();
  if (account && file.account !== account) return false;
  return !text || file.id.toLowerCase().includes(text) || (file.filename || "").toLowerCase().includes(text);
}

function renderFiles() {
  const files = state.files || [];
  updateAccounts(files);
  const shown = files.filter(fileMatches);
  const narrowed = shown.length !== files.length;
  $("files-count").textContent = narrowed ? `${shown.length} of ${files.length} files` : `${files.length} files`;
  const byAccount = new Map();
  for (const file of shown) {
    if (!byAccount.has(file.account)) byAccount.set(file.account, { key: file.key, files: [] });
    byAccount.get(file.account).files.push(file);
  }
  const out = $("files-body");
  if (byAccount.size === 0) {
    const wanted = $("files-id").value.trim();
    const text = files.length === 0 ? "No files stored." : `No file matches${wanted ? ` ${wanted} (deleted or expired, or another account's)` : ""}.`;
    out.replaceChildren(el("p", { class: "muted", text }));
    return;
  }
  const blocks = [];
  for (const [account, { key, files: owned }] of byAccount) {
    const rows = owned.map((f) =>
      el(
        "tr",
        { "data-file": f.id },
        el("td", {}, idText(f.id)),
        el("td", { class: "filename", text: f.filename }),
        el("td", { class: "num", text: size(f.bytes) }),
        el("td", { text: f.purpose }),
        el("td", { class: `status-${f.status}`, text: f.status_details ? `${f.status}: ${f.status_details}` : f.status }),
        el("td", { class: "nowrap" }, moment(f.created_at)),
        el("td", { class: "nowrap" }, f.expires_at ? moment(f.expires_at) : "never"),
        el(
          "td",
          { class: "nowrap" },
          el("button", { type: "button", class: "download", onclick: guarded(() => download(f)) }, "Download"),
          " ",
          el("button", { type: "button", class: "delete danger", onclick: guarded(() => remove(f)) }, "Delete"),
        ),
      ),
    );
    const head = el(
      "tr",
      {},
      ...["id", "filename", "size", "purpose", "status", "created", "expires", ""].map((h) => el("th", { text: h })),
    );
    blocks.push(
      el(
        "div",
        { class: "account", "data-account": account },
        el("h3", {}, el("span", { class: "mono", text: account }), " ", el("span", { class: "muted", text: key })),
        el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)),
      ),
    );
  }
  out.replaceChildren(...blocks);
}

async function download(file) {
  const response = await admin(`/files/${encodeURIComponent(file.id)}/content`, { method: "GET" });
  if (!response.ok) return refreshFiles();
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: file.filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function remove(file) {
  await admin(`/files/${encodeURIComponent(file.id)}`, { method: "DELETE" });
  await refreshFiles();
}

// --- the journal, live -----------------------------------------------------------------------

function statusClass(status) {
  if (status === null || status === undefined) return "none";
  if (status === 429) return "429";
  return `${Math.floor(status / 100)}xx`;
}

function matches(entry) {
  const endpoint = $("filter-endpoint").value;
  const status = $("filter-status").value;
  const fault = $("filter-fault").value;
  if (endpoint && (entry.endpoint || "(none)") !== endpoint) return false;
  if (status && statusClass(entry.status) !== status && !(status === "4xx" && entry.status === 429)) return false;
  if (fault === "yes" && entry.fault === null) return false;
  if (fault === "no" && entry.fault !== null) return false;
  return true;
}

const FILE_IN_PATH = /\/files\/([^/?]+)/;

function touched(e) {
  // what the request touched, as links to its tab: the file, batch or Upload (and a batch's input file)
  const links = [];
  const add = (tab, id, label) => {
    if (id && !links.some((l) => l.id === id)) links.push({ tab, id, label });
  };
  add("uploads", e.upload_id, "upload");
  if (String(e.endpoint || "").startsWith("batches.")) add("batches", e.batch_id, "batch"); // not a vector store's file batch
  add("files", e.file_id, "file");
  add("files", e.input_file_id, "input");
  for (const f of e.files || []) add("files", typeof f === "string" ? f : f.file_id, "file"); // a model request's ids, or a native upload's files
  const inPath = FILE_IN_PATH.exec(e.path || "");
  if (inPath && !e.path.startsWith(ADMIN)) add("files", inPath[1], "file"); // the journal's path is decoded already
  if (links.length === 0) return null;
  return el(
    "div",
    { class: "touched" },
    ...links.flatMap((l) => [
      el("span", { class: "muted", text: `${l.label} ` }),
      el("a", { href: `#${l.tab}?id=${encodeURIComponent(l.id)}`, class: "mono id touched-link", "data-tab": l.tab, "data-id": l.id, text: l.id }),
      " ",
    ]),
  );
}

function quoted(text) {
  return "'" + String(text).replaceAll("'", "'\\''") + "'";
}

const KEY_VARIABLE = { "dashscope-native": "$DASHSCOPE_API_KEY" };

function curlOf(e) {
  // the request again, as curl: the key as the variable `mockfiles env` sets (keys are never kept), a
  // file by its name (its bytes are never kept), a JSON body as the journal kept it
  const url = location.origin + e.path + (e.query ? "?" + e.query : "");
  const words = ["curl"];
  const form = e.endpoint === "files.create" || e.endpoint === "uploads.parts.create";
  if (!(e.method === "GET" || (e.method === "POST" && (form || e.body)))) words.push("-X", e.method);
  words.push(quoted(url));
  if (e.key) words.push("-H", `"Authorization: Bearer ${KEY_VARIABLE[e.dialect] || "$OPENAI_API_KEY"}"`);
  const tags = { retry_test: "x-retry-test-id", idempotency_key: "Idempotency-Key", call_key: "x-mockfiles-call" };
  for (const [field, name] of Object.entries(tags)) if (e[field]) words.push("-H", quoted(`${name}: ${e[field]}`));
  if (e.endpoint === "files.create") {
    if (e.purpose) words.push("-F", quoted(`purpose=${e.purpose}`));
    const field = e.dialect === "dashscope-native" ? "files" : "file";
    const names = (e.files || []).map((f) => f.filename).filter(Boolean);
    for (const name of names.length ? names : [e.filename || "FILE"]) words.push("-F", quoted(`${field}=@${name}`));
  } else if (e.endpoint === "uploads.parts.create") {
    words.push("-F", quoted(`data=@${e.filename || "PART"}`));
  } else if (e.body !== undefined && e.body !== null) {
    words.push("-H", quoted("Content-Type: application/json"), "--data-raw", quoted(e.body));
  }
  return words.join(" ");
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // not a secure context (a server reached by its LAN address) or no permission: the old way
    const area = el("textarea", { class: "offscreen" });
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

function curlButton(e) {
  // the command stays shown when the table is redrawn (new requests arrive while it is being read)
  const shown = state.curls.get(e.seq);
  const out = el("pre", { class: "curl", hidden: shown ? null : "" }, shown ? shown.command : null);
  const note = el("span", { class: "muted curl-note", text: shown ? shown.note : "" });
  const button = el("button", { type: "button", class: "copy-curl" }, "copy as curl");
  button.addEventListener("click", async () => {
    const command = curlOf(e);
    out.textContent = command;
    out.hidden = false;
    state.curls.set(e.seq, { command, note: "" });
    const copied = await copyText(command);
    const said = copied ? " copied" : " select it to copy";
    state.curls.set(e.seq, { command, note: said });
    for (const box of document.querySelectorAll(`tr[data-seq="${e.seq}"] .curl-note`)) box.textContent = said;
  });
  return el("div", { class: "curl-box" }, button, note, out);
}

function entryRow(e) {
  const rule = e.rule || (e.fault !== null ? `faults[${e.fault}]` : null);
  const timings = [`${e.duration_ms.toFixed(1)} ms`];
  if (e.delay_ms) timings.push(`delay ${e.delay_ms} ms`);
  if (e.retry_count) timings.push(`retry ${e.retry_count}`);
  const detail = el("details", {}, el("summary", { text: "entry" }), el("pre", { text: JSON.stringify(e, null, 2) }));
  detail.open = state.opened.has(e.seq); // what the reader unfolded stays unfolded when the table is redrawn
  detail.addEventListener("toggle", () => (detail.open ? state.opened.add(e.seq) : state.opened.delete(e.seq)));
  return el(
    "tr",
    { "data-seq": String(e.seq), class: `s-${statusClass(e.status)}` },
    el("td", { class: "num", text: e.seq }),
    el("td", { class: "nowrap", title: when(e.received_at), text: when(e.received_at).slice(11) }),
    el("td", { class: "mono" }, `${e.method} ${e.path}${e.query ? "?" + e.query : ""}`, e.filename ? el("div", { class: "filename", text: e.filename }) : null, prompted(e), touched(e)),
    el("td", { text: e.endpoint || "—" }),
    el("td", { class: "key" }, who(e.key, e.account)),
    el("td", { class: "status", text: e.status === null ? "none" : e.status }),
    el("td", { class: "rule" }, rule ? el("strong", { text: rule }) : "—", e.action ? el("div", { text: e.action }) : null),
    el("td", {}, timings.join(" · "), detail, curlButton(e)),
  );
}

async function exportJournal() {
  // the whole journal the server keeps (not only the entries the page holds), as the filters narrow it
  const body = await adminJSON("/requests");
  const shown = body.data.filter(matches);
  const lines = shown.map((e) => JSON.stringify(e) + "\n").join("");
  const url = URL.createObjectURL(new Blob([lines], { type: "application/x-ndjson" }));
  const link = el("a", { href: url, download: `mockfiles-requests-${body.generation}.jsonl` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  $("requests-export").dataset.exported = String(shown.length);
}

function prompted(e) {
  // a model request: its model, whether it streamed, the files it named and its tokens
  if (!e.model || !String(e.endpoint || "").match(/^(chat|responses)\./)) return null;
  const bits = [e.model + (e.stream ? " · stream" : "")];
  if (e.files) bits.push(e.files.join(", "));
  if (e.usage) bits.push(`${e.usage.prompt_tokens} + ${e.usage.completion_tokens} tokens`);
  if (e.answer_rule) bits.push(`answer: ${e.answer_rule}`);
  return el("div", { class: "muted prompted", text: bits.join(" · ") });
}

function renderJournal() {
  const shown = state.entries.filter(matches);
  const rows = shown.slice(-500).reverse().map(entryRow);
  $("requests-table").tBodies[0].replaceChildren(...rows);
  $("requests-count").textContent = `${shown.length} of ${state.entries.length} requests`;
}

function updateEndpoints() {
  const select = $("filter-endpoint");
  const known = new Set([...select.options].map((o) => o.value));
  for (const endpoint of [...state.endpoints].sort()) {
    if (!known.has(endpoint)) select.append(el("option", { value: endpoint, text: endpoint }));
  }
}

function updateBadge() {
  const fresh = state.entries.length - state.seen;
  $("new-count").hidden = fresh <= 0 || state.tab === "requests";
  $("new-count").textContent = String(fresh);
}

async function pollJournal() {
  const body = await adminJSON(`/requests?after=${state.seq}`);
  if (state.generation !== null && (body.generation !== state.generation || body.last_seq < state.seq)) {
    // a reset, or another server on this address: the journal started again
    state.generation = body.generation;
    state.seq = 0;
    state.entries = [];
    state.seen = 0;
    state.opened.clear();
    state.curls.clear();
    return pollJournal();
  }
  state.generation = body.generation;
  if (body.data.length === 0 && state.entries.length > 0) return;
  for (const entry of body.data) {
    state.entries.push(entry);
    state.endpoints.add(entry.endpoint || "(none)");
    state.seq = Math.max(state.seq, entry.seq);
  }
  if (state.entries.length > MAX_ROWS) state.entries.splice(0, state.entries.length - MAX_ROWS);
  if (state.tab === "requests") state.seen = state.entries.length;
  updateEndpoints();
  updateBadge();
  renderJournal();
}

// --- batches, uploads, calls, retry tests ------------------------------------------------------

function table(headers, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { text: h })))), el("tbody", {}, ...rows));
}

function all(item, label = "all") {
  return el("details", {}, el("summary", { text: label }), el("pre", { text: JSON.stringify(item, null, 2) }));
}

function accountCell(item) {
  return el("td", {}, el("div", { class: "mono nowrap", text: item.account || "—" }), item.key ? el("div", { class: "muted mono", text: item.key }) : null);
}

function focused(box, items) {
  // a tab opened from a journal row's link shows that one object (#batches?id=…), with a way back to all
  const wanted = state.tab === box.closest(".panel").id ? state.params.get("id") : null;
  const note = box.closest(".panel").querySelector(".focus");
  if (!wanted) {
    note.hidden = true;
    return items;
  }
  note.hidden = false;
  note.replaceChildren(`Showing ${wanted} only · `, el("a", { href: `#${state.tab}`, text: "show all" }));
  const found = items.filter((item) => item.id === wanted);
  if (found.length === 0) note.append(` · ${wanted} is not on this server (any more)`);
  return found;
}

function statusCell(status) {
  return el("td", { class: `state state-${status}`, text: status });
}

function fileLink(id, names) {
  // a file the server made (a batch's output, an Upload's File): downloaded through the admin
  // route, with the token when one is set; a file since deleted or expired shows as gone
  if (!id) return el("span", { class: "muted", text: "—" });
  const filename = names.get(id);
  if (filename === undefined) return el("span", { class: "mono muted id", title: "deleted or expired", text: `${id} (gone)` });
  const link = el("a", { href: `${ADMIN}/files/${encodeURIComponent(id)}/content`, class: "file-link mono id", "data-file-id": id, title: filename, text: id });
  link.addEventListener("click", (event) => {
    event.preventDefault();
    guarded(() => download({ id, filename }))();
  });
  return link;
}

async function fileNames() {
  const body = await adminJSON("/files");
  return new Map(body.data.map((f) => [f.id, f.filename]));
}

function moment(seconds) {
  // a compact time for the panels' tables (date and time to the second, UTC); the exact one in its tooltip
  if (seconds === null || seconds === undefined) return el("span", { text: "—" });
  return el("span", { title: when(seconds), text: when(seconds).slice(0, 19).replace("T", " ") });
}

function labelled(label, ...content) {
  return el("div", {}, el("span", { class: "muted", text: `${label} ` }), ...content);
}

const ENDED = ["completed_at", "failed_at", "expired_at", "cancelled_at"];

function batchRow(b, names) {
  const counts = b.request_counts || {};
  const ended = ENDED.find((field) => b[field]);
  return el(
    "tr",
    { "data-id": b.id },
    el("td", {}, idText(b.id)),
    accountCell(b),
    el("td", {}, el("div", { class: "mono", text: b.endpoint }), b.model ? el("div", { class: "muted", text: b.model }) : null),
    statusCell(b.status),
    el("td", { class: "nowrap", text: `${counts.completed ?? 0} done · ${counts.failed ?? 0} failed · ${counts.total ?? 0} total` }),
    el(
      "td",
      { class: "files" },
      labelled("input", fileLink(b.input_file_id, names)),
      labelled("output", fileLink(b.output_file_id, names)),
      labelled("errors", fileLink(b.error_file_id, names)),
    ),
    el(
      "td",
      { class: "nowrap" },
      labelled("created", moment(b.created_at)),
      ended ? labelled(ended.replace("_at", ""), moment(b[ended])) : null,
      labelled("expires", moment(b.expires_at)),
    ),
    el("td", {}, b.metadata ? el("div", { class: "mono metadata", text: JSON.stringify(b.metadata) }) : null, el("div", { class: "nowrap" }, all(b))),
  );
}

async function refreshBatches(box) {
  const [body, names] = await Promise.all([adminJSON("/batches"), fileNames()]);
  body.data = focused(box, body.data);
  if (body.data.length === 0) return box.replaceChildren(el("p", { class: "muted", text: "None." }));
  const headers = ["id", "account", "endpoint", "status", "requests", "files", "times", ""];
  box.replaceChildren(table(headers, body.data.map((b) => batchRow(b, names))));
}

function heldParts(u) {
  // a completed or cancelled Upload holds no Parts any more: their bytes became the File, or were freed
  if (u.parts === 0 && u.status !== "pending") return `none held (${u.status})`;
  return `${u.parts} part${u.parts === 1 ? "" : "s"} · ${size(u.held_bytes)} held`;
}

function uploadRow(u, names) {
  return el(
    "tr",
    { "data-id": u.id },
    el("td", {}, idText(u.id)),
    accountCell(u),
    el("td", { class: "filename", text: u.filename }),
    el("td", {}, u.purpose, u.mime_type ? el("div", { class: "muted", text: u.mime_type }) : null),
    el("td", { class: "num", title: `${u.bytes} bytes`, text: size(u.bytes) }),
    el("td", { class: "nowrap", text: heldParts(u) }),
    statusCell(u.status),
    el("td", {}, fileLink(u.file_id, names)),
    el("td", { class: "nowrap" }, labelled("created", moment(u.created_at)), labelled("expires", moment(u.expires_at))),
    el("td", { class: "nowrap" }, all(u)),
  );
}

async function refreshUploads(box) {
  const [body, names] = await Promise.all([adminJSON("/uploads"), fileNames()]);
  body.data = focused(box, body.data);
  if (body.data.length === 0) return box.replaceChildren(el("p", { class: "muted", text: "None." }));
  const headers = ["id", "account", "filename", "purpose", "bytes", "parts", "status", "file", "times", ""];
  box.replaceChildren(table(headers, body.data.map((u) => uploadRow(u, names))));
}

function storeFileRow(f, names) {
  const error = f.last_error ? el("div", { class: "bad", text: `${f.last_error.code}: ${f.last_error.message}` }) : null;
  const leaves = f.leaves_at ? labelled("leaves", moment(f.leaves_at)) : null;
  return el(
    "tr",
    { "data-id": f.id },
    el("td", {}, fileLink(f.id, names), el("div", { class: "filename muted", text: f.filename })),
    el("td", { class: `state state-${f.status}` }, f.status, error),
    el("td", { class: "num", title: `${f.usage_bytes} bytes`, text: size(f.usage_bytes) }),
    el("td", { class: "mono metadata", text: Object.keys(f.attributes || {}).length ? JSON.stringify(f.attributes) : "—" }),
    el("td", { class: "nowrap" }, labelled("attached", moment(f.created_at)), labelled("ready", moment(f.ready_at)), leaves),
  );
}

function storeFiles(s, names) {
  if (s.files.length === 0) return el("p", { class: "muted", text: "No files." });
  const rows = s.files.map((f) => storeFileRow(f, names));
  return table(["file", "status", "usage", "attributes", "times"], rows);
}

function vectorStoreRow(s, names) {
  const counts = s.file_counts;
  const expiry = s.expires_after
    ? [labelled("expires", moment(s.expires_at)), el("div", { class: "muted", text: `${s.expires_after.days} d after last activity` })]
    : [el("div", { class: "muted", text: "never expires" })];
  const metadata = Object.keys(s.metadata || {}).length ? el("div", { class: "mono metadata", text: JSON.stringify(s.metadata) }) : null;
  return el(
    "tr",
    { "data-id": s.id },
    el(
      "td",
      { class: "store-id" },
      el("div", { class: "mono", text: s.id }),
      el("div", { text: s.name || "(no name)" }),
      s.description ? el("div", { class: "muted", text: s.description }) : null,
      metadata,
      all(s),
    ),
    accountCell(s),
    el(
      "td",
      { class: "nowrap" },
      el("div", { class: `state state-${s.status}`, text: s.status }),
      el("div", { text: `${counts.completed} completed · ${counts.in_progress} in progress` }),
      el("div", { text: `${counts.failed} failed · ${counts.cancelled} cancelled · ${counts.total} total` }),
      el("div", { class: "muted", title: `${s.usage_bytes} bytes`, text: `${size(s.usage_bytes)} used` }),
      labelled("created", moment(s.created_at)),
      labelled("active", moment(s.last_active_at)),
      ...expiry,
    ),
    el("td", { class: "store-files" }, storeFiles(s, names)),
  );
}

async function refreshVectorStores(box) {
  const [body, names] = await Promise.all([adminJSON("/vector-stores"), fileNames()]);
  if (body.data.length === 0) return box.replaceChildren(el("p", { class: "muted", text: "None." }));
  const headers = ["store", "account", "status, files, times", "its files"];
  box.replaceChildren(table(headers, body.data.map((s) => vectorStoreRow(s, names))));
}

function hyperparameters(h) {
  return Object.entries(h || {}).map(([k, v]) => labelled(k.replace("learning_rate_multiplier", "lr ×"), el("span", { text: String(v) })));
}

function eventsTable(body) {
  if (body.data.length === 0) return el("p", { class: "muted", text: "No events yet." });
  const rows = body.data.map((e) =>
    el(
      "tr",
      { class: `level-${e.level}` },
      el("td", { class: "nowrap" }, moment(e.created_at)),
      el("td", { class: `level level-${e.level}`, text: e.level }),
      el("td", { class: e.type === "metrics" ? "mono" : "", text: e.message }),
    ),
  );
  const more = body.has_more ? el("p", { class: "muted", text: `Newest ${body.data.length} shown.` }) : null;
  return el("div", {}, table(["time (UTC)", "level", "message"], rows), more);
}

async function loadEvents(details, id) {
  // the events go in a row of their own under the job's, as wide as the table
  const row = details.closest("tr");
  let below = row.nextElementSibling;
  if (!below || !below.classList.contains("events-row")) {
    below = el("tr", { class: "events-row" }, el("td", { colspan: "8" }));
    row.after(below);
  }
  const body = await adminJSON(`/fine-tuning/${encodeURIComponent(id)}/events`);
  if (details.open) below.firstChild.replaceChildren(eventsTable(body));
}

function eventsCell(j) {
  const details = el("details", { class: "events" }, el("summary", { text: "events" }));
  details.addEventListener("toggle", () => {
    if (details.open) guarded(() => loadEvents(details, j.id))();
    else if (details.closest("tr").nextElementSibling?.classList.contains("events-row")) {
      details.closest("tr").nextElementSibling.remove();
    }
  });
  return details;
}

function fineTuningRow(j, names) {
  const steps = j.steps || {};
  const progress = steps.total ? `step ${steps.done}/${steps.total}` : "";
  const method = j.method ? j.method.type : "supervised";
  return el(
    "tr",
    { "data-id": j.id },
    el("td", { class: "mono job-id", text: j.id }),
    accountCell(j),
    el(
      "td",
      { class: "job-model" },
      el("div", { class: "mono", text: j.model }),
      el("div", { class: "muted", text: method }),
      j.fine_tuned_model ? el("div", { class: "mono model", text: `→ ${j.fine_tuned_model}` }) : null,
    ),
    el(
      "td",
      {},
      el("div", { class: `state state-${j.status}`, text: j.status }),
      progress ? el("div", { class: "muted nowrap", text: progress }) : null,
      j.error ? el("div", { class: "error job-error", text: `${j.error.code}: ${j.error.message}` }) : null,
    ),
    el(
      "td",
      { class: "files" },
      labelled("training", fileLink(j.training_file, names)),
      j.validation_file ? labelled("validation", fileLink(j.validation_file, names)) : null,
      labelled("results", fileLink(j.result_files[0], names)),
    ),
    el("td", { class: "nowrap" }, ...hyperparameters(j.hyperparameters)),
    el(
      "td",
      { class: "nowrap" },
      labelled("created", moment(j.created_at)),
      j.finished_at ? labelled("finished", moment(j.finished_at)) : null,
      j.estimated_finish ? labelled("estimated", moment(j.estimated_finish)) : null,
    ),
    el("td", {}, j.metadata ? el("div", { class: "mono metadata", text: JSON.stringify(j.metadata) }) : null, eventsCell(j), el("div", { class: "nowrap" }, all(j))),
  );
}

async function refreshFineTuning(box) {
  // the events a reader opened are loaded again with the list, so they follow the job
  const opened = new Set([...box.querySelectorAll("details.events[open]")].map((d) => d.closest("tr[data-id]").dataset.id));
  const [body, names] = await Promise.all([adminJSON("/fine-tuning"), fileNames()]);
  if (body.data.length === 0) return box.replaceChildren(el("p", { class: "muted", text: "None." }));
  const headers = ["id", "account", "model", "status", "files", "hyperparameters", "times", ""];
  const rows = body.data.map((j) => fineTuningRow(j, names));
  box.replaceChildren(table(headers, rows));
  for (const row of rows) {
    if (opened.has(row.dataset.id)) row.querySelector("details.events").open = true; // its toggle loads them
  }
}

const OUTCOMES = { reset: "reset", timeout: "timeout", truncated: "cut", client_gone: "client gone", pending: "pending" };

function outcome(a) {
  if (a.outcome === "status") return String(a.status);
  if (a.outcome === "committed_dropped") return `${a.status ?? "done"}, lost`;
  return OUTCOMES[a.outcome] || a.outcome;
}

function answeredBy(a, journal) {
  // what answered the attempt instead of the operation: the retry test's instruction, or the
  // scenario's fault rule (read from the journal entry of the same seq, when the page still has it)
  if (a.instruction) return a.instruction;
  const entry = journal.get(a.seq);
  if (!entry || entry.fault === null || entry.fault === undefined) return null;
  return entry.rule || `faults[${entry.fault}]`;
}

function ms(seconds) {
  if (seconds === null || seconds === undefined) return "?";
  return `${Math.round(seconds * 1000)} ms`;
}

function attemptsCell(call, journal) {
  const steps = [];
  call.attempts.forEach((a, i) => {
    if (i > 0) steps.push(el("span", { class: "arrow", title: "the wait before this attempt" }, "→ ", el("span", { class: "wait", text: `+${ms(a.waited)}` }), " "));
    const why = answeredBy(a, journal);
    steps.push(
      el(
        "span",
        { class: `attempt s-${statusClass(a.outcome === "status" ? a.status : null)}`, title: `#${a.seq}` },
        el("strong", { text: outcome(a) }),
        why ? el("span", { class: "why", text: ` ${why}` }) : null,
      ),
      " ",
    );
  });
  const rows = call.attempts.map((a, i) =>
    el(
      "tr",
      {},
      el("td", { class: "num", text: i + 1 }),
      el("td", { class: "num", text: a.seq }),
      el("td", { class: "num", text: i === 0 ? "—" : ms(a.waited) }),
      el("td", { text: outcome(a) }),
      el("td", { class: "mono", text: answeredBy(a, journal) || "—" }),
      el("td", { class: "mono", text: Object.entries(a.advice || {}).map(([k, v]) => `${k}: ${v}`).join(", ") || "—" }),
      el("td", { class: "num", text: a.retry_count ?? "—" }),
      el("td", { class: "mono", text: a.created || "—" }),
    ),
  );
  const detail = el(
    "details",
    { class: "attempts-detail" },
    el("summary", { text: `${call.attempts.length} attempt${call.attempts.length === 1 ? "" : "s"}` }),
    table(["#", "seq", "waited", "outcome", "answered by", "advice", "retry count", "created"], rows),
    el("pre", { text: JSON.stringify(call, null, 2) }),
  );
  return el("td", { class: "attempts" }, el("div", { class: "sequence" }, ...steps), detail);
}

function verdictCell(verdict) {
  if (!verdict || verdict.ok) return el("td", { class: "verdict ok", text: "ok" });
  return el(
    "td",
    { class: "verdict bad" },
    ...verdict.problems.map((p) =>
      el("div", { class: "problem", "data-problem": p.problem }, el("strong", { class: "code", text: p.problem }), el("div", { class: "message", text: p.message })),
    ),
  );
}

function journalBySeq() {
  return new Map(state.entries.map((e) => [e.seq, e]));
}

function callRow(c, journal) {
  return el(
    "tr",
    { "data-id": c.id, class: c.verdict && !c.verdict.ok ? "flagged" : "" },
    el("td", { class: "mono nowrap call-id" }, c.id, c.retry_test ? el("div", { class: "muted", title: c.retry_test, text: `test ${c.retry_test.slice(0, 8)}…` }) : null),
    el(
      "td",
      {},
      el("div", { text: c.endpoint || "—" }),
      el("div", { class: "mono muted", text: `${c.method} ${c.path}${c.query ? "?" + c.query : ""}` }),
      c.filename ? el("div", { class: "filename", text: c.filename }) : null,
    ),
    el("td", { class: "mono nowrap", title: c.account || "", text: c.account ? shortAccount(c.account) : "—" }),
    attemptsCell(c, journal),
    el("td", { class: c.succeeded ? "state state-completed" : "state state-failed", text: c.succeeded ? `${c.result} ✓` : c.result }),
    verdictCell(c.verdict),
  );
}

async function refreshCalls(box) {
  const body = await adminJSON("/calls");
  if (body.data.length === 0) return box.replaceChildren(el("p", { class: "muted", text: "None." }));
  const journal = journalBySeq();
  const calls = [...body.data].reverse().slice(0, MAX_CALLS); // newest first, as the journal
  const shown = body.data.length > MAX_CALLS ? el("p", { class: "muted", text: `The newest ${MAX_CALLS} of ${body.data.length} calls.` }) : "";
  box.replaceChildren(shown, table(["call", "endpoint", "account", "attempts (wait before each)", "result", "verdict"], calls.map((c) => callRow(c, journal))));
}

function queues(test) {
  const lines = Object.entries(test.instructions).map(([endpoint, scripted]) => {
    const left = (test.remaining || {})[endpoint] || [];
    const used = scripted.length - left.length;
    return el(
      "div",
      { class: "queue", "data-endpoint": endpoint },
      el("strong", { text: endpoint }),
      " ",
      ...scripted.map((instruction, i) => el("span", { class: i < used ? "instruction used" : "instruction", title: i < used ? "taken" : "left", text: instruction })),
      el("span", { class: "muted", text: ` ${left.length} of ${scripted.length} left` }),
    );
  });
  return lines.length ? lines : [el("span", { class: "muted", text: "nothing scripted" })];
}

function retryTestRow(t) {
  const flagged = (t.calls || []).filter((c) => c.verdict && !c.verdict.ok);
  const summary = `${(t.calls || []).length} call${(t.calls || []).length === 1 ? "" : "s"}`;
  return el(
    "tr",
    { "data-id": t.id },
    el("td", {}, idText(t.id)),
    el("td", {}, ...queues(t)),
    el("td", { class: t.completed ? "state state-completed" : "state state-pending", text: t.completed ? "completed" : "not completed" }),
    el(
      "td",
      {},
      summary,
      flagged.length ? el("div", { class: "bad", text: `${flagged.length} with problems: ${flagged.map((c) => c.id).join(", ")}` }) : el("div", { class: "ok", text: "verdicts ok" }),
      all(t),
    ),
  );
}

async function refreshRetryTests(box) {
  const body = await adminJSON("/retry-tests");
  if (body.data.length === 0) return box.replaceChildren(el("p", { class: "muted", text: "None." }));
  box.replaceChildren(table(["id", "instructions (taken struck through)", "completed", "calls"], body.data.map(retryTestRow)));
}

function modelRow(m) {
  const reads = { files: "file parts, input_file", fileid: "fileid://" }[m.reads] || "—";
  return el(
    "tr",
    { "data-id": `${m.account || "*"}/${m.family}/${m.id}` },
    el("td", { class: "mono", text: m.id }),
    el("td", { text: m.family }),
    el("td", { text: m.owned_by }),
    el("td", { text: reads }),
    el("td", { class: "mono", text: m.base || "—" }),
    m.account ? accountCell(m) : el("td", { class: "muted", text: "every account" }),
  );
}

async function refreshModels(box) {
  const body = await adminJSON("/models");
  const headers = ["id", "family", "owned by", "reads", "base", "account"];
  box.replaceChildren(table(headers, body.data.map(modelRow)));
}

const COLLECTIONS = {
  "/batches": refreshBatches,
  "/uploads": refreshUploads,
  "/models": refreshModels,
  "/vector-stores": refreshVectorStores,
  "/fine-tuning": refreshFineTuning,
  "/calls": refreshCalls,
  "/retry-tests": refreshRetryTests,
};

async function refreshCollection(box) {
  const open = new Set([...box.querySelectorAll("details[open]")].map((d) => d.closest("tr[data-id]")?.dataset.id + "|" + d.className));
  try {
    await COLLECTIONS[box.dataset.route](box);
  } catch (err) {
    if (err instanceof Unavailable) {
      box.replaceChildren(el("p", { class: "muted unavailable", text: `Not available on this server (GET ${ADMIN}${box.dataset.route} is not served).` }));
      return;
    }
    throw err;
  }
  // the list is redrawn every poll: keep open what the reader opened
  for (const d of box.querySelectorAll("details")) {
    if (open.has(d.closest("tr[data-id]")?.dataset.id + "|" + d.className)) d.open = true;
  }
}

// --- scenario --------------------------------------------------------------------------------

function scenarioMessage(text, ok) {
  const out = $("scenario-message");
  out.textContent = text;
  out.className = ok ? "ok" : "error";
}

async function loadScenario() {
  const body = await adminJSON("/scenario");
  $("scenario-text").value = body.yaml;
  $("scenario-source").textContent = body.source;
}

async function checkScenario() {
  const response = await admin("/scenario/check", { method: "POST", body: $("scenario-text").value });
  const body = await response.json();
  if (response.ok) return null;
  return (body.error && body.error.message) || JSON.stringify(body);
}

async function applyScenario() {
  const problem = await checkScenario();
  if (problem) return scenarioMessage(problem, false);
  const response = await admin("/scenario", { method: "PUT", body: $("scenario-text").value });
  const body = await response.json();
  if (!response.ok) return scenarioMessage((body.error && body.error.message) || JSON.stringify(body), false);
  $("scenario-source").textContent = body.source;
  const ignored = Object.keys(body.ignored || {});
  scenarioMessage(`Applied.${ignored.length ? " Ignored at run time: " + ignored.join(", ") : ""}`, true);
}

// --- clock and reset -------------------------------------------------------------------------

async function advance(event) {
  event.preventDefault();
  const seconds = Number($("advance-amount").value) * Number($("advance-unit").value);
  const response = await admin("/clock", { method: "POST", body: JSON.stringify({ advance: seconds }) });
  const body = await response.json();
  $("clock-message").textContent = response.ok ? `Advanced by ${seconds} s.` : body.error.message;
  await refreshHeader();
}

async function reset() {
  await admin("/reset", { method: "POST" });
  $("reset-message").textContent = "Reset.";
  await Promise.all([refreshHeader(), pollJournal()]);
}

// --- the loop ----------------------------------------------------------------------------------

async function refreshPanel() {
  if (state.tab === "files") await guarded(refreshFiles)();
  else if (state.tab === "requests") renderJournal();
  else if (state.tab === "scenario" && !$("scenario-text").dataset.loaded) {
    $("scenario-text").dataset.loaded = "1";
    await guarded(loadScenario)();
  } else {
    for (const box of document.querySelectorAll(`#${state.tab} .collection`)) await guarded(refreshCollection)(box);
  }
}

function every(ms, task) {
  // polls only while the page is visible: a console left in a background tab costs the server nothing
  let busy = false;
  setInterval(async () => {
    if (busy || document.hidden || !$("login").hidden) return;
    busy = true;
    try {
      await task();
      if (state.unreachable) {
        state.unreachable = false;
        document.body.classList.remove("unreachable");
      }
    } catch (err) {
      if (err instanceof TypeError) {
        // fetch failed: the server stopped or is restarting; the polls go on and pick it up again
        state.unreachable = true;
        document.body.classList.add("unreachable");
        $("server").textContent = "server not reachable: retrying";
      } else console.warn(err);
    } finally {
      busy = false;
    }
  }, ms);
}

async function start() {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value);
    $("token").value = "";
    boot();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
  for (const id of ["filter-endpoint", "filter-status", "filter-fault"]) $(id).addEventListener("change", renderJournal);
  $("files-account").addEventListener("change", () => {
    state.accountWanted = $("files-account").value;
    renderFiles();
  });
  $("files-id").addEventListener("input", renderFiles);
  $("files-filters").addEventListener("submit", (event) => event.preventDefault());
  $("requests-export").addEventListener("click", guarded(exportJournal));
  $("scenario-check").addEventListener("click", guarded(async () => {
    const problem = await checkScenario();
    scenarioMessage(problem || "Valid.", !problem);
  }));
  $("scenario-apply").addEventListener("click", guarded(applyScenario));
  $("scenario-reload").addEventListener("click", guarded(async () => {
    await loadScenario();
    scenarioMessage("", true);
  }));
  $("scenario-clear").addEventListener("click", guarded(async () => {
    await admin("/scenario", { method: "DELETE" });
    await loadScenario();
    scenarioMessage("Cleared.", true);
  }));
  $("advance-form").addEventListener("submit", guarded(advance));
  $("reset").addEventListener("click", guarded(reset));
  window.addEventListener("hashchange", showTab);
  every(JOURNAL_POLL_MS, guarded(pollJournal));
  every(PANEL_POLL_MS, guarded(async () => {
    await refreshHeader();
    if (state.tab !== "scenario") await refreshPanel();
  }));
  await boot();
}

async function boot() {
  await guarded(async () => {
    await refreshHeader();
    await pollJournal();
    showTab();
  })();
}

document.addEventListener("DOMContentLoaded", start);
