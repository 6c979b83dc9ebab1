"use strict";
// The audit trail, read-only: filters to /api/v1/audit, newest first, a page at a time.
const ACTIONS = {
  login: "connexion", totp_enrol: "activation du second facteur", claim: "prise en charge d'un patient",
  join: "entrée en consultation", prescription: "ordonnance", consultation_end: "fin de consultation",
  cabin_enrol: "enrôlement d'une cabine", cabin_connect: "connexion d'une cabine",
  cabin_revoke: "révocation d'une cabine", outbox_item: "message d'une cabine",
};
const ROLES = { doctor: "médecin", coordinator: "coordination", technician: "technicien",
  administrator: "administrateur", cabin: "cabine" };

function actionLabel(action) {
  if (ACTIONS[action]) return ACTIONS[action];
  if (action.startsWith("access:")) return `accès « ${action.slice(7)} »`;
  return action.replaceAll("_", " ");
}

// A day of the date inputs, from the browser's local midnight.
function localMidnight(value, plusDays) {
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

function query(before) {
  const params = new URLSearchParams();
  for (const id of ["action", "outcome"]) if ($(id).value) params.set(id, $(id).value);
  if ($("actor").value.trim()) params.set("actor", $("actor").value.trim());
  if ($("from").value) params.set("from", localMidnight($("from").value, 0));
  if ($("to").value) params.set("to", localMidnight($("to").value, 1));
  if (before) params.set("before", String(before));
  return params;
}

function entryRow(e) {
  const tr = el("tr");
  tr.dataset.entry = String(e.id);
  const detail = Object.entries(e.detail).map(([k, v]) => `${k} : ${v}`).join(" · ");
  tr.append(
    el("td", timeText(e.at)), el("td", e.actor), el("td", ROLES[e.actor_role] || e.actor_role),
    el("td", actionLabel(e.action)), el("td", e.target),
    el("td", e.outcome === "ok" ? "accepté" : "refusé", e.outcome === "ok" ? "ok" : "bad"),
    el("td", e.client), el("td", detail, "detail"),
  );
  return tr;
}

let nextBefore = null;

async function load(append) {
  showError("");
  const response = await fetch(`/api/v1/audit?${query(append ? nextBefore : null)}`, { credentials: "same-origin" });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) { location.assign("/login"); return; }
  if (!response.ok) {
    const problems = (data.problems || []).map((p) => `${p.field} : ${p.message}`).join(" ; ");
    showError(`${data.error || `erreur ${response.status}`}${problems ? ` (${problems})` : ""}`);
    return;
  }
  const body = $("entries").tBodies[0];
  const rows = data.entries.map(entryRow);
  if (append) body.append(...rows); else body.replaceChildren(...rows);
  $("empty").hidden = body.rows.length > 0;
  nextBefore = data.next_before;
  $("more").hidden = nextBefore === null;
  const chosen = $("action").value;
  $("action").replaceChildren(el("option", "toutes"), ...data.actions.map((a) => {
    const option = el("option", actionLabel(a));
    option.value = a;
    return option;
  }));
  $("action").options[0].value = "";
  $("action").value = chosen;
}

wireLogout();
$("filters").onsubmit = (e) => { e.preventDefault(); load(false); };
$("more").onclick = () => load(true);
load(false);
