// #/record/<id>: a record's fields (labelled, from its object's describe) and its Work
// Guide, the work items the user may complete for it (pages/workguide.js).

import { ApiError, DATA, soqlString } from "/console/api.js";
import { WORKROUTE_EVENTS } from "/console/omniToolkit.js";
import { errorBox, h, show } from "/console/ui.js";
import { describe, formatValue, nameField, objectOf, recordTitle, useStyles } from "/console/pages/shared.js";
import { workGuide } from "/console/pages/workguide.js";

// Fields a person has no use for on a record page.
const HIDDEN = new Set(["IsDeleted", "SystemModstamp"]);
const UNSHOWN_TYPES = new Set(["base64", "address", "location"]);

/** Same record, whichever of the 15- and 18-character forms each id has. */
function sameId(a, b) {
  return Boolean(a && b) && String(a).slice(0, 15) === String(b).slice(0, 15);
}

/** The reference fields' "Relationship.NameField" paths, for the names of what they point at. */
async function referencePaths(ctx, fields) {
  const out = new Map();
  await Promise.all(
    fields
      .filter((f) => f.type === "reference" && f.relationshipName && f.referenceTo.length)
      .map(async (f) => {
        let target = "Name"; // every object a polymorphic field points at has one
        if (f.referenceTo.length === 1) {
          try {
            target = nameField(await describe(ctx.api, f.referenceTo[0]));
          } catch {
            return; // not describable: the id alone is shown
          }
        }
        out.set(f.name, [f.relationshipName, target]);
      }),
  );
  return out;
}

async function readRecord(ctx, obj, d, id, fields) {
  const paths = await referencePaths(ctx, fields);
  const select = [...fields.map((f) => f.name), ...[...paths.values()].map(([rel, name]) => `${rel}.${name}`)];
  try {
    const [row] = await ctx.query(`SELECT ${select.join(", ")} FROM ${obj.name} WHERE Id = ${soqlString(id)}`);
    return { row: row || null, paths };
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 400) throw e;
    // A field the query language refuses: the sObject read has every field, without names.
    const row = await ctx.api(`${DATA}/sobjects/${obj.name}/${id}`);
    return { row, paths: new Map() };
  }
}

function valueNode(field, row, paths) {
  const value = row[field.name];
  if (value === null || value === undefined || value === "") return h("span", { class: "muted" }, "None");
  if (field.type === "reference") {
    const path = paths.get(field.name);
    const related = path ? row[path[0]] : null;
    const label = related && related[path[1]] ? related[path[1]] : value;
    return h("a", { href: `#/record/${value}` }, String(label));
  }
  if (field.type === "url") {
    const safe = /^https?:\/\//i.test(String(value));
    return safe ? h("a", { href: String(value), rel: "noopener noreferrer", target: "_blank" }, String(value)) : String(value);
  }
  const text = formatValue(field, value);
  return field.type === "textarea" ? h("span", { class: "pre" }, text) : text;
}

export default async function render(root, ctx, params) {
  useStyles();
  const id = params[0];
  const obj = await objectOf(ctx.api, id);
  if (!obj) {
    show(root, h("h1", {}, "Record not found"), h("p", {}, `No object has records with ids like ${id}.`));
    return null;
  }
  const d = await describe(ctx.api, obj.name);
  const fields = d.fields.filter((f) => !HIDDEN.has(f.name) && !UNSHOWN_TYPES.has(f.type));

  const eyebrow = h("p", { class: "eyebrow" }, h("a", { href: `#/objects/${obj.name}` }, obj.labelPlural || obj.label));
  const title = h("h1", { class: "record-title" }, "…");
  const details = h("div", { class: "record-details" }, h("p", { class: "muted" }, "Loading…"));
  let disposed = false;
  let showEmpty = false;

  async function drawDetails() {
    let result;
    try {
      result = await readRecord(ctx, obj, d, id, fields);
    } catch (e) {
      if (!disposed) show(details, errorBox(e, "The record could not be read"));
      return;
    }
    if (disposed) return;
    const { row, paths } = result;
    if (!row) {
      title.textContent = "Record not found";
      show(details, h("p", {}, `There is no ${obj.label} with id ${id}, or it was deleted.`));
      return;
    }
    title.textContent = recordTitle(d, row);
    document.title = `${title.textContent} · ${obj.label} · workroute`;
    const blank = (f) => row[f.name] === null || row[f.name] === undefined || row[f.name] === "";
    const pairs = (fs) => fs.map((f) => [h("dt", {}, f.label), h("dd", { dataset: { field: f.name } }, valueNode(f, row, paths))]);
    const empty = fields.filter(blank);
    // Empty fields are one press away, so the fields with values are read first.
    const emptyList = h("dl", { class: "fields empty-fields", id: "empty-fields", hidden: !showEmpty }, pairs(empty));
    const toggle = h(
      "button",
      {
        type: "button",
        class: "link-button",
        "aria-expanded": showEmpty ? "true" : "false",
        "aria-controls": "empty-fields",
        onclick: () => {
          showEmpty = !showEmpty;
          emptyList.hidden = !showEmpty;
          toggle.setAttribute("aria-expanded", showEmpty ? "true" : "false");
          toggle.textContent = toggleText();
        },
      },
    );
    const toggleText = () => `${showEmpty ? "Hide" : "Show"} ${empty.length} empty field${empty.length === 1 ? "" : "s"}`;
    toggle.textContent = toggleText();
    show(
      details,
      h("dl", { class: "fields" }, pairs(fields.filter((f) => !blank(f)))),
      empty.length ? h("p", { class: "empty-toggle" }, toggle) : null,
      empty.length ? emptyList : null,
    );
  }

  const guide = workGuide(ctx, id, { onCompleted: () => drawDetails() });
  show(
    root,
    h("header", { class: "record-head" }, eyebrow, title),
    h(
      "div",
      { class: "record-layout" },
      h(
        "section",
        { class: "card work-guide-card", "aria-labelledby": "work-guide-heading" },
        h("h2", { id: "work-guide-heading" }, "Work Guide"),
        guide.element,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "details-heading" },
        h("h2", { id: "details-heading" }, "Details"),
        details,
      ),
    ),
  );

  const mine = (e) => e.detail && sameId(e.detail.relatedRecordId, id);
  ctx.listen(WORKROUTE_EVENTS.orchestrationWorkItemAssigned, (e) => {
    if (mine(e)) guide.schedule();
  });
  ctx.listen(WORKROUTE_EVENTS.orchestrationWorkItemClosed, (e) => {
    if (!mine(e)) return;
    guide.schedule();
    drawDetails(); // the run moved on and may have changed the record
  });
  await Promise.all([drawDetails(), guide.refresh()]);
  return () => {
    disposed = true;
  };
}
