"use strict";
// The prescription form: items with posology and duration, JSON in the printer's shape,
// and the printer's problems ([{path, message}]) shown under the matching fields.
const Prescription = (() => {
  const form = () => document.getElementById("prescription-form");
  let itemCount = 0;

  function addItem() {
    const i = itemCount++;
    const row = document.createElement("div");
    row.className = "item";
    row.innerHTML =
      `<input data-path="items.${i}.medication" placeholder="Médicament (DCI), dosage, forme">` +
      `<input data-path="items.${i}.posology" placeholder="Posologie">` +
      `<input data-path="items.${i}.duration" placeholder="Durée">` +
      `<input data-path="items.${i}.quantity" placeholder="Quantité">` +
      `<input data-path="items.${i}.renewals" type="number" min="0" max="12" placeholder="Renouvellements">` +
      `<label><input data-path="items.${i}.non_substitutable" type="checkbox"> non substituable</label>`;
    document.getElementById("items").appendChild(row);
  }

  function setPath(target, path, value) {
    const keys = path.split(".");
    let node = target;
    keys.slice(0, -1).forEach((key, n) => {
      const nextIsIndex = /^\d+$/.test(keys[n + 1]);
      if (node[key] === undefined) node[key] = nextIsIndex ? [] : {};
      node = node[key];
    });
    node[keys[keys.length - 1]] = value;
  }

  function collect() {
    const data = { issued_at: new Date().toISOString() };
    for (const input of form().querySelectorAll("[data-path]")) {
      let value = input.type === "checkbox" ? input.checked : input.value.trim();
      if (value === "" || value === false) continue;
      if (input.type === "number") value = Number(value);
      setPath(data, input.dataset.path, value);
    }
    if (Array.isArray(data.items)) data.items = data.items.filter((x) => x && x.medication);
    return data;
  }

  function clearErrors() {
    for (const el of form().querySelectorAll(".field-error.dynamic")) el.remove();
    for (const el of form().querySelectorAll(".invalid")) el.classList.remove("invalid");
    form().querySelector('[data-error-for=""]').textContent = "";
  }

  function showProblems(problems) {
    clearErrors();
    for (const p of problems) {
      const field = form().querySelector(`[data-path="${CSS.escape(p.path)}"]`);
      const note = document.createElement("p");
      note.className = "field-error dynamic";
      note.dataset.errorFor = p.path;
      note.textContent = `${p.path} : ${p.message}`;
      if (field) {
        field.classList.add("invalid");
        field.insertAdjacentElement("afterend", note);
      } else {
        form().querySelector('[data-error-for=""]').appendChild(note);
      }
    }
  }

  function fillPatient(patient) {
    if (!patient) return;
    for (const key of ["family_name", "given_name", "sex", "birth_date"]) {
      const input = form().querySelector(`[data-path="patient.${key}"]`);
      if (input && !input.value && patient[key]) input.value = patient[key];
    }
  }

  // The logged-in doctor's account: name, specialty, RPPS, address, phone, e-mail
  // (what was typed stays).
  function fillPrescriber(prescriber) {
    for (const [key, value] of Object.entries(prescriber || {})) {
      const input = form().querySelector(`[data-path="prescriber.${key}"]`);
      if (input && !input.value && value) input.value = value;
    }
  }

  // Between patients: empty the patient and the items, keep the prescriber.
  function reset() {
    clearErrors();
    for (const input of form().querySelectorAll("[data-path^='patient.']")) input.value = "";
    form().querySelector("[data-path='notes']").value = "";
    document.getElementById("items").querySelectorAll(".item").forEach((row) => row.remove());
    itemCount = 0;
    addItem();
  }

  return { addItem, collect, showProblems, clearErrors, fillPatient, fillPrescriber, reset };
})();
