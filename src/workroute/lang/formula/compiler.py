"""Compile a checked formula into a tree of Python closures.

:func:`compile_formula` checks a formula against an environment and returns a
:class:`CompiledFormula`: call it with an :class:`~.context.EvalContext` to evaluate.
Names, types and function implementations are resolved once, at compile time;
evaluation is plain closure calls (no ``eval``/``exec``, no generated source).
Constant sub-expressions are folded. :class:`FormulaCache` memoises compiled
formulas by text, environment and options.

Evaluation semantics follow Salesforce's formula engine: numbers are ``Decimal``
with 39 significant digits, rounding half up; a null operand makes an arithmetic
result null (``blank_as_zero`` — "treat blank fields as zeroes" — reads blank
number, currency and percent fields as 0 instead); comparisons with a null operand
are null (three-valued logic; IF, AND and OR treat null as false); text is never
null (a blank text equals ``""``). Failures at run time (division by zero, SQRT(-1),
VALUE("abc"), DATE(2023, 2, 29)...) raise :class:`~.values.FormulaEvaluationError`,
which Salesforce shows as ``#Error!``.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, DecimalException
from typing import Any

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
from workroute.lang.formula.checker import ORIGIN_DATETIME_KEY, Environment, check
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.errors import WrongTypeError
from workroute.lang.formula.functions import Code, CompileCall, Evaluator, registry, where
from workroute.lang.formula.functions.logical import compile_not
from workroute.lang.formula.parser import parse_formula
from workroute.lang.formula.types import (
    NUMERIC_KINDS,
    FieldBinding,
    FormulaType,
    Kind,
    Typed,
)
from workroute.lang.formula.values import (
    DEC,
    MS_PER_DAY,
    ZERO,
    FormulaEvaluationError,
    evaluation_error,
    ms_to_time,
    sf_round,
    time_to_ms,
    to_decimal,
    to_utc,
)

__all__ = ["CompiledFormula", "FormulaCache", "compile_formula"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ORIGIN_DATETIME_VALUE = datetime(1900, 1, 1, tzinfo=UTC)
"""The value of ``$System.OriginDateTime``."""
_FOLD_CONTEXT = EvalContext(now=_EPOCH)


class CompiledFormula:
    """A formula ready to run: ``formula(ctx)`` evaluates it.

    ``result_type`` is the checked result type (with its scale). ``fields`` are the
    record's own fields it reads, ``prior_fields`` those it reads from the previous
    version (ISCHANGED, PRIORVALUE), ``related_paths`` the relationship paths and
    ``global_paths`` the globals whose values the caller must put in the context;
    ``paths`` is both. ``bindings`` maps each of those keys to its
    :class:`~.types.FieldBinding` (with the reference fields to follow).
    ``fn`` is the raw closure (``formula.fn(ctx)`` saves one call in hot loops).
    """

    __slots__ = (
        "bindings",
        "fields",
        "fn",
        "global_paths",
        "paths",
        "prior_fields",
        "related_paths",
        "result_type",
        "text",
        "typed",
    )

    def __init__(
        self,
        *,
        fn: Evaluator,
        typed: Typed,
        result_type: FormulaType,
        bindings: Mapping[str, FieldBinding],
        prior_fields: frozenset[str],
        text: str | None,
    ) -> None:
        self.fn = fn
        self.typed = typed
        self.result_type = result_type
        self.text = text
        self.bindings = dict(bindings)
        self.fields = frozenset(k for k, b in bindings.items() if b.source == "record")
        self.related_paths = frozenset(k for k, b in bindings.items() if b.source == "related")
        self.global_paths = frozenset(k for k, b in bindings.items() if b.source == "global")
        self.paths = self.related_paths | self.global_paths
        self.prior_fields = prior_fields

    def __call__(self, ctx: EvalContext) -> Any:
        return self.fn(ctx)

    def __repr__(self) -> str:
        return f"CompiledFormula({self.text!r}, result_type={self.result_type})"


def compile_formula(
    expr: Expr | str,
    env: Environment,
    *,
    blank_as_zero: bool = False,
    result_kind: Kind | None = None,
    result_scale: int | None = None,
    result_length: int | None = None,
) -> CompiledFormula:
    """Check and compile ``expr`` (a tree, or formula text to parse).

    ``blank_as_zero`` is the formula field option "Treat blank fields as zeroes".
    ``result_kind`` declares the result type of a formula field: the formula must
    produce it (numbers are interchangeable, as are text kinds), else
    ``Formula result is data type (Text), incompatible with expected data type
    (Number).``; numeric results are then rounded half up to ``result_scale`` at the
    very end, a percent result becomes its API value (0.1 gives 10), and text is cut
    to ``result_length``.
    """
    text = expr if isinstance(expr, str) else None
    tree = parse_formula(expr) if isinstance(expr, str) else expr
    typed = check(tree, env)
    compiler = _Compiler(blank_as_zero)
    code = compiler.code(typed)
    fn = code.fn
    result_type = typed.type
    if result_kind is not None:
        fn, result_type = _declared(fn, typed, result_kind, result_scale, result_length)
    return CompiledFormula(
        fn=fn,
        typed=typed,
        result_type=result_type,
        bindings=compiler.bindings,
        prior_fields=frozenset(compiler.prior_fields),
        text=text,
    )


def _declared(
    fn: Evaluator,
    typed: Typed,
    kind: Kind,
    scale: int | None,
    length: int | None,
) -> tuple[Evaluator, FormulaType]:
    actual = typed.type
    declared = FormulaType(kind, scale=scale if kind in NUMERIC_KINDS else None, length=length)
    compatible = (
        actual.is_null
        or (actual.is_number and declared.is_number)
        or (actual.is_text and declared.is_text)
        or actual.kind is kind
    )
    if not compatible:
        raise WrongTypeError(
            f"Formula result is data type ({actual.label}), incompatible with expected "
            f"data type ({declared.label}).",
            **where(typed.node),
        )
    if declared.is_number:
        percent = kind is Kind.PERCENT

        def number(ctx: EvalContext) -> Decimal | None:
            v = fn(ctx)
            if v is None:
                return None
            if percent:
                v = v.scaleb(2)
            return v if scale is None else sf_round(v, scale)

        return number, declared
    if declared.is_text and length is not None:

        def text(ctx: EvalContext) -> str | None:
            v = fn(ctx)
            return v if v is None else v[:length]

        return text, declared
    return fn, declared


# -------------------------------------------------------------------- the compiler


def _num(v: Any) -> Decimal:
    return v if type(v) is Decimal else to_decimal(v)


class _Compiler:
    def __init__(self, blank_as_zero: bool) -> None:
        self.blank_as_zero = blank_as_zero
        self.bindings: dict[str, FieldBinding] = {}
        self.prior_fields: set[str] = set()

    def code(self, t: Typed) -> Code:
        node = t.node
        if isinstance(node, NumberLit | TextLit | BoolLit):
            return _const(node.value)
        if isinstance(node, NullLit):
            return _const(None)
        if isinstance(node, FieldRef):
            assert t.binding is not None
            if t.binding.key == ORIGIN_DATETIME_KEY:
                return _const(ORIGIN_DATETIME_VALUE)
            return self.field(t.binding)
        codes = tuple(self.code(a) for a in t.args)
        if isinstance(node, Call):
            spec = registry()[node.name]
            call = CompileCall(
                typed=t,
                codes=codes,
                blank_as_zero=self.blank_as_zero,
                read_prior=self.read_prior,
            )
            if node.name in ("ISCHANGED", "PRIORVALUE") and t.args[0].binding is not None:
                self.prior_fields.add(t.args[0].binding.key)
            fn = spec.compile(call)
            return _fold(fn, codes) if spec.pure else Code(fn)
        if isinstance(node, Unary):
            return _fold(self.unary(node, t, codes[0]), codes)
        assert isinstance(node, Binary)
        return _fold(self.binary(node, t, codes[0], codes[1]), codes)

    # ------------------------------------------------------------------ fields

    def field(self, binding: FieldBinding) -> Code:
        self.bindings[binding.key] = binding
        zero = self.blank_as_zero and binding.type.is_number
        fn = _reader(binding, zero=zero, source=binding.source)
        kind = binding.type.kind
        raw = (
            binding.source == "record"
            and not zero
            and kind not in (Kind.PERCENT, Kind.DATETIME, Kind.GEOLOCATION)
        )
        return Code(fn, record_key=binding.key if raw else None)

    def read_prior(self, binding: FieldBinding) -> Evaluator:
        self.prior_fields.add(binding.key)
        return _reader(binding, zero=False, source="prior")

    # --------------------------------------------------------------- operators

    def unary(self, node: Unary, t: Typed, operand: Code) -> Evaluator:
        a = operand.fn
        if node.op == "NOT":
            return compile_not(a, operand.record_key)
        if node.op == "+":
            return a

        def negate(ctx: EvalContext) -> Decimal | None:
            v = a(ctx)
            return None if v is None else v.copy_negate()

        return negate

    def binary(self, node: Binary, t: Typed, left: Code, right: Code) -> Evaluator:
        op = node.op
        lt, rt = t.args[0].type, t.args[1].type
        if op in ("&&", "||"):
            a, b = left.fn, right.fn
            if op == "&&":
                return lambda ctx: a(ctx) is True and b(ctx) is True
            return lambda ctx: a(ctx) is True or b(ctx) is True
        if op == "&":
            a, b = left.fn, right.fn

            def concat(ctx: EvalContext) -> str:
                x, y = a(ctx), b(ctx)
                return (x or "") + (y or "")

            return concat
        if op in ("=", "!="):
            return _equality(op == "!=", left, right, lt, rt)
        if op in ("<", "<=", ">", ">="):
            return _comparison(op, left, right, lt, rt)
        if t.type.is_null:
            return lambda ctx: None
        if op in ("+", "-"):
            return _additive(op == "+", node, left.fn, right.fn, lt, rt)
        return _multiplicative(op, node, left.fn, right.fn)


def _const(value: Any) -> Code:
    return Code(lambda ctx: value, const=True, value=value)


def _fold(fn: Evaluator, codes: tuple[Code, ...]) -> Code:
    if all(c.const for c in codes):
        try:
            value = fn(_FOLD_CONTEXT)
        except FormulaEvaluationError:
            return Code(fn)  # fails at run time, where it is reported
        return _const(value)
    return Code(fn)


def _reader(binding: FieldBinding, *, zero: bool, source: str) -> Evaluator:
    """A closure reading ``binding``'s value from the context, converted."""
    key = binding.key
    kind = binding.type.kind
    default: Decimal | None = ZERO if zero else None
    if source == "record":
        getter: Callable[[EvalContext], Any] = lambda ctx: ctx.record.get(key)  # noqa: E731
    elif source == "related":
        getter = lambda ctx: ctx.related.get(key)  # noqa: E731
    elif source == "global":
        getter = lambda ctx: ctx.globals.get(key)  # noqa: E731
    else:  # prior: the previous version, or the record itself on create

        def getter(ctx: EvalContext) -> Any:
            prior = ctx.prior
            return (ctx.record if prior is None else prior).get(key)

    if kind is Kind.PERCENT:

        def percent(ctx: EvalContext) -> Decimal | None:
            v = getter(ctx)
            return default if v is None else _num(v).scaleb(-2)

        return percent
    if kind in NUMERIC_KINDS:
        if source == "record":

            def record_number(ctx: EvalContext) -> Decimal | None:
                v = ctx.record.get(key)
                if v is None:
                    return default
                return v if type(v) is Decimal else to_decimal(v)

            return record_number

        def number(ctx: EvalContext) -> Decimal | None:
            v = getter(ctx)
            return default if v is None else _num(v)

        return number
    if kind is Kind.DATETIME:

        def datetime_(ctx: EvalContext) -> datetime | None:
            v = getter(ctx)
            return v if v is None or v.tzinfo is UTC else to_utc(v)

        return datetime_
    if kind is Kind.GEOLOCATION:

        def geolocation(ctx: EvalContext) -> tuple[Decimal, Decimal] | None:
            v = getter(ctx)
            if v is None or v[0] is None or v[1] is None:
                return None
            return (_num(v[0]), _num(v[1]))

        return geolocation
    return getter


# --------------------------------------------------------------- comparisons


_SWAPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _float_twin(value: Decimal) -> float | None:
    """``float(value)`` when comparing a float with it is exact, else None.

    Stored numbers arrive as floats; a float compares with a decimal of at most 15
    significant digits exactly as the float's shortest repr would.
    """
    digits = value.as_tuple().digits
    if len(digits) > 15 or not value.is_finite():
        return None
    return float(value)


def _comparison(op: str, left: Code, right: Code, lt: FormulaType, rt: FormulaType) -> Evaluator:
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
    }
    text = lt.is_text or rt.is_text
    # field <op> number literal: compare the stored value without converting it
    for field, const, o in ((left, right, op), (right, left, _SWAPPED[op])):
        if (
            field.record_key is not None
            and const.const
            and isinstance(const.value, Decimal)
            and (lt.is_number and rt.is_number)
        ):
            return _field_number_comparison(field.record_key, const.value, ops[o])
    compare = ops[op]
    a, b = left.fn, right.fn
    if text:

        def compare_text(ctx: EvalContext) -> bool | None:
            x = a(ctx)
            if not x:
                return None
            y = b(ctx)
            return None if not y else compare(x, y)

        return compare_text

    def compare_values(ctx: EvalContext) -> bool | None:
        x = a(ctx)
        if x is None:
            return None
        y = b(ctx)
        return None if y is None else compare(x, y)

    return compare_values


def _field_number_comparison(
    key: str, value: Decimal, compare: Callable[[Any, Any], bool]
) -> Evaluator:
    twin = _float_twin(value)
    if twin is None:

        def slow(ctx: EvalContext) -> bool | None:
            v = ctx.record.get(key)
            return None if v is None else compare(_num(v), value)

        return slow

    def fast(ctx: EvalContext) -> bool | None:
        v = ctx.record.get(key)
        if v is None:
            return None
        if type(v) is float:
            return compare(v, twin)
        return compare(v, value)

    return fast


def _equality(negate: bool, left: Code, right: Code, lt: FormulaType, rt: FormulaType) -> Evaluator:
    a, b = left.fn, right.fn
    if lt.is_text or rt.is_text:
        for field, const in ((left, right), (right, left)):
            if field.record_key is not None and const.const:
                key, literal = field.record_key, const.value or ""
                if negate:
                    return lambda ctx: (ctx.record.get(key) or "") != literal
                return lambda ctx: (ctx.record.get(key) or "") == literal
        if negate:
            return lambda ctx: (a(ctx) or "") != (b(ctx) or "")
        return lambda ctx: (a(ctx) or "") == (b(ctx) or "")
    if lt.is_number and rt.is_number:
        for field, const in ((left, right), (right, left)):
            if field.record_key is not None and const.const and const.value is not None:
                return _field_number_equality(field.record_key, const.value, negate)

    def equal(ctx: EvalContext) -> bool | None:
        x = a(ctx)
        if x is None:
            return None
        y = b(ctx)
        if y is None:
            return None
        return bool(x != y) if negate else bool(x == y)

    return equal


def _field_number_equality(key: str, value: Decimal, negate: bool) -> Evaluator:
    twin = _float_twin(value)

    def equal(ctx: EvalContext) -> bool | None:
        v = ctx.record.get(key)
        if v is None:
            return None
        if type(v) is float:
            same = v == twin if twin is not None else _num(v) == value
        else:
            same = v == value
        return not same if negate else same

    return equal


# ---------------------------------------------------------------- arithmetic


_SECONDS_PER_DAY = Decimal(86_400)
_INTEGRAL = Context(prec=60, rounding=ROUND_HALF_UP)


def _additive(
    add: bool,
    node: Binary,
    a: Evaluator,
    b: Evaluator,
    lt: FormulaType,
    rt: FormulaType,
) -> Evaluator:
    lk, rk = lt.base, rt.base
    if lk is Kind.NUMBER and rk is Kind.NUMBER:
        op = DEC.add if add else DEC.subtract

        def number(ctx: EvalContext) -> Decimal | None:
            x = a(ctx)
            if x is None:
                return None
            y = b(ctx)
            return None if y is None else op(x, y)

        return number
    if lk is Kind.TEXT:  # text + text concatenates

        def concat(ctx: EvalContext) -> str:
            return (a(ctx) or "") + (b(ctx) or "")

        return concat
    if lk is Kind.NUMBER:  # number + date/datetime
        a, b, lk, rk = b, a, rk, lk
    sign = 1 if add else -1

    def guard(fn: Callable[[Any, Any], Any]) -> Evaluator:
        def run(ctx: EvalContext) -> Any:
            x = a(ctx)
            if x is None:
                return None
            y = b(ctx)
            if y is None:
                return None
            try:
                return fn(x, y)
            except (OverflowError, ValueError, DecimalException):
                raise evaluation_error("Date or time out of range", node) from None

        return run

    if lk is Kind.DATE and rk is Kind.NUMBER:
        return guard(lambda d, n: d + timedelta(days=sign * int(n)))
    if lk is Kind.DATE and rk is Kind.DATE:
        return guard(lambda d1, d2: Decimal((d1 - d2).days))
    if lk is Kind.DATETIME and rk is Kind.NUMBER:

        def shift(dt: datetime, n: Decimal) -> datetime:
            seconds = DEC.multiply(n, _SECONDS_PER_DAY).to_integral_value(ROUND_HALF_UP, _INTEGRAL)
            return dt + timedelta(seconds=sign * int(seconds))

        return guard(shift)
    if lk is Kind.DATETIME and rk is Kind.DATETIME:

        def days_between(x: datetime, y: datetime) -> Decimal:
            delta = x - y
            ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
            return DEC.divide(Decimal(ms), Decimal(MS_PER_DAY))

        return guard(days_between)
    if lk is Kind.TIME and rk is Kind.NUMBER:
        return guard(lambda t, n: ms_to_time(time_to_ms(t) + sign * int(n)))
    # time - time: milliseconds, wrapped into one day
    return guard(lambda t1, t2: Decimal((time_to_ms(t1) - time_to_ms(t2)) % MS_PER_DAY))


_POWER = Context(prec=18, rounding=ROUND_HALF_UP, Emin=-999_999, Emax=999_999)
_POWER_SMALLEST = Decimal("1E-39")


def formula_power(base: Decimal, exponent: Decimal, node: Expr | None = None) -> Decimal:
    """Salesforce's ``^``: integer exponents only, 18 significant digits, bounded size."""
    if exponent != exponent.to_integral_value():
        raise evaluation_error("Out of range argument to POWER() function", node)
    n = int(exponent)
    if abs(n) > 2**31 - 1:
        raise evaluation_error("Out of range argument to POWER() function", node)
    if base.is_zero():
        if n < 0:
            raise evaluation_error("Out of range argument to POWER() function", node)
        return Decimal(1) if n == 0 else ZERO
    if base.copy_abs().log10(_POWER) * n > 64:
        raise evaluation_error("Out of range argument to POWER() function", node)
    try:
        result = _POWER.power(base, n)
    except DecimalException:
        raise evaluation_error("Out of range argument to POWER() function", node) from None
    return ZERO if result.copy_abs() < _POWER_SMALLEST else result


def _multiplicative(op: str, node: Binary, a: Evaluator, b: Evaluator) -> Evaluator:
    if op == "*":
        multiply = DEC.multiply

        def times(ctx: EvalContext) -> Decimal | None:
            x = a(ctx)
            if x is None:
                return None
            y = b(ctx)
            return None if y is None else multiply(x, y)

        return times
    if op == "/":
        divide = DEC.divide

        def divided(ctx: EvalContext) -> Decimal | None:
            x = a(ctx)
            if x is None:
                return None
            y = b(ctx)
            if y is None:
                return None
            if y.is_zero():
                raise evaluation_error("Division by zero", node)
            return divide(x, y)

        return divided

    def power(ctx: EvalContext) -> Decimal | None:
        x = a(ctx)
        if x is None:
            return None
        y = b(ctx)
        return None if y is None else formula_power(x, y, node)

    return power


# -------------------------------------------------------------------- the cache


class FormulaCache:
    """Compiled formulas by (text, environment, options), least recently used out.

    Thread-safe. Schema changes do not invalidate entries keyed by a
    :class:`~.checker.SchemaEnvironment`: call :meth:`clear` after a deploy.
    """

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, CompiledFormula] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(
        self,
        text: str,
        env: Environment,
        *,
        blank_as_zero: bool = False,
        result_kind: Kind | None = None,
        result_scale: int | None = None,
        result_length: int | None = None,
    ) -> CompiledFormula:
        """The compiled ``text``, compiling it on first use (errors are not cached)."""
        key = (text, env.cache_key, blank_as_zero, result_kind, result_scale, result_length)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        compiled = compile_formula(
            text,
            env,
            blank_as_zero=blank_as_zero,
            result_kind=result_kind,
            result_scale=result_scale,
            result_length=result_length,
        )
        with self._lock:
            self._entries[key] = compiled
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return compiled

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
