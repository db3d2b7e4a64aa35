// #/admin: the automation queues an administrator looks after (Modify All Data): the
// time-based workflow queue (GET/DELETE /services/workroute/v1/workflow/queue) and the
// outbox of workflow emails, work item notifications and outbound messages (GET
// /outbox, POST /outbox/{id}/retry, DELETE /outbox/{id}).

import { ApiError } from "/console/api.js";
import { errorBox, h, show } from "/console/ui.js";
import { formatDateTime, useStyles } from "/console/pages/shared.js";

const V1 = "/services/workroute/v1";
const STATUSES = ["pending", "delivered", "dead", "failed"];

function refusal(message) {
  return h(
    "div",
    { class: "card refusal", role: "alert" },
    h("h2", {}, "Not available to you"),
    h("p", {}, "The automation queues need the Modify All Data permission. Ask an administrator if you need to see them."),
    message ? h("p", { class: "muted" }, `The server said: ${message}`) : null,
  );
}

function recordLink(id) {
  return id ? h("a", { href: `#/record/${id}` }, id) : h("span", { class: "muted" }, "—");
}

/**
 * An action button that asks before it acts: the first press shows "Yes, delete" and
 * "Cancel" in its place (no browser dialog), focus moves to the confirmation.
 */
function confirmButton(label, name, question, act) {
  const cell = h("span", { class: "confirm" });
  const ask = () => {
    const yes = h("button", { type: "button", class: "danger", onclick: act }, `Yes, ${label.toLowerCase()}`);
    const no = h(
      "button",
      {
        type: "button",
        onclick: () => {
          draw();
          cell.querySelector("button").focus();
        },
      },
      "Cancel",
    );
    show(cell, h("span", { class: "confirm-question" }, question), yes, no);
    yes.focus();
  };
  const draw = () =>
    show(cell, h("button", { type: "button", class: "danger", onclick: ask }, label, h("span", { class: "visually-hidden" }, ` ${name}`)));
  draw();
  return cell;
}

function table(caption, headers, rows, empty) {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "queue" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers.map(([text, cls]) => h("th", { scope: "col", class: cls || null }, text)))),
      h("tbody", {}, rows),
    ),
  );
}

function summaryOf(item) {
  const p = item.payload || {};
  if (p.subject) return p.subject; // an email
  if (p.action) return p.rule ? `${p.action} (rule ${p.rule})` : p.action; // an outbound message
  if (p.url) return p.url; // a flow's webhook
  return item.groupKey || "";
}

function recipientsOf(item) {
  const p = item.payload || {};
  const to = [...(p.to || []), ...(p.cc || [])];
  return to.length ? to.join(", ") : "";
}

export default async function render(root, ctx) {
  useStyles();
  show(root, h("h1", {}, "Automation queues"));
  if (!ctx.session.isAdmin) {
    root.append(refusal(null));
    return null;
  }
  const status = h("p", { class: "visually-hidden", role: "status" });
  const workflowBody = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const outboxBody = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const statusFilter = h(
    "select",
    { id: "outbox-status", onchange: () => drawOutbox() },
    h("option", { value: "" }, "All"),
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  root.append(
    h("p", { class: "muted" }, "Time-based workflow actions waiting for their time, and messages waiting to be delivered or kept after a failure."),
    status,
    h(
      "section",
      { class: "card", "aria-labelledby": "workflow-queue-heading" },
      h(
        "div",
        { class: "section-head" },
        h("h2", { id: "workflow-queue-heading" }, "Time-based workflow queue"),
        h("button", { type: "button", onclick: () => drawWorkflow() }, "Refresh", h("span", { class: "visually-hidden" }, " the workflow queue")),
      ),
      workflowBody,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "outbox-heading" },
      h(
        "div",
        { class: "section-head" },
        h("h2", { id: "outbox-heading" }, "Outbound messages and email (outbox)"),
        h("div", { class: "inline-field" }, h("label", { for: "outbox-status" }, "Status"), statusFilter),
        h("button", { type: "button", onclick: () => drawOutbox() }, "Refresh", h("span", { class: "visually-hidden" }, " the outbox")),
      ),
      outboxBody,
    ),
  );

  const say = (message) => {
    status.textContent = message;
    ctx.announce(message);
  };

  async function guarded(body, fn) {
    try {
      await fn();
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) show(root, h("h1", {}, "Automation queues"), refusal(e.message));
      else show(body, errorBox(e));
    }
  }

  async function drawWorkflow() {
    await guarded(workflowBody, async () => {
      const { records } = await ctx.api(`${V1}/workflow/queue`);
      const rows = records.map((t) => {
        const p = t.payload || {};
        const name = `${p.rule || t.key} for ${t.recordId || "no record"}`;
        return h(
          "tr",
          { dataset: { timerId: String(t.id) } },
          h("td", {}, p.rule || t.key),
          h("td", { class: "hide-narrow" }, t.objectName || p.object || ""),
          h("td", {}, recordLink(t.recordId)),
          h("td", {}, h("time", { datetime: t.dueAt }, formatDateTime(t.dueAt))),
          h("td", { class: "hide-narrow" }, formatDateTime(t.createdAt)),
          h("td", {}, t.failed ? h("span", { class: "badge flag" }, `Failed: ${t.failed}`) : h("span", { class: "badge" }, "Waiting")),
          h(
            "td",
            { class: "row-actions" },
            confirmButton("Delete", name, "Delete this queued action?", async () => {
              await guarded(workflowBody, async () => {
                await ctx.api(`${V1}/workflow/queue/${t.id}`, { method: "DELETE" });
                say(`Deleted the queued action ${name}.`);
                await drawWorkflow();
              });
            }),
          ),
        );
      });
      show(
        workflowBody,
        h("p", { class: "muted" }, records.length === 1 ? "1 queued action" : `${records.length} queued actions`),
        table(
          "Time-based workflow queue",
          [["Rule"], ["Object", "hide-narrow"], ["Record"], ["Due"], ["Queued", "hide-narrow"], ["State"], ["Actions"]],
          rows,
          "No time-based workflow action is waiting.",
        ),
      );
    });
  }

  async function drawOutbox() {
    await guarded(outboxBody, async () => {
      const wanted = statusFilter.value;
      const { records } = await ctx.api(`${V1}/outbox${wanted ? `?status=${encodeURIComponent(wanted)}` : ""}`);
      const rows = records.map((item) => {
        const name = `${item.kind} ${item.id}`;
        const actions = [];
        if (item.status !== "delivered") {
          actions.push(
            h(
              "button",
              {
                type: "button",
                onclick: async () => {
                  await guarded(outboxBody, async () => {
                    await ctx.api(`${V1}/outbox/${item.id}/retry`, { method: "POST" });
                    say(`The ${name} will be sent again.`);
                    await drawOutbox();
                  });
                },
              },
              "Retry",
              h("span", { class: "visually-hidden" }, ` ${name}`),
            ),
          );
        }
        actions.push(
          confirmButton("Delete", name, "Delete this message?", async () => {
            await guarded(outboxBody, async () => {
              await ctx.api(`${V1}/outbox/${item.id}`, { method: "DELETE" });
              say(`Deleted ${name}.`);
              await drawOutbox();
            });
          }),
        );
        const badge = { delivered: "online", pending: "away", dead: "flag", failed: "flag" }[item.status] || "";
        return h(
          "tr",
          { dataset: { outboxId: String(item.id) } },
          h("td", {}, String(item.id)),
          h("td", {}, item.kind),
          h("td", {}, h("span", { class: `badge ${badge}` }, item.status)),
          h("td", { class: "summary-cell" }, summaryOf(item), recipientsOf(item) ? h("div", { class: "muted" }, `To ${recipientsOf(item)}`) : null),
          h("td", { class: "hide-narrow" }, recordLink(item.recordId)),
          h("td", { class: "hide-narrow" }, String(item.attempts)),
          h("td", { class: "hide-narrow" }, item.nextAttemptAt ? formatDateTime(item.nextAttemptAt) : item.deliveredAt ? `Delivered ${formatDateTime(item.deliveredAt)}` : "—"),
          h("td", { class: "hide-narrow error-cell" }, item.lastError || ""),
          h("td", { class: "row-actions" }, actions),
        );
      });
      show(
        outboxBody,
        h("p", { class: "muted" }, records.length === 1 ? "1 message" : `${records.length} messages`),
        table(
          "Outbox",
          [
            ["#"],
            ["Kind"],
            ["Status"],
            ["Message"],
            ["Record", "hide-narrow"],
            ["Attempts", "hide-narrow"],
            ["Next attempt", "hide-narrow"],
            ["Last error", "hide-narrow"],
            ["Actions"],
          ],
          rows,
          wanted ? `No ${wanted} message.` : "The outbox is empty.",
        ),
      );
    });
  }

  await Promise.all([drawWorkflow(), drawOutbox()]);
  return null;
}
