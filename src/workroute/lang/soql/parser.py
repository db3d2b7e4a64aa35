"""SOQL text -> :class:`~workroute.lang.soql.ast.Query`.

One LALR(1) Lark parser, built on first use, whose callbacks build the AST while
parsing (no intermediate parse tree). Every syntax error is a
:class:`~workroute.kernel.errors.MalformedQueryError` carrying the line and column of
the offending token.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NoReturn, cast

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from workroute.kernel.errors import MalformedQueryError
from workroute.lang.soql.ast import (
    AGGREGATE_FUNCTIONS,
    Aggregate,
    And,
    BooleanValue,
    Comparison,
    ComparisonOp,
    Condition,
    DateLiteral,
    DateTimeValue,
    DateValue,
    FieldPath,
    FieldsFunction,
    FieldsKind,
    ForClause,
    Includes,
    InList,
    Not,
    NullsOrder,
    NullValue,
    NumberValue,
    Or,
    OrderItem,
    Query,
    SecurityMode,
    SelectItem,
    StringValue,
    Value,
)
from workroute.lang.soql.dates import FIXED_DATE_LITERALS, PARAMETERISED_DATE_LITERALS

__all__ = ["MAX_OFFSET", "RESERVED_WORDS", "parse_soql"]

MAX_OFFSET = 2000
"""Salesforce's largest OFFSET."""

_GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")

# Words that are keywords somewhere in the grammar. The contextual lexer reads a word
# as a keyword only where that keyword can stand, so nearly all of them still work as
# identifiers (`FROM Order`, a field named `Limit`); the exceptions are NOT as the first
# name of a field in a condition, TYPEOF as the first name of a selected field and
# FROM as an aggregate alias.
RESERVED_WORDS: frozenset[str] = frozenset(
    m.group(1)
    for m in re.finditer(r"^_?([A-Z_]+)\.2:", _GRAMMAR_PATH.read_text(), flags=re.MULTILINE)
)

_CACHEABLE_LENGTH = 4096


def parse_soql(text: str) -> Query:
    """Parse one SOQL query.

    Raises :class:`MalformedQueryError` (with ``line`` and ``column``) for any syntax
    error or unsupported construct. Results for short queries are memoised; the AST is
    immutable, so sharing it is safe.
    """
    if len(text) <= _CACHEABLE_LENGTH:
        return _parse_cached(text)
    return _parse(text)


@lru_cache(maxsize=512)
def _parse_cached(text: str) -> Query:
    return _parse(text)


def _parse(text: str) -> Query:
    if not text.strip():
        raise MalformedQueryError("empty query", line=1, column=1)
    try:
        return cast(Query, _parser().parse(text))
    except UnexpectedCharacters as e:
        raise _unexpected_characters(text, e) from None
    except UnexpectedToken as e:
        raise _unexpected_token(text, e) from None
    except UnexpectedInput as e:  # pragma: no cover - LALR raises the two above
        raise MalformedQueryError(str(e), line=e.line, column=e.column) from None


@cache
def _parser() -> Lark:
    return Lark(
        _GRAMMAR_PATH.read_text(),
        parser="lalr",
        lexer="contextual",
        transformer=_Builder(),
        maybe_placeholders=True,
    )


# --------------------------------------------------------------------------- errors


def _fail(message: str, tok: Token) -> NoReturn:
    raise MalformedQueryError(message, line=tok.line, column=tok.column)


# How expected terminals are shown, and in which order.
_DISPLAY: dict[str, str] = {
    "SELECT": "SELECT",
    "NAME": "identifier",
    "TYPEOF": "",
    "_FROM": "FROM",
    "_COMMA": "','",
    "COMP_OP": "comparison operator",
    "_LIKE": "LIKE",
    "_IN": "IN",
    "NOT": "NOT",
    "INCLUDES": "INCLUDES",
    "EXCLUDES": "EXCLUDES",
    "STRING": "string",
    "NUMBER": "number",
    "DATE": "date",
    "DATETIME": "dateTime",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "_LPAR": "'('",
    "_RPAR": "')'",
    "_AND": "AND",
    "_OR": "OR",
    "_USING": "USING SCOPE",
    "_SCOPE": "SCOPE",
    "_WHERE": "WHERE",
    "_WITH": "WITH",
    "SECURITY_ENFORCED": "SECURITY_ENFORCED",
    "USER_MODE": "USER_MODE",
    "SYSTEM_MODE": "SYSTEM_MODE",
    "_GROUP": "GROUP BY",
    "_ORDER": "ORDER BY",
    "_BY": "BY",
    "ASC": "ASC",
    "DESC": "DESC",
    "_NULLS": "NULLS FIRST|LAST",
    "FIRST": "FIRST",
    "LAST": "LAST",
    "_LIMIT": "LIMIT",
    "_OFFSET": "OFFSET",
    "_FOR": "FOR",
    "VIEW": "VIEW",
    "REFERENCE": "REFERENCE",
    "UPDATE": "UPDATE",
    "_WHEN": "WHEN",
    "_THEN": "THEN",
    "_ELSE": "ELSE",
    "_END": "END",
    "_COLON": "':'",
    "$END": "end of query",
}
_ORDER = {name: i for i, name in enumerate(_DISPLAY)}


def _expecting(expected: set[str]) -> str:
    names = set(expected)
    # Continuations of the previous token, listed only when nothing else is possible.
    quiet = {"_DOT", "_COLON"} if "NAME" in names else {"_DOT", "_COLON", "_LPAR"}
    if names - quiet:
        names -= quiet
    display = dict(_DISPLAY)
    if "STRING" in names:  # a value is expected; NAME would be a date literal
        display["NAME"] = "date literal"
    shown = [
        display.get(n, n.lstrip("_"))
        for n in sorted(names, key=lambda n: (_ORDER.get(n, len(_ORDER)), n))
    ]
    shown = [s for s in shown if s]
    if not shown:
        return ""
    if len(shown) == 1:
        return f"; expecting {shown[0]}"
    return "; expecting one of: " + ", ".join(shown)


def _end_position(text: str) -> tuple[int, int]:
    """Line and column just after the last non-blank character."""
    offset = len(text.rstrip())
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


_MISPLACED_KEYWORDS = frozenset(
    {"FROM", "WHERE", "AND", "OR", "NOT", "LIKE", "IN", "LIMIT", "OFFSET", "BY", "NULL"}
)
_SUBQUERY = re.compile(r"\(\s*select\b", re.IGNORECASE)


def _unexpected_token(text: str, e: UnexpectedToken) -> MalformedQueryError:
    tok: Token = e.token
    # ``accepts`` replays the parser and is exact; ``expected`` is the LALR state's set.
    expected: set[str] = set(e.accepts or e.expected)
    history = getattr(e, "token_history", None)
    previous: Token | None = history[-1] if history else None
    if previous is not None and previous.type == "NAME" and previous.upper() == "SELECT":
        return MalformedQueryError(
            "unexpected token: 'SELECT'; subqueries are not supported",
            line=previous.line,
            column=previous.column,
        )
    if tok.type == "$END":
        line, column = _end_position(text)
        return MalformedQueryError(
            "unexpected end of query" + _expecting(expected), line=line, column=column
        )
    if (
        previous is not None
        and previous.type == "NAME"
        and previous.upper() in _MISPLACED_KEYWORDS
        and tok.type != "_LPAR"
    ):
        # A keyword where it is not allowed reads as an identifier (`SELECT FROM x`,
        # `NOT NOT a = 1`); the real mistake is that word, not the token after it.
        return MalformedQueryError(
            f"unexpected token: '{previous}'", line=previous.line, column=previous.column
        )
    shown = f"unexpected token: '{tok.value}'"
    hint = _expecting(expected)
    upper = str(tok.value).upper()
    other = {"_AND": "_OR", "_OR": "_AND"}.get(tok.type)
    if other is not None and other in expected:
        hint = "; AND and OR cannot be mixed without parentheses"
    elif tok.type == "SELECT" or (
        tok.type == "_LPAR" and _SUBQUERY.match(text, tok.start_pos or 0)
    ):
        hint = "; subqueries are not supported"
    elif tok.type == "NAME" and upper in ("HAVING", "ROLLUP", "CUBE"):
        hint = f"; {upper} is not supported"
    elif tok.type == "NAME" and "_WHERE" in expected:
        hint += " (object aliases are not supported)"
    return MalformedQueryError(shown + hint, line=tok.line, column=tok.column)


def _unexpected_characters(text: str, e: UnexpectedCharacters) -> MalformedQueryError:
    char = e.char
    if char == "'":
        message = "unterminated string literal"
    elif char == '"':
        message = "unexpected character: '\"' (strings are enclosed in single quotes)"
    else:
        m = re.compile(r"[^\s,()']+").match(text, e.pos_in_stream or 0)
        word = m.group(0) if m else char
        # No "expecting" list: the lexer's set of allowed terminals is not exact.
        message = f"unexpected token: '{word}'"
    return MalformedQueryError(message, line=e.line, column=e.column)


# --------------------------------------------------------------------------- literals

_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


def _decode_string(tok: Token, *, pattern: bool = False) -> str:
    """The text of a quoted string token.

    Escapes are those of Salesforce's "Quoted String Escape Sequences": ``\\n \\r \\t
    \\b \\f`` (either case), ``\\" \\' \\\\``, ``\\uXXXX``, and in LIKE patterns only
    ``\\_`` and ``\\%``; any other backslash is an error. With ``pattern`` (a LIKE
    operand) ``\\%``, ``\\_`` and ``\\\\`` stay escaped so literal characters remain
    distinguishable from wildcards; a ``\\uXXXX`` that decodes to ``%``, ``_`` or ``\\``
    is escaped likewise.
    """
    body = str(tok.value)[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]  # the token regex guarantees a character after a backslash
        if e in "%_" and not pattern:
            _fail_in_string(tok, i, f"'\\{e}' is only allowed in LIKE patterns")
        if e == "u":
            digits = body[i + 2 : i + 6]
            if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                _fail_in_string(
                    tok, i, "invalid escape sequence: \\u must be followed by 4 hex digits"
                )
            char = chr(int(digits, 16))
            out.append("\\" + char if pattern and char in "%_\\" else char)
            i += 6
            continue
        if pattern and e in "%_\\":
            out.append("\\" + e)
        elif e in _ESCAPES:
            out.append(_ESCAPES[e])
        else:
            _fail_in_string(tok, i, f"invalid escape sequence: '\\{e}'")
        i += 2
    return "".join(out)


def _fail_in_string(tok: Token, index: int, message: str) -> NoReturn:
    """Fail at the character ``index`` of the string's body (after the quote)."""
    before = str(tok.value)[: index + 1]
    newlines = before.count("\n")
    if newlines:
        column = len(before) - before.rfind("\n")
    else:
        column = (tok.column or 1) + len(before)
    raise MalformedQueryError(message, line=(tok.line or 1) + newlines, column=column)


_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):?(\d{2}))",
    re.IGNORECASE,
)
_UNSIGNED_INT = re.compile(r"\d+")


def _parse_date(tok: Token) -> date:
    try:
        return date.fromisoformat(str(tok.value))
    except ValueError:
        _fail(f"invalid date: {tok.value}", tok)


def _parse_datetime(tok: Token) -> datetime:
    text = str(tok.value)
    m = _DATETIME.fullmatch(text)
    if m is None:
        _fail(
            f"invalid dateTime: {text} (expected YYYY-MM-DDThh:mm:ss[.sss] followed by Z, "
            "+hh:mm or -hh:mm)",
            tok,
        )
    year, month, day, hour, minute, second, frac, zone, sign, oh, om = m.groups()
    try:
        if zone.upper() == "Z":
            tz = UTC
        else:
            if int(om) >= 60:
                raise ValueError("bad offset")
            offset = timedelta(hours=int(oh), minutes=int(om))
            tz = timezone(-offset if sign == "-" else offset)
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((frac or "").ljust(6, "0")[:6]),
            tzinfo=tz,
        )
    except ValueError:
        _fail(f"invalid dateTime: {text}", tok)


def _unsigned_int(tok: Token, what: str) -> int:
    if not _UNSIGNED_INT.fullmatch(str(tok.value)):
        _fail(f"{what} must be a non-negative integer, not {tok.value}", tok)
    return int(tok.value)


def _at(tok: Token) -> dict[str, int]:
    return {"line": tok.line or 0, "column": tok.column or 0}


def _at_node(node: Any) -> dict[str, int]:
    return {"line": node.line, "column": node.column}


# --------------------------------------------------------------------------- builder

_Clause = tuple[str, Any]
_NULL_OPS = ("=", "!=")


@v_args(inline=True)
class _Builder(Transformer[Token, Any]):
    """Lark callbacks, one per grammar rule (or alias), building AST nodes."""

    # -- query -------------------------------------------------------------------

    def start(
        self, select: Token, items: tuple[SelectItem, ...], obj: Token, *clauses: _Clause
    ) -> Query:
        if len(items) > 1:
            for item in items:
                if isinstance(item, Aggregate) and item.field is None:
                    raise MalformedQueryError(
                        "COUNT() must be the only item in the SELECT list", **_at_node(item)
                    )
        parts: dict[str, Any] = dict(clauses)
        return Query(
            select=items,
            from_=str(obj.value),
            where=parts.get("where"),
            group_by=parts.get("group_by", ()),
            order_by=parts.get("order_by", ()),
            limit=parts.get("limit"),
            offset=parts.get("offset"),
            using_scope=parts.get("using_scope"),
            security=parts.get("security"),
            for_=parts.get("for"),
            line=select.line or 0,
            column=select.column or 0,
            from_line=obj.line or 0,
            from_column=obj.column or 0,
        )

    def select_list(self, *items: SelectItem) -> tuple[SelectItem, ...]:
        return items

    def field_path(self, *names: Token) -> FieldPath:
        return FieldPath(parts=tuple(str(n.value) for n in names), **_at(names[0]))

    def field_list(self, *paths: FieldPath) -> tuple[FieldPath, ...]:
        return paths

    def function_call(
        self, name: Token, arg: FieldPath | None, alias: Token | None
    ) -> Aggregate | FieldsFunction:
        func = str(name.value).upper()
        if func == "FIELDS":
            kind = arg.dotted.upper() if arg is not None else ""
            if kind not in ("ALL", "STANDARD", "CUSTOM"):
                _fail("FIELDS() takes ALL, STANDARD or CUSTOM", name)
            if alias is not None:
                _fail("FIELDS() cannot have an alias", alias)
            return FieldsFunction(kind=cast(FieldsKind, kind), **_at(name))
        if func not in AGGREGATE_FUNCTIONS:
            _fail(f"function {name.value}() is not supported", name)
        if arg is None and func != "COUNT":
            _fail(f"{func}() needs a field", name)
        if arg is None and alias is not None:
            _fail("COUNT() cannot have an alias", alias)
        return Aggregate(
            func=func,
            field=arg,
            alias=None if alias is None else str(alias.value),
            **_at(name),
        )

    def typeof_expr(self, typeof: Token, *_rest: object) -> NoReturn:
        _fail("TYPEOF is not supported", typeof)

    # -- optional clauses --------------------------------------------------------------

    def using_clause(self, scope: Token) -> _Clause:
        return ("using_scope", str(scope.value))

    def where_clause(self, condition: Condition) -> _Clause:
        return ("where", condition)

    def with_clause(self, mode: Token) -> _Clause:
        return ("security", cast(SecurityMode, mode.type))

    def group_clause(self, *fields: FieldPath) -> _Clause:
        return ("group_by", fields)

    def order_clause(self, *items: OrderItem) -> _Clause:
        return ("order_by", items)

    def order_item(
        self, field: FieldPath, direction: Token | None, nulls: NullsOrder | None
    ) -> OrderItem:
        return OrderItem(
            field=field,
            descending=direction is not None and direction.type == "DESC",
            nulls=nulls,
            **_at_node(field),
        )

    def nulls(self, which: Token) -> NullsOrder:
        return cast(NullsOrder, which.type)

    def limit_clause(self, n: Token) -> _Clause:
        return ("limit", _unsigned_int(n, "LIMIT"))

    def offset_clause(self, n: Token) -> _Clause:
        offset = _unsigned_int(n, "OFFSET")
        if offset > MAX_OFFSET:
            _fail(f"Maximum SOQL offset allowed is {MAX_OFFSET}", n)
        return ("offset", offset)

    def for_clause(self, what: Token) -> _Clause:
        return ("for", cast(ForClause, what.type))

    # -- conditions ----------------------------------------------------------------

    def and_cond(self, *items: Condition) -> And:
        return And(items=items, **_at_node(items[0]))

    def or_cond(self, *items: Condition) -> Or:
        return Or(items=items, **_at_node(items[0]))

    def not_cond(self, not_: Token, item: Condition) -> Not:
        return Not(item=item, **_at(not_))

    def group(self, condition: Condition) -> Condition:
        return condition

    def comparison(self, field: FieldPath, op: Token, value: Value) -> Comparison:
        sym = "!=" if op.value == "<>" else str(op.value)
        if isinstance(value, NullValue) and sym not in _NULL_OPS:
            _fail(f"null can only be compared with = or !=, not {op.value}", op)
        return Comparison(field=field, op=cast(ComparisonOp, sym), value=value, **_at_node(field))

    def like(self, field: FieldPath, pattern: Token) -> Comparison:
        value = StringValue(value=_decode_string(pattern, pattern=True), **_at(pattern))
        return Comparison(field=field, op="LIKE", value=value, **_at_node(field))

    def like_bind(self, field: FieldPath, bind: object) -> NoReturn:  # pragma: no cover
        raise AssertionError("bind() raises first")

    def in_list(self, field: FieldPath, not_: Token | None, values: list[Value]) -> InList:
        for value in values:
            if isinstance(value, DateLiteral):
                raise MalformedQueryError(
                    "date literals cannot be used in IN lists", **_at_node(value)
                )
        return InList(
            field=field, values=tuple(values), negated=not_ is not None, **_at_node(field)
        )

    def in_bind(self, *_args: object) -> NoReturn:  # pragma: no cover
        raise AssertionError("bind() raises first")

    def includes(self, field: FieldPath, which: Token, *strings: Token) -> Includes:
        return Includes(
            field=field,
            values=tuple(StringValue(value=_decode_string(s), **_at(s)) for s in strings),
            negated=which.type == "EXCLUDES",
            **_at_node(field),
        )

    # -- values ----------------------------------------------------------------------

    def value_list(self, *values: Value) -> list[Value]:
        return list(values)

    def string_value(self, tok: Token) -> StringValue:
        return StringValue(value=_decode_string(tok), **_at(tok))

    def number_value(self, tok: Token) -> NumberValue:
        return NumberValue(value=Decimal(str(tok.value)), **_at(tok))

    def date_value(self, tok: Token) -> DateValue:
        return DateValue(value=_parse_date(tok), **_at(tok))

    def datetime_value(self, tok: Token) -> DateTimeValue:
        return DateTimeValue(value=_parse_datetime(tok), **_at(tok))

    def true_value(self, tok: Token) -> BooleanValue:
        return BooleanValue(value=True, **_at(tok))

    def false_value(self, tok: Token) -> BooleanValue:
        return BooleanValue(value=False, **_at(tok))

    def null_value(self, tok: Token) -> NullValue:
        return NullValue(**_at(tok))

    def date_literal(self, name: Token, n: Token | None) -> DateLiteral:
        upper = str(name.value).upper()
        if upper in FIXED_DATE_LITERALS:
            if n is not None:
                _fail(f"date literal {upper} does not take a parameter", n)
            return DateLiteral(name=upper, **_at(name))
        if upper in PARAMETERISED_DATE_LITERALS:
            if n is None:
                _fail(f"date literal {upper} needs a parameter, as in {upper}:7", name)
            return DateLiteral(
                name=upper, n=_unsigned_int(n, f"the parameter of {upper}"), **_at(name)
            )
        if re.fullmatch(r"(LAST|NEXT|THIS)_\w+|N_\w+_AGO", upper):
            _fail(f"unknown date literal: {name.value}", name)
        _fail(
            f"unexpected token: '{name.value}'; expecting a value (string, number, date, "
            "dateTime, true, false, null or date literal)",
            name,
        )

    def bind(self, name: Token) -> NoReturn:
        _fail(f"bind variables are not supported (:{name.value})", name)
