// #/supervisor: Omni Supervisor (seed 003). Four views of what the supervisor's
// OmniSupervisorConfig shows — Agents, Queues Backlog, Skills Backlog, Assigned Work —
// read from /services/omni/v1/supervisor/*, and the actions it allows.
//
// The views are live: every event of the supervisor's stream (it carries the console
// events of their agents, and a backlogChanged signal when a request waits or stops
// waiting) refetches them, debounced, as does a restored connection; a slow fallback
// refresh catches whatever the stream does not say (a queue's members). Times count up
// here, each second, from the server's figures of the last fetch, so they follow the
// server's clock (which may be a manual test clock) rather than this machine's.

import { ApiError, DATA, soqlString } from "/console/api.js";
import { ANY_EVENT, CONNECTION_RESTORED } from "/console/omniToolkit.js";
import { duration, errorBox, h, show } from "/console/ui.js";

const STYLESHEET = "/console/pages/supervisor.css";
const SUP = "/services/omni/v1/supervisor";
const CHANGE_QUEUES = "AllAgents.ChangeQueues";
const DEBOUNCE_MS = 200;
const FALLBACK_MS = 10_000;
const TAB_KEY = "workroute.supervisor.tab";
const TABS = [
  { id: "agents", label: "Agents" },
  { id: "queues", label: "Queues Backlog" },
  { id: "skills", label: "Skills Backlog" },
  { id: "work", label: "Assigned Work" },
];

function useStyles() {
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href: STYLESHEET }));
}

export default async function render(root, ctx) {
  useStyles();
  return new SupervisorView(root, ctx).start();
}

/** Titles of work items (Case: "00001001 · Subject"), looked up once per id. */
class Titles {
  constructor(ctx) {
    this.ctx = ctx;
    this.known = new Map();
    this.objects = null;
    this.fields = new Map();
  }

  get(id) {
    return this.known.get(id) || id;
  }

  async load(ids) {
    const missing = [...new Set(ids)].filter((id) => id && !this.known.has(id));
    if (!missing.length) return;
    // An id is tried once: the views work with bare ids should a lookup fail.
    for (const id of missing) this.known.set(id, id);
    try {
      if (!this.objects) this.objects = (await this.ctx.api(`${DATA}/sobjects`)).sobjects;
      const byObject = new Map();
      for (const id of missing) {
        const o = this.objects.find((x) => x.keyPrefix === id.slice(0, 3));
        if (!o || !o.queryable) continue;
        if (!byObject.has(o.name)) byObject.set(o.name, []);
        byObject.get(o.name).push(id);
      }
      await Promise.all([...byObject].map(([name, some]) => this.loadObject(name, some)));
    } catch (e) {
      console.warn("work item titles", e);
    }
  }

  async loadObject(name, ids) {
    if (!this.fields.has(name)) {
      const d = await this.ctx.api(`${DATA}/sobjects/${encodeURIComponent(name)}/describe`);
      const main = d.fields.find((f) => f.nameField) || d.fields.find((f) => f.name === "Name");
      const sub = d.fields.find((f) => (f.name === "Subject" || f.name === "Title") && f !== main);
      this.fields.set(name, [main, sub].filter(Boolean).map((f) => f.name));
    }
    const fields = this.fields.get(name);
    if (!fields.length) return;
    const rows = await this.ctx.query(
      `SELECT Id, ${fields.join(", ")} FROM ${name} WHERE Id IN (${ids.map(soqlString).join(", ")})`,
    );
    for (const r of rows) {
      const title = fields.map((f) => r[f]).filter((v) => v !== null && v !== undefined && v !== "");
      if (title.length) this.known.set(r.Id, title.join(" · "));
    }
  }
}

class SupervisorView {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.titles = new Titles(ctx);
    this.data = null;
    this.fetchedAt = 0;
    this.channelStatuses = null; // presence statuses that carry channels ("online")
    this.drafts = new Map(); // form values that survive redraws, by focus key
    this.busy = new Set();
    this.closed = false;
    this.loading = false;
    this.again = false;
    this.timers = [];
    this.active = TABS.some((t) => t.id === sessionStorage.getItem(TAB_KEY))
      ? sessionStorage.getItem(TAB_KEY)
      : "agents";
  }

  async start() {
    show(this.root, h("h1", {}, "Omni Supervisor"), h("p", { class: "muted" }, "Loading…"));
    let data;
    try {
      [data, this.channelStatuses] = await Promise.all([this.fetchAll(), this.loadChannelStatuses()]);
    } catch (e) {
      this.fail(e);
      return null;
    }
    this.build();
    this.apply(data);
    const soon = () => this.schedule();
    this.ctx.listen(ANY_EVENT, soon);
    this.ctx.listen(CONNECTION_RESTORED, soon);
    this.timers.push(setInterval(() => this.refresh(), FALLBACK_MS));
    this.timers.push(setInterval(() => this.tick(), 1000));
    return () => this.stop();
  }

  stop() {
    this.closed = true;
    clearTimeout(this.debounce);
    for (const t of this.timers) clearInterval(t);
  }

  fail(e) {
    this.stop();
    const refused = e instanceof ApiError && e.status === 403;
    show(
      this.root,
      h("h1", {}, "Omni Supervisor"),
      refused
        ? h(
            "div",
            { class: "card sup-refusal", role: "alert" },
            h("p", { class: "error" }, "You cannot use Omni Supervisor."),
            h("p", {}, e.message),
          )
        : errorBox(e, "Omni Supervisor could not be shown"),
    );
  }

  async fetchAll() {
    const views = ["config", "agents", "queues", "skills", "work"];
    const [config, agents, queues, skills, work] = await Promise.all(views.map((v) => this.ctx.api(`${SUP}/${v}`)));
    await this.titles.load(work.works.map((w) => w.workItemId));
    return { config, agents: agents.agents, queues: queues.queues, skills: skills.skills, works: work.works };
  }

  async loadChannelStatuses() {
    try {
      const rows = await this.ctx.query("SELECT ServicePresenceStatusId FROM ServiceChannelStatus");
      return new Set(rows.map((r) => r.ServicePresenceStatusId));
    } catch {
      return null; // badges then tell only online from offline
    }
  }

  schedule() {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.refresh(), DEBOUNCE_MS);
  }

  async refresh() {
    if (this.closed) return;
    if (this.loading) {
      this.again = true; // one more read once this one is done, so no change is missed
      return;
    }
    this.loading = true;
    try {
      const data = await this.fetchAll();
      if (!this.closed) this.apply(data);
    } catch (e) {
      if (this.closed) return;
      if (e instanceof ApiError && e.status === 403) {
        this.fail(e);
        return;
      }
      this.stale.textContent = `Could not refresh (${e.message}); trying again.`;
    } finally {
      this.loading = false;
      if (this.again && !this.closed) {
        this.again = false;
        this.schedule();
      }
    }
  }

  // -- the page ---------------------------------------------------------------------------

  build() {
    this.meta = h("p", { class: "muted sup-meta" });
    this.stale = h("p", { class: "sup-stale", role: "status" });
    this.alertBox = h("div", { class: "sup-alert", role: "alert" });
    this.tabs = new Map();
    this.panels = new Map();
    const list = h("div", { class: "sup-tabs", role: "tablist", "aria-label": "Omni Supervisor views" });
    list.addEventListener("keydown", (e) => this.onTabKey(e));
    for (const t of TABS) {
      const tab = h(
        "button",
        {
          type: "button",
          role: "tab",
          id: `sup-tab-${t.id}`,
          "aria-controls": `sup-panel-${t.id}`,
          class: "sup-tab",
          onclick: () => this.select(t.id),
        },
        t.label,
      );
      const panel = h("div", {
        role: "tabpanel",
        id: `sup-panel-${t.id}`,
        "aria-labelledby": `sup-tab-${t.id}`,
        tabindex: "0",
        class: "sup-panel",
      });
      this.tabs.set(t.id, tab);
      this.panels.set(t.id, panel);
      list.append(tab);
    }
    show(this.root, h("h1", {}, "Omni Supervisor"), this.meta, this.alertBox, this.stale, list, ...this.panels.values());
    this.select(this.active, { focus: false });
  }

  select(id, { focus = true } = {}) {
    this.active = id;
    sessionStorage.setItem(TAB_KEY, id);
    for (const [tid, tab] of this.tabs) {
      const on = tid === id;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      this.panels.get(tid).hidden = !on;
    }
    if (focus) this.tabs.get(id).focus();
  }

  onTabKey(e) {
    const ids = TABS.map((t) => t.id);
    const at = ids.indexOf(this.active);
    const next = {
      ArrowRight: (at + 1) % ids.length,
      ArrowLeft: (at - 1 + ids.length) % ids.length,
      Home: 0,
      End: ids.length - 1,
    }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    this.select(ids[next]);
  }

  apply(data) {
    this.data = data;
    this.fetchedAt = performance.now();
    this.stale.textContent = "";
    const c = data.config;
    this.meta.textContent = `${c.masterLabel || c.developerName} · updated ${new Date().toLocaleTimeString()}`;
    this.draw();
  }

  /** Redraw the four panels, keeping the focus and whatever is being typed or chosen. */
  draw() {
    const focused = document.activeElement;
    const key = focused && focused.dataset ? focused.dataset.focusKey : null;
    const caret = focused && focused.tagName === "INPUT" ? focused.selectionStart : null;
    const inPanel = [...this.panels.values()].find((p) => p !== focused && p.contains(focused));
    show(this.panels.get("agents"), this.agentsView());
    show(this.panels.get("queues"), this.backlogView("queues"));
    show(this.panels.get("skills"), this.backlogView("skills"));
    show(this.panels.get("work"), this.workView());
    if (inPanel) {
      // The element had focus before the redraw: its new copy gets it, or else its panel.
      const again = key ? inPanel.querySelector(`[data-focus-key="${CSS.escape(key)}"]`) : null;
      (again || inPanel).focus();
      if (again && caret !== null) again.setSelectionRange(caret, caret);
    }
  }

  /** Count the shown times up by the seconds passed since the last fetch. */
  tick() {
    if (!this.data) return;
    const passed = (performance.now() - this.fetchedAt) / 1000;
    for (const el of this.root.querySelectorAll("[data-seconds]")) {
      el.textContent = duration(Number(el.dataset.seconds) + passed);
    }
  }

  since(seconds) {
    if (seconds === null || seconds === undefined) return h("span", { class: "muted" }, "—");
    const passed = (performance.now() - this.fetchedAt) / 1000;
    return h("span", { class: "sup-time", dataset: { seconds: String(seconds) } }, duration(seconds + passed));
  }

  // -- views ------------------------------------------------------------------------------

  agentsView() {
    const { agents, config } = this.data;
    if (!agents.length) {
      return h(
        "p",
        { class: "muted" },
        `${config.masterLabel || config.developerName} shows no agents: its agents are the members of the public groups it names.`,
      );
    }
    const canQueue = config.actions.includes(CHANGE_QUEUES) && this.data.queues.length > 0;
    const head = ["Agent", "Status", "Time in status", "Workload", "Queues", "Current work", "Flags"];
    if (canQueue) head.push("Change queues");
    return table(
      "Agents",
      head,
      agents.map((a) => {
        const flagged = a.work.filter((w) => w.flag && w.flag.isFlagged);
        return h(
          "tr",
          { dataset: { userId: a.userId } },
          h("th", { scope: "row" }, a.name || a.userId),
          h("td", { class: "sup-status" }, this.statusBadge(a)),
          h("td", { class: "sup-num" }, a.online ? this.since(a.timeInStatusSeconds) : this.since(null)),
          h("td", { class: "sup-workload" }, workload(a)),
          h("td", {}, this.queueNames(a.queueIds)),
          h("td", { class: "sup-current" }, a.work.length ? h("ul", { class: "sup-items" }, a.work.map((w) => h("li", {}, this.itemLink(w.workItemId), " ", workBadge(w)))) : none("No work")),
          h("td", { class: "sup-flags" }, flagged.length ? flagged.map((w) => this.flagBlock(w, true)) : none("None")),
          canQueue ? h("td", {}, this.queueChange(a)) : null,
        );
      }),
    );
  }

  backlogView(kind) {
    const rows = this.data[kind];
    const byQueue = kind === "queues";
    if (!rows.length) {
      return h("p", { class: "muted" }, byQueue ? "This configuration shows no queues." : "This configuration shows no skills.");
    }
    const head = [byQueue ? "Queue" : "Skill", "Waiting", "Longest wait", "Waiting by priority"];
    if (byQueue) head.push("Agents online");
    return table(
      byQueue ? "Queues Backlog" : "Skills Backlog",
      head,
      rows.map((r) =>
        h(
          "tr",
          { dataset: byQueue ? { queueId: r.queueId } : { skillId: r.skillId } },
          h("th", { scope: "row" }, byQueue ? r.name : r.developerName),
          h("td", { class: "sup-num sup-waiting" }, String(r.waiting)),
          h("td", { class: "sup-num sup-longest" }, this.since(r.waiting ? r.oldestWaitSeconds : null)),
          h(
            "td",
            {},
            r.byPriority.length
              ? h("ul", { class: "sup-items" }, r.byPriority.map((p) => h("li", {}, `Priority ${p.routingPriority}: ${p.waiting}`)))
              : none("None"),
          ),
          byQueue ? h("td", { class: "sup-num" }, String(r.agentsOnline)) : null,
        ),
      ),
    );
  }

  workView() {
    const { works, agents } = this.data;
    if (!works.length) return h("p", { class: "muted" }, "No work is assigned to your agents.");
    const names = new Map(agents.map((a) => [a.userId, a.name]));
    return table(
      "Assigned Work",
      ["Agent", "Work item", "Status", "Since assigned", "Since accepted", "Queue", "Flag"],
      works.map((w) =>
        h(
          "tr",
          { dataset: { workId: w.workId } },
          h("td", {}, names.get(w.userId) || w.userId),
          h("th", { scope: "row" }, this.itemLink(w.workItemId)),
          h("td", { class: "sup-work-status" }, workBadge(w)),
          h("td", { class: "sup-num sup-assigned" }, this.since(w.secondsSinceAssigned)),
          h("td", { class: "sup-num sup-accepted" }, this.since(w.secondsSinceAccepted)),
          h("td", {}, w.queueId ? this.queueNames([w.queueId]) : none("—")),
          h("td", { class: "sup-flags" }, w.flag && w.flag.isFlagged ? this.flagBlock(w, false) : this.raiseFlag(w)),
        ),
      ),
    );
  }

  statusBadge(a) {
    if (!a.online) return h("span", { class: "badge sup-offline" }, "Offline");
    const online = !this.channelStatuses || this.channelStatuses.has(a.statusId);
    return h("span", { class: `badge ${online ? "online" : "away"}` }, a.statusName || a.statusApiName || "Online");
  }

  queueNames(ids) {
    // In the order of the Queues Backlog (by name), whatever the order of the ids.
    if (!ids.length) return none("None");
    const known = this.data.queues.filter((q) => ids.includes(q.queueId));
    const unknown = ids.filter((id) => !known.some((q) => q.queueId === id));
    return [...known.map((q) => q.name), ...unknown].join(", ");
  }

  itemLink(id) {
    return h("a", { href: `#/record/${id}`, dataset: { focusKey: `item:${id}` } }, this.titles.get(id));
  }

  // -- actions ----------------------------------------------------------------------------

  flagBlock(w, inAgents) {
    const f = w.flag;
    const key = `lower:${inAgents ? "a" : "w"}:${w.workId}`;
    const who = f.roleUpdatedBy === "SUPERVISOR" ? "by a supervisor" : "by the agent";
    return h(
      "div",
      { class: "sup-flag", dataset: { workId: w.workId } },
      h("span", { class: "badge flag" }, "Flag raised"),
      " ",
      h("span", { class: "muted" }, who),
      inAgents ? h("span", { class: "sup-flag-item" }, " on ", this.titles.get(w.workItemId)) : null,
      f.message ? h("p", { class: "sup-flag-message" }, f.message) : null,
      h(
        "button",
        {
          type: "button",
          class: "sup-small",
          "aria-label": `Lower flag on ${this.titles.get(w.workItemId)}`,
          "aria-disabled": this.busy.has(w.workId) ? "true" : false,
          dataset: { focusKey: key },
          onclick: () => this.setFlag(w, false, null),
        },
        "Lower flag",
      ),
    );
  }

  raiseFlag(w) {
    const key = `msg:${w.workId}`;
    const id = `sup-flag-msg-${w.workId}`;
    const input = h("input", {
      id,
      type: "text",
      maxlength: "1000",
      value: this.drafts.get(key) || "",
      dataset: { focusKey: key },
      oninput: (e) => this.drafts.set(key, e.target.value),
    });
    const details = h(
      "details",
      {
        class: "sup-raise",
        open: this.drafts.get(`open:${w.workId}`) ? true : false,
        ontoggle: (e) => this.drafts.set(`open:${w.workId}`, e.target.open),
      },
      h("summary", { dataset: { focusKey: `open:${w.workId}` } }, "Raise flag…"),
      h(
        "form",
        {
          class: "sup-raise-form",
          onsubmit: (e) => {
            e.preventDefault();
            this.setFlag(w, true, input.value.trim() || null);
          },
        },
        h("label", { for: id }, "Message", h("span", { class: "visually-hidden" }, ` for ${this.titles.get(w.workItemId)}`)),
        input,
        h("button", { type: "submit", class: "sup-small", dataset: { focusKey: `raise:${w.workId}` } }, "Raise flag"),
      ),
    );
    return details;
  }

  queueChange(a) {
    const key = `queue:${a.userId}`;
    const id = `sup-queue-${a.userId}`;
    const queues = this.data.queues;
    const chosen =
      this.drafts.get(key) || (queues.find((q) => !a.queueIds.includes(q.queueId)) || queues[0]).queueId;
    const select = h(
      "select",
      { id, dataset: { focusKey: key }, onchange: (e) => this.drafts.set(key, e.target.value) },
      queues.map((q) => h("option", { value: q.queueId, selected: q.queueId === chosen }, q.name)),
    );
    const name = a.name || a.userId;
    const busy = this.busy.has(a.userId) ? "true" : false;
    return h(
      "div",
      { class: "sup-queue-change" },
      h("label", { for: id }, "Queue", h("span", { class: "visually-hidden" }, ` for ${name}`)),
      select,
      h(
        "span",
        { class: "sup-buttons" },
        h(
          "button",
          {
            type: "button",
            class: "sup-small",
            "aria-label": `Add ${name} to the queue`,
            "aria-disabled": busy,
            dataset: { focusKey: `add:${a.userId}` },
            onclick: () => this.changeQueue(a, select.value, true),
          },
          "Add",
        ),
        h(
          "button",
          {
            type: "button",
            class: "sup-small",
            "aria-label": `Remove ${name} from the queue`,
            "aria-disabled": busy,
            dataset: { focusKey: `remove:${a.userId}` },
            onclick: () => this.changeQueue(a, select.value, false),
          },
          "Remove",
        ),
      ),
    );
  }

  async setFlag(w, raise, message) {
    const title = this.titles.get(w.workItemId);
    await this.act(w.workId, raise ? `Raising the flag on ${title}` : `Lowering the flag on ${title}`, async () => {
      await this.ctx.api(`${SUP}/work/${encodeURIComponent(w.workId)}/flag`, {
        method: "POST",
        body: raise ? { isFlagged: true, message } : { isFlagged: false },
      });
      if (raise) this.drafts.delete(`msg:${w.workId}`);
      return raise ? `Flag raised on ${title}.` : `Flag lowered on ${title}.`;
    });
  }

  async changeQueue(a, queueId, add) {
    const name = a.name || a.userId;
    const queue = (this.data.queues.find((q) => q.queueId === queueId) || { name: queueId }).name;
    const member = a.queueIds.includes(queueId);
    if (add === member) {
      this.alert(add ? `${name} is already in ${queue}.` : `${name} is not in ${queue}.`);
      return;
    }
    await this.act(a.userId, add ? `Adding ${name} to ${queue}` : `Removing ${name} from ${queue}`, async () => {
      await this.ctx.api(`${SUP}/agents/${encodeURIComponent(a.userId)}/queues`, {
        method: "POST",
        body: add ? { add: [queueId] } : { remove: [queueId] },
      });
      this.drafts.delete(`queue:${a.userId}`);
      return add ? `${name} added to ${queue}.` : `${name} removed from ${queue}.`;
    });
  }

  /** Run one action at a time per agent or work; a refusal is said in the alert box. */
  async act(key, what, fn) {
    if (this.busy.has(key)) return;
    this.busy.add(key);
    try {
      const done = await fn();
      show(this.alertBox);
      this.ctx.announce(done);
    } catch (e) {
      this.alert(`${what} failed: ${e.message}`);
    } finally {
      this.busy.delete(key);
    }
    await this.refresh();
  }

  alert(message) {
    show(
      this.alertBox,
      h(
        "div",
        { class: "sup-alert-body" },
        h("p", { class: "error" }, message),
        h("button", { type: "button", class: "sup-small", onclick: () => show(this.alertBox) }, "Dismiss"),
      ),
    );
  }
}

// -- small pieces --------------------------------------------------------------------------

// Below 600px each row is drawn as a card (supervisor.css), which takes the table's
// layout away; the explicit roles keep it a table to assistive technology, and each
// cell's data-label names its column on the card.
function table(caption, head, rows) {
  const id = `sup-cap-${caption.toLowerCase().replace(/\W+/g, "-")}`;
  for (const row of rows) {
    row.setAttribute("role", "row");
    [...row.children].forEach((cell, i) => {
      cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
      cell.dataset.label = head[i];
    });
  }
  return h(
    "div",
    { class: "table-wrap sup-wrap", role: "region", "aria-labelledby": id, tabindex: "0", dataset: { focusKey: id } },
    h(
      "table",
      { class: "sup-table", role: "table", "aria-labelledby": id },
      h("caption", { id, class: "visually-hidden" }, caption),
      h(
        "thead",
        { role: "rowgroup" },
        h("tr", { role: "row" }, head.map((t) => h("th", { scope: "col", role: "columnheader" }, t))),
      ),
      h("tbody", { role: "rowgroup" }, rows),
    ),
  );
}

function none(text) {
  return h("span", { class: "muted" }, text);
}

function workBadge(w) {
  return h("span", { class: `badge sup-work-${String(w.status).toLowerCase()}` }, w.status);
}

function workload(a) {
  const capacity = a.configuredCapacity;
  if (!a.online) return h("span", { class: "muted" }, `Offline · capacity ${capacity}`);
  const name = a.name || a.userId;
  return h(
    "span",
    { class: "sup-meter" },
    h("meter", {
      min: "0",
      max: String(capacity || 1),
      value: String(a.workload || 0),
      high: String((capacity || 1) * 0.8),
      optimum: "0",
      "aria-label": `Workload of ${name}`,
      "aria-valuetext": `${a.workload || 0} of ${capacity}`,
    }),
    h("span", { class: "sup-meter-text" }, `${a.workload || 0} / ${capacity}`),
  );
}
