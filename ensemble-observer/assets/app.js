// The Ensemble observer page: renders each snapshot from /api/events. No dependencies.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const query = token ? "?token=" + encodeURIComponent(token) : "";
const previous = new Map(); // actor id -> {handled, at}
const closed = new Set(); // ids of tree nodes the user collapsed
let lastTotal = null; // {handled, at} over all actors

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  }[c]));
}

function duration(ms) {
  if (ms < 1000) return ms + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  if (ms < 3600000) return Math.round(ms / 60000) + " min";
  return (ms / 3600000).toFixed(1) + " h";
}

function setCount(id, value) {
  const el = document.getElementById(id);
  el.textContent = String(value);
  el.dataset.count = String(value);
}

function rateOf(actor, at) {
  const before = previous.get(actor.id);
  previous.set(actor.id, { handled: actor.handled, at });
  if (!before || at <= before.at || actor.handled < before.handled) return 0;
  return (actor.handled - before.handled) / ((at - before.at) / 1000);
}

function label(actor) {
  return actor.name || actor.type || actor.id;
}

function node(actor, byId, rates, actions) {
  const kids = actor.children.map((id) => byId.get(id)).filter(Boolean);
  kids.sort((a, b) => label(a).localeCompare(label(b)));
  const rate = rates.get(actor.id) || 0;
  const busy = actor.busy_ms !== null && actor.busy_ms >= 1000;
  const open = !closed.has(actor.id) ? " open" : "";
  const leaf = kids.length === 0 ? " leaf" : "";
  const buttons = actions
    ? `<span class="actions"><button data-act="stop" data-id="${esc(actor.id)}">stop</button>` +
      `<button data-act="kill" data-id="${esc(actor.id)}">kill</button></span>`
    : "";
  return `<details class="actor${leaf}"${open} data-actor="${esc(actor.id)}" data-name="${esc(actor.name || "")}"` +
    ` data-type="${esc(actor.type)}" data-status="${esc(actor.status)}" data-restarts="${actor.restarts}"` +
    ` data-queued="${actor.queued}" data-rate="${rate.toFixed(1)}" data-handled="${actor.handled}">` +
    `<summary class="${busy ? "busy" : ""}"><span class="caret"></span>` +
    `<span class="dot ${esc(actor.status)}" title="${esc(actor.status)}"></span>` +
    `<span class="name">${esc(label(actor))}</span>` +
    `<span class="type">${esc(actor.type)}</span><span class="id">${esc(actor.id)}</span>` +
    `<span class="stat">queue ${actor.queued}</span>` +
    `<span class="stat">${rate.toFixed(1)} msg/s</span>` +
    `<span class="stat restarts" data-restarts="${actor.restarts}">restarts ${actor.restarts}</span>` +
    (actor.busy_ms !== null ? `<span class="stat">in handler ${duration(actor.busy_ms)}</span>` : "") +
    buttons + `</summary>` +
    kids.map((k) => node(k, byId, rates, actions)).join("") +
    `</details>`;
}

function rows(table, html) {
  const columns = document.querySelectorAll(`#${table} thead th`).length;
  document.querySelector(`#${table} tbody`).innerHTML =
    html || `<tr class="empty"><td colspan="${columns}" class="hint">none</td></tr>`;
}

function render(s) {
  const at = s.taken_at_ms;
  document.getElementById("system").textContent = "system: " + s.system;
  document.getElementById("untracked").hidden = s.tracking;
  const byId = new Map(s.actors.map((a) => [a.id, a]));
  const rates = new Map();
  for (const a of s.actors) rates.set(a.id, rateOf(a, at));
  for (const id of previous.keys()) if (!byId.has(id)) previous.delete(id);

  const handled = s.actors.reduce((n, a) => n + a.handled, 0);
  let total = 0;
  if (lastTotal && at > lastTotal.at && handled >= lastTotal.handled) {
    total = (handled - lastTotal.handled) / ((at - lastTotal.at) / 1000);
  }
  lastTotal = { handled, at };
  const rate = document.getElementById("rate");
  rate.textContent = total.toFixed(1);
  rate.dataset.rate = total.toFixed(1);
  setCount("actor-count", s.actors.length);
  setCount("restart-count", s.actors.reduce((n, a) => n + a.restarts, 0));
  setCount("dead-count", s.dead_letters_total);
  setCount("timeout-count", s.call_timeouts);
  document.getElementById("updated").textContent = new Date(at).toLocaleTimeString();

  const roots = s.actors.filter((a) => !a.parent || !byId.has(a.parent));
  roots.sort((a, b) => label(a).localeCompare(label(b)));
  document.getElementById("tree").innerHTML =
    roots.map((r) => node(r, byId, rates, s.actions)).join("") ||
    '<p class="hint">No actors yet.</p>';

  rows("busy", s.actors
    .filter((a) => a.busy_ms !== null && a.busy_ms >= 1000)
    .sort((a, b) => b.busy_ms - a.busy_ms)
    .map((a) => `<tr data-actor="${esc(a.id)}"><td>${esc(label(a))}</td><td>${esc(a.type)}</td>` +
      `<td class="num">${duration(a.busy_ms)}</td><td class="num">${a.queued}</td></tr>`)
    .join(""));
  rows("ended", s.ended.slice().reverse()
    .map((e) => `<tr data-actor="${esc(e.id)}" class="${e.failed ? "failed" : ""}">` +
      `<td>${esc(e.name || e.id)}</td><td>${esc(e.type)}</td>` +
      `<td>${e.failed ? "failed" : "ended"}</td><td>${esc(e.reason)}</td>` +
      `<td class="num">${duration(Math.max(0, at - e.at_ms))}</td></tr>`)
    .join(""));
  rows("dead", s.dead_letters
    .map((d) => `<tr><td>${esc(d.reason)}</td><td class="num">${d.count}</td></tr>`)
    .join(""));
  rows("groups", s.groups
    .map((g) => `<tr><td>${esc(g.scope)}</td><td>${esc(g.group)}</td>` +
      `<td>${g.members.map((m) => esc(label(byId.get(m) || { id: m }))).join(", ")}</td></tr>`)
    .join(""));
  rows("members", s.members
    .map((m) => `<tr><td>${esc(m.name)}</td><td>${m.incarnation}</td><td>${esc(m.address)}</td>` +
      `<td>${esc(m.status)}</td></tr>`)
    .join(""));
}

document.getElementById("tree").addEventListener("toggle", (e) => {
  const id = e.target.dataset && e.target.dataset.actor;
  if (!id) return;
  if (e.target.open) closed.delete(id); else closed.add(id);
}, true);

document.getElementById("tree").addEventListener("click", (e) => {
  const act = e.target.dataset && e.target.dataset.act;
  if (!act) return;
  e.preventDefault();
  const id = e.target.dataset.id;
  if (act === "kill" && !confirm("Kill " + id + "? It skips post_stop.")) return;
  fetch(`api/actors/${encodeURIComponent(id)}/${act}${query}`, { method: "POST" });
});

function connect() {
  const status = document.getElementById("connection");
  const events = new EventSource("api/events" + query);
  events.addEventListener("snapshot", (e) => {
    status.textContent = "live";
    status.dataset.state = "live";
    render(JSON.parse(e.data));
  });
  events.onerror = () => {
    status.textContent = "disconnected: retrying";
    status.dataset.state = "lost";
  };
}

connect();
