// The console shell: who is signed in, the navigation, the event stream and the
// router that draws one page module at a time into <main>.
//
// A page module (pages/<name>.js) exports `default async function render(root, ctx,
// params)` and may return a cleanup function, called before the next page is drawn.
// ctx = { session, toolkit, api, query, listen(type, fn), navigate(hash), announce }.
// listen() subscriptions end with the page.

import { api, ApiError, query, signInAgain } from "/console/api.js";
import { CONNECTION_ERROR, CONNECTION_RESTORED, OmniToolkit, SESSION_ENDED } from "/console/omniToolkit.js";
import { announce, errorBox, h, show } from "/console/ui.js";

const ROUTES = [
  { pattern: /^#\/agent$/, page: "agent", title: "Omni-Channel" },
  { pattern: /^#\/todo$/, page: "todo", title: "To Do" },
  { pattern: /^#\/record\/([A-Za-z0-9]{15,18})$/, page: "record", title: "Record" },
  { pattern: /^#\/objects$/, page: "objects", title: "Records" },
  { pattern: /^#\/objects\/([A-Za-z0-9_]{1,80})$/, page: "objects", title: "Records" },
  { pattern: /^#\/supervisor$/, page: "supervisor", title: "Omni Supervisor" },
  { pattern: /^#\/admin$/, page: "admin", title: "Automation queues" },
];

function navItems(session) {
  const items = [
    ["#/agent", "Omni-Channel"],
    ["#/todo", "To Do"],
    ["#/objects", "Records"],
  ];
  if (session.isSupervisor) items.push(["#/supervisor", "Supervisor"]);
  if (session.isAdmin) items.push(["#/admin", "Automation queues"]);
  return items;
}

async function start() {
  let session;
  try {
    session = await api("/console/session");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      signInAgain();
      return;
    }
    show(document.getElementById("main"), errorBox(e, "The console could not start"));
    return;
  }
  document.getElementById("who-name").textContent = session.name;
  document.getElementById("sign-out").addEventListener("click", async () => {
    toolkit.disconnect();
    await api("/console/session", { method: "DELETE" }).catch(() => null);
    location.assign("/console/login");
  });

  const toolkit = new OmniToolkit();
  const banner = document.getElementById("connection");
  toolkit.addEventListener(CONNECTION_ERROR, async () => {
    banner.textContent = "Connection to the server lost. Reconnecting…";
    banner.className = "banner warning";
    banner.hidden = false;
    // A stream can also end because the session did (expired, or signed out in
    // another tab): then reconnecting cannot help, signing in again does.
    try {
      await api("/console/session");
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        toolkit.disconnect();
        signInAgain();
      }
    }
  });
  toolkit.addEventListener(SESSION_ENDED, () => {
    toolkit.disconnect();
    signInAgain();
  });
  toolkit.addEventListener(CONNECTION_RESTORED, () => {
    banner.textContent = "Connection restored.";
    banner.className = "banner ok";
    banner.hidden = false;
    setTimeout(() => {
      if (toolkit.connected) banner.hidden = true;
    }, 4000);
  });
  toolkit.connect();

  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  let cleanup = null;
  let subscriptions = [];

  const ctx = {
    session,
    toolkit,
    api,
    query,
    announce,
    navigate: (hash) => {
      location.hash = hash;
    },
    listen(type, fn) {
      toolkit.addEventListener(type, fn);
      subscriptions.push([type, fn]);
    },
  };

  async function route() {
    if (typeof cleanup === "function") {
      try {
        cleanup();
      } catch (e) {
        console.warn(e);
      }
    }
    cleanup = null;
    for (const [type, fn] of subscriptions) toolkit.removeEventListener(type, fn);
    subscriptions = [];

    const hash = location.hash || (session.isSupervisor ? "#/supervisor" : "#/agent");
    let match = null;
    let found = null;
    for (const r of ROUTES) {
      match = hash.match(r.pattern);
      if (match) {
        found = r;
        break;
      }
    }
    show(
      nav,
      navItems(session).map(([href, label]) =>
        h("li", {}, h("a", { href, "aria-current": hash.startsWith(href) ? "page" : false }, label)),
      ),
    );
    if (!found) {
      show(main, h("h1", {}, "Not found"), h("p", {}, "This page does not exist."));
      return;
    }
    document.title = `${found.title} · workroute`;
    show(main, h("p", { class: "muted" }, "Loading…"));
    try {
      const module = await import(`/console/pages/${found.page}.js`);
      main.replaceChildren();
      cleanup = await module.default(main, ctx, match.slice(1));
    } catch (e) {
      show(main, errorBox(e, "This page could not be shown"));
    }
  }

  window.addEventListener("hashchange", route);
  await route();
}

start();
