// The Work Guide of a record (seed 000, "Flow Orchestration Work Items"): the open work
// items for the record the user may complete, each with its screen flow as a form,
// and the record's completed work.
//
// "An assigned work item is completed by the first user to complete the screen flow.
// If two users execute the screen flow simultaneously, the user who completes the
// flow second receives an error." That error (409 WORK_ITEM_COMPLETED) replaces the
// form with who completed it. When the item closes while the user is filling in its
// form (the orchestrationWorkItemClosed event), the form stays with a notice, so
// nothing typed vanishes under the user's hands; an untouched form is replaced.

import { ApiError, soqlString } from "/console/api.js";
import { errorBox, h, show } from "/console/ui.js";
import { fieldErrors, screenForm } from "/console/pages/form.js";
import { formatDateTime, idPart } from "/console/pages/shared.js";

const V1 = "/services/workroute/v1";

const ITEM_FIELDS =
  "Id, Label, Status, AssigneeId, Assignee.Name, CompletedById, CompletedBy.Name, CompletedDate, " +
  "AssignedDate, StepInstance.StageInstance.Label, OrchestrationInstance.OrchestrationLabel";

/** Work item rows by SOQL (never a 404, whatever became of the item). */
async function itemRows(ctx, where) {
  return ctx.query(`SELECT ${ITEM_FIELDS} FROM FlowOrchestrationWorkItem WHERE ${where}`);
}

function completedBy(row) {
  return (row && row.CompletedBy && row.CompletedBy.Name) || "another user";
}

/**
 * The Work Guide of ``recordId``: { element, refresh() }. ``onCompleted`` is called
 * after the user completed a work item (the record may change as the run moves on).
 */
export function workGuide(ctx, recordId, { onCompleted = () => {} } = {}) {
  const cards = new Map(); // work item id -> card
  const list = h("div", { class: "wg-items" });
  const done = h("div", { class: "wg-done" });
  const element = h("div", { class: "work-guide" }, list, done);
  let refreshing = null;
  let again = false;

  function meta(row, item) {
    const parts = [];
    const stage = row && row.StepInstance && row.StepInstance.StageInstance && row.StepInstance.StageInstance.Label;
    const orch = row && row.OrchestrationInstance && row.OrchestrationInstance.OrchestrationLabel;
    if (orch || item.orchestrationName) parts.push(orch || item.orchestrationName);
    if (stage) parts.push(`stage ${stage}`);
    if (row && row.Assignee && row.Assignee.Name) parts.push(`assigned to ${row.Assignee.Name}`);
    if (item.assignedDate) parts.push(`on ${formatDateTime(item.assignedDate)}`);
    return parts.join(" · ");
  }

  function newCard(item, row) {
    const titleId = `wi-${idPart(item.id)}-title`;
    const body = h("div", { class: "wg-body" }, h("p", { class: "muted" }, "Loading the form…"));
    const notice = h("div", { class: "wg-notice", hidden: true });
    const el = h(
      "article",
      { class: "wg-card", "aria-labelledby": titleId, dataset: { workItemId: item.id } },
      h("h3", { id: titleId }, item.label || "Work item"),
      h("p", { class: "muted wg-meta" }, meta(row, item)),
      notice,
      body,
    );
    const card = { item, el, body, notice, form: null, state: "loading" };
    cards.set(item.id, card);
    loadForm(card);
    return card;
  }

  async function loadForm(card) {
    try {
      const form = await ctx.api(`${V1}/workItems/${card.item.id}/screen`);
      if (card.state !== "loading") return;
      card.form = screenForm(form, {
        prefix: `wi-${idPart(card.item.id)}`,
        onSubmit: (values) => submit(card, values),
      });
      card.state = "open";
      show(card.body, card.form.element);
    } catch (e) {
      if (card.state !== "loading") return;
      card.state = "failed";
      show(card.body, errorBox(e, "The form could not be loaded"));
    }
  }

  async function submit(card, values) {
    if (card.state !== "open") return;
    card.form.setBusy(true);
    try {
      await ctx.api(`${V1}/workItems/${card.item.id}/complete`, { method: "POST", body: { values } });
      card.state = "done";
      card.notice.hidden = true;
      const msg = h(
        "div",
        { class: "wg-result ok", tabindex: "-1" },
        h("p", { class: "wg-result-title" }, "Completed."),
        h("p", {}, `You completed “${card.item.label || "this work item"}”. The orchestration moves on to its next step.`),
      );
      show(card.body, msg);
      msg.focus();
      ctx.announce(`Work item ${card.item.label || ""} completed.`);
      onCompleted(card.item);
      schedule();
    } catch (e) {
      card.form.setBusy(false);
      if (e instanceof ApiError && e.status === 409 && e.errorCode === "WORK_ITEM_COMPLETED") {
        const [row] = await itemRows(ctx, `Id = ${soqlString(card.item.id)}`).catch(() => []);
        showCompleted(card, row, e.message, true);
      } else if (e instanceof ApiError && e.status === 400 && e.fields && e.fields.length) {
        card.form.showErrors(fieldErrors(e), e.message);
      } else {
        card.form.showErrors(new Map(), e instanceof ApiError ? e.message : String(e));
      }
    }
  }

  /** Replace the form of ``card`` by who completed its work item. */
  function showCompleted(card, row, serverMessage, focus) {
    card.state = "completed";
    card.notice.hidden = true;
    const when = row && row.CompletedDate ? ` on ${formatDateTime(row.CompletedDate)}` : "";
    const box = h(
      "div",
      { class: "wg-result warn", role: focus ? "alert" : null, tabindex: "-1" },
      h("p", { class: "wg-result-title" }, `Completed by ${completedBy(row)}${when}`),
      h("p", {}, serverMessage || "This work item was already completed; there is nothing left to do here."),
    );
    show(card.body, box);
    if (focus) box.focus();
  }

  /** The item of ``card`` is no longer open for this user: say why. */
  async function closed(card) {
    const [row] = await itemRows(ctx, `Id = ${soqlString(card.item.id)}`).catch(() => []);
    if (card.state !== "open" && card.state !== "loading" && card.state !== "failed") return;
    const byOther = row && row.CompletedById && row.CompletedById !== ctx.session.userId;
    const what = byOther
      ? `${completedBy(row)} completed this work item.`
      : "This work item is no longer open for you (it was reassigned, or its stage ended).";
    if (card.state === "open" && card.form.dirty) {
      // Keep what the user typed; a submission will be refused with the reason.
      show(card.notice, h("p", {}, what, " What you typed stays here until you leave; submitting it will be refused."));
      card.notice.hidden = false;
      return;
    }
    if (byOther) showCompleted(card, row, null, false);
    else {
      card.state = "closed";
      show(card.body, h("p", { class: "muted" }, what));
    }
  }

  async function load() {
    const [open, completed] = await Promise.all([
      ctx.api(`${V1}/records/${recordId}/workItems`).then((r) => r.workItems),
      itemRows(
        ctx,
        `RelatedRecordId = ${soqlString(recordId)} AND CompletedById != null ORDER BY CompletedDate DESC LIMIT 20`,
      ).catch(() => []),
    ]);
    const openIds = new Set(open.map((i) => i.id));
    const rows = open.length
      ? await itemRows(ctx, `Id IN (${open.map((i) => soqlString(i.id)).join(", ")})`).catch(() => [])
      : [];
    const rowOf = new Map(rows.map((r) => [r.Id, r]));
    for (const item of open) if (!cards.has(item.id)) newCard(item, rowOf.get(item.id));
    await Promise.all([...cards.values()].filter((c) => !openIds.has(c.item.id)).map(closed));

    const shown = [...cards.values()];
    if (!shown.length) {
      show(list, h("p", { class: "wg-empty" }, "No work for you on this record."));
    } else {
      show(list, shown.map((c) => c.el));
    }
    const history = completed.filter((r) => !cards.has(r.Id)); // a card says it already
    show(
      done,
      history.length
        ? [
            h("h3", { class: "wg-done-title" }, "Completed work"),
            h(
              "ul",
              { class: "wg-history" },
              history.map((r) =>
                h(
                  "li",
                  {},
                  h("span", { class: "wg-history-label" }, r.Label || "Work item"),
                  " — ",
                  `Completed by ${completedBy(r)}`,
                  r.CompletedDate ? ` on ${formatDateTime(r.CompletedDate)}` : "",
                  r.Status !== "Completed" ? h("span", { class: "badge" }, "being processed") : null,
                ),
              ),
            ),
          ]
        : [],
    );
  }

  /** Load again (calls while a load runs are folded into one more load). */
  function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = load()
      .catch((e) => {
        show(list, errorBox(e, "The Work Guide could not be loaded"));
      })
      .finally(() => {
        refreshing = null;
        if (again) {
          again = false;
          refresh();
        }
      });
    return refreshing;
  }

  let timer = null;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  }

  return { element, refresh, schedule };
}
