"use strict";
// The fleet dashboard: the whole view from /fleet/ws ("fleet"), then the cabins that
// changed ("cabins"), drawn again every REDRAW_MS so that "depuis 12 min" stays true.
const REDRAW_MS = 20000;
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MAX_MS = 30000;

const state = { sites: [], cabins: new Map(), alerts: [] };
let reconnectMs = RECONNECT_FIRST_MS;

function connectionCell(c) {
  const td = el("td", null, "connection");
  const cls = c.connection.online ? "ok" : "bad";
  td.append(el("strong", c.connection.label, cls));
  if (c.connection.since) td.append(" ", el("span", sinceText(c.connection.since), "since"));
  if (!c.connection.online && c.connection.last_seen_at) {
    td.append(el("div", `vue ${timeText(c.connection.last_seen_at)}`, "muted small"));
  }
  return td;
}

function stateCell(c) {
  const td = el("td", null, "state");
  if (!c.state) { td.append(el("span", "aucun état reçu", "muted")); return td; }
  const bad = c.state.code === "out_of_service";
  td.append(el("strong", c.state.label, bad ? "bad" : ""), " ", el("span", sinceText(c.state.since), "muted small"));
  if (c.state.call_label) td.append(el("div", `appel : ${c.state.call_label}`, "small"));
  if (c.awaiting_disinfection_since) {
    td.append(el("div", `attend la désinfection ${sinceText(c.awaiting_disinfection_since)}`, "warn small"));
  }
  return td;
}

function lockCell(c) {
  if (!c.state) return el("td", "—", "lock muted");
  return el("td", c.state.locked ? "verrouillée" : "ouverte", "lock");
}

function instrumentsCell(c) {
  const td = el("td", null, "instruments");
  if (!c.instruments.length) { td.append(el("span", "aucun", "muted")); return td; }
  const ul = el("ul");
  for (const i of c.instruments) {
    const bad = i.state === "error" || i.state === "absent";
    const li = el("li", null, bad ? "bad" : i.battery_low ? "warn" : "");
    li.dataset.instrument = i.name;
    li.append(el("strong", i.name), ` (${i.kind_label}) : ${i.state_label}`);
    if (i.battery_percent !== null) li.append(el("span", `, batterie ${i.battery_percent} %`, "battery"));
    if (i.detail) li.append(el("div", i.detail, "muted small"));
    ul.append(li);
  }
  td.append(ul);
  return td;
}

function printerCell(c) {
  const td = el("td", null, "printer");
  const p = c.printer;
  if (!p) { td.append(el("span", "aucune", "muted")); return td; }
  td.append(el("span", p.label, p.error ? "bad" : "ok"));
  if (p.paper_low) td.append(el("div", "papier bientôt épuisé", "warn small paper"));
  if (p.message) td.append(el("div", p.message, "muted small"));
  return td;
}

function disinfectionCell(c) {
  const td = el("td", null, "disinfection");
  const d = c.last_disinfection;
  if (!d) { td.append(el("span", "aucune reçue", "muted")); return td; }
  td.append(el("span", timeText(d.at)), el("div", agoText(d.at), "muted small"));
  return td;
}

function chainCell(c) {
  const td = el("td", null, "chain");
  const h = c.hygiene_chain;
  td.append(el("strong", h.label, h.ok ? "ok" : "bad"));
  td.append(el("div", `${h.entries} entrée${h.entries > 1 ? "s" : ""} reçue${h.entries > 1 ? "s" : ""}`, "muted small"));
  if (h.problem) td.append(el("div", h.problem, "bad small"));
  return td;
}

function alertsCell(c) {
  const td = el("td", null, "cabin-alerts");
  if (!c.alerts.length) { td.append(el("span", "—", "muted")); return td; }
  const ul = el("ul");
  for (const a of c.alerts) {
    const li = el("li", a.label, `alert-${a.severity}`);
    li.title = a.message;
    ul.append(li);
  }
  td.append(ul);
  return td;
}

function cabinRow(c) {
  const tr = el("tr");
  tr.dataset.cabin = c.id;
  tr.append(
    el("td", c.id, "id"), connectionCell(c), stateCell(c), lockCell(c), instrumentsCell(c),
    printerCell(c), disinfectionCell(c), chainCell(c), el("td", c.software_version || "—", "version"),
    alertsCell(c),
  );
  return tr;
}

const HEADINGS = ["Cabine", "Connexion", "État", "Verrou", "Instruments", "Imprimante",
  "Dernière désinfection", "Journal d'hygiène", "Version", "Alertes"];

function siteSection(site, cabins) {
  const section = el("section", null, "site");
  section.dataset.site = site.code;
  const h2 = el("h2", site.name);
  h2.append(" ", el("span", `(${site.code})`, "muted"));
  section.append(h2);
  if (!cabins.length) { section.append(el("p", "Aucune cabine sur ce site.", "muted")); return section; }
  const table = el("table", null, "cabins");
  const head = el("tr");
  for (const h of HEADINGS) head.append(el("th", h));
  table.append(el("thead"), el("tbody"));
  table.tHead.append(head);
  for (const c of cabins) table.tBodies[0].append(cabinRow(c));
  section.append(table);
  return section;
}

function alertItem(a) {
  const li = el("li", null, `alert-${a.severity}`);
  li.dataset.alert = a.key;
  li.append(el("span", a.message), " ", el("span", `(levée le ${timeText(a.raised_at)})`, "muted small"));
  let delivery = "";
  if (a.sent_at) delivery = `transmise ${timeText(a.sent_at)}`;
  else if (a.last_error) delivery = `non transmise (${a.attempts} essai${a.attempts > 1 ? "s" : ""} : ${a.last_error})`;
  else delivery = "en cours de transmission";
  li.append(el("div", delivery, "delivery"));
  return li;
}

function render() {
  const bySite = new Map();
  for (const c of [...state.cabins.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!bySite.has(c.site_code)) bySite.set(c.site_code, []);
    bySite.get(c.site_code).push(c);
  }
  $("sites").replaceChildren(...state.sites.map((s) => siteSection(s, bySite.get(s.code) || [])));
  $("alert-count").textContent = String(state.alerts.length);
  $("no-alerts").hidden = state.alerts.length > 0;
  $("alerts").replaceChildren(...state.alerts.map(alertItem));
}

function onFleet(msg) {
  setServerNow(msg.now);
  state.sites = msg.sites.map((s) => ({ code: s.code, name: s.name }));
  state.cabins = new Map();
  for (const s of msg.sites) for (const c of s.cabins) state.cabins.set(c.id, c);
  state.alerts = msg.alerts;
  if (msg.viewer) {
    $("viewer").textContent = msg.viewer.username;
    $("audit-link").hidden = !msg.viewer.audit;
  }
  render();
}

function onCabins(msg) {
  setServerNow(msg.now);
  for (const c of msg.cabins) {
    state.cabins.set(c.id, c);
    if (!state.sites.some((s) => s.code === c.site_code)) state.sites.push({ code: c.site_code, name: c.site_name });
  }
  state.alerts = msg.alerts;
  render();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/fleet/ws`);
  ws.onopen = () => {
    reconnectMs = RECONNECT_FIRST_MS;
    $("link-state").textContent = "à jour en direct";
    $("link-state").className = "ok";
  };
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === "fleet") { showError(""); onFleet(msg); }
    else if (msg.type === "cabins") onCabins(msg);
    else if (msg.type === "error") showError(msg.message);
  };
  ws.onclose = (event) => {
    $("link-state").textContent = "hors connexion : nouvel essai…";
    $("link-state").className = "bad";
    setTimeout(reconnect, reconnectMs);
    reconnectMs = Math.min(RECONNECT_MAX_MS, reconnectMs * 2);
  };
}

// The socket is refused before its upgrade when the session ended: the API says why.
async function reconnect() {
  const response = await fetch("/api/v1/fleet", { credentials: "same-origin" }).catch(() => null);
  if (response && response.status === 401) { location.assign("/login"); return; }
  if (response && response.ok) onFleet(await response.json());
  if (response) connect();
  else {
    setTimeout(reconnect, reconnectMs);
    reconnectMs = Math.min(RECONNECT_MAX_MS, reconnectMs * 2);
  }
}

async function start() {
  wireLogout();
  const response = await fetch("/api/v1/fleet", { credentials: "same-origin" });
  if (response.status === 401) { location.assign("/login"); return; }
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    showError(data.error || `erreur ${response.status}`);
    return;
  }
  onFleet(await response.json());
  connect();
  setInterval(render, REDRAW_MS);
}

start();
