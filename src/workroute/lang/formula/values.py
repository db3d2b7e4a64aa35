"""Runtime values of formulas: decimal arithmetic, conversions, and the JSON encoding.

Python values by formula kind (what records hold and what evaluation returns):

=============  ==================================================================
number etc.    ``Decimal`` (records may also hold ``int``/``float``; they are read
               exactly, a float by its shortest repr). Percent fields hold the API
               value (10 means 10%) and read as the fraction 0.1.
text-like      ``str``; ``None`` and ``""`` are both *blank*, as in Salesforce.
picklist       ``str`` (the value's API name) or ``None``.
multipicklist  ``list``/``tuple`` of ``str``, or a ``"a;b"`` string, or ``None``.
checkbox       ``bool`` (``None`` only where Salesforce's three-valued logic gives it).
date           ``datetime.date``.
datetime       aware ``datetime.datetime`` in UTC (naive values are taken as UTC).
time           ``datetime.time``, millisecond precision.
geolocation    ``(latitude, longitude)``.
=============  ==================================================================

Arithmetic follows Salesforce's engine: 39 significant digits, rounding half up
(away from zero on ties), see :data:`DEC`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

from workroute.lang.formula.errors import FormulaError
from workroute.lang.formula.types import NUMERIC_KINDS, TEXT_KINDS, FormulaType, Kind

__all__ = [
    "DEC",
    "MAX_OUTPUT_SCALE",
    "FormulaEvaluationError",
    "decode_identifier",
    "decode_value",
    "encode_result",
    "format_number",
    "parse_number",
    "sf_round",
    "to_decimal",
]

PRECISION = 39
"""Significant digits of intermediate results (Salesforce's ``MC_PRECISION_INTERNAL``)."""

DEC = Context(
    prec=PRECISION,
    rounding=ROUND_HALF_UP,
    Emin=-999_999,
    Emax=999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
"""The decimal context of every formula operation: 39 digits, half up."""

_WIDE = Context(prec=10_000, rounding=ROUND_HALF_UP, Emin=-999_999, Emax=999_999)

MAX_OUTPUT_SCALE = 18
"""Decimal places of an encoded number whose type has no fixed scale (``1/3``)."""

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


class FormulaEvaluationError(FormulaError):
    """The formula could not be evaluated for this record.

    Salesforce shows ``#Error!`` in a formula field in these cases (division by zero,
    ``SQRT`` of a negative number, an invalid ``VALUE()`` text, an impossible
    ``DATE()``...); a validation or workflow criterion that raises it does not match.
    """

    code = "FORMULA_EVALUATION_ERROR"
    error_type = "EvaluationError"
    display = "#Error!"


def evaluation_error(message: str, node: object | None = None) -> FormulaEvaluationError:
    """A :class:`FormulaEvaluationError` located at ``node`` (any AST node)."""
    if node is None:
        return FormulaEvaluationError(message)
    return FormulaEvaluationError(
        message,
        line=getattr(node, "line", None),
        column=getattr(node, "column", None),
        offset=getattr(node, "offset", None),
    )


# ----------------------------------------------------------------------- numbers


def to_decimal(value: object) -> Decimal:
    """A record's numeric value as a ``Decimal`` (floats by their shortest repr)."""
    if type(value) is Decimal:
        return value
    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        parsed = parse_number(value)
        if parsed is None:
            raise TypeError(f"not a number: {value!r}")
        return parsed
    raise TypeError(f"not a number: {value!r}")


# Java's BigDecimal(String) syntax, which VALUE() and ISNUMBER() use.
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def parse_number(text: str) -> Decimal | None:
    """``text`` as a number the way Salesforce's VALUE() reads it, or None.

    Optional sign, digits with an optional decimal point, optional exponent; no
    spaces, thousands separators, ``NaN`` or ``Infinity``.
    """
    if len(text) > 1000 or not _NUMBER_RE.fullmatch(text):
        return None
    try:
        return DEC.plus(Decimal(text))
    except (InvalidOperation, Overflow):
        return None


_QUANTA = {s: Decimal((0, (1,), -s)) for s in range(-40, 41)}


def sf_round(value: Decimal, scale: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``value`` rounded to ``scale`` decimal places the way Salesforce rounds.

    Half up on the magnitude (ROUND(2.5, 0) = 3, ROUND(-2.5, 0) = -3). A negative
    ``scale`` rounds to tens, hundreds... As in Salesforce's ``BigDecimalHelper.round``,
    rounding away every significant digit gives 0 (ROUND(55, -2) = 0, while
    ROUND(155, -2) = 200). ``rounding=ROUND_DOWN`` truncates (TRUNC).
    """
    if not value.is_finite():  # pragma: no cover - values are always finite
        return value
    magnitude = value.copy_abs()
    if magnitude < ONE:
        if scale < 0:
            return ZERO
    elif value.adjusted() + 1 + scale <= 0:
        return ZERO
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -scale:
        return value  # no digits beyond the requested scale
    quantum = _QUANTA.get(scale) or Decimal((0, (1,), -scale))
    result = value.quantize(quantum, rounding=rounding, context=_WIDE)
    if result.is_zero():
        return result.copy_abs()
    return result


def trunc_decimal(value: Decimal, scale: int) -> Decimal:
    return sf_round(value, scale, ROUND_DOWN)


def format_number(value: Decimal) -> str:
    """A number as TEXT() shows it: plain notation, no trailing zeros ("1.5", "100")."""
    if value.is_zero():
        return "0"
    return format(value.normalize(_WIDE), "f")


def int_value(value: Decimal) -> int:
    """Java's ``BigDecimal.intValue()`` for the values formulas use: truncate to int."""
    return int(value)


# ----------------------------------------------------------------- dates & times


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime (naive values are taken as UTC)."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def time_to_ms(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000


MS_PER_DAY = 86_400_000


def ms_to_time(ms: int) -> time:
    ms %= MS_PER_DAY
    seconds, millis = divmod(ms, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return time(hour, minute, second, millis * 1000)


def multipicklist_values(value: object) -> tuple[str, ...]:
    """A multi-select picklist value as a tuple of its selected values."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v for v in value.split(";") if v)
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(str(v) for v in value)
    raise TypeError(f"not a multi-select picklist value: {value!r}")


# ----------------------------------------------------------------- JSON encoding


def _json_number(value: Decimal) -> int | float:
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _datetime_text(value: datetime) -> str:
    value = to_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _time_text(value: time) -> str:
    return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def encode_result(value: Any, ftype: FormulaType) -> dict[str, Any]:
    """A formula result in the JSON encoding of ``workroute formula eval``.

    ``{"type": "number", "value": 3.5}``; numbers (also currency and percent) are
    rounded half up to the type's scale (:data:`MAX_OUTPUT_SCALE` places when it has
    none) and given as JSON numbers (int when integral); text-like values as strings;
    checkbox ``true``/``false``; date ``"YYYY-MM-DD"``; datetime
    ``"YYYY-MM-DDTHH:MM:SS.sssZ"``; time ``"HH:MM:SS.sss"``; geolocation
    ``[lat, lon]``. A null result of any type is ``{"type": "null", "value": None}``,
    the shape formulon gives.
    """
    if value is None or ftype.kind is Kind.NULL:
        return {"type": "null", "value": None}
    kind = ftype.kind
    if kind in NUMERIC_KINDS:
        number = to_decimal(value)
        scale = MAX_OUTPUT_SCALE if ftype.scale is None else ftype.scale
        return {"type": "number", "value": _json_number(sf_round(number, scale))}
    if kind in TEXT_KINDS:
        return {"type": "text", "value": str(value)}
    if kind is Kind.PICKLIST:
        return {"type": "picklist", "value": str(value)}
    if kind is Kind.MULTIPICKLIST:
        return {"type": "multipicklist", "value": list(multipicklist_values(value))}
    if kind is Kind.CHECKBOX:
        return {"type": "checkbox", "value": bool(value)}
    if kind is Kind.DATE:
        if isinstance(value, datetime):
            value = to_utc(value).date()
        return {"type": "date", "value": value.isoformat()}
    if kind is Kind.DATETIME:
        return {"type": "datetime", "value": _datetime_text(value)}
    if kind is Kind.TIME:
        return {"type": "time", "value": _time_text(value)}
    if kind is Kind.GEOLOCATION:
        lat, lon = value
        if lat is None or lon is None:
            return {"type": "null", "value": None}
        return {"type": "geolocation", "value": [float(lat), float(lon)]}
    raise ValueError(f"cannot encode a {kind} value")  # pragma: no cover


_TIME_RE = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?")


def decode_value(
    value: Any, type_name: str | Kind, *, scale: int | None = None, length: int | None = None
) -> Any:
    """A JSON input value (the encodings of :func:`encode_result`) as a Python value.

    ``scale`` rounds numbers half up (as a field of that scale stores them) and
    ``length`` truncates text. Percent values are API values (10 means 10%).
    Raises ``ValueError`` for a value that does not fit the type.
    """
    kind = Kind(type_name.lower() if isinstance(type_name, str) else type_name)
    if value is None or kind is Kind.NULL:
        return None
    try:
        if kind in NUMERIC_KINDS:
            if isinstance(value, bool):
                raise ValueError
            number = to_decimal(value)
            return number if scale is None else sf_round(number, scale)
        if kind in TEXT_KINDS or kind is Kind.PICKLIST:
            if not isinstance(value, str):
                raise ValueError
            return value if length is None else value[:length]
        if kind is Kind.MULTIPICKLIST:
            return list(multipicklist_values(value))
        if kind is Kind.CHECKBOX:
            if not isinstance(value, bool):
                raise ValueError
            return value
        if kind is Kind.DATE:
            return date.fromisoformat(value)
        if kind is Kind.DATETIME:
            return to_utc(datetime.fromisoformat(value))
        if kind is Kind.TIME:
            m = _TIME_RE.fullmatch(value)
            if m is None:
                raise ValueError
            millis = int((m.group(4) or "0").ljust(3, "0"))
            return time(int(m.group(1)), int(m.group(2)), int(m.group(3)), millis * 1000)
        if kind is Kind.GEOLOCATION:
            lat, lon = value
            return (to_decimal(lat), to_decimal(lon))
    except (ValueError, TypeError, AttributeError):
        pass
    raise ValueError(f"invalid {kind.value} value: {value!r}")


def decode_identifier(spec: Mapping[str, Any]) -> tuple[FormulaType, Any]:
    """The type and value of one identifier of the CLI input.

    ``spec`` is ``{"type": ..., "value": ..., "scale"?: ..., "length"?: ...}``. As
    the formulon bridge does, numbers default to scale 0 and text to length 255, and
    the value is rounded/truncated to them.
    """
    kind = Kind(str(spec["type"]).lower())
    scale = spec.get("scale")
    length = spec.get("length")
    if kind in NUMERIC_KINDS:
        input_scale = 0 if scale is None else int(scale)
        ftype_scale = input_scale + 2 if kind is Kind.PERCENT else input_scale
        value = decode_value(spec.get("value"), kind, scale=input_scale)
        return FormulaType(kind, scale=ftype_scale), value
    if kind in TEXT_KINDS:
        text_length = 255 if length is None else int(length)
        return FormulaType(kind, length=text_length), decode_value(
            spec.get("value"), kind, length=text_length
        )
    return FormulaType(kind), decode_value(spec.get("value"), kind)
