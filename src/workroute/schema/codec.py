"""ObjectDef <-> JSON, in describe()'s camelCase; used for package data and stored schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workroute.schema.model import FieldDef, FieldType, ObjectDef, PicklistValue

_FIELD_KEYS: dict[str, str] = {
    "name": "name",
    "label": "label",
    "length": "length",
    "precision": "precision",
    "scale": "scale",
    "nillable": "nillable",
    "required": "required",
    "createable": "createable",
    "updateable": "updateable",
    "default": "default",
    "defaultFormula": "default_formula",
    "defaultedOnCreate": "defaulted_on_create",
    "restrictedPicklist": "restricted_picklist",
    "relationshipName": "relationship_name",
    "childRelationship": "child_relationship",
    "unique": "unique",
    "caseSensitive": "case_sensitive",
    "externalId": "external_id",
    "idLookup": "id_lookup",
    "autoNumber": "auto_number",
    "displayFormat": "display_format",
    "nameField": "name_field",
    "custom": "custom",
    "description": "description",
    "formula": "formula",
    "formulaBlankAsZero": "formula_blank_as_zero",
}
_OBJECT_KEYS: dict[str, str] = {
    "name": "name",
    "keyPrefix": "key_prefix",
    "label": "label",
    "labelPlural": "label_plural",
    "custom": "custom",
    "hasOwner": "has_owner",
    "createable": "createable",
    "updateable": "updateable",
    "deletable": "deletable",
    "queryable": "queryable",
    "setup": "setup",
    "description": "description",
    "sharingModel": "sharing_model",
}
_DEFAULT_FIELD = FieldDef(name="x", type=FieldType.STRING)
_DEFAULT_OBJECT = ObjectDef(name="x", key_prefix="xxx")


def field_from_json(data: Mapping[str, Any]) -> FieldDef:
    kwargs: dict[str, Any] = {attr: data[key] for key, attr in _FIELD_KEYS.items() if key in data}
    kwargs["type"] = FieldType(data["type"])
    if "picklist" in data:
        kwargs["picklist"] = tuple(
            PicklistValue(
                value=p["value"],
                label=p.get("label"),
                default=bool(p.get("default", False)),
                active=bool(p.get("active", True)),
                closed=bool(p.get("closed", False)),
            )
            for p in data["picklist"]
        )
    if "referenceTo" in data:
        kwargs["reference_to"] = tuple(data["referenceTo"])
    return FieldDef(**kwargs)


def field_to_json(f: FieldDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "type": f.type.value}
    for key, attr in _FIELD_KEYS.items():
        value = getattr(f, attr)
        if key != "name" and value != getattr(_DEFAULT_FIELD, attr):
            out[key] = value
    if f.picklist:
        out["picklist"] = [
            {
                k: v
                for k, v in (
                    ("value", p.value),
                    ("label", p.label),
                    ("default", p.default),
                    ("active", p.active),
                    ("closed", p.closed),
                )
                if not (k == "active" and v) and v
            }
            for p in f.picklist
        ]
    if f.reference_to:
        out["referenceTo"] = list(f.reference_to)
    return out


def object_from_json(data: Mapping[str, Any]) -> ObjectDef:
    kwargs: dict[str, Any] = {attr: data[key] for key, attr in _OBJECT_KEYS.items() if key in data}
    kwargs["fields"] = tuple(field_from_json(f) for f in data.get("fields", ()))
    return ObjectDef(**kwargs)


def object_to_json(obj: ObjectDef) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, attr in _OBJECT_KEYS.items():
        value = getattr(obj, attr)
        if key in ("name", "keyPrefix") or value != getattr(_DEFAULT_OBJECT, attr):
            out[key] = value
    out["fields"] = [field_to_json(f) for f in obj.fields]
    return out
