// Small DOM helpers shared by the pages. Text is always set as text, never as HTML,
// so nothing a record holds can run as script.

/**
 * h("button", {type: "button", onclick: fn, class: "primary"}, "Accept")
 * Attributes starting with "on" become listeners; `dataset`, `aria` objects expand;
 * false/null/undefined attributes are left out; children may be strings, nodes or arrays.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "value" && "value" in el) {
      el.value = value;
    } else if (key === "checked" || key === "disabled" || key === "selected") {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of ``el``. */
export function show(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Say ``message`` to screen readers (the page's polite live region). */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A new text node after a tick, so the same message twice is read twice.
  setTimeout(() => {
    region.textContent = message;
  }, 30);
}

/** "1h 02m", "4m 05s", "12s" for a number of seconds. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.floor(seconds));
  const hrs = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (hrs) return `${hrs}h ${String(min).padStart(2, "0")}m`;
  if (min) return `${min}m ${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

/** A date-time value as the user's locale writes it. */
export function dateTime(value) {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

/** An error box for a failed call (role=alert, so it is read at once). */
export function errorBox(error, extra = "") {
  const message = error && error.message ? error.message : String(error);
  return h("p", { class: "error", role: "alert" }, extra ? `${extra}: ${message}` : message);
}

/** A heading and a section wrapper with an accessible name. */
export function section(title, ...children) {
  const id = `s-${Math.random().toString(36).slice(2, 9)}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

/**
 * A clock that follows the server's (which may be a manual test clock): ``now()`` is
 * the server time of the last sync plus the time passed here since.
 */
export class ServerClock {
  constructor() {
    this.offset = 0;
  }
  sync(serverTime) {
    const t = Date.parse(serverTime);
    if (!Number.isNaN(t)) this.offset = t - Date.now();
  }
  now() {
    return Date.now() + this.offset;
  }
}
