"""The data types of formula values, and the typed tree the checker produces.

Salesforce formulas have these value types (``Kind``): number, currency and percent
(all numeric; arithmetic mixes them freely), text, textarea and id (all *text-like*;
textarea and id check exactly as text), picklist and multi-select picklist (usable only
inside a few functions), checkbox, date, datetime, time, geolocation, and ``null`` (the
type of the ``NULL`` literal, compatible with every other type).

A :class:`FormulaType` is a kind plus the ``scale`` of numeric values (digits after the
decimal point; ``None`` when an operation such as division or ``SQRT`` gives an inexact
result) and the ``length`` of text values where a field declares one.

Percent values inside a formula are fractions: a percent field holding 10 (%) reads
as ``0.1``, so its formula type has the field's scale plus 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from workroute.lang.formula.ast import Expr
from workroute.schema.model import FieldDef, FieldType

__all__ = [
    "CHECKBOX",
    "DATE",
    "DATETIME",
    "GEOLOCATION",
    "ID",
    "INTEGER",
    "MULTIPICKLIST",
    "NULL",
    "NUMBER",
    "PICKLIST",
    "TEXT",
    "TIME",
    "FieldBinding",
    "FormulaType",
    "Kind",
    "Typed",
    "type_for_field",
    "type_from_name",
]


class Kind(StrEnum):
    """The kinds of formula values; the values are the type names of the CLI contract."""

    NUMBER = "number"
    CURRENCY = "currency"
    PERCENT = "percent"
    TEXT = "text"
    TEXTAREA = "textarea"
    ID = "id"
    PICKLIST = "picklist"
    MULTIPICKLIST = "multipicklist"
    CHECKBOX = "checkbox"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    GEOLOCATION = "geolocation"
    NULL = "null"


NUMERIC_KINDS = frozenset({Kind.NUMBER, Kind.CURRENCY, Kind.PERCENT})
TEXT_KINDS = frozenset({Kind.TEXT, Kind.TEXTAREA, Kind.ID})

# How Salesforce names each type in "Incorrect parameter type ..." messages (the
# FormulaFieldExceptionDataTypes labels of Salesforce's formula engine).
_LABELS: dict[Kind, str] = {
    Kind.NUMBER: "Number",
    Kind.CURRENCY: "Number",
    Kind.PERCENT: "Number",
    Kind.TEXT: "Text",
    Kind.TEXTAREA: "Text",
    Kind.ID: "Text",
    Kind.PICKLIST: "Picklist",
    Kind.MULTIPICKLIST: "MultiPicklist",
    Kind.CHECKBOX: "Boolean",
    Kind.DATE: "Date",
    Kind.DATETIME: "DateTime",
    Kind.TIME: "Time",
    Kind.GEOLOCATION: "Location",
    Kind.NULL: "Null",
}


@dataclass(frozen=True, slots=True)
class FormulaType:
    """A formula value type: its kind, plus scale (numbers) and length (text)."""

    kind: Kind
    scale: int | None = None
    length: int | None = None

    @property
    def is_number(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def is_text(self) -> bool:
        """Text, textarea or id: the kinds that behave as text everywhere."""
        return self.kind in TEXT_KINDS

    @property
    def is_null(self) -> bool:
        return self.kind is Kind.NULL

    @property
    def is_picklist(self) -> bool:
        return self.kind is Kind.PICKLIST or self.kind is Kind.MULTIPICKLIST

    @property
    def label(self) -> str:
        """The type's name in Salesforce's error messages ("Number", "Text", "Boolean")."""
        return _LABELS[self.kind]

    @property
    def base(self) -> Kind:
        """NUMBER for every numeric kind, TEXT for every text-like kind, else the kind."""
        if self.kind in NUMERIC_KINDS:
            return Kind.NUMBER
        if self.kind in TEXT_KINDS:
            return Kind.TEXT
        return self.kind

    def with_scale(self, scale: int | None) -> FormulaType:
        return FormulaType(self.kind, scale, self.length)

    def __str__(self) -> str:
        if self.is_number and self.scale is not None:
            return f"{self.kind.value}({self.scale})"
        return self.kind.value


NUMBER = FormulaType(Kind.NUMBER)
INTEGER = FormulaType(Kind.NUMBER, scale=0)
TEXT = FormulaType(Kind.TEXT)
ID = FormulaType(Kind.ID)
PICKLIST = FormulaType(Kind.PICKLIST)
MULTIPICKLIST = FormulaType(Kind.MULTIPICKLIST)
CHECKBOX = FormulaType(Kind.CHECKBOX)
DATE = FormulaType(Kind.DATE)
DATETIME = FormulaType(Kind.DATETIME)
TIME = FormulaType(Kind.TIME)
GEOLOCATION = FormulaType(Kind.GEOLOCATION)
NULL = FormulaType(Kind.NULL)


def type_from_name(
    name: str | Kind, *, scale: int | None = None, length: int | None = None
) -> FormulaType:
    """The type called ``name`` (a :class:`Kind` value, any case).

    For ``percent`` the ``scale`` is that of the *formula* value (the fraction).
    Raises ``ValueError`` for an unknown name.
    """
    try:
        kind = Kind(name.lower() if isinstance(name, str) else name)
    except ValueError:
        raise ValueError(f"unknown formula type {name!r}") from None
    if kind in NUMERIC_KINDS:
        return FormulaType(kind, scale=scale)
    if kind in TEXT_KINDS:
        return FormulaType(kind, length=length)
    return FormulaType(kind)


def type_for_field(field: FieldDef) -> FormulaType:
    """The formula type of a value read from ``field``.

    ``reference``/``id`` fields are ids (text-like); ``email``, ``phone`` and ``url``
    are text. Percent fields read as fractions, so their scale is the field's plus 2.
    """
    t = field.type
    length = field.length or None
    if t is FieldType.INT:
        return FormulaType(Kind.NUMBER, scale=0)
    if t is FieldType.DOUBLE:
        return FormulaType(Kind.NUMBER, scale=field.scale)
    if t is FieldType.CURRENCY:
        return FormulaType(Kind.CURRENCY, scale=field.scale)
    if t is FieldType.PERCENT:
        return FormulaType(Kind.PERCENT, scale=field.scale + 2)
    if t in (FieldType.ID, FieldType.REFERENCE):
        return FormulaType(Kind.ID, length=length)
    if t is FieldType.TEXTAREA:
        return FormulaType(Kind.TEXTAREA, length=length)
    if t in (FieldType.STRING, FieldType.EMAIL, FieldType.PHONE, FieldType.URL):
        return FormulaType(Kind.TEXT, length=length)
    if t is FieldType.PICKLIST:
        return PICKLIST
    if t is FieldType.MULTIPICKLIST:
        return MULTIPICKLIST
    if t is FieldType.BOOLEAN:
        return CHECKBOX
    if t is FieldType.DATE:
        return DATE
    if t is FieldType.DATETIME:
        return DATETIME
    if t is FieldType.TIME:
        return TIME
    raise ValueError(f"field {field.name} has no formula type ({t})")  # pragma: no cover


Source = Literal["record", "related", "global"]


@dataclass(frozen=True, slots=True)
class FieldBinding:
    """What a field reference resolved to.

    ``source`` says where the value comes from at evaluation time: ``record`` (the
    record's own field, ``key`` is the field's canonical API name), ``related`` (a
    relationship path such as ``Account.Owner.Email``; ``key`` is the canonical dotted
    path) or ``global`` (``$User.Email``; ``key`` is the canonical dotted path).
    ``hops`` lists, for related and global paths, each reference field followed and
    the object it leads to: ``(("AccountId", "Account"), ("OwnerId", "User"))``.
    """

    source: Source
    key: str
    type: FormulaType
    hops: tuple[tuple[str, str], ...] = ()
    object_name: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Typed:
    """A checked node: the syntax node, its type, and its checked children.

    ``binding`` is set on field references, ``function`` on calls (the upper-case
    name). Identity semantics: two ``Typed`` are equal only if they are the same.
    """

    node: Expr
    type: FormulaType
    args: tuple[Typed, ...] = ()
    binding: FieldBinding | None = None
    function: str | None = None
