"use strict";
// The login: password, then the second factor (enrolled at the first login).
const $ = (id) => document.getElementById(id);
let next = "/";

function show(step) {
  for (const id of ["password-step", "code-step", "enrol-step", "recovery-step"]) $(id).hidden = id !== step;
  const input = document.querySelector(`#${step} input`);
  if (input) input.focus();
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `erreur ${response.status}`);
  return data;
}

async function enrol() {
  const response = await fetch("/login/enrolment", { credentials: "same-origin" });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `erreur ${response.status}`);
  // The SVG is made by the hub (reportlab) from the secret: parse it as XML, not as HTML.
  const svg = new DOMParser().parseFromString(data.qr_svg, "image/svg+xml").documentElement;
  $("qr").replaceChildren(document.importNode(svg, true));
  $("secret").textContent = data.secret;
  show("enrol-step");
}

async function guarded(action) {
  $("errors").textContent = "";
  try { await action(); } catch (e) { $("errors").textContent = e.message; }
}

$("password-form").onsubmit = (e) => {
  e.preventDefault();
  guarded(async () => {
    const data = await post("/login/password", { username: $("username").value.trim(), password: $("password").value });
    $("password").value = "";
    if (data.next === "enrol") await enrol(); else show("code-step");
  });
};
$("code-form").onsubmit = (e) => {
  e.preventDefault();
  guarded(async () => {
    const data = await post("/login/code", { code: $("code").value.trim() });
    location.assign(data.next);
  });
};
$("enrol-form").onsubmit = (e) => {
  e.preventDefault();
  guarded(async () => {
    const data = await post("/login/enrolment", { code: $("enrol-code").value.trim() });
    next = data.next;
    $("recovery-codes").replaceChildren(...data.recovery_codes.map((c) => {
      const li = document.createElement("li"); li.textContent = c; return li;
    }));
    show("recovery-step");
  });
};
$("recovery-done").onclick = () => location.assign(next);
