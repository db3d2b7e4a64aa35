"""Flow values in Python: what each Flow data type holds, converting given values to
it, the formula type of a value, and a value as merge-field text.

String, Picklist and Multipicklist hold ``str`` (a multi-select value is ``"a;b"``, as
Salesforce stores it), Number and Currency ``Decimal``, Boolean ``bool``, Date
``date``, DateTime an aware ``datetime``, SObject a ``dict`` of fields; collections are
lists. :func:`coerce` raises :class:`ValueError` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from workroute.lang.formula.types import (
    CHECKBOX,
    DATE,
    DATETIME,
    NULL,
    NUMBER,
    TEXT,
    TIME,
    FormulaType,
)
from workroute.metadata.xmlio import parse_bool
from workroute.orchestration.values import Value
from workroute.orchestration.vocabulary import FlowDataType, ValueKind

__all__ = ["coerce", "literal", "scale_of", "to_text", "type_of_value"]


def scale_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true/false")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int | float):
        d = Decimal(str(value))
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"'{value}' is not a number") from None
    else:
        raise ValueError(f"a number is expected, not {type(value).__name__}")
    if not d.is_finite():
        raise ValueError(f"'{value}' is not a number")
    return d


def _date(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError("a date is expected, not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not a date (YYYY-MM-DD)") from None
    raise ValueError(f"a date is expected, not {type(value).__name__}")


def _datetime(value: object) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"'{value}' is not a date and time (ISO 8601)") from None
    if not isinstance(value, datetime):
        raise ValueError(f"a date and time is expected, not {type(value).__name__}")
    if value.tzinfo is None:
        raise ValueError(f"'{value.isoformat()}' has no time zone (add Z or an offset)")
    return value.astimezone(UTC)


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and (b := parse_bool(value)) is not None:
        return b
    raise ValueError(f"'{value}' is not true or false")


def _text(value: object, data_type: FlowDataType) -> str:
    if data_type is FlowDataType.MULTIPICKLIST and isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool | Mapping) or (
        isinstance(value, Sequence) and not isinstance(value, str)
    ):
        raise ValueError(f"text is expected, not {type(value).__name__}")
    return to_text(value)


def coerce(value: object, data_type: FlowDataType, *, collection: bool = False) -> object:
    """``value`` as a value of ``data_type`` (None stays None)."""
    if value is None:
        return None
    if collection:
        if not isinstance(value, list | tuple):
            raise ValueError(f"a list is expected, not {type(value).__name__}")
        return [coerce(v, data_type) for v in value]
    if data_type in (FlowDataType.NUMBER, FlowDataType.CURRENCY):
        return _decimal(value)
    if data_type is FlowDataType.BOOLEAN:
        return _boolean(value)
    if data_type is FlowDataType.DATE:
        return _date(value)
    if data_type is FlowDataType.DATETIME:
        return _datetime(value)
    if data_type is FlowDataType.TIME:
        if isinstance(value, time):
            return value
        try:
            return time.fromisoformat(str(value).strip().rstrip("Z"))
        except ValueError:
            raise ValueError(f"'{value}' is not a time") from None
    if data_type is FlowDataType.SOBJECT:
        if not isinstance(value, Mapping):
            raise ValueError(f"a record is expected, not {type(value).__name__}")
        return dict(value)
    if data_type is FlowDataType.APEX:
        return value
    return _text(value, data_type)


def literal(v: Value) -> object:
    """The value of a literal (not a reference, not merge fields)."""
    if v.kind is ValueKind.NUMBER:
        return Decimal(v.text)
    if v.kind is ValueKind.BOOLEAN:
        return v.text == "true"
    if v.kind is ValueKind.DATE:
        return date.fromisoformat(v.text)
    if v.kind is ValueKind.DATETIME:
        return _datetime(v.text)
    if v.kind is ValueKind.TIME:
        return time.fromisoformat(v.text.rstrip("Z"))
    return v.text


def type_of_value(value: object) -> FormulaType:
    """The formula type of a value whose type nothing declares (NULL for None)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return CHECKBOX
    if isinstance(value, Decimal | int | float):
        return NUMBER
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, date):
        return DATE
    if isinstance(value, time):
        return TIME
    if isinstance(value, str):
        return TEXT
    return NULL


def formula_value(value: object) -> object:
    """``value`` as the formula engine reads it (numbers as Decimal)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def to_text(value: object) -> str:
    """How a merge field shows ``value`` in text: '' for None, ``true``/``false``, plain
    decimals, ISO dates and times (UTC ``Z``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(to_text(v) for v in value)
    return str(value)
