// The mockfiles console: reads the control routes (/_mockfiles/*) and shows them. Everything the
// server sends is put in the page as text (textContent), never parsed as HTML.
"use strict";

const ADMIN = "/_mockfiles";
const TOKEN_KEY = "mockfiles-admin-token";
const JOURNAL_POLL_MS = 1000;
const PANEL_POLL_MS = 2000;
const MAX_ROWS = 2000; // journal rows kept in the page

const state = { tab: "files", seq: 0, generation: null, entries: [], endpoints: new Set(), seen: 0, unreachable: false };

// --- small helpers ----------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
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
  const wanted = location.hash.slice(1) || "files";
  state.tab = document.querySelector(`nav a[data-tab="${CSS.escape(wanted)}"]`) ? wanted : "files";
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.id !== state.tab;
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.tab === state.tab);
  }
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
  const byAccount = new Map();
  for (const file of body.data) {
    if (!byAccount.has(file.account)) byAccount.set(file.account, { key: file.key, files: [] });
    byAccount.get(file.account).files.push(file);
  }
  const out = $("files-body");
  if (byAccount.size === 0) {
    out.replaceChildren(el("p", { class: "muted", text: "No files stored." }));
    return;
  }
  const blocks = [];
  for (const [account, { key, files }] of byAccount) {
    const rows = files.map((f) =>
      el(
        "tr",
        { "data-file": f.id },
        el("td", { class: "mono", text: f.id }),
        el("td", { class: "filename", text: f.filename }),
        el("td", { class: "num", text: size(f.bytes) }),
        el("td", { text: f.purpose }),
        el("td", { class: `status-${f.status}`, text: f.status_details ? `${f.status}: ${f.status_details}` : f.status }),
        el("td", { text: when(f.created_at) }),
        el("td", { text: f.expires_at ? when(f.expires_at) : "never" }),
        el(
          "td",
          {},
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

function entryRow(e) {
  const rule = e.rule || (e.fault !== null ? `faults[${e.fault}]` : null);
  const timings = [`${e.duration_ms.toFixed(1)} ms`];
  if (e.delay_ms) timings.push(`delay ${e.delay_ms} ms`);
  if (e.retry_count) timings.push(`retry ${e.retry_count}`);
  const detail = el("details", {}, el("summary", { text: "entry" }), el("pre", { text: JSON.stringify(e, null, 2) }));
  return el(
    "tr",
    { "data-seq": String(e.seq), class: `s-${statusClass(e.status)}` },
    el("td", { class: "num", text: e.seq }),
    el("td", { class: "nowrap", title: when(e.received_at), text: when(e.received_at).slice(11) }),
    el("td", { class: "mono" }, `${e.method} ${e.path}${e.query ? "?" + e.query : ""}`, e.filename ? el("div", { class: "filename", text: e.filename }) : null),
    el("td", { text: e.endpoint || "—" }),
    el("td", { class: "mono nowrap", text: e.key || "—" }),
    el("td", { class: "status", text: e.status === null ? "none" : e.status }),
    el("td", { class: "rule" }, rule ? el("strong", { text: rule }) : "—", e.action ? el("div", { text: e.action }) : null),
    el("td", {}, timings.join(" · "), detail),
  );
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

// --- batches, uploads, calls, retry tests: whatever their routes list --------------------------

const PREFERRED = ["id", "status", "state", "endpoint", "purpose", "filename", "bytes", "verdicts", "verdict", "attempts", "created_at", "expires_at"];

function cell(value, column) {
  if (value === null || value === undefined) return "—";
  if (column.endsWith("_at") && typeof value === "number") return when(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

async function refreshCollection(box) {
  let body;
  try {
    body = await adminJSON(box.dataset.route);
  } catch (err) {
    if (err instanceof Unavailable) {
      box.replaceChildren(el("p", { class: "muted unavailable", text: `Not available on this server (GET ${ADMIN}${box.dataset.route} is not served).` }));
      return;
    }
    throw err;
  }
  const items = Array.isArray(body) ? body : body.data || [];
  if (items.length === 0) {
    box.replaceChildren(el("p", { class: "muted", text: "None." }));
    return;
  }
  const present = new Set(items.flatMap((item) => Object.keys(item)));
  const columns = PREFERRED.filter((c) => present.has(c)).slice(0, 7);
  const head = el("tr", {}, ...columns.map((c) => el("th", { text: c })), el("th", { text: "" }));
  const rows = items.map((item) =>
    el(
      "tr",
      {},
      ...columns.map((c) => el("td", { text: cell(item[c], c) })),
      el("td", {}, el("details", {}, el("summary", { text: "all" }), el("pre", { text: JSON.stringify(item, null, 2) }))),
    ),
  );
  box.replaceChildren(el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
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
