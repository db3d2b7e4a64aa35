"""describe() and describeGlobal() in Salesforce's JSON shape."""

from __future__ import annotations

from typing import Any

from workroute.schema.model import SOAP_TYPES, FieldDef, FieldType, ObjectDef
from workroute.schema.registry import SchemaRegistry


def _soap_type(f: FieldDef) -> str:
    return SOAP_TYPES.get(f.type, "xsd:string")


def describe_field(f: FieldDef) -> dict[str, Any]:
    text_len = f.length if f.type.is_text or f.type in (FieldType.ID, FieldType.REFERENCE) else 0
    filterable = f.type not in (FieldType.TEXTAREA,) or f.length <= 255
    return {
        "name": f.name,
        "label": f.label or f.name,
        "type": f.type.value,
        "soapType": _soap_type(f),
        "length": text_len,
        "byteLength": text_len * 3,
        "precision": f.precision,
        "scale": f.scale,
        "digits": 9 if f.type is FieldType.INT else 0,
        "nillable": f.nillable,
        "createable": f.createable,
        "updateable": f.updateable,
        "defaultedOnCreate": f.defaulted_on_create
        or f.default is not None
        or f.type is FieldType.BOOLEAN,
        "defaultValue": f.default,
        "defaultValueFormula": None,
        "unique": f.unique,
        "caseSensitive": f.case_sensitive,
        "externalId": f.external_id,
        "idLookup": f.id_lookup or f.external_id,
        "calculated": f.calculated,
        "calculatedFormula": f.formula,
        "autoNumber": f.auto_number,
        "nameField": f.name_field,
        "custom": f.custom,
        "filterable": filterable,
        "sortable": filterable and f.type is not FieldType.MULTIPICKLIST,
        "groupable": f.type
        not in (
            FieldType.DOUBLE,
            FieldType.CURRENCY,
            FieldType.PERCENT,
            FieldType.DATETIME,
            FieldType.TEXTAREA,
        ),
        "restrictedPicklist": f.restricted_picklist,
        "picklistValues": [
            {
                "active": p.active,
                "defaultValue": p.default,
                "label": p.label or p.value,
                "validFor": None,
                "value": p.value,
            }
            for p in f.picklist
        ],
        "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name,
        "polymorphicForeignKey": f.polymorphic,
        "cascadeDelete": False,
        "inlineHelpText": f.description or None,
        "htmlFormatted": False,
        "dependentPicklist": False,
        "writeRequiresMasterRead": False,
    }


def object_summary(obj: ObjectDef, base: str) -> dict[str, Any]:
    url = f"{base}/sobjects/{obj.name}"
    return {
        "name": obj.name,
        "label": obj.label or obj.name,
        "labelPlural": obj.label_plural or (obj.label or obj.name) + "s",
        "keyPrefix": obj.key_prefix,
        "custom": obj.custom,
        "customSetting": False,
        "createable": obj.createable,
        "updateable": obj.updateable,
        "deletable": obj.deletable,
        "queryable": obj.queryable,
        "retrieveable": True,
        "searchable": not obj.setup,
        "undeletable": obj.deletable,
        "triggerable": True,
        "layoutable": not obj.setup,
        "mergeable": False,
        "replicateable": True,
        "feedEnabled": False,
        "activateable": False,
        "deprecatedAndHidden": False,
        "urls": {
            "sobject": url,
            "describe": f"{url}/describe",
            "rowTemplate": f"{url}/{{ID}}",
        },
    }


def describe_object(obj: ObjectDef, schema: SchemaRegistry, base: str) -> dict[str, Any]:
    out = object_summary(obj, base)
    out["fields"] = [describe_field(f) for f in obj.fields]
    out["childRelationships"] = [
        {
            "childSObject": child.name,
            "field": f.name,
            "relationshipName": f.child_relationship,
            "cascadeDelete": False,
            "restrictedDelete": False,
            "deprecatedAndHidden": False,
        }
        for child in schema
        for f in child.fields
        if f.type is FieldType.REFERENCE and obj.name in f.reference_to
    ]
    out["recordTypeInfos"] = []
    out["supportedScopes"] = [{"label": "All", "name": "everything"}]
    return out


def describe_global(schema: SchemaRegistry, base: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [object_summary(o, base) for o in schema],
    }
