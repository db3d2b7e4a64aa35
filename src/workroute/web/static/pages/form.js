// A screen flow drawn as an HTML form, from GET workItems/{id}/screen (see
// src/workroute/flows/forms.py: every screen's fields on one form, each with its
// widget type, data type, options, default, scale and help text).
//
// The server checks a submission (required values, types, options, decimal places,
// validation rules); the form does not second-guess it (novalidate), so what the user
// sees is exactly what the flow said. Its errors are shown next to their fields and in
// a summary, and nothing the user typed is lost.

import { h, show } from "/console/ui.js";
import { idPart, plainText, richText } from "/console/pages/shared.js";

const FORM_ERRORS = "The form has errors: ";

/**
 * The field messages of a refused submission: Map field name -> message. The API
 * gives FormError as [{message: "The form has errors: A: why; B: why", fields: [A, B]}],
 * so the message is cut at each named field (a reason may itself hold "; ").
 */
export function fieldErrors(error) {
  const out = new Map();
  const entries = Array.isArray(error.body) ? error.body : [{ message: error.message, fields: error.fields }];
  for (const entry of entries) {
    const names = (entry && entry.fields) || [];
    let text = String((entry && entry.message) || "");
    if (text.startsWith(FORM_ERRORS)) text = text.slice(FORM_ERRORS.length);
    const starts = [];
    let from = 0;
    for (const name of names) {
      const at = text.indexOf(`${name}: `, from);
      starts.push(at);
      if (at >= 0) from = at + name.length + 2;
    }
    names.forEach((name, i) => {
      if (starts[i] < 0) {
        out.set(name, plainText(entry.message));
        return;
      }
      const next = starts.slice(i + 1).find((s) => s >= 0);
      let message = text.slice(starts[i] + name.length + 2, next === undefined ? text.length : next);
      message = message.replace(/;\s*$/, "").trim();
      out.set(name, plainText(message) || "This value is not valid.");
    });
  }
  return out;
}

function decimalsHint(scale, currency) {
  const what = currency ? "An amount" : "A number";
  if (scale === null || scale === undefined) return what;
  if (scale === 0) return `${what}, without decimals`;
  return `${what}, up to ${scale} decimal place${scale === 1 ? "" : "s"}`;
}

/** "2024-05-01T10:00:00+00:00" as a datetime-local value in the user's time zone. */
function localDateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function requiredMark(required) {
  return required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null;
}

/** One field: its DOM, how to read its value, and where its error goes. */
function buildField(field, prefix) {
  const id = `${prefix}-${idPart(field.name)}`;
  const errorId = `${id}-error`;
  const helpId = field.helpText ? `${id}-help` : null;
  const help = field.helpText ? h("p", { class: "hint", id: helpId }, richText(field.helpText)) : null;
  const error = h("p", { class: "field-error", id: errorId, hidden: true });
  const describedBy = (withError) => [helpId, withError ? errorId : null].filter(Boolean).join(" ") || null;
  const options = field.options || [];
  const chosen = (value) => String(value) === String(field.default);
  const wrap = (cls, ...children) => h("div", { class: `field ${cls}`, id: `${id}-field` }, ...children);

  if (field.type === "display") {
    return { field, input: false, element: h("div", { class: "display-text" }, richText(field.label)) };
  }

  // Widgets with one control.
  let control = null;
  let read = null;
  let element = null;
  const common = {
    id,
    name: field.name,
    required: field.required,
    "aria-describedby": describedBy(false),
  };
  const label = () => h("label", { for: id }, richText(field.label), requiredMark(field.required));

  switch (field.type) {
    case "textarea":
      control = h("textarea", { ...common, rows: 4, value: field.default ?? "" });
      read = () => control.value;
      break;
    case "password":
      control = h("input", { ...common, type: "password", autocomplete: "off", value: field.default ?? "" });
      read = () => control.value;
      break;
    case "number":
    case "currency": {
      const hintId = `${id}-format`;
      control = h("input", {
        ...common,
        type: "text",
        inputmode: "decimal",
        autocomplete: "off",
        value: field.default ?? "",
        "aria-describedby": [hintId, helpId].filter(Boolean).join(" "),
      });
      control.dataset.describedBy = [hintId, helpId].filter(Boolean).join(" ");
      read = () => control.value.trim();
      element = wrap(
        field.type,
        label(),
        h("p", { class: "hint", id: hintId }, decimalsHint(field.scale, field.type === "currency")),
        help,
        control,
        error,
      );
      break;
    }
    case "date":
      control = h("input", { ...common, type: "date", value: field.default ?? "" });
      read = () => control.value;
      break;
    case "datetime":
      control = h("input", { ...common, type: "datetime-local", value: localDateTime(field.default) });
      read = () => (control.value ? new Date(control.value).toISOString() : "");
      break;
    case "checkbox":
      control = h("input", { ...common, type: "checkbox", checked: field.default === true });
      read = () => control.checked;
      element = wrap(
        "check",
        h("div", { class: "check-row" }, control, h("label", { for: id }, richText(field.label), requiredMark(field.required))),
        help,
        error,
      );
      break;
    case "picklist":
      control = h(
        "select",
        common,
        h("option", { value: "" }, field.required ? "Choose…" : "—None—"),
        options.map((o, i) => h("option", { value: String(i), selected: chosen(o.value) }, o.label)),
      );
      read = () => (control.value === "" ? null : options[Number(control.value)].value);
      break;
    case "multipicklist": {
      const defaults = String(field.default ?? "").split(";");
      control = h(
        "select",
        { ...common, multiple: true, size: Math.min(6, Math.max(3, options.length)) },
        options.map((o, i) => h("option", { value: String(i), selected: defaults.includes(String(o.value)) }, o.label)),
      );
      read = () => [...control.selectedOptions].map((opt) => options[Number(opt.value)].value);
      break;
    }
    case "radio":
    case "checkboxes":
      return buildGroup(field, id, { help, helpId, error, errorId });
    default:
      control = h("input", { ...common, type: "text", value: field.default ?? "" });
      read = () => control.value;
  }
  if (!control.dataset.describedBy && common["aria-describedby"]) control.dataset.describedBy = common["aria-describedby"];
  element = element || wrap(field.type, label(), help, control, error);
  return {
    field,
    input: true,
    element,
    focusTarget: control,
    read,
    setError(message) {
      error.textContent = message || "";
      error.hidden = !message;
      element.classList.toggle("has-error", Boolean(message));
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
      const ids = [control.dataset.describedBy, message ? errorId : null].filter(Boolean).join(" ");
      if (ids) control.setAttribute("aria-describedby", ids);
      else control.removeAttribute("aria-describedby");
    },
  };
}

/** Radio buttons and multi-select checkboxes: a fieldset with a legend. */
function buildGroup(field, id, { help, helpId, error, errorId }) {
  const radio = field.type === "radio";
  const options = field.options || [];
  const defaults = radio ? [String(field.default)] : String(field.default ?? "").split(";");
  const controls = options.map((o, i) =>
    h("input", {
      type: radio ? "radio" : "checkbox",
      id: `${id}-${i}`,
      name: `${id}`,
      value: String(i),
      required: radio && field.required,
      checked: field.default !== null && field.default !== undefined && defaults.includes(String(o.value)),
      "aria-describedby": helpId,
    }),
  );
  const legendId = `${id}-legend`;
  const element = h(
    "fieldset",
    {
      class: `field group ${field.type}`,
      id: `${id}-field`,
      role: radio ? "radiogroup" : "group",
      "aria-labelledby": legendId,
      "aria-required": radio && field.required ? "true" : null,
      "aria-describedby": helpId,
    },
    h("legend", { id: legendId }, richText(field.label), requiredMark(field.required)),
    help,
    h(
      "div",
      { class: "options" },
      options.map((o, i) => h("div", { class: "check-row" }, controls[i], h("label", { for: `${id}-${i}` }, o.label))),
    ),
    error,
  );
  const read = () => {
    const picked = controls.filter((c) => c.checked).map((c) => options[Number(c.value)].value);
    return radio ? (picked.length ? picked[0] : null) : picked;
  };
  return {
    field,
    input: true,
    element,
    focusTarget: controls.find((c) => c.checked) || controls[0] || element,
    read,
    setError(message) {
      error.textContent = message || "";
      error.hidden = !message;
      element.classList.toggle("has-error", Boolean(message));
      const ids = [helpId, message ? errorId : null].filter(Boolean).join(" ");
      for (const target of [element, ...controls]) {
        if (ids) target.setAttribute("aria-describedby", ids);
        else target.removeAttribute("aria-describedby");
      }
      if (message) element.setAttribute("aria-invalid", "true");
      else element.removeAttribute("aria-invalid");
    },
  };
}

/**
 * The form of a screen flow. ``onSubmit(values)`` is called with the values by field
 * name. Returns { element, showErrors(map, message), clearErrors(), setBusy(bool),
 * dirty (whether the user changed anything) }.
 */
export function screenForm(form, { prefix, submitLabel = "Submit", onSubmit }) {
  const fields = form.fields.map((f) => buildField(f, prefix));
  const byName = new Map(fields.filter((f) => f.input).map((f) => [f.field.name.toLowerCase(), f]));
  const summaryId = `${prefix}-summary`;
  const summary = h("div", { class: "error-summary", id: summaryId, role: "alert", tabindex: "-1", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, submitLabel);
  const screens = form.screens && form.screens.length ? form.screens : [{ name: "", label: "", fields: form.fields.map((f) => f.name) }];
  const fieldOf = new Map(fields.map((f) => [f.field.name, f]));
  const required = form.fields.some((f) => f.required);
  let dirty = false;

  const body = screens.map((screen) => {
    const children = screen.fields.map((n) => fieldOf.get(n)).filter(Boolean).map((f) => f.element);
    if (screens.length === 1) return children;
    return h("section", { class: "screen", "aria-label": screen.label || screen.name }, h("h4", {}, screen.label || screen.name), children);
  });

  const element = h(
    "form",
    {
      class: "screen-form",
      novalidate: true,
      "aria-label": form.label || "Work item form",
      oninput: () => {
        dirty = true;
      },
      onchange: () => {
        dirty = true;
      },
      onsubmit: (event) => {
        event.preventDefault();
        const values = {};
        for (const f of fields) if (f.input) values[f.field.name] = f.read();
        onSubmit(values);
      },
    },
    summary,
    required ? h("p", { class: "hint required-note" }, "Fields marked ", h("span", { class: "req" }, "*"), " are required.") : null,
    body,
    h("div", { class: "actions" }, submit),
  );

  function clearErrors() {
    summary.hidden = true;
    summary.replaceChildren();
    for (const f of byName.values()) f.setError(null);
  }

  function showErrors(errors, message) {
    clearErrors();
    const items = [];
    for (const [name, why] of errors) {
      const f = byName.get(name.toLowerCase());
      if (f) {
        f.setError(why);
        items.push(
          h(
            "li",
            {},
            h(
              "a",
              {
                href: `#${f.focusTarget.id || f.element.id}`,
                onclick: (event) => {
                  event.preventDefault(); // the hash is the router's: move focus only
                  f.focusTarget.focus();
                },
              },
              `${plainText(f.field.label)}: ${why}`,
            ),
          ),
        );
      } else {
        items.push(h("li", {}, `${name}: ${why}`));
      }
    }
    const count = errors.size;
    show(
      summary,
      h("p", { class: "summary-title" }, count ? `The form has ${count} problem${count === 1 ? "" : "s"}; nothing was saved.` : message || "The form could not be submitted."),
      count && message && !String(message).startsWith(FORM_ERRORS) ? h("p", {}, message) : null,
      items.length ? h("ul", {}, items) : null,
    );
    summary.hidden = false;
    summary.focus();
  }

  function setBusy(busy) {
    submit.disabled = busy;
    submit.textContent = busy ? "Submitting…" : submitLabel;
    element.setAttribute("aria-busy", busy ? "true" : "false");
  }

  return {
    element,
    showErrors,
    clearErrors,
    setBusy,
    get dirty() {
      return dirty;
    },
  };
}
