// #/todo: the user's To Do list, the open work items assigned to them, their groups
// and their queues (GET /services/workroute/v1/workItems), oldest first. It follows
// the orchestration work item events, so work appears and goes as it is assigned and
// completed.

import { soqlString } from "/console/api.js";
import { WORKROUTE_EVENTS } from "/console/omniToolkit.js";
import { errorBox, h, show } from "/console/ui.js";
import { formatDateTime, recordTitles, useStyles } from "/console/pages/shared.js";

const V1 = "/services/workroute/v1";

async function load(ctx) {
  const { workItems } = await ctx.api(`${V1}/workItems`);
  if (!workItems.length) return { items: [], rows: new Map(), titles: new Map() };
  const ids = workItems.map((i) => soqlString(i.id)).join(", ");
  // Names for the list: who it is assigned to, its stage, its record. The list works
  // without them should a read fail.
  const [rows, titles] = await Promise.all([
    ctx
      .query(
        "SELECT Id, Assignee.Name, StepInstance.Label, StepInstance.StageInstance.Label, " +
          `OrchestrationInstance.OrchestrationLabel FROM FlowOrchestrationWorkItem WHERE Id IN (${ids})`,
      )
      .then((rs) => new Map(rs.map((r) => [r.Id, r])))
      .catch(() => new Map()),
    recordTitles(
      ctx.api,
      ctx.query,
      workItems.map((i) => i.relatedRecordId),
    ).catch(() => new Map()),
  ]);
  return { items: workItems, rows, titles };
}

function itemNode(item, row, related) {
  const titleId = `todo-${item.id}`;
  const stage = row && row.StepInstance && row.StepInstance.StageInstance && row.StepInstance.StageInstance.Label;
  const orchestration = (row && row.OrchestrationInstance && row.OrchestrationInstance.OrchestrationLabel) || item.orchestrationName;
  const assignee = row && row.Assignee && row.Assignee.Name;
  const recordText = related ? `${related.object.label} ${related.title}` : item.relatedRecordId;
  const step = [orchestration, stage].filter(Boolean).join(" › ");
  return h(
    "li",
    { class: "todo-item", dataset: { workItemId: item.id } },
    h(
      "div",
      { class: "todo-main" },
      h("h2", { class: "todo-title", id: titleId }, item.label || "Work item"),
      h(
        "dl",
        { class: "todo-meta" },
        h("div", {}, h("dt", {}, "Record"), h("dd", {}, item.relatedRecordId ? h("a", { href: `#/record/${item.relatedRecordId}` }, recordText) : "—")),
        step ? h("div", {}, h("dt", {}, "Step"), h("dd", {}, step)) : null,
        assignee ? h("div", {}, h("dt", {}, "Assigned to"), h("dd", {}, assignee)) : null,
        h("div", {}, h("dt", {}, "Assigned"), h("dd", {}, h("time", { datetime: item.assignedDate || "" }, formatDateTime(item.assignedDate)))),
      ),
      item.description ? h("p", { class: "todo-description" }, item.description) : null,
    ),
    item.relatedRecordId
      ? h(
          "a",
          { class: "button primary todo-open", href: `#/record/${item.relatedRecordId}` },
          "Open",
          h("span", { class: "visually-hidden" }, ` ${item.label || "work item"} for ${recordText}`),
        )
      : null,
  );
}

export default async function render(root, ctx) {
  useStyles();
  const list = h("div", { class: "todo-list", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading…"));
  const count = h("p", { class: "muted todo-count" });
  const refreshButton = h("button", { type: "button", onclick: () => refresh(true) }, "Refresh");
  show(
    root,
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "To Do"),
      h("div", { class: "actions" }, refreshButton),
    ),
    h("p", { class: "muted" }, "Open work items assigned to you, your groups and your queues. Open one to complete it in the record's Work Guide."),
    count,
    list,
  );

  let disposed = false;
  let running = null;
  let again = false;
  let known = null;

  async function draw(manual) {
    list.setAttribute("aria-busy", "true");
    let data;
    try {
      data = await load(ctx);
    } catch (e) {
      if (!disposed) show(list, errorBox(e, "The To Do list could not be loaded"));
      return;
    } finally {
      list.setAttribute("aria-busy", "false");
    }
    if (disposed) return;
    const { items, rows, titles } = data;
    count.textContent = items.length === 1 ? "1 open work item" : `${items.length} open work items`;
    show(
      list,
      items.length
        ? h("ul", { class: "list todo" }, items.map((i) => itemNode(i, rows.get(i.id), titles.get(i.relatedRecordId))))
        : h("p", { class: "todo-empty" }, "Nothing to do. New work items appear here as they are assigned."),
    );
    const ids = new Set(items.map((i) => i.id));
    if (known && !manual) {
      const added = items.filter((i) => !known.has(i.id)).length;
      const gone = [...known].filter((i) => !ids.has(i)).length;
      if (added || gone) {
        const said = [added ? `${added} new` : "", gone ? `${gone} done` : ""].filter(Boolean).join(", ");
        ctx.announce(`To Do updated: ${said}.`);
      }
    }
    known = ids;
  }

  function refresh(manual = false) {
    if (running) {
      again = true;
      return running;
    }
    running = draw(manual).finally(() => {
      running = null;
      if (again && !disposed) {
        again = false;
        refresh();
      }
    });
    return running;
  }

  let timer = null;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => refresh(), 150);
  };
  ctx.listen(WORKROUTE_EVENTS.orchestrationWorkItemAssigned, soon);
  ctx.listen(WORKROUTE_EVENTS.orchestrationWorkItemClosed, soon);
  await refresh();
  return () => {
    disposed = true;
    clearTimeout(timer);
  };
}
