// The sign-in page: the API's own password check, then a cookie session.
import { api, ApiError } from "/console/api.js";

const form = document.getElementById("sign-in");
const error = document.getElementById("sign-in-error");

function destination() {
  const next = new URLSearchParams(location.search).get("next") || "";
  // Only our own console: never an address another site could put in the link.
  return next.startsWith("/console") && !next.startsWith("//") ? next : "/console";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    error.textContent = "Enter your username and password.";
    error.hidden = false;
    (username ? form.password : form.username).focus();
    return;
  }
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    await api("/console/session", { method: "POST", body: { username, password } });
    location.assign(destination());
  } catch (e) {
    error.textContent = e instanceof ApiError ? e.message : "The server could not be reached.";
    error.hidden = false;
    form.password.select();
  } finally {
    button.disabled = false;
  }
});
