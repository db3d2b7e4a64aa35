"""Math functions: ABS CEILING FLOOR MCEILING MFLOOR EXP LN LOG SQRT MAX MIN MOD ROUND
TRUNC DISTANCE GEOLOCATION.

Numbers are ``Decimal``; a null argument gives null. EXP, LN, LOG, SQRT and DISTANCE
go through binary floating point as Salesforce's engine does (``Math.exp``...) and
give an evaluation error (``#Error!``) where the result is not a finite number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DecimalException,
)
from typing import Any

from workroute.lang.formula.ast import NumberLit, TextLit, Unary
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.errors import ArgumentError
from workroute.lang.formula.functions import (
    LOCATION_ARG,
    NUMBER_ARG,
    TEXT_ARG,
    CheckCall,
    CompileCall,
    Evaluator,
    FunctionSpec,
    max_scale,
    where,
    wrong_type,
    wrong_value,
)
from workroute.lang.formula.types import (
    GEOLOCATION,
    INTEGER,
    NUMBER,
    FormulaType,
)
from workroute.lang.formula.values import DEC, evaluation_error, sf_round

# Salesforce rounds to 33 digits before CEILING/FLOOR so that 1/3*3 is 1, not 0.99...
_EXTERNAL_HALF_DOWN = Context(prec=33, rounding=ROUND_HALF_DOWN)
_EXTERNAL_HALF_UP = Context(prec=33, rounding=ROUND_HALF_UP)


def _check_number(call: CheckCall) -> FormulaType:
    call.require_all(NUMBER_ARG)
    return NUMBER.with_scale(max_scale(call.type(0)))


def _check_integer(call: CheckCall) -> FormulaType:
    call.require_all(NUMBER_ARG)
    return INTEGER


def _check_inexact(call: CheckCall) -> FormulaType:
    call.require_all(NUMBER_ARG)
    return NUMBER


def strict1(a: Evaluator, op: Callable[[Any], Any]) -> Evaluator:
    """``op(a)``, null when ``a`` is null."""

    def f(ctx: EvalContext) -> Any:
        v = a(ctx)
        return None if v is None else op(v)

    return f


def strict2(a: Evaluator, b: Evaluator, op: Callable[[Any, Any], Any]) -> Evaluator:
    """``op(a, b)``, null when either is null."""

    def f(ctx: EvalContext) -> Any:
        x = a(ctx)
        if x is None:
            return None
        y = b(ctx)
        return None if y is None else op(x, y)

    return f


def _unary(op: Callable[[Decimal], Decimal]) -> Callable[[CompileCall], Evaluator]:
    return lambda call: strict1(call.fns[0], op)


def _ceiling(v: Decimal) -> Decimal:
    v = _EXTERNAL_HALF_DOWN.plus(v)
    return v.to_integral_value(ROUND_FLOOR if v.is_signed() else ROUND_CEILING)


def _floor(v: Decimal) -> Decimal:
    v = _EXTERNAL_HALF_UP.plus(v)
    return v.to_integral_value(ROUND_CEILING if v.is_signed() else ROUND_FLOOR)


def _mceiling(v: Decimal) -> Decimal:
    return _EXTERNAL_HALF_DOWN.plus(v).to_integral_value(ROUND_CEILING)


def _mfloor(v: Decimal) -> Decimal:
    return _EXTERNAL_HALF_UP.plus(v).to_integral_value(ROUND_FLOOR)


def _via_float(name: str, op: Callable[[float], float]) -> Callable[[CompileCall], Evaluator]:
    def build(call: CompileCall) -> Evaluator:
        node = call.node

        def compute(v: Decimal) -> Decimal:
            try:
                result = op(float(v))
            except (ValueError, OverflowError):
                raise evaluation_error(f"Invalid argument for {name}(): {v}", node) from None
            if not math.isfinite(result):
                raise evaluation_error(f"Invalid argument for {name}(): {v}", node)
            return Decimal(repr(result))

        return strict1(call.fns[0], compute)

    return build


# ------------------------------------------------------------------ MAX MIN MOD


def _compile_extreme(pick: Callable[..., Decimal]) -> Callable[[CompileCall], Evaluator]:
    def build(call: CompileCall) -> Evaluator:
        fns = call.fns
        if len(fns) == 1:
            return fns[0]
        if len(fns) == 2:
            a, b = fns
            return strict2(a, b, pick)

        def extreme(ctx: EvalContext) -> Decimal | None:
            values = []
            for f in fns:
                v = f(ctx)
                if v is None:
                    return None
                values.append(v)
            return pick(*values)

        return extreme

    return build


def _check_extreme(call: CheckCall) -> FormulaType:
    call.require_all(NUMBER_ARG)
    return NUMBER.with_scale(max_scale(*(a.type for a in call.args)))


def _check_mod(call: CheckCall) -> FormulaType:
    call.require_all(NUMBER_ARG)
    return NUMBER.with_scale(max_scale(call.type(0), call.type(1)))


def _compile_mod(call: CompileCall) -> Evaluator:
    node = call.node
    remainder = DEC.remainder

    def mod(x: Decimal, y: Decimal) -> Decimal:
        if y.is_zero():
            raise evaluation_error("Division by zero in MOD()", node)
        try:
            return remainder(x, y)
        except DecimalException:
            raise evaluation_error("MOD() result out of range", node) from None

    a, b = call.fns
    return strict2(a, b, mod)


# ------------------------------------------------------------------- ROUND TRUNC


def _literal_int(call: CheckCall, i: int) -> int | None:
    """The integer value of argument ``i`` when it is a (possibly negated) literal."""
    if i >= len(call.args):
        return 0
    node = call.args[i].node
    sign = 1
    if isinstance(node, Unary) and node.op in ("-", "+"):
        sign = -1 if node.op == "-" else 1
        node = node.operand
    if isinstance(node, NumberLit):
        return sign * int(node.value)
    return None


def _check_round(call: CheckCall) -> FormulaType:
    call.require_all(NUMBER_ARG)
    digits = _literal_int(call, 1)
    scale = call.type(0).scale
    if digits is not None:
        digits = max(digits, 0)
        scale = digits if scale is None else min(scale, digits)
    return NUMBER.with_scale(scale)


def _compile_rounding(rounding: str) -> Callable[[CompileCall], Evaluator]:
    def build(call: CompileCall) -> Evaluator:
        fns = call.fns
        if len(fns) == 1:
            return strict1(fns[0], lambda v: sf_round(v, 0, rounding))
        digits = call.codes[1]
        if digits.const and digits.value is not None:
            n = int(digits.value)
            return strict1(fns[0], lambda v: sf_round(v, n, rounding))
        return strict2(fns[0], fns[1], lambda v, d: sf_round(v, int(d), rounding))

    return build


# -------------------------------------------------------- GEOLOCATION DISTANCE

_LAT = (-90, 90)
_LON = (-180, 180)


def _literal_number(node: object) -> Decimal | None:
    sign = 1
    if isinstance(node, Unary) and node.op in ("-", "+"):
        sign = -1 if node.op == "-" else 1
        node = node.operand
    if isinstance(node, NumberLit):
        return node.value if sign == 1 else -node.value
    return None


def _check_geolocation(call: CheckCall) -> FormulaType:
    for i, (low, high) in enumerate((_LAT, _LON)):
        t = call.type(i)
        if t.kind not in NUMBER_ARG.kinds:
            raise wrong_type(call.what, [NUMBER_ARG.label], t, call.args[i].node)
        literal = _literal_number(call.args[i].node)
        if literal is not None and not low <= literal <= high:
            raise ArgumentError(f"Incorrect parameter for {call.what}.", **where(call.node))
    return GEOLOCATION


def _compile_geolocation(call: CompileCall) -> Evaluator:
    node = call.node
    a, b = call.fns

    def geolocation(ctx: EvalContext) -> tuple[Decimal, Decimal] | None:
        lat, lon = a(ctx), b(ctx)
        if lat is None and lon is None:
            return None
        if lat is None or lon is None:
            raise evaluation_error(
                "Latitude and longitude must both be null or both have a value", node
            )
        if not _LAT[0] <= lat <= _LAT[1]:
            raise evaluation_error(f"Latitude out of range: {lat}", node)
        if not _LON[0] <= lon <= _LON[1]:
            raise evaluation_error(f"Longitude is out of range: {lon}", node)
        return (lat, lon)

    return geolocation


# Earth mean radius by unit, as Salesforce's DistanceUnit (km 6371.009, mi 3958.761).
_DIAMETERS = {"km": 2 * 6371.009, "mi": 2 * 3958.761}


def _check_distance(call: CheckCall) -> FormulaType:
    call.require(0, LOCATION_ARG)
    call.require(1, LOCATION_ARG)
    call.require(2, TEXT_ARG)
    unit = call.args[2].node
    if isinstance(unit, TextLit) and unit.value not in _DIAMETERS:
        raise wrong_value(call.what, "'mi'/'km'", f"'{unit.value}'", unit)
    return NUMBER


def _xyz(lat: float, lon: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lon)
    r = math.cos(phi)
    return (math.sin(lam) * r, math.cos(lam) * r, math.sin(phi))


def distance(
    first: tuple[Any, Any], second: tuple[Any, Any], unit: str
) -> Decimal:  # Salesforce's GeolocationServiceImpl.computeDistance
    x1, y1, z1 = _xyz(float(first[0]), float(first[1]))
    x2, y2, z2 = _xyz(float(second[0]), float(second[1]))
    chord = math.hypot(math.hypot(x1 - x2, y1 - y2), z1 - z2)
    return Decimal(repr(_DIAMETERS[unit] * math.asin(min(chord / 2.0, 1.0))))


def _compile_distance(call: CompileCall) -> Evaluator:
    node = call.node
    a, b, u = call.fns

    def distance_(ctx: EvalContext) -> Decimal | None:
        unit = u(ctx)
        if unit not in _DIAMETERS:
            raise evaluation_error(f"Invalid unit for the distance() function: {unit}", node)
        first, second = a(ctx), b(ctx)
        if first is None or second is None or None in first or None in second:
            return None
        return distance(first, second, unit)

    return distance_


def _check_trunc(call: CheckCall) -> FormulaType:
    return _check_round(call)


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("ABS", 1, 1, _check_number, _unary(Decimal.copy_abs)),
    FunctionSpec("CEILING", 1, 1, _check_integer, _unary(_ceiling)),
    FunctionSpec("FLOOR", 1, 1, _check_integer, _unary(_floor)),
    FunctionSpec("MCEILING", 1, 1, _check_integer, _unary(_mceiling)),
    FunctionSpec("MFLOOR", 1, 1, _check_integer, _unary(_mfloor)),
    FunctionSpec("EXP", 1, 1, _check_inexact, _via_float("EXP", math.exp)),
    FunctionSpec("LN", 1, 1, _check_inexact, _via_float("LN", math.log)),
    FunctionSpec("LOG", 1, 1, _check_inexact, _via_float("LOG", math.log10)),
    FunctionSpec("SQRT", 1, 1, _check_inexact, _via_float("SQRT", math.sqrt)),
    FunctionSpec("MAX", 1, None, _check_extreme, _compile_extreme(max)),
    FunctionSpec("MIN", 1, None, _check_extreme, _compile_extreme(min)),
    FunctionSpec("MOD", 2, 2, _check_mod, _compile_mod),
    FunctionSpec("ROUND", 2, 2, _check_round, _compile_rounding(ROUND_HALF_UP)),
    FunctionSpec("TRUNC", 1, 2, _check_trunc, _compile_rounding(ROUND_DOWN)),
    FunctionSpec("DISTANCE", 3, 3, _check_distance, _compile_distance),
    FunctionSpec("GEOLOCATION", 2, 2, _check_geolocation, _compile_geolocation),
)

__all__ = ["FUNCTIONS", "distance", "strict1", "strict2"]
