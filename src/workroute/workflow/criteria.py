"""Rule criteria: criteriaItems (+ booleanFilter) compiled to plain Python predicates.

Nothing here evaluates user text: values are parsed by type once, at compile time, and
a criterion is a closure over the parsed values.

Salesforce's semantics, as the workflow rule editor documents them:

* comma-separated values mean OR (``equals "A,B"`` is A or B); a value in double
  quotes may contain commas (``"INR 20,000"``). For the negative operations
  (notEqual, notContain, excludes) every value must hold (none matches);
* an empty value tests for blank: ``equals ""`` is "is blank";
* text, picklist and id comparisons ignore case; contains/startsWith compare text;
* a blank field meets notEqual and notContain and nothing else;
* numbers may carry a currency code (``USD 100``) or symbol (``$10,000.00``) and
  thousands separators;
* dates are ``M/D/YYYY`` (the en_US form Setup stores), ``YYYY-MM-DD`` or relative
  (``TODAY``, ``LAST 7 DAYS``, ``NEXT 2 MONTHS``, ``3 DAYS AGO``, ``THIS MONTH``...),
  resolved against the clock's date in UTC; a dateTime field compares by its date;
* multi-select picklists: ``includes "A;B,C"`` is (A and B) or C; excludes is its
  negation.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from workroute.kernel.errors import InvalidFieldError
from workroute.lang.soql.ast import DateLiteral
from workroute.lang.soql.dates import resolve_date_literal
from workroute.metadata.workflow import (
    BooleanFilterError,
    FilterAnd,
    FilterExpr,
    FilterItem,
    FilterNot,
    FilterOperation,
    FilterOr,
    FilterRef,
    parse_boolean_filter_expr,
)
from workroute.schema.model import FieldDef, FieldType, ObjectDef
from workroute.schema.registry import SchemaRegistry
from workroute.store.related import ParentPath, parse_path


class CriteriaError(ValueError):
    """A criterion that cannot be compiled (reported at deploy time)."""


@dataclass(slots=True)  # not frozen: one is made per record per save, and that is slower
class Subject:
    """What criteria read for one record at one moment."""

    record: Mapping[str, object]
    parents: Mapping[str, object]
    user: Mapping[str, object]
    today: date


@dataclass(frozen=True, slots=True)
class Operand:
    """Where a criterion's field value comes from."""

    scope: str  # "record", "parent" or "user"
    key: str
    field: FieldDef

    def get(self, s: Subject) -> object:
        if self.scope == "record":
            return s.record.get(self.key)
        if self.scope == "parent":
            return s.parents.get(self.key)
        return s.user.get(self.key)


@dataclass(frozen=True, slots=True)
class ItemCheck:
    """One criterion's outcome, for ``explain``."""

    index: int
    field: str
    operation: str
    value: str | None
    actual: object
    met: bool


Test = Callable[[object, Subject], bool]


@dataclass(frozen=True, slots=True)
class Bound:
    """A number comparison a match needs: ``field`` above (>=) or below (<=) ``value``
    (strict comparisons give the same bound; the index only needs a superset)."""

    field: str
    above: bool
    value: Decimal


@dataclass(frozen=True, slots=True)
class CompiledItem:
    index: int
    item: FilterItem
    operand: Operand
    test: Test
    value_operand: Operand | None = None
    #: For a text equality against literal values: the :func:`equality_key` of every
    #: value the item accepts (it accepts nothing else), so rules can be indexed.
    equals_keys: frozenset[str] | None = None
    #: For a number comparison against literal values: the loosest bound it accepts.
    bound: Bound | None = None

    def check(self, s: Subject) -> ItemCheck:
        actual = self.operand.get(s)
        return ItemCheck(
            index=self.index,
            field=self.item.field,
            operation=self.item.operation.value,
            value=self.item.value if self.item.value_field is None else self.item.value_field,
            actual=actual,
            met=self.test(actual, s),
        )


@dataclass(frozen=True, slots=True)
class CompiledCriteria:
    items: tuple[CompiledItem, ...]
    expr: FilterExpr | None  # None: every item (AND)
    parent_paths: tuple[ParentPath, ...]
    record_fields: frozenset[str]
    uses_user: bool
    #: Whether ``s`` meets the criteria, without a per-item report (the save path).
    met: Callable[[Subject], bool] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "met", _predicate(self.items, self.expr))

    def met_given(self, index: int) -> Predicate | None:
        """The criteria for a subject already known to meet required item ``index``
        (the rule index looked its value up): the other items, or None when nothing
        is left to test. Outcomes are those of :attr:`met`, with one test fewer."""
        expr = self.expr
        rest: FilterExpr | None
        if expr is None:
            items = tuple(i for i in self.items if i.index != index)
            return _predicate(items, None) if items else None
        if isinstance(expr, FilterRef) and expr.n == index:
            return None
        if isinstance(expr, FilterAnd):
            operands = tuple(e for e in expr.operands if e != FilterRef(index))
            if len(operands) == len(expr.operands):
                return self.met
            if not operands:
                return None
            rest = operands[0] if len(operands) == 1 else FilterAnd(operands)
            return _filter_predicate(rest, [_item_predicate(i) for i in self.items])
        return self.met

    def evaluate(self, s: Subject) -> tuple[bool, list[ItemCheck]]:
        checks = [item.check(s) for item in self.items]
        if self.expr is None:
            return all(c.met for c in checks), checks
        return _eval_filter(self.expr, [c.met for c in checks]), checks


Predicate = Callable[[Subject], bool]


def _item_predicate(ci: CompiledItem) -> Predicate:
    key, test, keys = ci.operand.key, ci.test, ci.equals_keys
    if ci.operand.scope != "record":
        get = ci.operand.get
        return lambda s: test(get(s), s)
    if keys is not None:  # text equality: the index key says it all
        return lambda s: equality_key(s.record.get(key)) in keys
    return lambda s: test(s.record.get(key), s)


def _predicate(items: tuple[CompiledItem, ...], expr: FilterExpr | None) -> Predicate:
    """The criteria as one closure: short-circuit AND of the items, or the filter."""
    if expr is not None:
        return _filter_predicate(expr, [_item_predicate(i) for i in items])
    fns = tuple(_item_predicate(i) for i in items)
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        return lambda s: a(s) and b(s)
    if len(fns) == 3:
        a, b, c = fns
        return lambda s: a(s) and b(s) and c(s)
    return lambda s: all(f(s) for f in fns)


def _filter_predicate(expr: FilterExpr, fns: list[Predicate]) -> Predicate:
    if isinstance(expr, FilterRef):
        return fns[expr.n - 1]
    if isinstance(expr, FilterNot):
        inner = _filter_predicate(expr.operand, fns)
        return lambda s: not inner(s)
    parts = tuple(_filter_predicate(e, fns) for e in expr.operands)
    if isinstance(expr, FilterAnd):
        return lambda s: all(p(s) for p in parts)
    return lambda s: any(p(s) for p in parts)


def _eval_filter(expr: FilterExpr, met: list[bool]) -> bool:
    if isinstance(expr, FilterRef):
        return met[expr.n - 1]
    if isinstance(expr, FilterNot):
        return not _eval_filter(expr.operand, met)
    if isinstance(expr, FilterAnd):
        return all(_eval_filter(e, met) for e in expr.operands)
    assert isinstance(expr, FilterOr)
    return any(_eval_filter(e, met) for e in expr.operands)


# -- compiling ------------------------------------------------------------------------


def compile_criteria(
    schema: SchemaRegistry,
    obj: ObjectDef,
    items: tuple[FilterItem, ...],
    boolean_filter: str | None,
) -> CompiledCriteria:
    compiled = [compile_item(schema, obj, i + 1, item) for i, item in enumerate(items)]
    expr: FilterExpr | None = None
    if boolean_filter and boolean_filter.strip():
        try:
            expr = parse_boolean_filter_expr(boolean_filter)
        except BooleanFilterError as exc:
            raise CriteriaError(f"booleanFilter '{boolean_filter}' is not valid: {exc}") from None
        bad = [n for n in _refs(expr) if not 1 <= n <= len(items)]
        if bad:
            raise CriteriaError(
                f"booleanFilter '{boolean_filter}' references condition {bad[0]}; "
                f"the rule has {len(items)}"
            )
    operands = [c.operand for c in compiled]
    operands += [c.value_operand for c in compiled if c.value_operand is not None]
    paths = {op.key: parse_path(schema, obj, op.key) for op in operands if op.scope == "parent"}
    return CompiledCriteria(
        items=tuple(compiled),
        expr=expr,
        parent_paths=tuple(paths.values()),
        record_fields=frozenset(op.key for op in operands if op.scope == "record"),
        uses_user=any(op.scope == "user" for op in operands),
    )


def _refs(expr: FilterExpr) -> list[int]:
    if isinstance(expr, FilterRef):
        return [expr.n]
    if isinstance(expr, FilterNot):
        return _refs(expr.operand)
    return [n for e in expr.operands for n in _refs(e)]


def resolve_operand(schema: SchemaRegistry, obj: ObjectDef, path: str) -> Operand:
    """``Case.Status``, ``Status``, ``Case.Account.Name`` or ``User.ProfileId`` (the
    user whose change is being saved)."""
    parts = [p.strip() for p in path.split(".")]
    if len(parts) > 1 and parts[0].lower() == obj.name.lower():
        parts = parts[1:]
    if len(parts) == 1:
        f = obj.field(parts[0])
        if f is None:
            raise CriteriaError(f"{obj.name} has no field '{parts[0]}'")
        return Operand("record", f.name, f)
    if obj.relationship(parts[0]) is None and parts[0].lower() == "user" and len(parts) == 2:
        user = schema.get("User")
        f = user.field(parts[1])
        if f is None:
            raise CriteriaError(f"User has no field '{parts[1]}'")
        return Operand("user", f.name, f)
    try:
        pp = parse_path(schema, obj, ".".join(parts))
    except InvalidFieldError as exc:
        raise CriteriaError(str(exc)) from None
    return Operand("parent", pp.key, pp.field)


def compile_item(
    schema: SchemaRegistry, obj: ObjectDef, index: int, item: FilterItem
) -> CompiledItem:
    operand = resolve_operand(schema, obj, item.field)
    op = item.operation
    if op is FilterOperation.WITHIN:
        raise CriteriaError(
            f"'within' needs a Geolocation field; {item.field} is {operand.field.type.value}"
        )
    if item.value_field:
        other = resolve_operand(schema, obj, item.value_field)
        return CompiledItem(index, item, operand, _field_test(op, operand.field, other), other)
    test = _value_test(op, operand.field, item.value)
    return CompiledItem(
        index,
        item,
        operand,
        test,
        equals_keys=_equals_keys(op, operand, item.value),
        bound=_bound(op, operand, item.value),
    )


def _bound(op: FilterOperation, operand: Operand, raw: str | None) -> Bound | None:
    above = op in (FilterOperation.GREATER_THAN, FilterOperation.GREATER_OR_EQUAL)
    below = op in (FilterOperation.LESS_THAN, FilterOperation.LESS_OR_EQUAL)
    if not (above or below) or operand.scope != "record" or _kind(operand.field) != "number":
        return None
    values = split_values(raw)
    if "" in values:
        return None
    numbers = [_number(v) for v in values]
    # Values are ORed: the loosest one bounds every match.
    return Bound(operand.key, above, min(numbers) if above else max(numbers))


def _equals_keys(op: FilterOperation, operand: Operand, raw: str | None) -> frozenset[str] | None:
    if op is not FilterOperation.EQUALS or operand.scope != "record":
        return None
    if _kind(operand.field) != "text":
        return None
    values = split_values(raw)
    if "" in values:
        return None  # a blank value also accepts blank fields
    return frozenset(v.lower() for v in values)


def equality_key(value: object) -> str | None:
    """How a text equality criterion sees ``value``: None when blank."""
    if value is None or value == "":
        return None
    return value.lower() if type(value) is str else _text(value)


# -- typed values ---------------------------------------------------------------------

_Kind = str  # "bool", "number", "date", "multi", "text"


def _kind(f: FieldDef) -> _Kind:
    if f.type is FieldType.BOOLEAN:
        return "bool"
    if f.type.is_number:
        return "number"
    if f.type in (FieldType.DATE, FieldType.DATETIME):
        return "date"
    if f.type is FieldType.MULTIPICKLIST:
        return "multi"
    return "text"


def split_values(text: str | None) -> list[str]:
    """``A, "B,C" ,D`` -> ``["A", "B,C", "D"]``; blank -> ``[""]``."""
    if text is None or not text.strip():
        return [""]
    out: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf).strip())
    return out


_CURRENCY_RE = re.compile(r"^(?:[A-Za-z]{3}\s+|[$€£¥])")  # "USD 100" or "$100"
_US_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_RELATIVE_RE = re.compile(
    r"^(?:(?P<dir>LAST|NEXT)\s+(?P<n>\d+)\s+(?P<unit>DAYS|WEEKS|MONTHS|QUARTERS|YEARS)"
    r"|(?P<ago>\d+)\s+(?P<aunit>DAYS|WEEKS|MONTHS|QUARTERS|YEARS)\s+AGO"
    r"|(?P<fixed>TODAY|YESTERDAY|TOMORROW|(?:LAST|THIS|NEXT)\s+(?:WEEK|MONTH|QUARTER|YEAR)))$",
    re.IGNORECASE,
)


def _number(text: str) -> Decimal:
    cleaned = _CURRENCY_RE.sub("", text.strip()).replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise CriteriaError(f"'{text}' is not a number") from None
    if not value.is_finite():
        raise CriteriaError(f"'{text}' is not a number")
    return value


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise CriteriaError(f"'{text}' is not True or False")


DateRange = Callable[[date], tuple[date, date]]


def _date_range(text: str) -> DateRange:
    """A function of today giving the closed range of days ``text`` means."""
    t = text.strip()
    m = _US_DATE_RE.match(t)
    if m:
        try:
            d = date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        except ValueError:
            raise CriteriaError(f"'{text}' is not a date") from None
        return lambda _today: (d, d)
    try:
        d = date.fromisoformat(t[:10])
    except ValueError:
        pass
    else:
        return lambda _today: (d, d)
    r = _RELATIVE_RE.match(t)
    if r is None:
        raise CriteriaError(f"'{text}' is not a date (use M/D/YYYY, YYYY-MM-DD or TODAY...)")
    if r.group("fixed"):
        lit = DateLiteral(name="_".join(r.group("fixed").upper().split()))
    elif r.group("dir"):
        lit = DateLiteral(
            name=f"{r.group('dir').upper()}_N_{r.group('unit').upper()}", n=int(r.group("n"))
        )
    else:
        lit = DateLiteral(name=f"N_{r.group('aunit').upper()}_AGO", n=int(r.group("ago")))
    return lambda today: resolve_date_literal(lit, today=today)


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _as_number(value: object) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _blank(value: object) -> bool:
    return value is None or value == ""


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).lower()


_NEGATIVE = frozenset({FilterOperation.NOT_EQUAL, FilterOperation.NOT_CONTAIN})
_ORDER: dict[FilterOperation, Callable[[Any, Any], bool]] = {
    FilterOperation.LESS_THAN: operator.lt,
    FilterOperation.GREATER_THAN: operator.gt,
    FilterOperation.LESS_OR_EQUAL: operator.le,
    FilterOperation.GREATER_OR_EQUAL: operator.ge,
}


def _value_test(op: FilterOperation, f: FieldDef, raw: str | None) -> Test:
    kind = _kind(f)
    values = split_values(raw)
    blank_only = values == [""]
    if op in (FilterOperation.INCLUDES, FilterOperation.EXCLUDES):
        if kind != "multi":
            raise CriteriaError(f"'{op.value}' needs a multi-select picklist; {f.name} is not")
        wanted = [frozenset(p.strip().lower() for p in v.split(";") if p.strip()) for v in values]
        wanted = [w for w in wanted if w]

        def includes(actual: object, _s: Subject) -> bool:
            have = {p.strip().lower() for p in str(actual or "").split(";") if p.strip()}
            return any(w <= have for w in wanted)

        if op is FilterOperation.INCLUDES:
            return includes
        return lambda actual, s: not includes(actual, s)
    if op in (FilterOperation.CONTAINS, FilterOperation.NOT_CONTAIN, FilterOperation.STARTS_WITH):
        needles = [v.lower() for v in values if v]
        if op is FilterOperation.STARTS_WITH:
            prefixes = tuple(needles)  # str.startswith tries each
            return lambda a, _s: not _blank(a) and _text(a).startswith(prefixes)
        if op is FilterOperation.CONTAINS:
            if len(needles) == 1:
                needle = needles[0]
                return lambda a, _s: not _blank(a) and needle in _text(a)
            return lambda a, _s: not _blank(a) and any(n in _text(a) for n in needles)
        return lambda a, _s: _blank(a) or not any(n in _text(a) for n in needles)
    if op in (FilterOperation.EQUALS, FilterOperation.NOT_EQUAL) and blank_only:
        if op is FilterOperation.EQUALS:
            return lambda a, _s: _blank(a)
        return lambda a, _s: not _blank(a)
    present = [v for v in values if v != ""]
    wants_blank = len(present) != len(values)
    negative = op in _NEGATIVE
    one = _single_test(op, kind, f, present)

    def test(actual: object, s: Subject) -> bool:
        if _blank(actual):
            return not wants_blank if negative else wants_blank
        return one(actual, s)

    if kind == "number":
        return _with_float_path(op, present, test)
    return test


def _with_float_path(op: FilterOperation, present: list[str], test: Test) -> Test:
    """Stored numbers arrive as floats: compare them with the values' float twins
    instead of making a Decimal of each. A float compares with a decimal of at most 15
    significant digits exactly as the float's shortest repr (what ``_as_number``
    makes of it) does, so outcomes are the same; anything else takes ``test``."""
    twins: list[float] = []
    for v in present:
        d = _number(v)
        if len(d.as_tuple().digits) > 15:
            return test
        twins.append(float(d))
    fast: Callable[[float], bool]
    if op is FilterOperation.EQUALS:
        fast = twins.__contains__
    elif op is FilterOperation.NOT_EQUAL:
        return lambda a, s: (a not in twins) if type(a) is float and a == a else test(a, s)
    elif (order := _ORDER.get(op)) is None:
        return test
    elif len(twins) == 1:
        bound = twins[0]
        fast = lambda a: order(a, bound)  # noqa: E731
    else:
        fast = lambda a: any(order(a, t) for t in twins)  # noqa: E731
    return lambda a, s: fast(a) if type(a) is float and a == a else test(a, s)


def _single_test(op: FilterOperation, kind: _Kind, f: FieldDef, present: list[str]) -> Test:
    """The test for a non-blank actual value against the non-blank values."""
    negative = op in _NEGATIVE
    if kind == "date":
        ranges = [_date_range(v) for v in present]

        def date_test(actual: object, s: Subject) -> bool:
            d = _as_date(actual)
            if d is None:
                return negative
            hits = [_date_holds(op, d, *r(s.today)) for r in ranges]
            return all(hits) if negative else any(hits)

        return date_test
    convert: Callable[[object], object]
    parsed: list[object]
    if kind == "bool":
        parsed = [_bool(v) for v in present]
        convert = bool
    elif kind == "number":
        parsed = [_number(v) for v in present]
        convert = _as_number
    else:
        parsed = [v.lower() for v in present]
        convert = _text
    if op is FilterOperation.EQUALS:
        return lambda a, _s: convert(a) in parsed
    if op is FilterOperation.NOT_EQUAL:
        return lambda a, _s: convert(a) not in parsed
    order = _ORDER.get(op)
    if order is None:
        raise CriteriaError(f"'{op.value}' cannot be used with {f.name}")
    if kind == "bool":
        raise CriteriaError(f"'{op.value}' cannot be used with the checkbox {f.name}")

    def ordered(actual: object, _s: Subject) -> bool:
        a = convert(actual)
        if a is None:
            return False
        return any(order(a, p) for p in parsed)

    return ordered


def _date_holds(op: FilterOperation, d: date, first: date, last: date) -> bool:
    if op is FilterOperation.EQUALS:
        return first <= d <= last
    if op is FilterOperation.NOT_EQUAL:
        return not first <= d <= last
    if op is FilterOperation.LESS_THAN:
        return d < first
    if op is FilterOperation.LESS_OR_EQUAL:
        return d <= last
    if op is FilterOperation.GREATER_THAN:
        return d > last
    if op is FilterOperation.GREATER_OR_EQUAL:
        return d >= first
    raise CriteriaError(f"'{op.value}' cannot be used with a date field")


def _field_test(op: FilterOperation, f: FieldDef, other: Operand) -> Test:
    """Compare with another field's value (valueField)."""
    kind = _kind(f)
    convert: Callable[[object], object] = {
        "number": _as_number,
        "date": _as_date,
        "bool": lambda v: None if v is None else bool(v),
    }.get(kind, lambda v: None if _blank(v) else _text(v))

    def test(actual: object, s: Subject) -> bool:
        a, b = convert(actual), convert(other.get(s))
        if op is FilterOperation.EQUALS:
            return a == b
        if op is FilterOperation.NOT_EQUAL:
            return a != b
        if a is None or b is None:
            return op is FilterOperation.NOT_CONTAIN
        if op is FilterOperation.CONTAINS:
            return str(b) in str(a)
        if op is FilterOperation.NOT_CONTAIN:
            return str(b) not in str(a)
        if op is FilterOperation.STARTS_WITH:
            return str(a).startswith(str(b))
        order = _ORDER.get(op)
        if order is None:
            raise CriteriaError(f"'{op.value}' cannot compare two fields")
        return bool(order(a, b))

    return test


__all__ = [
    "Bound",
    "CompiledCriteria",
    "CompiledItem",
    "CriteriaError",
    "ItemCheck",
    "Operand",
    "Subject",
    "compile_criteria",
    "equality_key",
    "split_values",
]
