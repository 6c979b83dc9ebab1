"use strict";
// The login form: POST /doctor/login (JSON), then reload to get the console.
document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("login-error");
  error.textContent = "";
  const body = JSON.stringify({
    username: document.getElementById("username").value,
    password: document.getElementById("password").value,
  });
  try {
    const response = await fetch("/doctor/login", {
      method: "POST", headers: { "Content-Type": "application/json" }, body,
      credentials: "same-origin",
    });
    if (response.ok) { location.reload(); return; }
    const data = await response.json().catch(() => ({}));
    error.textContent = data.error || "Connexion refusée.";
  } catch (e) {
    error.textContent = "La cabine ne répond pas.";
  }
});
