"""Type checking: :func:`check` turns a syntax tree into a :class:`Typed` tree.

Names resolve through an :class:`Environment`: :class:`DictEnvironment` (a mapping of
names to types, for the CLI and tests) or :class:`SchemaEnvironment` (an object of a
:class:`~workroute.schema.registry.SchemaRegistry`, with relationship paths such as
``Account.Owner.Email`` and the globals ``$User``, ``$Organization``, ``$Profile``,
``$UserRole`` and ``$System.OriginDateTime``).

The checker rejects what Salesforce rejects, with Salesforce's wording and the
position of the offending node (see :mod:`.functions` for the message shapes):

* unknown fields: ``Field Foo__c does not exist. Check spelling.`` (ReferenceError)
* unknown functions: ``Unknown function FOO. Check spelling.`` (NoFunctionError)
* argument counts and types, operator operand types (ArgumentError, WrongTypeError)
* picklists outside ISPICKVAL, CASE, TEXT, ISBLANK, ISNULL, ISCHANGED and PRIORVALUE
  (multi-select picklists outside INCLUDES, ISBLANK, ISNULL, ISCHANGED, PRIORVALUE):
  ``Field Status is a picklist field. Picklist fields are only supported in certain
  functions.`` (WrongTypeError), also when a formula's result would be a picklist.

Numeric scale rules (the ``scale`` of each numeric node): a literal has its written
decimals; a field its declared scale (percent: + 2, the value being a fraction);
``+``/``-``, MOD, MAX, MIN, ABS, IF/CASE/BLANKVALUE branches take the largest scale;
``*`` the sum of both; ``^`` with a non-negative integer literal exponent ``n`` the
base's scale times ``n``; ROUND/TRUNC(x, n) ``min(scale(x), max(n, 0))``; CEILING,
FLOOR, MCEILING, MFLOOR, LEN, FIND, date parts and date - date are integers;
``/``, SQRT, LN, LOG, EXP, DISTANCE, VALUE and datetime - datetime are inexact
(``None``). Scales are exact upper bounds of the digits an exact result can have.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from decimal import Decimal
from typing import Protocol

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
from workroute.lang.formula.errors import (
    FormulaReferenceError,
    NoFunctionError,
    WrongTypeError,
)
from workroute.lang.formula.functions import (
    BOOLEAN_ARG,
    DATE_ARG,
    DATETIME_ARG,
    NUMBER_ARG,
    TEXT_ARG,
    CheckCall,
    illegal_argument,
    max_scale,
    registry,
    where,
    wrong_count,
    wrong_type,
)
from workroute.lang.formula.types import (
    CHECKBOX,
    DATE,
    DATETIME,
    INTEGER,
    NULL,
    NUMBER,
    TEXT,
    TIME,
    FieldBinding,
    FormulaType,
    Kind,
    Typed,
    type_for_field,
    type_from_name,
)
from workroute.schema.model import FieldDef, ObjectDef
from workroute.schema.registry import SchemaRegistry

__all__ = [
    "DictEnvironment",
    "Environment",
    "SchemaEnvironment",
    "check",
    "missing_field",
]

MAX_RELATIONSHIP_DEPTH = 10
"""Salesforce lets a formula span at most 10 relationships in one path."""


def missing_field(name: str) -> FormulaReferenceError:
    return FormulaReferenceError(f"Field {name} does not exist. Check spelling.")


class Environment(Protocol):
    """What names mean: resolves a field reference path to a :class:`FieldBinding`."""

    @property
    def cache_key(self) -> Hashable:
        """Identifies the environment in :class:`~.compiler.FormulaCache`."""
        ...

    def resolve(self, parts: tuple[str, ...]) -> FieldBinding:
        """The binding of ``parts`` (``("Account", "Name")``, ``("$User", "Email")``).

        Raises :class:`FormulaReferenceError` ("Field X does not exist. Check
        spelling.") when there is none; the checker adds the position.
        """
        ...


class DictEnvironment:
    """Names from a mapping of name to type (a :class:`FormulaType` or a type name).

    Lookup is case-insensitive; the mapping's spelling is the canonical key. A name
    starting with ``$`` is a global, a dotted name a related path, anything else a
    field of the record: ``DictEnvironment({"Amount": "currency",
    "Account.Name": "text", "$User.Email": "text"})``. ``$System.OriginDateTime``
    (the constant 1900-01-01T00:00:00Z) is always known.
    """

    def __init__(self, types: Mapping[str, FormulaType | str]) -> None:
        self._by_lower: dict[str, FieldBinding] = {}
        for name, t in types.items():
            ftype = t if isinstance(t, FormulaType) else type_from_name(t)
            if name.startswith("$"):
                binding = FieldBinding("global", name, ftype)
            elif "." in name:
                binding = FieldBinding("related", name, ftype)
            else:
                binding = FieldBinding("record", name, ftype)
            self._by_lower[name.lower()] = binding
        self._key: Hashable = _Key(
            ("dict", *sorted((b.key, b.type) for b in self._by_lower.values()))
        )

    @property
    def cache_key(self) -> Hashable:
        return self._key

    def resolve(self, parts: tuple[str, ...]) -> FieldBinding:
        name = ".".join(parts)
        binding = self._by_lower.get(name.lower())
        if binding is None:
            if name.lower() == ORIGIN_DATETIME_KEY.lower():
                return ORIGIN_DATETIME
            raise missing_field(name)
        return binding


class _Key:
    """A hashable cache key whose hash is computed once."""

    __slots__ = ("_hash", "parts")

    def __init__(self, parts: tuple[Hashable, ...]) -> None:
        self.parts = parts
        self._hash = hash(parts)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self._hash == other._hash and self.parts == other.parts


_GLOBAL_OBJECTS = {
    "$user": "User",
    "$organization": "Organization",
    "$profile": "Profile",
    "$userrole": "UserRole",
}
ORIGIN_DATETIME_KEY = "$System.OriginDateTime"
ORIGIN_DATETIME = FieldBinding("global", ORIGIN_DATETIME_KEY, DATETIME)
"""``$System.OriginDateTime``, the constant 1900-01-01T00:00:00Z."""


class SchemaEnvironment:
    """Names of ``object_name``'s fields in ``schema``, with relationship paths.

    ``Account.Owner.Email`` follows the reference fields whose relationship names are
    ``Account`` and ``Owner`` (custom ones are ``Custom__r``). A polymorphic
    reference (``Owner`` is a User or a Group) resolves against User when it can,
    else against the first target object that has the next name. Globals:
    ``$User.*`` (User fields, and paths from User such as ``$User.Profile.Name``),
    ``$Organization.*``, ``$Profile.*``, ``$UserRole.*`` and
    ``$System.OriginDateTime``.
    """

    def __init__(self, schema: SchemaRegistry, object_name: str) -> None:
        self.schema = schema
        self.object = schema.get(object_name)

    @property
    def cache_key(self) -> Hashable:
        return ("schema", id(self.schema), self.object.key)

    def resolve(self, parts: tuple[str, ...]) -> FieldBinding:
        dotted = ".".join(parts)
        if parts[0].startswith("$"):
            return self._global(parts, dotted)
        obj, hops, names = self._walk(self.object, parts[:-1], dotted)
        field = obj.field(parts[-1])
        if field is None:
            raise missing_field(dotted)
        ftype = type_for_field(field)
        if not hops:
            return FieldBinding("record", field.name, ftype, object_name=obj.name)
        key = ".".join((*names, field.name))
        return FieldBinding("related", key, ftype, tuple(hops), obj.name)

    def _global(self, parts: tuple[str, ...], dotted: str) -> FieldBinding:
        head = parts[0].lower()
        if dotted.lower() == ORIGIN_DATETIME_KEY.lower():
            return ORIGIN_DATETIME
        object_name = _GLOBAL_OBJECTS.get(head)
        root = self.schema.find(object_name) if object_name else None
        if root is None or len(parts) < 2:
            raise missing_field(dotted)
        obj, hops, names = self._walk(root, parts[1:-1], dotted)
        field = obj.field(parts[-1])
        if field is None:
            raise missing_field(dotted)
        key = ".".join((_canonical_global(head), *names, field.name))
        return FieldBinding("global", key, type_for_field(field), tuple(hops), obj.name)

    def _walk(
        self, obj: ObjectDef, relationships: Iterable[str], dotted: str
    ) -> tuple[ObjectDef, list[tuple[str, str]], list[str]]:
        hops: list[tuple[str, str]] = []
        names: list[str] = []
        rels = list(relationships)
        if len(rels) > MAX_RELATIONSHIP_DEPTH:
            raise missing_field(dotted)
        for i, rel in enumerate(rels):
            ref = obj.relationship(rel)
            if ref is None or not ref.reference_to or ref.relationship_name is None:
                raise missing_field(dotted)
            following = rels[i + 1] if i + 1 < len(rels) else None
            target = self._target(ref, following, dotted.rsplit(".", 1)[-1])
            if target is None:
                raise missing_field(dotted)
            hops.append((ref.name, target.name))
            names.append(ref.relationship_name)
            obj = target
        return obj, hops, names

    def _target(self, ref: FieldDef, following: str | None, last: str) -> ObjectDef | None:
        candidates = [n for n in ref.reference_to if n == "User"]
        candidates += [n for n in ref.reference_to if n != "User"]
        objects = [o for o in (self.schema.find(n) for n in candidates) if o is not None]
        for obj in objects:
            if following is None:
                if obj.field(last) is not None:
                    return obj
            elif obj.relationship(following) is not None:
                return obj
        return objects[0] if objects else None


def _canonical_global(head: str) -> str:
    return {
        "$user": "$User",
        "$organization": "$Organization",
        "$profile": "$Profile",
        "$userrole": "$UserRole",
    }[head]


# ------------------------------------------------------------------------ checker


def check(expr: Expr, env: Environment) -> Typed:
    """Type-check ``expr``; every node of the result carries its type.

    Raises a located :class:`~workroute.lang.formula.errors.FormulaError` subclass
    for anything Salesforce would reject. A formula whose result would be a picklist
    is rejected too (a formula cannot return a picklist).
    """
    typed = _visit(expr, env)
    if typed.type.is_picklist:
        raise picklist_error(typed)
    return typed


def _number_scale(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _visit(expr: Expr, env: Environment) -> Typed:
    if isinstance(expr, NumberLit):
        return Typed(expr, FormulaType(Kind.NUMBER, scale=_number_scale(expr.value)))
    if isinstance(expr, TextLit):
        return Typed(expr, FormulaType(Kind.TEXT, length=len(expr.value)))
    if isinstance(expr, BoolLit):
        return Typed(expr, CHECKBOX)
    if isinstance(expr, NullLit):
        return Typed(expr, NULL)
    if isinstance(expr, FieldRef):
        try:
            binding = env.resolve(expr.parts)
        except FormulaReferenceError as exc:
            raise FormulaReferenceError(exc.message, **where(expr)) from None
        return Typed(expr, binding.type, binding=binding)
    if isinstance(expr, Call):
        return _call(expr, env)
    if isinstance(expr, Unary):
        return _unary(expr, env)
    return _binary(expr, env)


def picklist_error(typed: Typed) -> WrongTypeError:
    """``Field X is a picklist field. Picklist fields are only supported in certain
    functions.`` (or the multi-select wording), at the field."""
    inner = typed
    while not isinstance(inner.node, FieldRef) and inner.args:
        inner = inner.args[0]
    node = inner.node
    name = node.dotted if isinstance(node, FieldRef) else "?"
    if typed.type.kind is Kind.MULTIPICKLIST:
        message = (
            f"Field {name} is a multi-select picklist field. Multi-select picklist fields "
            "are only supported in certain functions."
        )
    else:
        message = (
            f"Field {name} is a picklist field. Picklist fields are only supported in "
            "certain functions."
        )
    return WrongTypeError(message, **where(node))


def _call(expr: Call, env: Environment) -> Typed:
    args = tuple(_visit(a, env) for a in expr.args)
    spec = registry().get(expr.name)
    if spec is None:
        raise NoFunctionError(f"Unknown function {expr.name}. Check spelling.", **where(expr))
    what = f"function '{expr.name}()'"
    n = len(args)
    if n < spec.min_args:
        raise wrong_count(what, spec.min_args, n, expr)
    if spec.max_args is not None and n > spec.max_args:
        raise wrong_count(what, spec.max_args, n, expr)
    for i, a in enumerate(args):
        kind = a.type.kind
        if (kind is Kind.PICKLIST and i not in spec.picklist_args) or (
            kind is Kind.MULTIPICKLIST and i not in spec.multipicklist_args
        ):
            raise picklist_error(a)
    result = spec.check(CheckCall(expr, args))
    return Typed(expr, result, args, function=expr.name)


def _no_picklists(*operands: Typed) -> None:
    for operand in operands:
        if operand.type.is_picklist:
            raise picklist_error(operand)


def _unary(expr: Unary, env: Environment) -> Typed:
    operand = _visit(expr.operand, env)
    _no_picklists(operand)
    t = operand.type
    if expr.op == "NOT":
        if t not in BOOLEAN_ARG:
            raise wrong_type("operator '!'", [BOOLEAN_ARG.label], t, operand.node)
        return Typed(expr, CHECKBOX, (operand,))
    if not t.is_number:
        raise wrong_type(f"operator '{expr.op}'", [NUMBER_ARG.label], t, operand.node)
    return Typed(expr, NUMBER.with_scale(t.scale), (operand,))


_ADDITIVE_LABELS = [NUMBER_ARG.label, DATE_ARG.label, DATETIME_ARG.label]


def _binary(expr: Binary, env: Environment) -> Typed:
    left = _visit(expr.left, env)
    right = _visit(expr.right, env)
    _no_picklists(left, right)
    op = expr.op
    result = _binary_type(op, left, right, expr)
    return Typed(expr, result, (left, right))


def _binary_type(op: str, left: Typed, right: Typed, expr: Binary) -> FormulaType:
    lt, rt = left.type, right.type
    what = f"operator '{op}'"
    if op in ("+", "-"):
        return _additive(op == "+", left, right, what)
    if op in ("*", "/", "^"):
        for side in (left, right):
            if side.type not in NUMBER_ARG:
                raise wrong_type(what, [NUMBER_ARG.label], side.type, side.node)
        if op == "*":
            return NUMBER.with_scale(_product_scale(lt, rt))
        if op == "^":
            return NUMBER.with_scale(_power_scale(lt, right))
        return NUMBER
    if op == "&":
        for side in (left, right):
            if side.type not in TEXT_ARG:
                raise wrong_type(what, [TEXT_ARG.label], side.type, side.node)
        return TEXT
    if op in ("&&", "||"):
        for side in (left, right):
            if side.type not in BOOLEAN_ARG:
                raise wrong_type(what, [BOOLEAN_ARG.label], side.type, side.node)
        return CHECKBOX
    if lt.kind is Kind.GEOLOCATION or rt.kind is Kind.GEOLOCATION:
        raise illegal_argument(what, expr)
    if op in ("=", "!="):
        if not (lt.is_null or rt.is_null or lt.base is rt.base):
            raise wrong_type(what, [lt.label], rt, right.node)
        return CHECKBOX
    # < <= > >=
    if not (lt.is_null or rt.is_null or lt.base is rt.base):
        raise wrong_type(what, [lt.label], rt, right.node)
    for side in (left, right):
        t = side.type
        if not (t.is_null or t.is_number or t.is_text) and t.kind not in (
            Kind.DATE,
            Kind.DATETIME,
            Kind.TIME,
        ):
            raise wrong_type(what, _ADDITIVE_LABELS, t, side.node)
    return CHECKBOX


def _product_scale(a: FormulaType, b: FormulaType) -> int | None:
    if a.is_null:
        return b.scale
    if b.is_null:
        return a.scale
    if a.scale is None or b.scale is None:
        return None
    return a.scale + b.scale


def _power_scale(base: FormulaType, exponent: Typed) -> int | None:
    node = exponent.node
    if (
        isinstance(node, NumberLit)
        and node.value == node.value.to_integral_value()
        and base.scale is not None
        and node.value <= 100
    ):
        return base.scale * int(node.value)
    return None


def _additive(add: bool, left: Typed, right: Typed, what: str) -> FormulaType:
    """Salesforce's OperatorAddOrSubtract type rules."""
    lt, rt = left.type, right.type
    if lt.is_null or rt.is_null:
        return NULL
    lk, rk = lt.base, rt.base
    invalid = left
    if lk is Kind.NUMBER:
        invalid = right
        if rk is Kind.NUMBER:
            return NUMBER.with_scale(max_scale(lt, rt))
        if rk in (Kind.DATE, Kind.DATETIME):
            if add:
                return DATE if rk is Kind.DATE else DATETIME
            raise wrong_type(what, [NUMBER_ARG.label], rt, right.node)
    elif lk is Kind.DATE:
        invalid = right
        if rk is Kind.NUMBER:
            return DATE
        if rk is Kind.DATE:
            if not add:
                return INTEGER
            raise wrong_type(what, [NUMBER_ARG.label], rt, right.node)
    elif lk is Kind.DATETIME:
        invalid = right
        if rk is Kind.NUMBER:
            return DATETIME
        if rk is Kind.DATETIME:
            if not add:
                return NUMBER
            raise wrong_type(what, [NUMBER_ARG.label], rt, right.node)
    elif lk is Kind.TIME:
        invalid = right
        if rk is Kind.NUMBER:
            return TIME
        if rk is Kind.TIME:
            if not add:
                return INTEGER
            raise illegal_argument(what, right.node)
    elif lk is Kind.TEXT and add:
        if rk is Kind.TEXT:
            return TEXT
        raise wrong_type(what, [TEXT_ARG.label], rt, right.node)
    raise wrong_type(what, _ADDITIVE_LABELS, invalid.type, invalid.node)
