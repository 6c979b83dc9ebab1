"use strict";
// "Mes consultations": the doctor's own consultations, newest first, searchable by the
// patient's name and the day; each with its report (signed or not), its PDF, and where
// the record went (mail to the GP, the FHIR server, the patient's printed copy). The
// list refreshes by itself while deliveries are under way. A consultation that ended
// unsigned is completed and signed here (the same form and rules as the console's).
(() => {
  const REFRESH_MS = 10_000;
  const $ = (id) => document.getElementById(id);
  let items = [], signing = null, fields = null;

  const when = (iso, zone) => new Date(iso).toLocaleString("fr-FR", {
    timeZone: zone, weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit",
  });

  function error(text) { $("errors").textContent = text || ""; }

  function query() {
    const params = new URLSearchParams();
    const text = $("search-text").value.trim(), day = $("search-date").value;
    if (text) params.set("q", text);
    if (day) params.set("date", day);
    return params.toString();
  }

  async function load() {
    const response = await fetch(`/api/v1/doctor/consultations?${query()}`, { credentials: "same-origin" });
    if (response.status === 401) { location.assign("/login"); return; }
    const body = await response.json();
    if (!response.ok) { error(body.error); return; }
    error("");
    $("doctor-name").textContent = body.doctor;
    items = body.consultations;
    render();
    $("history-updated").textContent =
      `à jour à ${new Date().toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" })}`;
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    if (text != null) td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function deliveries(td, item) {
    if (!item.deliveries.length) {
      td.textContent = item.signed_at ? "en attente de la cabine" : "après la signature";
      return;
    }
    const list = document.createElement("ul");
    list.className = "deliveries";
    for (const d of item.deliveries) {
      const li = document.createElement("li");
      li.className = "delivery";
      li.dataset.channel = d.channel;
      li.dataset.state = d.state;
      const state = document.createElement("span");
      state.className = "state";
      state.textContent = d.state_label;
      li.append(`${d.channel_label} : `, state);
      if (d.delivered_at) li.append(` (${when(d.delivered_at, item.timezone)})`);
      else if (d.attempts > 0) li.append(` (${d.attempts} essai${d.attempts > 1 ? "s" : ""})`);
      list.appendChild(li);
    }
    td.appendChild(list);
  }

  function render() {
    const body = $("history").querySelector("tbody");
    body.textContent = "";
    $("history-empty").hidden = items.length > 0;
    $("history").hidden = items.length === 0;
    for (const item of items) {
      const row = document.createElement("tr");
      row.className = "consultation";
      row.dataset.consultation = item.consultation_id;
      cell(row, when(item.started_at, item.timezone));
      cell(row, `${item.site_name} (${item.cabin_id})`);
      cell(row, item.patient ?? "—", "patient");
      cell(row, item.conclusion || "—", "conclusion");
      const report = cell(row, null, "report-state");
      if (item.signed_at) report.textContent = `signé le ${when(item.signed_at, item.timezone)}`;
      else {
        report.textContent = item.ended_at ? "non signé" : "consultation en cours";
        report.classList.add("unsigned");
      }
      deliveries(cell(row, null, "record"), item);
      const actions = cell(row, null, "actions");
      if (item.signed_at && item.has_cabin_part) {
        const link = document.createElement("a");
        link.className = "pdf";
        link.href = `/doctor/consultations/${encodeURIComponent(item.consultation_id)}/report.pdf`;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = "Voir le compte rendu (PDF)";
        actions.appendChild(link);
      }
      if (!item.signed_at && item.ended_at) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "sign";
        button.textContent = "Compléter et signer";
        button.onclick = () => openSign(item);
        actions.appendChild(button);
      }
      body.appendChild(row);
    }
  }

  function openSign(item) {
    signing = item.consultation_id;
    fields.clearErrors();
    fields.fill(item.report);
    $("sign-for").textContent = `(${when(item.started_at, item.timezone)}, ${item.patient ?? item.cabin_id})`;
    $("sign-panel").hidden = false;
    fields.field("conclusion").focus();
  }

  function closeSign() {
    signing = null;
    fields.fill({});
    fields.clearErrors();
    $("sign-panel").hidden = true;
  }

  async function sign() {
    if (signing === null) return;
    const response = await fetch(`/api/v1/doctor/consultations/${encodeURIComponent(signing)}/sign`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ report: fields.collect() }),
    });
    const body = await response.json();
    if (response.status === 422 && body.problems) { fields.showProblems(body.problems); return; }
    if (!response.ok) { error(body.error); return; }
    closeSign();
    await load();
  }

  document.addEventListener("DOMContentLoaded", () => {
    fields = ReportForm($("report-form"));
    $("report-form").onsubmit = (e) => { e.preventDefault(); sign(); };
    $("sign-cancel").onclick = closeSign;
    $("search-form").onsubmit = (e) => { e.preventDefault(); load(); };
    $("search-clear").onclick = () => { $("search-text").value = ""; $("search-date").value = ""; load(); };
    $("logout").onclick = async () => {
      await fetch("/logout", { method: "POST", credentials: "same-origin" });
      location.assign("/login");
    };
    load();
    setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  });
})();
