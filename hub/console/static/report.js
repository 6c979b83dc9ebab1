"use strict";
// The consultation report: reason, findings, the measurements taken (read only),
// conclusion, advice, follow-up. The console keeps its draft at the hub as the doctor
// types (report_draft, debounced) and gets it back after a reload (report); "Signer"
// sends report_sign: the hub refuses a report without a conclusion, and a signed report
// no longer changes. ReportForm is the fields alone: the history page uses it too.
const ReportForm = (form) => {
  const FIELDS = ["reason", "findings", "conclusion", "advice", "follow_up"];
  const field = (name) => form.querySelector(`[data-field="${name}"]`);

  function collect() {
    const report = {};
    for (const name of FIELDS) report[name] = field(name).value.trim();
    return report;
  }

  function fill(report) {
    for (const name of FIELDS) field(name).value = (report && report[name]) || "";
  }

  function clearErrors() {
    for (const el of form.querySelectorAll(".field-error.dynamic")) el.remove();
    for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
    form.querySelector('[data-error-for=""]').textContent = "";
  }

  // The hub's problems ({path: "report.conclusion", message}) under their fields.
  function showProblems(problems) {
    clearErrors();
    for (const p of problems) {
      const name = p.path.replace(/^report\./, "");
      const target = FIELDS.includes(name) ? field(name) : null;
      const note = document.createElement("p");
      note.className = "field-error dynamic";
      note.dataset.errorFor = name;
      note.textContent = p.message;
      if (target) {
        target.classList.add("invalid");
        target.insertAdjacentElement("afterend", note);
      } else {
        form.querySelector('[data-error-for=""]').appendChild(note);
      }
    }
  }

  function setReadOnly(readOnly) {
    for (const name of FIELDS) field(name).readOnly = readOnly;
    for (const button of form.querySelectorAll("button")) button.hidden = readOnly;
  }

  // "Revoir son médecin traitant sous 48 h"...: one click adds the line to the follow-up.
  function presets(box, lines, onChange) {
    box.textContent = "";
    for (const line of lines) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "preset";
      button.textContent = line;
      button.onclick = () => {
        const area = field("follow_up");
        if (area.readOnly) return;
        const current = area.value.split("\n").map((l) => l.trim()).filter(Boolean);
        if (!current.includes(line)) area.value = [...current, line].join("\n");
        onChange();
      };
      box.appendChild(button);
    }
  }

  return { FIELDS, field, collect, fill, clearErrors, showProblems, setReadOnly, presets };
};

const Report = (() => {
  const DRAFT_DELAY_MS = 800;  // a pause in typing this long saves the draft
  const form = () => document.getElementById("report-form");
  let fields = null;
  let send = () => {};
  let labels = {}, units = {}, presetLines = [];
  let timer = null, signed = false, pendingReason = "", afterSign = null;

  const status = (text, state) => {
    const el = document.getElementById("report-status");
    el.textContent = text;
    el.dataset.state = state;
  };

  const time = (iso) => new Date(iso).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });

  function wire(sendSignal) {
    send = sendSignal;
    fields = ReportForm(form());
    for (const name of fields.FIELDS) fields.field(name).addEventListener("input", changed);
    form().onsubmit = (e) => { e.preventDefault(); sign(); };
  }

  // The hub's names for measurements and the follow-up presets (its hello).
  function configure(hello) {
    labels = hello.measurement_labels || {};
    units = hello.unit_labels || {};
    presetLines = hello.follow_up_presets || [];
    fields.presets(document.getElementById("follow-up-presets"), presetLines, changed);
  }

  const label = (code, display) => labels[code] ?? display;
  const unit = (ucum) => units[ucum] ?? ucum;

  function changed() {
    if (signed) return;
    clearTimeout(timer);
    status("modifié…", "editing");
    timer = setTimeout(saveDraft, DRAFT_DELAY_MS);
  }

  function saveDraft() {
    clearTimeout(timer);
    timer = null;
    if (!signed) send({ type: "report_draft", report: fields.collect() });
  }

  // Before the consultation ends: what was typed in the last instant is kept too.
  function flush() { if (timer !== null) saveDraft(); }

  function sign(then = null) {
    flush();
    afterSign = then;
    status("signature…", "signing");
    send({ type: "report_sign", report: fields.collect() });
  }

  function setSigned(at) {
    signed = at != null;
    fields.setReadOnly(signed);
    document.getElementById("follow-up-presets").hidden = signed;
    document.getElementById("report-panel").classList.toggle("signed", signed);
    if (signed) status(`signé à ${time(at)}`, "signed");
  }

  // The report as the hub keeps it: after "take", a reload, or the signature.
  function load(msg) {
    clearTimeout(timer);
    timer = null;
    fields.clearErrors();
    fields.fill(msg.report);
    setSigned(msg.signed_at);
    if (!signed) {
      status(msg.saved_at ? `brouillon enregistré à ${time(msg.saved_at)}` : "", msg.saved_at ? "saved" : "new");
      prefillReason(pendingReason);
    }
    if (signed && afterSign) { const then = afterSign; afterSign = null; then(); }
  }

  function saved(msg) {
    if (timer === null && !signed) status(`brouillon enregistré à ${time(msg.saved_at)}`, "saved");
  }

  function refused(msg) {
    afterSign = null;
    if (signed) return;
    if (msg.problems) fields.showProblems(msg.problems);
    status(msg.in_reply_to === "report_sign" ? "non signé" : "brouillon non enregistré", "refused");
  }

  // The patient's reason from the check-in, unless the doctor wrote one.
  function prefillReason(reason) {
    pendingReason = reason || "";
    const area = fields.field("reason");
    if (pendingReason && !area.value && !signed) area.value = pendingReason;
  }

  function addMeasurement(msg) {
    const m = msg.measurement;
    if (m.intermediate) return;
    const at = new Date(msg.at).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
    for (const o of m.observations) {
      if (o.value == null || !/^\d{1,7}-\d$/.test(o.code)) continue;  // a status, not a result
      const item = document.createElement("li");
      item.className = "report-measurement";
      item.dataset.code = o.code;
      item.textContent = `${label(o.code, o.display)} : ${o.value} ${unit(o.unit)} (${at})`;
      document.getElementById("report-measurements").appendChild(item);
    }
    document.getElementById("report-no-measurements").hidden =
      document.getElementById("report-measurements").children.length > 0;
  }

  const hasConclusion = () => fields.field("conclusion").value.trim() !== "";
  const isSigned = () => signed;

  // Between patients: nothing of the previous one stays.
  function reset() {
    clearTimeout(timer);
    timer = null;
    afterSign = null;
    pendingReason = "";
    fields.clearErrors();
    fields.fill({});
    setSigned(null);
    status("", "new");
    document.getElementById("report-measurements").textContent = "";
    document.getElementById("report-no-measurements").hidden = false;
  }

  return {
    wire, configure, label, unit, load, saved, refused, prefillReason, addMeasurement,
    sign, flush, hasConclusion, isSigned, reset,
  };
})();
