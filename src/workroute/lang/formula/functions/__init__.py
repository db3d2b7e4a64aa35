"""The formula function library: one :class:`FunctionSpec` per function.

A spec says how many arguments the function takes, which argument positions may be a
picklist or multi-select picklist, how to type-check a call (``check``, returning the
result type, raising Salesforce-worded errors) and how to compile a checked call into
a closure (``compile``). :func:`registry` maps upper-case names to specs; the specs
live in :mod:`.logical`, :mod:`.math`, :mod:`.text` and :mod:`.dates`.

Error wording follows Salesforce's formula engine:

* ``Incorrect parameter type for function 'IF()'. Expected Number, received Text``
  (:class:`WrongTypeError`, at the offending argument),
* ``Incorrect argument type for function 'ISBLANK()'.`` (:class:`WrongTypeError`, at
  the call: the argument's type is never allowed there),
* ``Incorrect number of parameters for function 'IF()'. Expected 3, received 2``
  (:class:`ArgumentError`, at the call),
* ``Incorrect parameter value for function 'DISTANCE()'. Expected 'mi'/'km',
  received 'yd'`` (:class:`ArgumentError`, at the argument).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from workroute.lang.formula.ast import Call, Expr, TextLit
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.errors import ArgumentError, WrongTypeError
from workroute.lang.formula.types import (
    NUMERIC_KINDS,
    TEXT_KINDS,
    FieldBinding,
    FormulaType,
    Kind,
    Typed,
)

__all__ = [
    "BOOLEAN_ARG",
    "DATETIME_ARG",
    "DATE_ARG",
    "LOCATION_ARG",
    "MULTIPICKLIST_ARG",
    "NUMBER_ARG",
    "PICKLIST_ARG",
    "TEXT_ARG",
    "TEXT_LITERAL_ARG",
    "TIME_ARG",
    "Accept",
    "CheckCall",
    "Code",
    "CompileCall",
    "Evaluator",
    "FunctionSpec",
    "illegal_argument",
    "max_scale",
    "registry",
    "unify",
    "where",
    "wrong_count",
    "wrong_type",
    "wrong_value",
]

Evaluator = Callable[[EvalContext], Any]


@dataclass(frozen=True, slots=True)
class Accept:
    """A set of kinds an argument may have, and its name in error messages."""

    label: str
    kinds: frozenset[Kind]

    def __contains__(self, ftype: object) -> bool:
        return isinstance(ftype, FormulaType) and (ftype.kind in self.kinds or ftype.is_null)


NUMBER_ARG = Accept("Number", frozenset(NUMERIC_KINDS))
TEXT_ARG = Accept("Text", frozenset(TEXT_KINDS))
BOOLEAN_ARG = Accept("Boolean", frozenset({Kind.CHECKBOX}))
DATE_ARG = Accept("Date", frozenset({Kind.DATE}))
DATETIME_ARG = Accept("DateTime", frozenset({Kind.DATETIME}))
TIME_ARG = Accept("Time", frozenset({Kind.TIME}))
LOCATION_ARG = Accept("Location", frozenset({Kind.GEOLOCATION}))
PICKLIST_ARG = Accept("Picklist", frozenset({Kind.PICKLIST}))
MULTIPICKLIST_ARG = Accept("MultiPicklist", frozenset({Kind.MULTIPICKLIST}))
TEXT_LITERAL_ARG = Accept("Text Literal", frozenset())


# ------------------------------------------------------------------------ errors


def where(node: Expr) -> dict[str, int]:
    return {"line": node.line, "column": node.column, "offset": node.offset}


def wrong_type(
    what: str, expected: Sequence[str], received: FormulaType | str, at: Expr
) -> WrongTypeError:
    """``Incorrect parameter type for <what>. Expected <..>, received <..>``.

    As Salesforce does, the received type is left out of the expected list.
    """
    got = received if isinstance(received, str) else received.label
    shown = [e for e in dict.fromkeys(expected) if e != got] or list(expected)
    return WrongTypeError(
        f"Incorrect parameter type for {what}. Expected {', '.join(shown)}, received {got}",
        **where(at),
    )


def illegal_argument(what: str, at: Expr) -> WrongTypeError:
    """``Incorrect argument type for <what>.``: a type the position never allows."""
    return WrongTypeError(f"Incorrect argument type for {what}.", **where(at))


def wrong_count(what: str, expected: int | str, received: int, at: Expr) -> ArgumentError:
    return ArgumentError(
        f"Incorrect number of parameters for {what}. Expected {expected}, received {received}",
        **where(at),
    )


def wrong_value(what: str, expected: str, received: str, at: Expr) -> ArgumentError:
    return ArgumentError(
        f"Incorrect parameter value for {what}. Expected {expected}, received {received}",
        **where(at),
    )


# ------------------------------------------------------------------ type helpers


def max_scale(*types: FormulaType) -> int | None:
    """The largest scale of numeric ``types`` (ignoring nulls); None if any is inexact."""
    scales = [t.scale for t in types if not t.is_null]
    if not scales or any(s is None for s in scales):
        return None if scales else 0
    return max(s for s in scales if s is not None)


def unify(a: FormulaType, b: FormulaType) -> FormulaType | None:
    """The common type of two branches (IF, CASE, BLANKVALUE), or None if none.

    Null unifies with anything; numbers with numbers (keeping the kind when both
    agree, and the larger scale); text-like with text-like.
    """
    if a.is_null:
        return b
    if b.is_null:
        return a
    if a.is_number and b.is_number:
        kind = a.kind if a.kind is b.kind else Kind.NUMBER
        return FormulaType(kind, scale=max_scale(a, b))
    if a.is_text and b.is_text:
        if a.kind is b.kind:
            length = None if a.length is None or b.length is None else max(a.length, b.length)
            return FormulaType(a.kind, length=length)
        return FormulaType(Kind.TEXT)
    if a.kind is b.kind:
        return a
    return None


# ------------------------------------------------------------------------- specs


@dataclass(slots=True)
class CheckCall:
    """A call being type-checked: its node and its checked arguments."""

    node: Call
    args: tuple[Typed, ...]

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def what(self) -> str:
        return f"function '{self.node.name}()'"

    def type(self, i: int) -> FormulaType:
        return self.args[i].type

    def require(self, i: int, *accepted: Accept) -> FormulaType:
        """The type of argument ``i``; a wrong-type error unless one of ``accepted``."""
        t = self.args[i].type
        if any(t in a for a in accepted):
            return t
        raise wrong_type(self.what, [a.label for a in accepted], t, self.args[i].node)

    def require_all(self, *accepted: Accept, start: int = 0) -> None:
        for i in range(start, len(self.args)):
            self.require(i, *accepted)

    def forbid(self, i: int, *accepted: Accept) -> FormulaType:
        """The type of argument ``i``; an illegal-argument error unless ``accepted``."""
        t = self.args[i].type
        if any(t in a for a in accepted):
            return t
        raise illegal_argument(self.what, self.node)

    def literal_text(self, i: int) -> str | None:
        node = self.args[i].node
        return node.value if isinstance(node, TextLit) else None

    def require_literal(self, i: int) -> str:
        """Argument ``i`` must be a text literal (ISPICKVAL, INCLUDES, CASE on picklists)."""
        value = self.literal_text(i)
        if value is None:
            arg = self.args[i]
            raise wrong_type(self.what, [TEXT_LITERAL_ARG.label], arg.type, arg.node)
        return value


@dataclass(slots=True)
class Code:
    """A compiled node: its closure, and its value when known at compile time."""

    fn: Evaluator
    const: bool = False
    value: Any = None
    record_key: str | None = None
    """Set when the node reads the record's own field ``record_key`` directly: the raw
    stored value (``None``, ``str``, ``bool``, ``date``...; numbers may be ``int`` or
    ``float``) can stand in for the value. Never set for percent, datetime or
    blank-as-zero numeric fields, whose reads convert the value."""


@dataclass(slots=True)
class CompileCall:
    """A checked call being compiled: its typed node and its compiled arguments."""

    typed: Typed
    codes: tuple[Code, ...]
    blank_as_zero: bool
    read_prior: Callable[[FieldBinding], Evaluator]
    """Compiles a reader of a field's prior value, or its current value on create
    (PRIORVALUE); stored values, without blank-as-zero."""

    @property
    def node(self) -> Call:
        node = self.typed.node
        assert isinstance(node, Call)
        return node

    @property
    def args(self) -> tuple[Typed, ...]:
        return self.typed.args

    @property
    def result(self) -> FormulaType:
        return self.typed.type

    @property
    def fns(self) -> tuple[Evaluator, ...]:
        return tuple(c.fn for c in self.codes)


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One formula function.

    ``max_args`` None means any number. ``pure`` functions of constant arguments
    are folded at compile time (NOW(), ISNEW()... are not pure).
    """

    name: str
    min_args: int
    max_args: int | None
    check: Callable[[CheckCall], FormulaType]
    compile: Callable[[CompileCall], Evaluator]
    picklist_args: frozenset[int] = field(default_factory=frozenset)
    multipicklist_args: frozenset[int] = field(default_factory=frozenset)
    pure: bool = True


@cache
def registry() -> Mapping[str, FunctionSpec]:
    """Every function by upper-case name."""
    from workroute.lang.formula.functions.dates import FUNCTIONS as DATE_FUNCTIONS
    from workroute.lang.formula.functions.logical import FUNCTIONS as LOGICAL_FUNCTIONS
    from workroute.lang.formula.functions.math import FUNCTIONS as MATH_FUNCTIONS
    from workroute.lang.formula.functions.text import FUNCTIONS as TEXT_FUNCTIONS

    specs: dict[str, FunctionSpec] = {}
    for group in (LOGICAL_FUNCTIONS, MATH_FUNCTIONS, TEXT_FUNCTIONS, DATE_FUNCTIONS):
        for spec in group:
            if spec.name in specs:  # pragma: no cover - a programming error
                raise ValueError(f"function {spec.name} defined twice")
            specs[spec.name] = spec
    return specs
