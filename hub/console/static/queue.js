"use strict";
// The waiting room: the patients waiting in the cabins of the doctor's sites, live, with
// "Prendre en charge" (the hub gives each patient to one doctor only).
const Queue = (() => {
  const entries = new Map();  // cabin_id -> entry
  let zones = {};  // site code -> its time zone: a 14:00 booking reads 14:00 anywhere
  let send = () => {};

  function waitedFor(since) {
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 60000));
    return minutes < 1 ? "à l'instant" : `${minutes} min`;
  }

  function render() {
    const body = document.querySelector("#queue tbody");
    body.textContent = "";
    const sorted = [...entries.values()].sort((a, b) =>
      (a.appointment_start || a.waiting_since).localeCompare(b.appointment_start || b.waiting_since));
    for (const e of sorted) {
      const row = document.createElement("tr");
      row.className = "queue-entry" + (e.cabin_online ? "" : " offline");
      row.dataset.cabin = e.cabin_id;
      const time = e.appointment_start
        ? new Date(e.appointment_start).toLocaleTimeString("fr-FR",
            { hour: "2-digit", minute: "2-digit", timeZone: zones[e.site_code] || "Europe/Paris" })
        : "sans rendez-vous";
      for (const text of [e.site_name, e.given_name, `${e.age} ans`, e.reason || "—", time, waitedFor(e.waiting_since)]) {
        const td = document.createElement("td");
        td.textContent = text;
        row.appendChild(td);
      }
      const td = document.createElement("td");
      const take = document.createElement("button");
      take.type = "button";
      take.className = "take";
      take.textContent = e.cabin_online ? "Prendre en charge" : "Cabine injoignable";
      take.disabled = !e.cabin_online;
      take.onclick = () => send({ type: "take", cabin_id: e.cabin_id, session_id: e.session_id });
      td.appendChild(take);
      row.appendChild(td);
      body.appendChild(row);
    }
    document.getElementById("queue").hidden = entries.size === 0;
    document.getElementById("queue-empty").hidden = entries.size !== 0;
  }

  return {
    wire(sender) { send = sender; setInterval(render, 30000); },
    siteZones(map) { zones = map || {}; render(); },
    snapshot(list) { entries.clear(); for (const e of list) entries.set(e.cabin_id, e); render(); },
    upsert(entry) { entries.set(entry.cabin_id, entry); render(); },
    remove(cabinId) { entries.delete(cabinId); render(); },
  };
})();
