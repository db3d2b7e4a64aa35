"""A screen flow as a form: its fields with labels, types, options and defaults, and
the checks a submission passes before the flow runs.

Every screen's fields are on one form, screen after screen in document order (a
screen flow with several screens is filled in at once; the screens are kept so a
client can show them as pages). Display text is on the form, with its merge fields
resolved, but takes no value. Defaults are resolved when the form is built, from the
input variables, the related record (``{!$Record.Subject}``), globals, constants,
formulas and text templates; the flow's elements do not run until it is submitted.
Lightning components (``ComponentInstance``...) and record fields provided by an
object (``ObjectProvided``) need a browser runtime and are left off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from workroute.flows.actions import json_value
from workroute.flows.model import Choice, PicklistChoiceSet, RecordChoiceSet, ScreenField
from workroute.flows.records import find_records
from workroute.flows.values import coerce, scale_of, to_text
from workroute.flows.vocabulary import ScreenFieldType
from workroute.orchestration.vocabulary import FlowDataType

if TYPE_CHECKING:
    from workroute.flows.interview import Interview

__all__ = ["Form", "FormField", "FormOption", "FormScreen", "build_form", "check_values"]

_KIND = {
    ScreenFieldType.DISPLAY_TEXT: "display",
    ScreenFieldType.LARGE_TEXT_AREA: "textarea",
    ScreenFieldType.PASSWORD_FIELD: "password",
    ScreenFieldType.DROPDOWN_BOX: "picklist",
    ScreenFieldType.RADIO_BUTTONS: "radio",
    ScreenFieldType.MULTI_SELECT_CHECKBOXES: "checkboxes",
    ScreenFieldType.MULTI_SELECT_PICKLIST: "multipicklist",
}
_INPUT_KIND = {
    FlowDataType.STRING: "text",
    FlowDataType.NUMBER: "number",
    FlowDataType.CURRENCY: "currency",
    FlowDataType.BOOLEAN: "checkbox",
    FlowDataType.DATE: "date",
    FlowDataType.DATETIME: "datetime",
}
REQUIRED = "Complete this field."


@dataclass(frozen=True, slots=True)
class FormOption:
    value: object
    label: str
    #: The Choice it comes from (None: a choice set's entry).
    choice: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FormField:
    """One field of the form. ``type`` is the widget (``text``, ``textarea``,
    ``password``, ``number``, ``currency``, ``checkbox``, ``date``, ``datetime``,
    ``picklist``, ``radio``, ``checkboxes``, ``multipicklist``, ``display``);
    ``data_type`` the type of its value."""

    name: str
    label: str
    type: str
    field_type: ScreenFieldType
    data_type: FlowDataType
    required: bool
    screen: str
    options: tuple[FormOption, ...] = ()
    default: object = None
    scale: int | None = None
    help_text: str | None = None

    @property
    def is_input(self) -> bool:
        return self.field_type is not ScreenFieldType.DISPLAY_TEXT

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type.value,
            "dataType": self.data_type.value,
            "required": self.required,
            "options": [{"value": json_value(o.value), "label": o.label} for o in self.options],
            "default": json_value(self.default),
            "scale": self.scale,
            "helpText": self.help_text,
            "screen": self.screen,
        }


@dataclass(frozen=True, slots=True)
class FormScreen:
    name: str
    label: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Form:
    """The fields of every screen of ``flow`` (see the module docstring)."""

    flow: str
    label: str
    fields: tuple[FormField, ...] = ()
    screens: tuple[FormScreen, ...] = ()

    def field(self, name: str) -> FormField | None:
        key = name.lower()
        return next((f for f in self.fields if f.name.lower() == key), None)

    def to_json(self) -> dict[str, object]:
        return {
            "flow": self.flow,
            "label": self.label,
            "screens": [
                {"name": s.name, "label": s.label, "fields": list(s.fields)} for s in self.screens
            ],
            "fields": [f.to_json() for f in self.fields],
        }


# -- building -----------------------------------------------------------------------------


def _options(iv: Interview, f: ScreenField) -> tuple[FormOption, ...]:
    out: list[FormOption] = []
    for name in f.choices:
        source = iv.body.choice(name)
        if isinstance(source, Choice):
            out.append(
                FormOption(iv.choice_value(source.name), iv.merge(source.label), source.name)
            )
        elif isinstance(source, PicklistChoiceSet):
            obj = iv.store.schema.find(source.object)
            field = obj.field(source.field) if obj is not None else None
            if field is None:
                raise iv.fail(
                    f"choice set {source.name}: {source.object}.{source.field} does not exist"
                )
            out += [FormOption(p.value, p.label or p.value) for p in field.picklist if p.active]
        elif isinstance(source, RecordChoiceSet):
            rows = find_records(iv, source.object, source.filters, source.filter_logic)
            if source.sort_field:
                key = source.sort_field
                rows.sort(key=lambda r: (r.get(key) is None, str(r.get(key) or "")))
                if source.descending:
                    rows.reverse()
            if source.limit:
                rows = rows[: source.limit]
            value_field = source.value_field or "Id"
            label_field = source.display_field or "Name"
            out += [FormOption(r.get(value_field), to_text(r.get(label_field))) for r in rows]
    return tuple(out)


def _default(iv: Interview, f: ScreenField, options: tuple[FormOption, ...]) -> object:
    if f.default_choice is not None:
        chosen = next(
            (o for o in options if (o.choice or "").lower() == f.default_choice.lower()), None
        )
        if chosen is not None:
            return chosen.value
    if f.default is None:
        return (
            False
            if f.value_type is FlowDataType.BOOLEAN and f.field_type is ScreenFieldType.INPUT_FIELD
            else None
        )
    value = iv.value(f.default)
    if value in (None, ""):
        return None
    try:
        return coerce(value, f.value_type)
    except ValueError as exc:
        raise iv.fail(f"the default of screen field {f.name}: {exc}") from None


def build_form(iv: Interview) -> Form:
    fields: list[FormField] = []
    screens: list[FormScreen] = []
    for screen in iv.body.screens:
        names = []
        for f in screen.fields:
            iv.element = screen.name
            options = _options(iv, f) if f.field_type.is_choice else ()
            kind = _KIND.get(f.field_type) or _INPUT_KIND[f.value_type]
            label = iv.merge(f.label or "") or f.name
            fields.append(
                FormField(
                    name=f.name,
                    label=label,
                    type=kind,
                    field_type=f.field_type,
                    data_type=f.value_type,
                    required=f.required and f.is_input,
                    screen=screen.name,
                    options=options,
                    default=None if not f.is_input else _default(iv, f, options),
                    scale=f.scale,
                    help_text=iv.merge(f.help_text) if f.help_text else None,
                )
            )
            names.append(f.name)
        screens.append(FormScreen(screen.name, iv.merge(screen.label), tuple(names)))
    iv.element = None
    return Form(
        flow=iv.flow.name, label=iv.flow.label, fields=tuple(fields), screens=tuple(screens)
    )


# -- checking a submission ----------------------------------------------------------------


def _blank(value: object) -> bool:
    return value is None or value == "" or value == []


def _check(f: FormField, value: object) -> object:
    """The submitted ``value`` as ``f``'s value; raises ValueError with the reason."""
    if f.field_type.is_multi:
        items = value if isinstance(value, list | tuple) else str(value).split(";")
        chosen = [coerce(v, f.data_type) for v in items if not _blank(v)]
        allowed = {str(o.value) for o in f.options}
        for v in chosen:
            if str(v) not in allowed:
                raise ValueError(f"'{to_text(v)}' is not one of the options")
        return ";".join(to_text(v) for v in chosen)
    checked = coerce(value, f.data_type)
    if f.field_type.is_choice and checked not in [o.value for o in f.options]:
        raise ValueError(f"'{to_text(checked)}' is not one of the options")
    if (
        isinstance(checked, Decimal)
        and f.scale is not None
        and scale_of(checked.normalize()) > f.scale
    ):
        places = "no decimal places" if f.scale == 0 else f"at most {f.scale} decimal places"
        raise ValueError(f"'{to_text(value)}' has too many decimal places; {places} are allowed")
    if f.data_type is FlowDataType.BOOLEAN and f.required and checked is not True:
        raise ValueError(REQUIRED)
    return checked


def check_values(
    form: Form, values: Mapping[str, object]
) -> tuple[dict[str, object], dict[str, str]]:
    """The submitted ``values`` checked against ``form``: the field values to assign
    (by lower-case field name; a field not submitted gets its default) and the
    errors by field name (empty when the submission is valid)."""
    errors: dict[str, str] = {}
    out: dict[str, object] = {}
    for name in values:
        f = form.field(name)
        if f is None:
            known = ", ".join(x.name for x in form.fields if x.is_input)
            errors[name] = f"the form has no field '{name}' (fields: {known or 'none'})"
        elif not f.is_input:
            errors[name] = "is display text; it takes no value"
    for f in form.fields:
        if not f.is_input:
            continue
        given = next(((k, v) for k, v in values.items() if k.lower() == f.name.lower()), None)
        value = f.default if given is None else given[1]
        if _blank(value):
            if f.required:
                errors[f.name] = REQUIRED
            out[f.name.lower()] = None
            continue
        try:
            out[f.name.lower()] = _check(f, value)
        except ValueError as exc:
            errors[f.name] = str(exc)
    return out, errors
