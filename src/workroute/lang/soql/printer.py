"""AST -> canonical SOQL text.

:func:`to_soql` prints keywords in upper case, one space between tokens, ``!=`` for
``<>``, and parenthesises every AND/OR nested in another AND/OR or under NOT, so
``parse_soql(to_soql(q)) == q`` for every well-formed tree.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from workroute.lang.soql.ast import (
    And,
    BooleanValue,
    Comparison,
    Condition,
    DateLiteral,
    DateTimeValue,
    DateValue,
    FieldPath,
    FieldsFunction,
    InList,
    Not,
    NullValue,
    NumberValue,
    Or,
    OrderItem,
    Query,
    SelectItem,
    StringValue,
    Value,
)

__all__ = ["condition_to_soql", "to_soql", "value_to_soql"]

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

_STRING_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_STRING_SPECIAL = re.compile(r"[\\'\n\r\t\b\f]")
# In a LIKE pattern \%, \_ and \\ are kept; any other backslash is a literal one.
_PATTERN_SPECIAL = re.compile(r"\\[%_\\]|[\\'\n\r\t\b\f]")


def to_soql(query: Query) -> str:
    """Canonical SOQL for ``query``. Raises ValueError for an unprintable tree (an
    identifier that is not a SOQL name, an empty AND, a naive datetime ...)."""
    parts = ["SELECT", ", ".join(_select_item(i) for i in query.select)]
    if not query.select:
        raise ValueError("a query needs at least one SELECT item")
    parts += ["FROM", _ident(query.from_)]
    if query.using_scope is not None:
        parts += ["USING SCOPE", _ident(query.using_scope)]
    if query.where is not None:
        parts += ["WHERE", condition_to_soql(query.where)]
    if query.security is not None:
        parts += ["WITH", query.security]
    if query.group_by:
        parts += ["GROUP BY", ", ".join(_field(f) for f in query.group_by)]
    if query.order_by:
        parts += ["ORDER BY", ", ".join(_order_item(o) for o in query.order_by)]
    if query.limit is not None:
        parts += ["LIMIT", _count(query.limit)]
    if query.offset is not None:
        parts += ["OFFSET", _count(query.offset)]
    if query.for_ is not None:
        parts += ["FOR", query.for_]
    return " ".join(parts)


def condition_to_soql(cond: Condition) -> str:
    """A WHERE condition as SOQL (without the ``WHERE``)."""
    if isinstance(cond, And | Or):
        if len(cond.items) < 2:
            raise ValueError(f"{type(cond).__name__} needs at least two items")
        joiner = " AND " if isinstance(cond, And) else " OR "
        return joiner.join(_operand(i) for i in cond.items)
    if isinstance(cond, Not):
        return "NOT " + _operand(cond.item, under_not=True)
    field = _field(cond.field, not_keyword="NOT")
    if isinstance(cond, Comparison):
        if cond.op == "LIKE":
            if not isinstance(cond.value, StringValue):
                raise ValueError("LIKE needs a string pattern")
            return f"{field} LIKE {_quote(cond.value.value, pattern=True)}"
        return f"{field} {cond.op} {value_to_soql(cond.value)}"
    if isinstance(cond, InList):
        op = "NOT IN" if cond.negated else "IN"
        return f"{field} {op} ({_values(cond.values)})"
    op = "EXCLUDES" if cond.negated else "INCLUDES"
    return f"{field} {op} ({_values(cond.values)})"


def value_to_soql(value: Value) -> str:
    """A literal value as SOQL."""
    if isinstance(value, StringValue):
        return _quote(value.value, pattern=False)
    if isinstance(value, BooleanValue):
        return "true" if value.value else "false"
    if isinstance(value, NullValue):
        return "null"
    if isinstance(value, NumberValue):
        if not value.value.is_finite():
            raise ValueError(f"not a SOQL number: {value.value}")
        return format(value.value, "f")
    if isinstance(value, DateValue):
        return value.value.isoformat()
    if isinstance(value, DateTimeValue):
        return _datetime(value.value)
    if isinstance(value, DateLiteral):
        return value.name if value.n is None else f"{value.name}:{_count(value.n)}"
    raise TypeError(f"not a SOQL value: {value!r}")


# --------------------------------------------------------------------------- helpers


def _operand(cond: Condition, *, under_not: bool = False) -> str:
    # NOT binds tighter than AND/OR, so only NOT's own operand needs parentheses
    # around another NOT; AND/OR nested anywhere always get them.
    text = condition_to_soql(cond)
    nested = isinstance(cond, And | Or) or (under_not and isinstance(cond, Not))
    return f"({text})" if nested else text


def _values(values: tuple[Value, ...] | tuple[StringValue, ...]) -> str:
    if not values:
        raise ValueError("an IN / INCLUDES list needs at least one value")
    return ", ".join(value_to_soql(v) for v in values)


def _ident(name: str, *, not_keyword: str = "") -> str:
    """``name`` checked to be an identifier that reads back as one. Keywords are
    context-sensitive in the grammar: only ``not_keyword``, the one keyword that can
    stand where this identifier does, would be misread."""
    if not _IDENT.fullmatch(name) or name.upper() == not_keyword:
        raise ValueError(f"not a printable SOQL identifier here: {name!r}")
    return name


def _field(path: FieldPath, *, not_keyword: str = "") -> str:
    if not path.parts:
        raise ValueError("empty field path")
    first, *rest = path.parts
    return ".".join([_ident(first, not_keyword=not_keyword), *(_ident(p) for p in rest)])


def _select_item(item: SelectItem) -> str:
    if isinstance(item, FieldPath):
        return _field(item, not_keyword="TYPEOF")
    if isinstance(item, FieldsFunction):
        return f"FIELDS({item.kind})"
    if item.field is None and (item.func != "COUNT" or item.alias is not None):
        raise ValueError("only COUNT() may omit its field, and it takes no alias")
    inner = "" if item.field is None else _field(item.field)
    text = f"{item.func}({inner})"
    return text if item.alias is None else f"{text} {_ident(item.alias, not_keyword='FROM')}"


def _order_item(item: OrderItem) -> str:
    text = _field(item.field)
    if item.descending:
        text += " DESC"
    if item.nulls is not None:
        text += f" NULLS {item.nulls}"
    return text


def _count(n: int) -> str:
    if n < 0:
        raise ValueError(f"expected a non-negative integer, not {n}")
    return str(n)


def _quote(text: str, *, pattern: bool) -> str:
    def escape(m: re.Match[str]) -> str:
        s = m.group(0)
        return s if len(s) == 2 else _STRING_ESCAPES[s]

    special = _PATTERN_SPECIAL if pattern else _STRING_SPECIAL
    return "'" + special.sub(escape, text) + "'"


def _datetime(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("a SOQL dateTime must be timezone-aware")
    if offset % timedelta(minutes=1):
        # SOQL offsets are whole minutes; print such a value in UTC instead.
        value, offset = value.astimezone(UTC), timedelta(0)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.year < 1000:  # strftime does not zero-pad years everywhere
        text = f"{value.year:04d}" + text[text.index("-") :]
    if value.microsecond % 1000:
        text += f".{value.microsecond:06d}"
    elif value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    if not offset:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"
