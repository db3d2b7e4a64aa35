""":mod:`~workroute.lang.formula.ast` -> canonical formula text.

``parse_formula(to_formula(tree)) == tree`` for every tree the parser can build. The
canonical form: function names as stored (upper case), ``TRUE``/``FALSE``/``NULL``,
strings in double quotes, numbers in plain positional notation with the scale as stored
(``1.50``), one space around binary operators, ``", "`` between arguments, canonical
operators (``=``, ``!=``, ``!`` for ``NOT``) and no comments.

Parentheses are the fewest the parser's precedence and left-associativity need, with
two deliberate exceptions where Salesforce's real behaviour is uncertain or differs
from its documentation, so that printed text means the same to Salesforce, to formulon
and to this parser:

* Exponentiation: an operand of ``^`` that is not an atom (literal, field or call) is
  always parenthesised (``(-2) ^ 2``, ``(a ^ b) ^ c``, ``a ^ (-1)``), and so is a ``^``
  that is an operand of ``*``, ``/`` or a unary operator (``a * (b ^ 2)``,
  ``-(2 ^ 2)``). Salesforce has been observed evaluating ``2*2^3`` as ``(2*2)^3`` (a
  long-standing known issue), and the relative order of ``^`` and unary minus is not
  documented.
* Comparisons: a comparison that is an operand of another comparison is always
  parenthesised (``(a = b) = c``); formulon groups chained comparisons to the right.

A ``NumberLit`` with a negative value (which the parser never builds: ``-1`` is a unary
minus) prints as a unary minus, so it keeps its meaning but parses back as ``Unary``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from workroute.lang.formula.ast import (
    Binary,
    BoolLit,
    Call,
    Expr,
    FieldRef,
    NullLit,
    NumberLit,
    TextLit,
    Unary,
)
from workroute.lang.formula.parser import BINARY_PRECEDENCE

__all__ = ["to_formula"]

_ATOM = 9
_UNARY = 8
_COMPARISON = 3
_UNARY_TEXT = {"-": "-", "+": "+", "NOT": "!"}
_FIRST_PART = re.compile(r"\$?[A-Za-z][A-Za-z0-9_]*")
_PART = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_KEYWORDS = frozenset({"TRUE", "FALSE", "NULL"})
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def to_formula(expr: Expr) -> str:
    """The canonical text of ``expr``.

    Raises :class:`ValueError` for a tree no formula text can express: a field
    reference whose parts are not names (or that is just ``TRUE``, ``FALSE`` or
    ``NULL``), a function name that is not a name, a number that is not finite, or an
    unknown operator.
    """
    return _print(expr)


def _precedence(expr: Expr) -> int:
    if isinstance(expr, Binary):
        return BINARY_PRECEDENCE[expr.op]
    if isinstance(expr, Unary):
        return _UNARY
    if isinstance(expr, NumberLit) and expr.value.is_signed():
        return _UNARY
    return _ATOM


def _print(expr: Expr) -> str:
    if isinstance(expr, Binary):
        return _binary(expr)
    if isinstance(expr, Call):
        if not _PART.fullmatch(expr.name):
            raise ValueError(f"not a function name: {expr.name!r}")
        return f"{expr.name}({', '.join(_print(arg) for arg in expr.args)})"
    if isinstance(expr, FieldRef):
        return _field(expr)
    if isinstance(expr, TextLit):
        return '"' + expr.value.translate(_STRING_ESCAPES) + '"'
    if isinstance(expr, NumberLit):
        return _number(expr.value)
    if isinstance(expr, Unary):
        op = _UNARY_TEXT.get(expr.op)
        if op is None:
            raise ValueError(f"unknown unary operator: {expr.op!r}")
        operand = expr.operand
        text = _print(operand)
        if _precedence(operand) < _UNARY:
            text = f"({text})"
        return op + text
    if isinstance(expr, BoolLit):
        return "TRUE" if expr.value else "FALSE"
    if isinstance(expr, NullLit):
        return "NULL"
    raise TypeError(f"not a formula expression: {expr!r}")


def _binary(expr: Binary) -> str:
    op = expr.op
    precedence = BINARY_PRECEDENCE.get(op)
    if precedence is None:
        raise ValueError(f"unknown binary operator: {op!r}")
    left, right = expr.left, expr.right
    left_precedence = _precedence(left)
    right_precedence = _precedence(right)
    left_text = _print(left)
    right_text = _print(right)
    if op == "^":
        left_parens = left_precedence < _ATOM
        right_parens = right_precedence < _ATOM
    else:
        left_parens = left_precedence < precedence
        right_parens = right_precedence <= precedence
        if op in ("*", "/"):
            left_parens = left_parens or _is_power(left)
            right_parens = right_parens or _is_power(right)
        elif precedence == _COMPARISON:
            left_parens = left_parens or left_precedence == _COMPARISON
    if left_parens:
        left_text = f"({left_text})"
    if right_parens:
        right_text = f"({right_text})"
    return f"{left_text} {op} {right_text}"


def _is_power(expr: Expr) -> bool:
    return isinstance(expr, Binary) and expr.op == "^"


def _field(expr: FieldRef) -> str:
    parts = expr.parts
    if (
        not parts
        or not _FIRST_PART.fullmatch(parts[0])
        or not all(_PART.fullmatch(part) for part in parts[1:])
        or (len(parts) == 1 and parts[0].upper() in _KEYWORDS)
    ):
        raise ValueError(f"not a printable field reference: {parts!r}")
    return ".".join(parts)


def _number(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    if value.is_signed():
        return "-" + format(value.copy_abs(), "f")
    return format(value, "f")
