// What the To Do, record, records and admin pages share: their stylesheet, the
// describe calls (cached for the page's life: the schema changes only on a deploy),
// record titles, field values as text, and flow rich text drawn without innerHTML.

import { DATA, soqlString } from "/console/api.js";
import { h } from "/console/ui.js";

const STYLESHEET = "/console/pages/workguide.css";

/** Add the pages' stylesheet to the document, once. */
export function useStyles() {
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href: STYLESHEET }));
}

// -- describe ---------------------------------------------------------------------------

const describes = new Map();
let globalDescribe = null;

/** The describe global's objects (a promise, made once). */
export function describeGlobal(api) {
  if (!globalDescribe) {
    globalDescribe = api(`${DATA}/sobjects`).then((d) => d.sobjects);
    globalDescribe.catch(() => {
      globalDescribe = null; // a failed call is tried again by the next page
    });
  }
  return globalDescribe;
}

/** The describe of one object (a promise, made once per object). */
export function describe(api, name) {
  const key = name.toLowerCase();
  if (!describes.has(key)) {
    const p = api(`${DATA}/sobjects/${encodeURIComponent(name)}/describe`);
    describes.set(key, p);
    p.catch(() => describes.delete(key));
  }
  return describes.get(key);
}

/** The object a record id belongs to, by its key prefix (null when none matches). */
export async function objectOf(api, id) {
  const prefix = String(id).slice(0, 3);
  const objects = await describeGlobal(api);
  return objects.find((o) => o.keyPrefix === prefix) || null;
}

/** The name field of a describe (Name, CaseNumber, Subject...). */
export function nameField(d) {
  const f = d.fields.find((x) => x.nameField) || d.fields.find((x) => x.name === "Name");
  return f ? f.name : "Id";
}

// A second field that says what a record is about, when the name is only a number.
const SUBTITLE_FIELDS = ["Subject", "Title"];

function subtitleField(d) {
  const name = nameField(d);
  const f = d.fields.find((x) => SUBTITLE_FIELDS.includes(x.name) && x.name !== name);
  return f ? f.name : null;
}

/** "00001003 · Refund for a broken anvil" or "Acme Corporation". */
export function recordTitle(d, record) {
  const name = record[nameField(d)];
  const sub = subtitleField(d);
  const parts = [name, sub ? record[sub] : null].filter((x) => x !== null && x !== undefined && x !== "");
  return parts.length ? parts.join(" · ") : record.Id;
}

/**
 * Titles of records of any objects: Map id -> {object (describe global entry), title}.
 * One query per object; ids of unknown objects are left out.
 */
export async function recordTitles(api, query, ids) {
  const out = new Map();
  const byObject = new Map();
  for (const id of new Set(ids.filter(Boolean))) {
    const obj = await objectOf(api, id);
    if (!obj || !obj.queryable) continue;
    if (!byObject.has(obj.name)) byObject.set(obj.name, { obj, ids: [] });
    byObject.get(obj.name).ids.push(id);
  }
  await Promise.all(
    [...byObject.values()].map(async ({ obj, ids: some }) => {
      const d = await describe(api, obj.name);
      const fields = [...new Set(["Id", nameField(d), subtitleField(d)].filter(Boolean))];
      const rows = await query(
        `SELECT ${fields.join(", ")} FROM ${obj.name} WHERE Id IN (${some.map(soqlString).join(", ")})`,
      );
      for (const r of rows) out.set(r.Id, { object: obj, title: recordTitle(d, r) });
    }),
  );
  return out;
}

// -- values -----------------------------------------------------------------------------

/** SOQL's "2024-05-01T10:00:00.000+0000" as something Date parses everywhere. */
export function isoDateTime(value) {
  return String(value).replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
}

/** A date-time as the user's locale writes it ("" for none). */
export function formatDateTime(value) {
  if (!value) return "";
  const d = new Date(isoDateTime(value));
  return Number.isNaN(d.getTime())
    ? String(value)
    : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A date (YYYY-MM-DD, no time zone) as the user's locale writes it. */
export function formatDate(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value || ""));
  if (!m) return value ? String(value) : "";
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).toLocaleDateString(undefined, {
    dateStyle: "medium",
  });
}

/** A field value as text, by the describe's field type. */
export function formatValue(field, value) {
  if (value === null || value === undefined || value === "") return "";
  switch (field.type) {
    case "boolean":
      return value ? "Yes" : "No";
    case "datetime":
      return formatDateTime(value);
    case "date":
      return formatDate(value);
    case "currency":
      return Number(value).toLocaleString(undefined, {
        minimumFractionDigits: field.scale || 0,
        maximumFractionDigits: field.scale || 0,
      });
    case "percent":
      return `${value}%`;
    case "multipicklist":
      return String(value).split(";").join(", ");
    default:
      return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

// -- rich text --------------------------------------------------------------------------

// The tags a flow's display text and labels may keep; everything else becomes its text.
const KEPT = new Set(["P", "BR", "B", "STRONG", "I", "EM", "U", "UL", "OL", "LI", "SPAN", "DIV"]);

function copyNodes(from, to) {
  for (const node of from.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      to.append(document.createTextNode(node.textContent));
    } else if (node.nodeType === Node.ELEMENT_NODE) {
      if (KEPT.has(node.tagName)) {
        const el = document.createElement(node.tagName.toLowerCase());
        copyNodes(node, el);
        to.append(el);
      } else if (node.tagName !== "SCRIPT" && node.tagName !== "STYLE") {
        copyNodes(node, to);
      }
    }
  }
}

/**
 * Flow rich text ("<p>Case {!...}</p>") as DOM nodes: parsed in an inert document
 * (nothing in it loads or runs) and copied tag by tag, without any attribute.
 */
export function richText(html) {
  const frag = document.createDocumentFragment();
  const text = String(html || "");
  if (!/[<&]/.test(text)) {
    frag.append(text);
    return frag;
  }
  const parsed = new DOMParser().parseFromString(text, "text/html");
  copyNodes(parsed.body, frag);
  return frag;
}

/** The text of flow rich text ("<p>Hours must be below 40</p>" -> "Hours must be below 40"). */
export function plainText(html) {
  const text = String(html || "");
  if (!/[<&]/.test(text)) return text;
  return (new DOMParser().parseFromString(text, "text/html").body.textContent || "").trim();
}

/** A stable id fragment for an element id. */
export function idPart(text) {
  return String(text).replace(/[^A-Za-z0-9_-]/g, "_");
}
