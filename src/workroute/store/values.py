"""Field values: coercion of API input to Python values, validation, and JSON output.

Each field gets one compiled coercer, so a bulk save does no per-record dispatch on
the field type. Coercers accept both JSON values (strings for dates) and the Python
values engine code passes (``datetime``, ``date``...).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from workroute.kernel.errors import (
    FieldValidationError,
    InvalidEmailAddressError,
    InvalidTypeOnFieldError,
    MalformedIdError,
    NumberOutsideValidRangeError,
    RestrictedPicklistError,
    StringTooLongError,
)
from workroute.kernel.ids import normalize_id
from workroute.schema.model import FieldDef, FieldType

Coercer = Callable[[object], object]

_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?)?$"
)
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?Z?$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_datetime(value: str) -> datetime:
    """An aware UTC datetime from Salesforce's and ISO 8601's textual forms."""
    m = _DATETIME_RE.match(value.strip())
    if not m:
        raise ValueError(value)
    y, mo, d, h, mi, s, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro, UTC)
    if tz in (None, "Z"):
        return dt
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)


def parse_date(value: str) -> date:
    m = _DATETIME_RE.match(value.strip())
    if not m:
        raise ValueError(value)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def parse_time(value: str) -> time:
    m = _TIME_RE.match(value.strip())
    if not m:
        raise ValueError(value)
    h, mi, s, frac = m.groups()
    return time(int(h), int(mi), int(s or 0), int((frac or "0")[:6].ljust(6, "0")))


def format_datetime(value: datetime) -> str:
    """Salesforce's REST form: 2024-01-31T09:15:00.000+0000."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def format_time(value: time) -> str:
    return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def to_json(value: object) -> object:
    """The JSON form of a stored value."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return format_time(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _wrong_type(f: FieldDef, value: object) -> FieldValidationError:
    shown = value if isinstance(value, str | int | float | bool) else type(value).__name__
    return InvalidTypeOnFieldError(
        f"{f.name}: value not of required type: {shown}", fields=[f.name]
    )


def _string_coercer(f: FieldDef) -> Coercer:
    limit = f.length if f.length else 255
    is_email = f.type is FieldType.EMAIL

    def coerce(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _wrong_type(f, value)
        text = value if isinstance(value, str) else str(value)
        if text == "":
            return None
        if "\x00" in text:
            raise FieldValidationError(
                f"{f.name}: the value contains a NUL character", fields=[f.name]
            )
        if len(text) > limit:
            raise StringTooLongError(
                f"{f.name}: data value too large: {text[:40]}{'...' if len(text) > 40 else ''}"
                f" (max length={limit})",
                fields=[f.name],
            )
        if is_email and not _EMAIL_RE.match(text):
            raise InvalidEmailAddressError(
                f"{f.name}: invalid email address: {text}", fields=[f.name]
            )
        return text

    return coerce


def _picklist_coercer(f: FieldDef) -> Coercer:
    base = _string_coercer(f)
    allowed = frozenset(f.picklist_values())
    restricted = f.restricted_picklist and bool(allowed)

    def coerce(value: object) -> object:
        text = base(value)
        if restricted and text is not None and text not in allowed:
            raise RestrictedPicklistError(
                f"{f.name}: bad value for restricted picklist field: {text}", fields=[f.name]
            )
        return text

    return coerce


def _multipicklist_coercer(f: FieldDef) -> Coercer:
    allowed = frozenset(f.picklist_values())
    restricted = f.restricted_picklist and bool(allowed)

    def coerce(value: object) -> object:
        if isinstance(value, list | tuple):
            items = [str(v) for v in value]
        elif isinstance(value, str):
            items = value.split(";")
        else:
            raise _wrong_type(f, value)
        items = [i.strip() for i in items if i.strip()]
        if not items:
            return None
        if restricted:
            for item in items:
                if item not in allowed:
                    raise RestrictedPicklistError(
                        f"{f.name}: bad value for restricted picklist field: {item}",
                        fields=[f.name],
                    )
        seen: dict[str, None] = dict.fromkeys(items)
        return ";".join(seen)

    return coerce


def _boolean_coercer(f: FieldDef) -> Coercer:
    def coerce(value: object) -> object:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _wrong_type(f, value)

    return coerce


def _number_coercer(f: FieldDef) -> Coercer:
    integral = f.type is FieldType.INT
    scale = Decimal(1).scaleb(-f.scale) if f.precision and not integral else None
    places = f.scale
    # Numbers at or past this magnitude need more whole digits than the field has.
    limit = 10.0 ** (f.precision - f.scale) if f.precision else math.inf

    def parse(value: object) -> float | int:
        if type(value) is int or type(value) is float:
            return value
        if isinstance(value, bool):
            raise _wrong_type(f, value)
        if isinstance(value, str):
            text = value.strip()
            try:
                return int(text) if integral else float(text)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    raise _wrong_type(f, value) from None
        if isinstance(value, int | float | Decimal):
            return float(value) if isinstance(value, Decimal) else value
        raise _wrong_type(f, value)

    def coerce(value: object) -> object:
        num = parse(value)
        if not math.isfinite(num):
            raise _wrong_type(f, value)
        if integral:
            if isinstance(num, float):
                if not num.is_integer():
                    raise _wrong_type(f, value)
                num = int(num)
            if not -(2**31) <= num < 2**31:
                raise NumberOutsideValidRangeError(
                    f"{f.name}: value outside of valid range: {num}", fields=[f.name]
                )
            return num
        number = float(num)
        if scale is not None and round(number, places) != number:
            # Salesforce stores a number rounded half up to the field's decimal places;
            # the decimal route runs only for values with more places than that.
            number = float(Decimal(str(num)).quantize(scale, rounding=ROUND_HALF_UP))
        if abs(number) >= limit:
            raise NumberOutsideValidRangeError(
                f"{f.name}: value outside of valid range on numeric field: {value}",
                fields=[f.name],
            )
        return number

    return coerce


def _temporal_coercer(f: FieldDef) -> Coercer:
    kind = f.type

    def coerce(value: object) -> object:
        try:
            if kind is FieldType.DATETIME:
                if isinstance(value, datetime):
                    return (
                        value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
                    )
                if isinstance(value, date):
                    return datetime(value.year, value.month, value.day, tzinfo=UTC)
                if isinstance(value, str):
                    return None if value == "" else parse_datetime(value)
            elif kind is FieldType.DATE:
                if isinstance(value, datetime):
                    return value.date()
                if isinstance(value, date):
                    return value
                if isinstance(value, str):
                    return None if value == "" else parse_date(value)
            else:
                if isinstance(value, time):
                    return value
                if isinstance(value, str):
                    return None if value == "" else parse_time(value)
        except ValueError:
            pass
        raise _wrong_type(f, value)

    return coerce


def _id_coercer(f: FieldDef) -> Coercer:
    def coerce(value: object) -> object:
        if value == "":
            return None
        try:
            return normalize_id(value)
        except MalformedIdError:
            raise MalformedIdError(
                f"{f.label or f.name}: id value of incorrect type: {value}", fields=[f.name]
            ) from None

    return coerce


def coercer_for(f: FieldDef) -> Coercer:
    """The function that turns an input value for ``f`` into its stored value."""
    t = f.type
    if t in (FieldType.ID, FieldType.REFERENCE):
        return _id_coercer(f)
    if t is FieldType.PICKLIST:
        return _picklist_coercer(f)
    if t is FieldType.MULTIPICKLIST:
        return _multipicklist_coercer(f)
    if t.is_text:
        return _string_coercer(f)
    if t is FieldType.BOOLEAN:
        return _boolean_coercer(f)
    if t.is_number:
        return _number_coercer(f)
    return _temporal_coercer(f)


def default_for(f: FieldDef) -> object:
    """The value a create gets when it doesn't set ``f``."""
    if f.default is not None:
        return f.default
    for p in f.picklist:
        if p.default:
            return p.value
    if f.type is FieldType.BOOLEAN:
        return False
    return None
