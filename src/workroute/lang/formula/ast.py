"""The typed syntax tree of a Salesforce formula.

Frozen, slotted, keyword-only dataclasses. Every node carries the 1-based ``line`` and
``column`` and the 0-based ``offset`` of its first character; positions are excluded
from equality so trees that differ only in layout compare equal.

Conventions the parser guarantees and the checker relies on:

* Function names are upper case (``Call.name == "ISPICKVAL"``), whatever case was written.
* Operators are canonical: ``==`` becomes ``=``, ``<>`` becomes ``!=``, ``!`` becomes
  ``NOT``, ``&&`` and ``||`` stay as written (they are operators, unlike the AND()/OR()
  functions). Unary plus is kept (``Unary(op="+")``) so printing round-trips.
* A ``FieldRef`` holds the path as written (``("Account", "Owner", "Email")``); a global
  starts with its ``$`` name (``("$User", "Email")``). Names keep their case; resolution is
  case-insensitive and belongs to the checker.
* Numbers are ``Decimal`` (Salesforce computes in decimal), strings are decoded text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeAlias

BinaryOp: TypeAlias = Literal[
    "^", "*", "/", "+", "-", "&", "=", "!=", "<", "<=", ">", ">=", "&&", "||"
]
UnaryOp: TypeAlias = Literal["-", "+", "NOT"]


def _pos() -> int:
    return field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberLit:
    value: Decimal
    line: int = _pos()
    column: int = _pos()
    offset: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class TextLit:
    value: str
    line: int = _pos()
    column: int = _pos()
    offset: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class BoolLit:
    value: bool
    line: int = _pos()
    column: int = _pos()
    offset: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class NullLit:
    line: int = _pos()
    column: int = _pos()
    offset: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldRef:
    parts: tuple[str, ...]
    line: int = _pos()
    column: int = _pos()
    offset: int = _pos()

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)

    @property
    def is_global(self) -> bool:
        return self.parts[0].startswith("$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    line: int = _pos()
    column: int = _pos()
    offset: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class Unary:
    op: UnaryOp
    operand: Expr
    line: int = _pos()
    column: int = _pos()
    offset: int = _pos()


@dataclass(frozen=True, slots=True, kw_only=True)
class Binary:
    op: BinaryOp
    left: Expr
    right: Expr
    line: int = _pos()
    column: int = _pos()
    offset: int = _pos()


Expr: TypeAlias = NumberLit | TextLit | BoolLit | NullLit | FieldRef | Call | Unary | Binary
