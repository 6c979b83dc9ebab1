"use strict";
// The coordinator's screen: pick a site and a day, book a free slot for a patient on the
// phone, read them the code, cancel. Everything goes through the booking API
// (/api/v1/) with this browser's session; patient data only ever as text, never as HTML.
const $ = (id) => document.getElementById(id);
const FIELDS = ["family_name", "given_name", "birth_date", "phone", "reason", "sex"];
// The optional INS traits and GP (a blank one is not sent).
const OPTIONAL = ["sex", "birth_name", "first_names", "ins_number", "birth_place", "gp_name", "gp_rpps", "gp_mssante"];
const STATUS = { booked: "Prévu", cancelled: "Annulé", checked_in: "Venu" };

let sites = [];
let site = null;     // the chosen site (from /api/v1/sites)
let day = null;      // "AAAA-MM-JJ", the site's local day
let chosen = null;   // the slot being booked

class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `erreur ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method, credentials: "same-origin", cache: "no-store",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { error: "Le hub ne répond pas : vérifiez la connexion et réessayez." });
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) {
    location.assign("/login");
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function say(message) { $("errors").textContent = message || ""; }

async function guarded(action) {
  say("");
  try { await action(); } catch (e) { say(e.message); }
}

// -- times, in the site's zone ------------------------------------------------------

function hhmm(iso) {
  return new Intl.DateTimeFormat("fr-FR", {
    timeZone: site.timezone, hour: "2-digit", minute: "2-digit",
  }).format(new Date(iso));
}

function longDay(isoDay) {
  return new Intl.DateTimeFormat("fr-FR", {
    timeZone: "UTC", weekday: "long", day: "numeric", month: "long", year: "numeric",
  }).format(new Date(`${isoDay}T12:00:00Z`));
}

function shiftDay(isoDay, days) {
  const d = new Date(`${isoDay}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function frenchDate(isoDay) {
  const [y, m, d] = isoDay.split("-");
  return `${d}/${m}/${y}`;
}

function frenchPhone(e164) {
  if (!e164 || !e164.startsWith("+33")) return e164 || "";
  const digits = `0${e164.slice(3)}`;
  return digits.replace(/(\d\d)(?=\d)/g, "$1 ");
}

function spacedCode(code) { return `${code.slice(0, 3)} ${code.slice(3)}`; }

// -- choosing -----------------------------------------------------------------------

function remember() {
  const params = new URLSearchParams({ site: site.code, date: day });
  history.replaceState(null, "", `/booking?${params}`);
}

async function start() {
  const data = await api("GET", "/api/v1/sites");
  sites = data.sites;
  if (!sites.length) {
    say("Aucun site ne vous est attribué : demandez à l'administrateur.");
    return;
  }
  $("site").replaceChildren(...sites.map((s) => {
    const option = document.createElement("option");
    option.value = s.code;
    option.textContent = `${s.name} (${s.code})`;
    return option;
  }));
  const asked = new URLSearchParams(location.search);
  site = sites.find((s) => s.code === asked.get("site")) || sites[0];
  $("site").value = site.code;
  day = /^\d{4}-\d{2}-\d{2}$/.test(asked.get("date") || "") ? asked.get("date") : null;
  await load();
}

async function load() {
  closeForm();
  const query = day ? `?date=${day}` : "";
  const slots = await api("GET", `/api/v1/sites/${site.code}/slots${query}`);
  day = slots.date;
  $("day").value = day;
  remember();
  const list = await api("GET", `/api/v1/sites/${site.code}/bookings?date=${day}`);
  $("site-info").textContent =
    `${site.address} — consultations de ${site.consultation_minutes} min, ` +
    `${site.capacity} cabine${site.capacity > 1 ? "s" : ""}`;
  showSlots(slots);
  showDay(list.bookings);
}

function showSlots(data) {
  $("slots-title").textContent = `Créneaux du ${longDay(day)}`;
  $("notice").textContent = data.notice || "";
  $("slots").replaceChildren(...data.slots.map((slot) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = slot.full ? "slot full" : "slot";
    button.dataset.start = slot.start;
    const time = document.createElement("span");
    time.textContent = hhmm(slot.start);
    const places = document.createElement("span");
    places.className = "places";
    places.textContent = slot.full ? "complet"
      : slot.capacity > 1 ? `${slot.free} place${slot.free > 1 ? "s" : ""} sur ${slot.capacity}` : "libre";
    button.append(time, places);
    button.disabled = slot.full;
    button.setAttribute("aria-label", `${hhmm(slot.start)}, ${places.textContent}`);
    button.onclick = () => openForm(slot);
    return button;
  }));
}

function showDay(bookings) {
  $("day-title").textContent = `Rendez-vous du ${longDay(day)}`;
  $("day-empty").hidden = bookings.length > 0;
  $("day-table").hidden = bookings.length === 0;
  $("day-list").replaceChildren(...bookings.map(bookingRow));
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function bookingRow(b) {
  const tr = document.createElement("tr");
  tr.dataset.id = b.id;
  tr.dataset.code = b.code;
  if (b.status === "cancelled") tr.className = "cancelled";
  const who = `${b.family_name.toUpperCase()} ${b.given_name} (né·e le ${frenchDate(b.birth_date)})`;
  tr.append(
    cell(`${hhmm(b.start)}–${hhmm(b.end)}`), cell(who), cell(frenchPhone(b.phone)),
    cell(spacedCode(b.code)), cell(STATUS[b.status] || b.status),
  );
  const actions = document.createElement("td");
  if (b.status === "booked" && new Date(b.start) > new Date()) actions.append(cancelButton(b));
  tr.append(actions);
  return tr;
}

function cancelButton(b) {
  const wrap = document.createElement("span");
  wrap.className = "cancel";
  const ask = document.createElement("button");
  ask.type = "button";
  ask.className = "secondary";
  ask.textContent = "Annuler";
  ask.onclick = () => {
    const confirm = document.createElement("button");
    confirm.type = "button";
    confirm.className = "danger";
    confirm.textContent = "Confirmer l'annulation";
    confirm.onclick = () => guarded(async () => {
      confirm.disabled = true;
      await api("POST", `/api/v1/bookings/${b.id}/cancel`, {});
      await load();
      say("");
    });
    const keep = document.createElement("button");
    keep.type = "button";
    keep.className = "secondary";
    keep.textContent = "Garder";
    keep.onclick = () => wrap.replaceChildren(ask);
    wrap.replaceChildren(confirm, " ", keep);
    confirm.focus();
  };
  wrap.append(ask);
  return wrap;
}

// -- booking ------------------------------------------------------------------------

function clearErrors() {
  for (const name of new Set([...FIELDS, ...OPTIONAL, "start"])) {
    $(`${name}-error`).textContent = "";
    if ($(name)) $(name).removeAttribute("aria-invalid");
  }
}

function openForm(slot) {
  chosen = slot;
  clearErrors();
  $("booking-form").reset();
  $("ins-details").open = false;
  $("form-slot").textContent = `${site.name} — ${longDay(day)}, de ${hhmm(slot.start)} à ${hhmm(slot.end)}`;
  $("done-section").hidden = true;
  $("form-section").hidden = false;
  $("family_name").focus();
}

function closeForm() {
  chosen = null;
  $("form-section").hidden = true;
}

async function book() {
  clearErrors();
  const body = { site: site.code, start: chosen.start };
  for (const name of new Set([...FIELDS, ...OPTIONAL])) body[name] = $(name).value.trim();
  for (const name of OPTIONAL) if (!body[name]) delete body[name];
  let booking;
  $("book").disabled = true;
  try {
    booking = await api("POST", "/api/v1/bookings", body);
  } catch (e) {
    for (const p of (e.body && e.body.problems) || []) {
      const target = $(`${p.field}-error`);
      if (target) target.textContent = p.message;
      if ($(p.field) && p.field !== "start") $(p.field).setAttribute("aria-invalid", "true");
    }
    const first = ((e.body && e.body.problems) || []).find((p) => $(p.field) && p.field !== "start");
    if (first && $("ins-details").contains($(first.field))) $("ins-details").open = true;
    if (first) $(first.field).focus();
    throw e;
  } finally {
    $("book").disabled = false;
  }
  closeForm();
  $("done-code").textContent = spacedCode(booking.code);
  $("done-code").dataset.code = booking.code;
  $("done-what").textContent =
    `${booking.given_name} ${booking.family_name.toUpperCase()}, ${longDay(day)} à ` +
    `${hhmm(booking.start)}, ${site.name}, ${site.address}.`;
  $("done-section").hidden = false;
  $("done-ok").focus();
  await load();
}

// -- wiring -------------------------------------------------------------------------

$("site").onchange = () => guarded(async () => {
  site = sites.find((s) => s.code === $("site").value);
  await load();
});
$("day").onchange = () => guarded(async () => {
  if (!$("day").value) return;
  day = $("day").value;
  await load();
});
$("prev-day").onclick = () => guarded(async () => { day = shiftDay(day, -1); await load(); });
$("next-day").onclick = () => guarded(async () => { day = shiftDay(day, 1); await load(); });
$("today").onclick = () => guarded(async () => { day = null; await load(); });
$("booking-form").onsubmit = (e) => { e.preventDefault(); guarded(book); };
$("form-back").onclick = () => closeForm();
$("done-ok").onclick = () => { $("done-section").hidden = true; };
$("logout").onclick = () => guarded(async () => {
  await api("POST", "/logout", {});
  location.assign("/login");
});

guarded(start);
