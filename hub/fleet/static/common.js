"use strict";
// What the fleet and audit pages share: French durations and times, logout, errors.
const $ = (id) => document.getElementById(id);

// The hub's clock minus the browser's (the hub says "now" in each message).
let clockSkewMs = 0;
function setServerNow(iso) { clockSkewMs = Date.parse(iso) - Date.now(); }
function serverNow() { return Date.now() + clockSkewMs; }

// 12 min, 2 h 05, 3 j 4 h: the same words as hub/fleet/words.py duration().
function duration(ms) {
  let minutes = Math.max(0, Math.floor(ms / 60000));
  if (minutes < 1) return "moins d'une minute";
  if (minutes < 60) return `${minutes} min`;
  let hours = Math.floor(minutes / 60);
  minutes %= 60;
  if (hours < 24) return `${hours} h ${String(minutes).padStart(2, "0")}`;
  const days = Math.floor(hours / 24);
  hours %= 24;
  return hours ? `${days} j ${hours} h` : `${days} j`;
}
function sinceText(iso) { return iso ? `depuis ${duration(serverNow() - Date.parse(iso))}` : ""; }
function agoText(iso) { return iso ? `il y a ${duration(serverNow() - Date.parse(iso))}` : ""; }
function timeText(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString("fr-FR", {
    day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

// An element with a class and text (never HTML: everything shown comes from the hub).
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function showError(message) { $("errors").textContent = message || ""; }

function wireLogout() {
  $("logout").onclick = async () => {
    await fetch("/logout", { method: "POST", credentials: "same-origin" }).catch(() => null);
    location.assign("/login");
  };
}
