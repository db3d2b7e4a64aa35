"""Frozen definitions of objects and fields, as Salesforce's describe reports them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum


class FieldType(StrEnum):
    """Field types; the values are the names describe() reports."""

    ID = "id"
    STRING = "string"
    TEXTAREA = "textarea"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    BOOLEAN = "boolean"
    INT = "int"
    DOUBLE = "double"
    CURRENCY = "currency"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    PICKLIST = "picklist"
    MULTIPICKLIST = "multipicklist"
    REFERENCE = "reference"

    @property
    def is_text(self) -> bool:
        return self in _TEXT_TYPES

    @property
    def is_number(self) -> bool:
        return self in (FieldType.INT, FieldType.DOUBLE, FieldType.CURRENCY, FieldType.PERCENT)


_TEXT_TYPES = frozenset(
    {
        FieldType.STRING,
        FieldType.TEXTAREA,
        FieldType.EMAIL,
        FieldType.PHONE,
        FieldType.URL,
        FieldType.PICKLIST,
        FieldType.MULTIPICKLIST,
    }
)

# The soap type describe() reports for each field type.
SOAP_TYPES: dict[FieldType, str] = {
    FieldType.ID: "tns:ID",
    FieldType.REFERENCE: "tns:ID",
    FieldType.BOOLEAN: "xsd:boolean",
    FieldType.INT: "xsd:int",
    FieldType.DOUBLE: "xsd:double",
    FieldType.CURRENCY: "xsd:double",
    FieldType.PERCENT: "xsd:double",
    FieldType.DATE: "xsd:date",
    FieldType.DATETIME: "xsd:dateTime",
    FieldType.TIME: "xsd:time",
}

API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*(?:__(?:c|r|kav|mdt|e|x))?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class PicklistValue:
    value: str
    label: str | None = None
    default: bool = False
    active: bool = True
    #: A status that closes the record (Case and Task IsClosed follow it).
    closed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldDef:
    """One field of an object.

    ``required`` means the API refuses a create without it (not nillable and not
    defaulted on create). ``createable``/``updateable`` say whether the API may
    write it; system fields and calculated fields are neither.
    """

    name: str
    type: FieldType
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    required: bool = False
    createable: bool = True
    updateable: bool = True
    default: object = None
    default_formula: str | None = None
    defaulted_on_create: bool = False
    picklist: tuple[PicklistValue, ...] = ()
    restricted_picklist: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    child_relationship: str | None = None
    unique: bool = False
    case_sensitive: bool = False
    external_id: bool = False
    id_lookup: bool = False
    auto_number: bool = False
    display_format: str | None = None
    name_field: bool = False
    custom: bool = False
    description: str = ""
    formula: str | None = None
    formula_blank_as_zero: bool = False

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def calculated(self) -> bool:
        return self.formula is not None

    @property
    def polymorphic(self) -> bool:
        return len(self.reference_to) > 1

    def picklist_values(self) -> list[str]:
        return [p.value for p in self.picklist if p.active]

    def with_changes(self, **changes: object) -> FieldDef:
        return replace(self, **changes)  # type: ignore[arg-type]


SYSTEM_FIELD_NAMES = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectDef:
    """One object (sObject type). ``fields`` keeps describe order."""

    name: str
    key_prefix: str
    label: str = ""
    label_plural: str = ""
    fields: tuple[FieldDef, ...] = ()
    custom: bool = False
    has_owner: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    setup: bool = False
    description: str = ""
    # Organization-wide default for records: Private, Read, ReadWrite or
    # ControlledByParent (read and written as ReadWrite until master-detail sharing).
    sharing_model: str = "ReadWrite"
    _by_key: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)
    _by_relationship: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)
    #: ``name.lower()``, computed once: every save asks each hook's ``wants`` by it.
    _key: str = field(default="", init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", self.name.lower())
        by_key = {f.key: f for f in self.fields}
        if len(by_key) != len(self.fields):
            raise ValueError(f"{self.name}: duplicate field names")
        self._by_key.update(by_key)
        self._by_relationship.update(
            {f.relationship_name.lower(): f for f in self.fields if f.relationship_name}
        )

    @property
    def key(self) -> str:
        return self._key

    def field(self, name: str) -> FieldDef | None:
        """The field named ``name`` (any case), or None."""
        return self._by_key.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship name is ``name`` (any case)."""
        return self._by_relationship.get(name.lower())

    @property
    def name_field(self) -> FieldDef | None:
        for f in self.fields:
            if f.name_field:
                return f
        return None

    def with_fields(self, fields: tuple[FieldDef, ...]) -> ObjectDef:
        return replace(self, fields=fields, _by_key={}, _by_relationship={})
