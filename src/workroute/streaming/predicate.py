"""A SOQL WHERE clause as a Python predicate over one record (no SQL, no ``eval``).

PushTopic matching asks "does this record, as saved, match the topic's WHERE?" for
every change, inside the saving transaction; a database round trip per record would
cost more than the save. :func:`compile_where` turns the parsed condition into closures
with the semantics :mod:`workroute.store.soql` gives the same condition in SQL (that
engine is the reference; a property test compares the two):

- text comparisons (``=``, ``!=``, ``<``..., ``LIKE``, ``IN``) ignore case; ids compare
  exactly, as 18-character ids;
- a null field fails ``=``, ``<``, ``LIKE`` and ``IN`` and passes ``!=`` and
  ``NOT IN`` (unless the list holds null); ``= null`` / ``!= null`` test for null;
- ``NOT`` follows SQL's three-valued logic: ``NOT Name = 'x'`` does not match a record
  whose Name is null, as in SOQL;
- date literals resolve against the ``now`` given to each call, in UTC, so a compiled
  predicate stays right as days pass.

Records are mappings keyed by the schema's field names, holding stored values (the
save pipeline's records: numbers as float or Decimal, aware UTC datetimes, dates).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache

from workroute.kernel.errors import (
    InvalidFieldError,
    InvalidQueryFilterOperatorError,
    MalformedIdError,
    MalformedQueryError,
)
from workroute.kernel.ids import normalize_id
from workroute.lang.soql import date_literal_bounds
from workroute.lang.soql.ast import (
    And,
    BooleanValue,
    Comparison,
    ComparisonOp,
    Condition,
    DateLiteral,
    DateTimeValue,
    DateValue,
    FieldPath,
    Includes,
    InList,
    Not,
    NullValue,
    NumberValue,
    Or,
    StringValue,
    Value,
)
from workroute.lang.soql.dates import DateBounds
from workroute.schema.model import FieldDef, FieldType, ObjectDef
from workroute.store.soql import soql_today
from workroute.store.values import parse_time

__all__ = ["Predicate", "compile_where", "where_fields"]

Record = Mapping[str, object]
Predicate = Callable[[Record, datetime], bool]
"""``predicate(record, now)``: whether the record matches; ``now`` resolves date
literals (TODAY, LAST_N_DAYS:n ...)."""

# A leaf or branch under SQL's three-valued logic: None is "unknown" (a null operand).
_Test = Callable[[Record, datetime], bool | None]


def compile_where(condition: Condition, obj: ObjectDef) -> Predicate:
    """The predicate of ``condition`` over records of ``obj``.

    Raises :class:`InvalidFieldError` for a field ``obj`` lacks, a relationship path or
    a formula field (a record holds neither), and the SOQL compiler's errors for a value
    of the wrong type or an operator the field does not take.
    """
    test = _Compiler(obj).condition(condition)

    def predicate(record: Record, now: datetime) -> bool:
        return test(record, now) is True

    return predicate


def where_fields(condition: Condition | None, obj: ObjectDef | None = None) -> tuple[str, ...]:
    """The fields ``condition`` names, in order of first mention, each once.

    With ``obj`` the names are the schema's spelling (a name ``obj`` lacks is kept as
    written); without, as written, paths dotted. Names compare case-insensitively.
    """
    seen: dict[str, str] = {}

    def visit(c: Condition) -> None:
        if isinstance(c, And | Or):
            for item in c.items:
                visit(item)
        elif isinstance(c, Not):
            visit(c.item)
        else:
            name = c.field.dotted
            f = obj.field(name) if obj is not None and not c.field.is_relationship else None
            shown = f.name if f is not None else name
            seen.setdefault(shown.lower(), shown)

    if condition is not None:
        visit(condition)
    return tuple(seen.values())


# -- values --------------------------------------------------------------------------


def _stored(f: FieldDef) -> Callable[[object], object]:
    """How a record's value of ``f`` is compared: numbers as Python numbers (Decimal
    from the database and float from a save compare equal), datetimes aware UTC."""
    t = f.type
    if t.is_number:

        def number(v: object) -> object:
            return float(v) if isinstance(v, Decimal) else v

        return number
    if t is FieldType.DATETIME:

        def instant(v: object) -> object:
            if isinstance(v, datetime):
                return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
            return v

        return instant
    if t is FieldType.DATE:

        def day(v: object) -> object:
            return v.date() if isinstance(v, datetime) else v

        return day
    return lambda v: v


def _fold(v: object) -> object:
    return v.lower() if isinstance(v, str) else v


@lru_cache(maxsize=256)
def _bounds(op: ComparisonOp, lit: DateLiteral, today: date) -> DateBounds:
    return date_literal_bounds(op, lit, today=today)


def _like(pattern: str) -> re.Pattern[str]:
    """SQL's ``LIKE ... ESCAPE '\\'`` as a regular expression: ``%`` any run of
    characters, ``_`` one character, a backslash makes the next one literal."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


# -- compiling -------------------------------------------------------------------------


class _Compiler:
    def __init__(self, obj: ObjectDef) -> None:
        self.obj = obj

    def condition(self, c: Condition) -> _Test:
        if isinstance(c, And):
            return _all([self.condition(i) for i in c.items])
        if isinstance(c, Or):
            return _any([self.condition(i) for i in c.items])
        if isinstance(c, Not):
            inner = self.condition(c.item)

            def negated(r: Record, now: datetime) -> bool | None:
                v = inner(r, now)
                return None if v is None else not v

            return negated
        if isinstance(c, Includes):
            return self._includes(c)
        if isinstance(c, InList):
            return self._in_list(c)
        return self._comparison(c)

    def _field(self, path: FieldPath) -> FieldDef:
        if path.is_relationship:
            raise InvalidFieldError(
                f"relationships are not supported: {path.dotted}", fields=[path.dotted]
            )
        f = self.obj.field(path.parts[0])
        if f is None:
            raise InvalidFieldError(
                f"No such column '{path.dotted}' on entity '{self.obj.name}'",
                fields=[path.dotted],
            )
        if f.calculated:
            raise InvalidFieldError(
                f"formula field {f.name} cannot be used in WHERE", fields=[f.name]
            )
        return f

    def _comparison(self, c: Comparison) -> _Test:
        f = self._field(c.field)
        name, stored = f.name, _stored(f)
        if isinstance(c.value, NullValue):
            if c.op == "=":
                return lambda r, now: r.get(name) is None
            return lambda r, now: r.get(name) is not None
        if isinstance(c.value, DateLiteral):
            return self._date_literal(c, f, c.value)
        value = self._value(f, c.value, c.field)
        if c.op == "LIKE":
            if not f.type.is_text and f.type not in (FieldType.ID, FieldType.REFERENCE):
                raise InvalidQueryFilterOperatorError(
                    f"invalid operator on {f.type.value} field {c.field.dotted}"
                )
            regex = _like(str(value).lower())

            def like(r: Record, now: datetime) -> bool | None:
                v = r.get(name)
                return None if v is None else regex.fullmatch(str(v).lower()) is not None

            return like
        fold = _fold if f.type.is_text else (lambda v: v)
        target = fold(value)
        if c.op == "!=":

            def differs(r: Record, now: datetime) -> bool | None:
                v = r.get(name)
                return v is None or fold(stored(v)) != target

            return differs
        compare = _ORDERED[c.op]

        def compared(r: Record, now: datetime) -> bool | None:
            v = r.get(name)
            if v is None:
                return None
            try:
                return compare(fold(stored(v)), target)
            except TypeError:  # a value of another type than the field's: no match
                return False

        return compared

    def _date_literal(self, c: Comparison, f: FieldDef, lit: DateLiteral) -> _Test:
        if f.type not in (FieldType.DATE, FieldType.DATETIME):
            raise InvalidQueryFilterOperatorError(
                f"value of type date literal is not valid for {f.type.value} field {c.field.dotted}"
            )
        if c.op == "LIKE":
            raise InvalidQueryFilterOperatorError("LIKE cannot be used with a date literal")
        name, stored, op = f.name, _stored(f), c.op
        as_instants = f.type is FieldType.DATETIME

        def within(r: Record, now: datetime) -> bool | None:
            bounds = _bounds(op, lit, soql_today(now))
            v = r.get(name)
            if v is None:
                return bounds.negated  # SQL: outside (!=) also holds for null
            lower: object
            upper: object
            lower, upper = bounds.instants(UTC) if as_instants else (bounds.lower, bounds.upper)
            x = stored(v)
            inside = (lower is None or _ge(x, lower)) and (upper is None or _lt(x, upper))
            return inside != bounds.negated

        return within

    def _in_list(self, c: InList) -> _Test:
        f = self._field(c.field)
        name, stored = f.name, _stored(f)
        fold = _fold if f.type.is_text else (lambda v: v)
        values = [v for v in c.values if not isinstance(v, NullValue)]
        has_null = len(values) != len(c.values)
        wanted = frozenset(fold(self._value(f, v, c.field)) for v in values)
        negated = c.negated

        def member(r: Record, now: datetime) -> bool | None:
            v = r.get(name)
            if v is None:
                # SQL: null IN (...) is unknown, made true by a null in the list; NOT IN
                # is written so that it holds for null unless the list has null.
                if negated:
                    return not has_null
                return True if has_null else None
            inside = fold(stored(v)) in wanted
            return not inside if negated else inside

        return member

    def _includes(self, c: Includes) -> _Test:
        f = self._field(c.field)
        if f.type is not FieldType.MULTIPICKLIST:
            raise InvalidQueryFilterOperatorError(
                "INCLUDES and EXCLUDES only apply to multi-select picklist fields"
            )
        name = f.name
        alternatives = [frozenset(v.lower() for v in s) for s in c.value_sets if s]
        negated = c.negated

        def includes(r: Record, now: datetime) -> bool | None:
            v = r.get(name)
            if v is None:
                return negated
            chosen = set(str(v).lower().split(";"))
            hit = any(alt <= chosen for alt in alternatives)
            return not hit if negated else hit

        return includes

    def _value(self, f: FieldDef, v: Value, path: FieldPath) -> object:
        """The literal as the field's values are compared (what the SQL compiler binds)."""
        t = f.type
        if t in (FieldType.ID, FieldType.REFERENCE) and isinstance(v, StringValue):
            try:
                return normalize_id(v.value)
            except MalformedIdError:
                raise InvalidQueryFilterOperatorError(f"invalid ID field: {v.value}") from None
        if t.is_text and isinstance(v, StringValue):
            return v.value
        if t is FieldType.TIME and isinstance(v, StringValue):
            try:
                return parse_time(v.value)
            except ValueError:
                pass
        if t is FieldType.BOOLEAN and isinstance(v, BooleanValue):
            return v.value
        if t.is_number and isinstance(v, NumberValue):
            return int(v.value) if t is FieldType.INT and v.is_integer else float(v.value)
        if t is FieldType.DATE and isinstance(v, DateValue):
            return v.value
        if t is FieldType.DATETIME and isinstance(v, DateTimeValue):
            return v.value.astimezone(UTC)
        shown = type(v).__name__.removesuffix("Value").lower()
        raise MalformedQueryError(
            f"value of type {shown} is not valid for {t.value} field {path.dotted}",
            line=v.line or None,
            column=v.column or None,
        )


def _lt(a: object, b: object) -> bool:
    return a < b  # type: ignore[operator,no-any-return]


def _le(a: object, b: object) -> bool:
    return a <= b  # type: ignore[operator,no-any-return]


def _gt(a: object, b: object) -> bool:
    return a > b  # type: ignore[operator,no-any-return]


def _ge(a: object, b: object) -> bool:
    return a >= b  # type: ignore[operator,no-any-return]


def _eq(a: object, b: object) -> bool:
    return a == b


_ORDERED: dict[str, Callable[[object, object], bool]] = {
    "=": _eq,
    "<": _lt,
    "<=": _le,
    ">": _gt,
    ">=": _ge,
}


def _all(tests: list[_Test]) -> _Test:
    def conjunction(r: Record, now: datetime) -> bool | None:
        unknown = False
        for t in tests:
            v = t(r, now)
            if v is False:
                return False
            if v is None:
                unknown = True
        return None if unknown else True

    return conjunction


def _any(tests: list[_Test]) -> _Test:
    def disjunction(r: Record, now: datetime) -> bool | None:
        unknown = False
        for t in tests:
            v = t(r, now)
            if v is True:
                return True
            if v is None:
                unknown = True
        return None if unknown else False

    return disjunction
