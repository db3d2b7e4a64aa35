// #/objects: the objects the user can query (describe global); #/objects/<Name>: that
// object's 50 most recent records, their name field and a few more, each linking to
// its record page.

import { errorBox, h, show } from "/console/ui.js";
import { describe, describeGlobal, formatValue, nameField, useStyles } from "/console/pages/shared.js";

// Fields worth a column when an object has them, in this order.
const PREFERRED = [
  "Subject",
  "Status",
  "Priority",
  "Type",
  "Origin",
  "Industry",
  "BillingCity",
  "Email",
  "Phone",
  "Title",
  "StageName",
  "Amount",
  "CloseDate",
  "Label",
  "Username",
  "IsActive",
];
const LISTABLE = new Set(["string", "picklist", "email", "phone", "boolean", "date", "datetime", "currency", "double", "int", "percent", "url"]);
const COLUMNS = 4;
const SYSTEM = new Set(["Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp"]);

function columnsOf(d) {
  const name = nameField(d);
  const byName = new Map(d.fields.map((f) => [f.name, f]));
  const cols = [];
  for (const n of PREFERRED) {
    const f = byName.get(n);
    if (f && n !== name && LISTABLE.has(f.type) && cols.length < COLUMNS) cols.push(f);
  }
  // Then custom fields, then any other field a person reads.
  for (const pass of [(f) => f.custom, (f) => !SYSTEM.has(f.name)]) {
    for (const f of d.fields) {
      if (cols.length >= COLUMNS) break;
      if (f.name !== name && LISTABLE.has(f.type) && pass(f) && !cols.includes(f)) cols.push(f);
    }
  }
  return { name: byName.get(name) || { name, label: name, type: "string" }, cols };
}

async function objectList(root, ctx) {
  const objects = (await describeGlobal(ctx.api))
    .filter((o) => o.queryable && !o.deprecatedAndHidden)
    .sort((a, b) => (a.labelPlural || a.label).localeCompare(b.labelPlural || b.label));
  const list = h("ul", { class: "object-list" });
  const status = h("p", { class: "muted", role: "status" });
  const filter = h("input", { id: "object-filter", type: "search", autocomplete: "off", "aria-controls": "object-list" });
  list.id = "object-list";

  function draw() {
    const q = filter.value.trim().toLowerCase();
    const shown = objects.filter((o) => !q || `${o.label} ${o.labelPlural} ${o.name}`.toLowerCase().includes(q));
    show(
      list,
      shown.map((o) =>
        h(
          "li",
          {},
          h("a", { href: `#/objects/${o.name}` }, o.labelPlural || o.label),
          h("span", { class: "muted api-name" }, o.name),
        ),
      ),
    );
    status.textContent = q ? `${shown.length} of ${objects.length} objects` : `${objects.length} objects`;
  }
  filter.addEventListener("input", draw);
  show(
    root,
    h("h1", {}, "Records"),
    h("p", { class: "muted" }, "Choose an object to see its most recent records."),
    h("div", { class: "field filter" }, h("label", { for: "object-filter" }, "Filter objects"), filter),
    status,
    list,
  );
  draw();
  return null;
}

async function recordTable(root, ctx, name) {
  const objects = await describeGlobal(ctx.api);
  const obj = objects.find((o) => o.name.toLowerCase() === name.toLowerCase());
  const back = h("p", { class: "eyebrow" }, h("a", { href: "#/objects" }, "All objects"));
  if (!obj) {
    show(root, back, h("h1", {}, "Object not found"), h("p", {}, `There is no object named ${name}.`));
    return null;
  }
  const plural = obj.labelPlural || obj.label;
  document.title = `${plural} · workroute`;
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  show(root, back, h("h1", {}, plural), body);
  try {
    const d = await describe(ctx.api, obj.name);
    const { name: nf, cols } = columnsOf(d);
    const order = d.fields.some((f) => f.name === "CreatedDate") ? " ORDER BY CreatedDate DESC" : "";
    const soql = `SELECT Id, ${[nf, ...cols].map((f) => f.name).filter((n) => n !== "Id").join(", ") || "Id"} FROM ${obj.name}${order} LIMIT 50`;
    const rows = await ctx.query(soql);
    if (!rows.length) {
      show(body, h("p", {}, `No ${plural.toLowerCase()} yet.`));
      return null;
    }
    show(
      body,
      h("p", { class: "muted" }, rows.length === 50 ? "The 50 most recent." : `${rows.length} records, most recent first.`),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "records" },
          h("caption", { class: "visually-hidden" }, `${plural}, most recent first`),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, nf.label),
              cols.map((f, i) => h("th", { scope: "col", class: i >= 2 ? "hide-narrow" : null }, f.label)),
            ),
          ),
          h(
            "tbody",
            {},
            rows.map((r) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, h("a", { href: `#/record/${r.Id}` }, String(r[nf.name] ?? r.Id))),
                cols.map((f, i) => h("td", { class: i >= 2 ? "hide-narrow" : null }, formatValue(f, r[f.name]))),
              ),
            ),
          ),
        ),
      ),
    );
  } catch (e) {
    show(body, errorBox(e, `The ${plural.toLowerCase()} could not be read`));
  }
  return null;
}

export default async function render(root, ctx, params) {
  useStyles();
  const name = params && params[0];
  return name ? recordTable(root, ctx, name) : objectList(root, ctx);
}
