"""Date literal ranges and how comparison operators apply to them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workroute.lang.soql import (
    FIXED_DATE_LITERALS,
    PARAMETERISED_DATE_LITERALS,
    DateBounds,
    date_literal_bounds,
    resolve_date_literal,
)
from workroute.lang.soql.ast import DateLiteral

D = date
MONDAY, SUNDAY = 0, 6


def rng(
    name: str, today: date, n: int | None = None, *, week_start: int = SUNDAY, fy: int = 1
) -> tuple[date, date]:
    return resolve_date_literal(
        DateLiteral(name=name, n=n), today=today, week_start=week_start, fiscal_year_start_month=fy
    )


FRI = D(2024, 3, 15)  # a Friday in a leap year


@pytest.mark.parametrize(
    ("name", "n", "today", "expected"),
    [
        # days
        ("YESTERDAY", None, FRI, (D(2024, 3, 14), D(2024, 3, 14))),
        ("TODAY", None, FRI, (FRI, FRI)),
        ("TOMORROW", None, FRI, (D(2024, 3, 16), D(2024, 3, 16))),
        ("YESTERDAY", None, D(2024, 3, 1), (D(2024, 2, 29), D(2024, 2, 29))),
        ("YESTERDAY", None, D(2024, 1, 1), (D(2023, 12, 31), D(2023, 12, 31))),
        ("TOMORROW", None, D(2024, 12, 31), (D(2025, 1, 1), D(2025, 1, 1))),
        ("TOMORROW", None, D(2023, 2, 28), (D(2023, 3, 1), D(2023, 3, 1))),
        ("LAST_90_DAYS", None, FRI, (D(2023, 12, 16), FRI)),
        ("NEXT_90_DAYS", None, FRI, (D(2024, 3, 16), D(2024, 6, 13))),
        ("LAST_N_DAYS", 1, D(2024, 3, 1), (D(2024, 2, 29), D(2024, 3, 1))),
        ("LAST_N_DAYS", 0, FRI, (FRI, FRI)),
        ("LAST_N_DAYS", 365, D(2024, 12, 31), (D(2024, 1, 1), D(2024, 12, 31))),
        ("NEXT_N_DAYS", 1, FRI, (D(2024, 3, 16), D(2024, 3, 16))),
        ("NEXT_N_DAYS", 7, D(2024, 12, 28), (D(2024, 12, 29), D(2025, 1, 4))),
        ("N_DAYS_AGO", 3, D(2024, 3, 1), (D(2024, 2, 27), D(2024, 2, 27))),
        ("N_DAYS_AGO", 0, FRI, (FRI, FRI)),
        # weeks (Sunday first)
        ("THIS_WEEK", None, FRI, (D(2024, 3, 10), D(2024, 3, 16))),
        ("LAST_WEEK", None, FRI, (D(2024, 3, 3), D(2024, 3, 9))),
        ("NEXT_WEEK", None, FRI, (D(2024, 3, 17), D(2024, 3, 23))),
        ("THIS_WEEK", None, D(2024, 3, 10), (D(2024, 3, 10), D(2024, 3, 16))),  # a Sunday
        ("THIS_WEEK", None, D(2024, 3, 16), (D(2024, 3, 10), D(2024, 3, 16))),  # a Saturday
        ("THIS_WEEK", None, D(2025, 1, 1), (D(2024, 12, 29), D(2025, 1, 4))),
        ("LAST_N_WEEKS", 2, FRI, (D(2024, 2, 25), D(2024, 3, 9))),
        ("NEXT_N_WEEKS", 2, FRI, (D(2024, 3, 17), D(2024, 3, 30))),
        ("N_WEEKS_AGO", 1, FRI, (D(2024, 3, 3), D(2024, 3, 9))),
        ("N_WEEKS_AGO", 3, FRI, (D(2024, 2, 18), D(2024, 2, 24))),
        # months
        ("THIS_MONTH", None, D(2024, 1, 31), (D(2024, 1, 1), D(2024, 1, 31))),
        ("LAST_MONTH", None, D(2024, 1, 31), (D(2023, 12, 1), D(2023, 12, 31))),
        ("NEXT_MONTH", None, D(2024, 1, 31), (D(2024, 2, 1), D(2024, 2, 29))),
        ("NEXT_MONTH", None, D(2023, 1, 31), (D(2023, 2, 1), D(2023, 2, 28))),
        ("LAST_MONTH", None, D(2024, 3, 31), (D(2024, 2, 1), D(2024, 2, 29))),
        ("NEXT_MONTH", None, D(2024, 12, 1), (D(2025, 1, 1), D(2025, 1, 31))),
        ("LAST_N_MONTHS", 2, FRI, (D(2024, 1, 1), D(2024, 2, 29))),
        ("LAST_N_MONTHS", 12, FRI, (D(2023, 3, 1), D(2024, 2, 29))),
        ("NEXT_N_MONTHS", 2, FRI, (D(2024, 4, 1), D(2024, 5, 31))),
        ("NEXT_N_MONTHS", 2, D(2024, 11, 30), (D(2024, 12, 1), D(2025, 1, 31))),
        ("N_MONTHS_AGO", 1, D(2024, 3, 31), (D(2024, 2, 1), D(2024, 2, 29))),
        ("N_MONTHS_AGO", 12, FRI, (D(2023, 3, 1), D(2023, 3, 31))),
        # calendar quarters
        ("THIS_QUARTER", None, FRI, (D(2024, 1, 1), D(2024, 3, 31))),
        ("LAST_QUARTER", None, FRI, (D(2023, 10, 1), D(2023, 12, 31))),
        ("NEXT_QUARTER", None, FRI, (D(2024, 4, 1), D(2024, 6, 30))),
        ("THIS_QUARTER", None, D(2024, 12, 31), (D(2024, 10, 1), D(2024, 12, 31))),
        ("NEXT_QUARTER", None, D(2024, 12, 31), (D(2025, 1, 1), D(2025, 3, 31))),
        ("THIS_QUARTER", None, D(2024, 7, 1), (D(2024, 7, 1), D(2024, 9, 30))),
        ("LAST_N_QUARTERS", 2, FRI, (D(2023, 7, 1), D(2023, 12, 31))),
        ("NEXT_N_QUARTERS", 2, FRI, (D(2024, 4, 1), D(2024, 9, 30))),
        ("N_QUARTERS_AGO", 4, FRI, (D(2023, 1, 1), D(2023, 3, 31))),
        # years
        ("THIS_YEAR", None, FRI, (D(2024, 1, 1), D(2024, 12, 31))),
        ("LAST_YEAR", None, D(2024, 1, 1), (D(2023, 1, 1), D(2023, 12, 31))),
        ("NEXT_YEAR", None, D(2024, 12, 31), (D(2025, 1, 1), D(2025, 12, 31))),
        ("LAST_N_YEARS", 2, FRI, (D(2022, 1, 1), D(2023, 12, 31))),
        ("NEXT_N_YEARS", 3, FRI, (D(2025, 1, 1), D(2027, 12, 31))),
        ("N_YEARS_AGO", 4, FRI, (D(2020, 1, 1), D(2020, 12, 31))),
    ],
)
def test_ranges(name: str, n: int | None, today: date, expected: tuple[date, date]) -> None:
    assert rng(name, today, n) == expected


def test_week_start_is_configurable() -> None:
    assert rng("THIS_WEEK", FRI, week_start=MONDAY) == (D(2024, 3, 11), D(2024, 3, 17))
    # On a Sunday a Monday-based week is the one that started six days ago.
    assert rng("THIS_WEEK", D(2024, 3, 10), week_start=MONDAY) == (D(2024, 3, 4), D(2024, 3, 10))
    assert rng("LAST_WEEK", D(2024, 3, 11), week_start=MONDAY) == (D(2024, 3, 4), D(2024, 3, 10))
    assert rng("NEXT_N_WEEKS", FRI, 1, week_start=MONDAY) == (D(2024, 3, 18), D(2024, 3, 24))


def test_fiscal_literals() -> None:
    # Fiscal year starting in April.
    assert rng("THIS_FISCAL_YEAR", FRI, fy=4) == (D(2023, 4, 1), D(2024, 3, 31))
    assert rng("NEXT_FISCAL_YEAR", FRI, fy=4) == (D(2024, 4, 1), D(2025, 3, 31))
    assert rng("LAST_FISCAL_YEAR", D(2024, 4, 1), fy=4) == (D(2023, 4, 1), D(2024, 3, 31))
    assert rng("THIS_FISCAL_QUARTER", FRI, fy=4) == (D(2024, 1, 1), D(2024, 3, 31))
    assert rng("THIS_FISCAL_QUARTER", FRI, fy=2) == (D(2024, 2, 1), D(2024, 4, 30))
    assert rng("LAST_FISCAL_QUARTER", FRI, fy=2) == (D(2023, 11, 1), D(2024, 1, 31))
    assert rng("NEXT_N_FISCAL_QUARTERS", FRI, 2, fy=2) == (D(2024, 5, 1), D(2024, 10, 31))
    assert rng("LAST_N_FISCAL_YEARS", FRI, 2, fy=10) == (D(2021, 10, 1), D(2023, 9, 30))
    assert rng("N_FISCAL_YEARS_AGO", FRI, 1, fy=10) == (D(2022, 10, 1), D(2023, 9, 30))
    assert rng("N_FISCAL_QUARTERS_AGO", FRI, 1, fy=10) == (D(2023, 10, 1), D(2023, 12, 31))
    # Calendar QUARTER/YEAR literals ignore the fiscal year; with a January fiscal year
    # start the fiscal ones coincide with them.
    assert rng("THIS_QUARTER", FRI, fy=2) == (D(2024, 1, 1), D(2024, 3, 31))
    assert rng("THIS_YEAR", FRI, fy=4) == (D(2024, 1, 1), D(2024, 12, 31))
    for today in (FRI, D(2024, 12, 31), D(2023, 1, 1)):
        assert rng("THIS_FISCAL_QUARTER", today) == rng("THIS_QUARTER", today)
        assert rng("LAST_N_FISCAL_YEARS", today, 3) == rng("LAST_N_YEARS", today, 3)


def test_empty_ranges_when_n_is_zero() -> None:
    start, end = rng("NEXT_N_DAYS", FRI, 0)
    assert start == end + timedelta(days=1)
    start, end = rng("LAST_N_MONTHS", FRI, 0)
    assert start == end + timedelta(days=1)


def test_ranges_are_clamped_to_representable_dates() -> None:
    assert rng("LAST_N_DAYS", FRI, 10**9) == (date.min, FRI)
    assert rng("NEXT_N_YEARS", FRI, 10**6)[1] == date.max
    assert rng("N_MONTHS_AGO", FRI, 10**6) == (date.min, date.min)
    assert rng("NEXT_N_WEEKS", date(9999, 12, 25), 5)[1] == date.max


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown date literal"):
        rng("SOMEDAY", FRI)
    with pytest.raises(ValueError, match="needs a parameter"):
        rng("LAST_N_DAYS", FRI)
    with pytest.raises(ValueError, match="takes no parameter"):
        rng("TODAY", FRI, 3)
    with pytest.raises(ValueError, match="week_start"):
        rng("TODAY", FRI, week_start=7)
    with pytest.raises(ValueError, match="fiscal_year_start_month"):
        rng("TODAY", FRI, fy=13)


def test_literal_sets() -> None:
    assert "TODAY" in FIXED_DATE_LITERALS and "LAST_N_DAYS" in PARAMETERISED_DATE_LITERALS
    assert not FIXED_DATE_LITERALS & PARAMETERISED_DATE_LITERALS


# --------------------------------------------------------------------------- bounds

LAST_WEEK = DateLiteral(name="LAST_WEEK")  # on FRI: 2024-03-03 .. 2024-03-09


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("=", DateBounds(lower=D(2024, 3, 3), upper=D(2024, 3, 10))),
        ("!=", DateBounds(lower=D(2024, 3, 3), upper=D(2024, 3, 10), negated=True)),
        ("<", DateBounds(lower=None, upper=D(2024, 3, 3))),
        ("<=", DateBounds(lower=None, upper=D(2024, 3, 10))),
        (">", DateBounds(lower=D(2024, 3, 10), upper=None)),
        (">=", DateBounds(lower=D(2024, 3, 3), upper=None)),
    ],
)
def test_bounds_per_operator(op: str, expected: DateBounds) -> None:
    assert date_literal_bounds(op, LAST_WEEK, today=FRI) == expected  # type: ignore[arg-type]


def test_bounds_contains_and_instants() -> None:
    eq = date_literal_bounds("=", LAST_WEEK, today=FRI)
    assert not eq.contains(D(2024, 3, 2))
    assert eq.contains(D(2024, 3, 3)) and eq.contains(D(2024, 3, 9))
    assert not eq.contains(D(2024, 3, 10))
    ne = date_literal_bounds("!=", LAST_WEEK, today=FRI)
    assert ne.contains(D(2024, 3, 2)) and not ne.contains(D(2024, 3, 5))
    pst = timezone(timedelta(hours=-8))
    assert eq.instants(pst) == (
        datetime(2024, 3, 3, tzinfo=pst),
        datetime(2024, 3, 10, tzinfo=pst),
    )
    assert date_literal_bounds(">", LAST_WEEK, today=FRI).instants(pst) == (
        datetime(2024, 3, 10, tzinfo=pst),
        None,
    )


def test_bounds_reject_like_and_handle_date_max() -> None:
    with pytest.raises(ValueError, match="cannot be used with a date literal"):
        date_literal_bounds("LIKE", LAST_WEEK, today=FRI)
    forever = DateLiteral(name="NEXT_N_YEARS", n=10**6)
    assert date_literal_bounds("=", forever, today=FRI).upper is None
    after = date_literal_bounds(">", forever, today=FRI)
    assert not after.contains(date.max) and not after.contains(FRI)


# --------------------------------------------------------------------------- properties

literals = st.one_of(
    st.sampled_from(sorted(FIXED_DATE_LITERALS)).map(lambda n: DateLiteral(name=n)),
    st.builds(
        lambda name, n: DateLiteral(name=name, n=n),
        st.sampled_from(sorted(PARAMETERISED_DATE_LITERALS)),
        st.integers(0, 400),
    ),
)
todays = st.dates(min_value=D(1800, 1, 1), max_value=D(3999, 12, 31))


@settings(max_examples=200, deadline=None)
@given(lit=literals, today=todays, week_start=st.integers(0, 6), fy=st.integers(1, 12))
def test_range_shapes(lit: DateLiteral, today: date, week_start: int, fy: int) -> None:
    first, last = resolve_date_literal(
        lit, today=today, week_start=week_start, fiscal_year_start_month=fy
    )
    days = (last - first).days + 1
    name, n = lit.name, lit.n or 0
    assert days >= 0
    assert days > 0 or (n == 0 and (name.startswith("NEXT_N_") or name.startswith("LAST_N_")))
    if "WEEK" in name:
        assert days % 7 == 0 and (days == 0 or first.weekday() == week_start)
    if any(unit in name for unit in ("MONTH", "QUARTER", "YEAR")):
        assert first.day == 1 and (last + timedelta(days=1)).day == 1
    if name == "LAST_N_DAYS":
        assert (first, last, days) == (today - timedelta(days=n), today, n + 1)
    if name == "NEXT_N_DAYS":
        assert first == today + timedelta(days=1) and days == n
    if name.startswith("LAST_") or name.startswith("N_") or name == "YESTERDAY":
        assert first <= today
    if name.startswith("LAST_") and name not in ("LAST_N_DAYS", "LAST_90_DAYS"):
        assert last < today  # only the DAYS variants include today
    if name.startswith("NEXT_") or name == "TOMORROW":
        assert first > today
    if name.startswith("THIS_") or name == "TODAY":
        assert first <= today <= last


@settings(max_examples=200, deadline=None)
@given(
    lit=literals,
    today=todays,
    op=st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
    offset=st.integers(-800, 800),
)
def test_bounds_agree_with_range(lit: DateLiteral, today: date, op: str, offset: int) -> None:
    first, last = resolve_date_literal(lit, today=today)
    d = today + timedelta(days=offset)
    expected = {
        "=": first <= d <= last,
        "!=": not first <= d <= last,
        "<": d < first,
        "<=": d <= last,
        ">": d > last,
        ">=": d >= first,
    }[op]
    assert date_literal_bounds(op, lit, today=today).contains(d) == expected  # type: ignore[arg-type]
