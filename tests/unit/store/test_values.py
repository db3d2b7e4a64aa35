from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from workroute.kernel.errors import (
    InvalidEmailAddressError,
    InvalidTypeOnFieldError,
    MalformedIdError,
    RestrictedPicklistError,
    StringTooLongError,
)
from workroute.schema.model import FieldDef, FieldType, PicklistValue
from workroute.store.values import coercer_for, format_datetime, parse_datetime, to_json


def f(t: FieldType, **kw: object) -> FieldDef:
    return FieldDef(name="F", type=t, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31T10:00:00.000+0000", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T10:00:00Z", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T12:30:00+02:30", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T02:00:00.5-08:00", datetime(2024, 1, 31, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2024-01-31", datetime(2024, 1, 31, tzinfo=UTC)),
    ],
)
def test_datetime_forms(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


def test_json_forms_are_salesforces() -> None:
    assert format_datetime(datetime(2024, 1, 31, 10, 0, 0, 123456, tzinfo=UTC)) == (
        "2024-01-31T10:00:00.123+0000"
    )
    assert to_json(date(2024, 2, 29)) == "2024-02-29"
    assert to_json(time(8, 5)) == "08:05:00.000Z"


def test_string_length_and_email() -> None:
    c = coercer_for(f(FieldType.STRING, length=5))
    assert c("abcde") == "abcde"
    assert c(12) == "12"
    assert c("") is None
    with pytest.raises(StringTooLongError, match="max length=5"):
        c("abcdef")
    with pytest.raises(InvalidTypeOnFieldError):
        c({"a": 1})
    with pytest.raises(InvalidEmailAddressError):
        coercer_for(f(FieldType.EMAIL, length=80))("not-an-email")


def test_numbers() -> None:
    i = coercer_for(f(FieldType.INT))
    assert i(3) == 3 and i("7") == 7 and i(4.0) == 4
    for bad in (True, "x", 1.5, float("nan"), [1]):
        with pytest.raises(InvalidTypeOnFieldError):
            i(bad)
    d = coercer_for(f(FieldType.CURRENCY, precision=5, scale=2))
    assert d("12.5") == 12.5
    with pytest.raises(Exception, match="outside of valid range"):
        d(1000.0)


def test_booleans_and_picklists() -> None:
    b = coercer_for(f(FieldType.BOOLEAN))
    assert b(True) is True and b("false") is False
    with pytest.raises(InvalidTypeOnFieldError):
        b(1)
    values = (PicklistValue(value="Hot"), PicklistValue(value="Cold"))
    p = coercer_for(f(FieldType.PICKLIST, picklist=values, restricted_picklist=True))
    assert p("Hot") == "Hot"
    with pytest.raises(RestrictedPicklistError, match="Warm"):
        p("Warm")
    m = coercer_for(f(FieldType.MULTIPICKLIST, picklist=values, restricted_picklist=True))
    assert m(["Hot", "Cold", "Hot"]) == "Hot;Cold"
    assert m("Cold;Hot") == "Cold;Hot"
    with pytest.raises(RestrictedPicklistError):
        m("Hot;Warm")


def test_references_take_15_or_18_characters() -> None:
    r = coercer_for(f(FieldType.REFERENCE, reference_to=("Account",)))
    assert r("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    with pytest.raises(MalformedIdError):
        r("nope")
