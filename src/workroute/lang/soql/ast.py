"""The typed SOQL syntax tree.

Every node is a frozen, slotted, keyword-only dataclass. Nodes that come from the
query text carry the 1-based ``line`` and ``column`` of their first token so a later
semantic error can point at them; positions are excluded from equality, hashing and
``repr`` so two trees that differ only in layout compare equal.

Conventions a consumer (the SQL compiler) relies on:

* Identifiers (``FieldPath.parts``, ``Query.from_``, aliases) keep the case they were
  written in; Salesforce resolves them case-insensitively.
* Keyword-like values are canonical upper case: ``Comparison.op``, ``Aggregate.func``,
  ``FieldsFunction.kind``, ``DateLiteral.name``, ``OrderItem.nulls`` and the flags.
* ``<>`` is normalised to ``!=``.
* A ``Comparison`` with ``op == "LIKE"`` always has a ``StringValue`` whose ``value`` is
  a *pattern*: ``%`` and ``_`` are wildcards and a backslash escapes the next
  character (``\\%``, ``\\_``, ``\\\\``): exactly SQL's ``LIKE ... ESCAPE '\\'``. Every other
  ``StringValue`` holds the plain decoded text.
* ``NullValue`` appears only with ``=`` / ``!=`` and inside ``IN`` lists;
  ``DateLiteral`` only in ``Comparison`` with ``= != < <= > >=``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, TypeAlias

__all__ = [
    "AGGREGATE_FUNCTIONS",
    "COMPARISON_OPS",
    "Aggregate",
    "AggregateFunc",
    "And",
    "BooleanValue",
    "Comparison",
    "ComparisonOp",
    "Condition",
    "DateLiteral",
    "DateTimeValue",
    "DateValue",
    "FieldPath",
    "FieldsFunction",
    "FieldsKind",
    "ForClause",
    "InList",
    "Includes",
    "Not",
    "NullValue",
    "NullsOrder",
    "NumberValue",
    "Or",
    "OrderItem",
    "Query",
    "SecurityMode",
    "SelectItem",
    "StringValue",
    "Value",
]

ComparisonOp: TypeAlias = Literal["=", "!=", "<", "<=", ">", ">=", "LIKE"]
COMPARISON_OPS: tuple[ComparisonOp, ...] = ("=", "!=", "<", "<=", ">", ">=", "LIKE")

AggregateFunc: TypeAlias = Literal["COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"]
AGGREGATE_FUNCTIONS: tuple[AggregateFunc, ...] = (
    "COUNT",
    "COUNT_DISTINCT",
    "MIN",
    "MAX",
    "SUM",
    "AVG",
)

FieldsKind: TypeAlias = Literal["ALL", "STANDARD", "CUSTOM"]
NullsOrder: TypeAlias = Literal["FIRST", "LAST"]
SecurityMode: TypeAlias = Literal["SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE"]
ForClause: TypeAlias = Literal["VIEW", "REFERENCE", "UPDATE"]


def _pos() -> int:
    """A source position: 1-based, 0 when built by hand; ignored by ==, hash and repr."""
    return field(default=0, compare=False, repr=False)


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True, kw_only=True)
class StringValue:
    """A quoted string; ``value`` is decoded (see the module notes for LIKE)."""

    value: str
    line: int = _pos()
    column: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberValue:
    """An integer or decimal literal, possibly negative."""

    value: Decimal
    line: int = _pos()
    column: int = _pos()

    @property
    def is_integer(self) -> bool:
        """True when written without a fractional part (``5``, not ``5.0``)."""
        exponent = self.value.as_tuple().exponent
        return isinstance(exponent, int) and exponent >= 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BooleanValue:
    value: bool
    line: int = _pos()
    column: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class NullValue:
    line: int = _pos()
    column: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class DateValue:
    """A date literal such as ``2024-01-31``."""

    value: date
    line: int = _pos()
    column: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class DateTimeValue:
    """A dateTime literal; ``value`` is always timezone-aware (offset as written)."""

    value: datetime
    line: int = _pos()
    column: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class DateLiteral:
    """A named relative date range: ``TODAY``, ``LAST_N_DAYS:7`` ...

    ``name`` is canonical upper case; ``n`` is set exactly for the parameterised
    literals (the ``_N_`` / ``N_..._AGO`` family). Resolve it with
    :func:`workroute.lang.soql.dates.resolve_date_literal`.
    """

    name: str
    n: int | None = None
    line: int = _pos()
    column: int = _pos()


Value: TypeAlias = (
    StringValue | NumberValue | BooleanValue | NullValue | DateValue | DateTimeValue | DateLiteral
)


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldPath:
    """``Name`` or a relationship path such as ``Account.Owner.Email``."""

    parts: tuple[str, ...]
    line: int = _pos()
    column: int = _pos()

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)

    @property
    def is_relationship(self) -> bool:
        return len(self.parts) > 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Aggregate:
    """``COUNT(Id) cnt``; ``field`` is None only for the bare ``COUNT()``."""

    func: AggregateFunc
    field: FieldPath | None
    alias: str | None = None
    line: int = _pos()
    column: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldsFunction:
    """``FIELDS(ALL)``, ``FIELDS(STANDARD)`` or ``FIELDS(CUSTOM)``."""

    kind: FieldsKind
    line: int = _pos()
    column: int = _pos()


SelectItem: TypeAlias = FieldPath | Aggregate | FieldsFunction


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """``field op value``; see the module notes for LIKE, null and date literals."""

    field: FieldPath
    op: ComparisonOp
    value: Value
    line: int = _pos()
    column: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class InList:
    """``field IN (...)`` or, with ``negated``, ``field NOT IN (...)``."""

    field: FieldPath
    values: tuple[Value, ...]
    negated: bool = False
    line: int = _pos()
    column: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class Includes:
    """Multi-select picklist test: ``INCLUDES (...)``, or ``EXCLUDES (...)`` if negated.

    Each value is one alternative; an alternative written ``'a;b'`` requires *both*
    ``a`` and ``b`` (see :attr:`value_sets`).
    """

    field: FieldPath
    values: tuple[StringValue, ...]
    negated: bool = False
    line: int = _pos()
    column: int = _pos()

    @property
    def value_sets(self) -> tuple[frozenset[str], ...]:
        """Each alternative split on ``;`` and stripped: INCLUDES matches a record
        whose selection is a superset of any one of them; EXCLUDES, of none."""
        return tuple(
            frozenset(p.strip() for p in v.value.split(";") if p.strip()) for v in self.values
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class And:
    """Two or more conditions joined by AND (nesting kept as written)."""

    items: tuple[Condition, ...]
    line: int = _pos()
    column: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class Or:
    """Two or more conditions joined by OR (nesting kept as written)."""

    items: tuple[Condition, ...]
    line: int = _pos()
    column: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class Not:
    item: Condition
    line: int = _pos()
    column: int = _pos()


Condition: TypeAlias = Comparison | InList | Includes | And | Or | Not


# --------------------------------------------------------------------------- query


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderItem:
    """One ORDER BY key.

    ``nulls`` is None when not written; Salesforce then sorts nulls FIRST for
    ascending and LAST for descending order (see :attr:`nulls_first`).
    """

    field: FieldPath
    descending: bool = False
    nulls: NullsOrder | None = None
    line: int = _pos()
    column: int = _pos()

    @property
    def nulls_first(self) -> bool:
        if self.nulls is None:
            return not self.descending
        return self.nulls == "FIRST"


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """A whole SELECT statement.

    ``line``/``column`` locate ``SELECT``; ``from_line``/``from_column`` locate the
    object name. ``using_scope``, ``security`` and ``for_`` record the optional
    ``USING SCOPE x``, ``WITH SECURITY_ENFORCED|USER_MODE|SYSTEM_MODE`` and
    ``FOR VIEW|REFERENCE|UPDATE`` clauses, which the engine may ignore.
    """

    select: tuple[SelectItem, ...]
    from_: str
    where: Condition | None = None
    group_by: tuple[FieldPath, ...] = ()
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    using_scope: str | None = None
    security: SecurityMode | None = None
    for_: ForClause | None = None
    line: int = _pos()
    column: int = _pos()
    from_line: int = _pos()
    from_column: int = _pos()

    @property
    def count_only(self) -> bool:
        """True for ``SELECT COUNT() FROM ...``: the result is only a record count."""
        return (
            len(self.select) == 1
            and isinstance(self.select[0], Aggregate)
            and self.select[0].func == "COUNT"
            and self.select[0].field is None
        )
