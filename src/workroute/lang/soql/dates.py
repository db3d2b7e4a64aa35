"""SOQL date literals: which days each one covers, and how operators apply to them.

Definitions follow Salesforce's *SOQL and SOSL Reference*, "Date Formats and Date
Literals in WHERE" (developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/
sforce_api_calls_soql_select_dateformats.htm). Quoted phrases below are from its table:

* Each literal is "a range of time beginning with midnight (00:00:00)"; "to find a value
  within the range, use =. To find values on either side of the range, use > or <."
* ``LAST_N_DAYS:n`` "starts with the current day and continues for the past n days.
  This includes the current day, not just previous days. For example, LAST_N_DAYS:1
  includes yesterday and today." So ``LAST_90_DAYS`` "includes 91 days in total".
* ``NEXT_N_DAYS:n`` "starts 00:00:00 of the next day and continues for the next n days.
  This does not include the current day. For example, NEXT_N_DAYS:1 is equivalent to
  TOMORROW." ``NEXT_90_DAYS`` likewise "starts 00:00:00 of the next day".
* "If the UNIT in LAST_N_UNIT:n is any unit except DAYS, the date literal does not
  include the current day": ``LAST_N_WEEKS:n`` runs from the first day of the week that
  started n weeks before the current week to the last day of the previous week; months,
  quarters and years alike. ``NEXT_N_<UNIT>:n`` starts with the next whole unit.
* ``N_<UNIT>_AGO:n`` is the single whole unit (day, week, month, quarter, year) that
  started n units before the current one.
* Weeks start on the locale's first day of the week (Sunday for en_US); QUARTER and YEAR
  literals are calendar quarters and years; the FISCAL variants use the fiscal year,
  here a standard fiscal year starting on the first day of ``fiscal_year_start_month``.

All functions are pure: ``today`` is the current date *in the querying user's time
zone*, which the caller supplies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Literal

from workroute.lang.soql.ast import ComparisonOp, DateLiteral

__all__ = [
    "FIXED_DATE_LITERALS",
    "PARAMETERISED_DATE_LITERALS",
    "DateBounds",
    "date_literal_bounds",
    "resolve_date_literal",
]

# name -> (unit, relation, offset) for the literals without a parameter.
_Unit = Literal["day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year"]
_Fixed = tuple[_Unit, int, int]  # unit, first unit offset, last unit offset (from current)

_FIXED: dict[str, _Fixed] = {
    "YESTERDAY": ("day", -1, -1),
    "TODAY": ("day", 0, 0),
    "TOMORROW": ("day", 1, 1),
    "LAST_WEEK": ("week", -1, -1),
    "THIS_WEEK": ("week", 0, 0),
    "NEXT_WEEK": ("week", 1, 1),
    "LAST_MONTH": ("month", -1, -1),
    "THIS_MONTH": ("month", 0, 0),
    "NEXT_MONTH": ("month", 1, 1),
    "LAST_90_DAYS": ("day", -90, 0),
    "NEXT_90_DAYS": ("day", 1, 90),
    "LAST_QUARTER": ("quarter", -1, -1),
    "THIS_QUARTER": ("quarter", 0, 0),
    "NEXT_QUARTER": ("quarter", 1, 1),
    "LAST_YEAR": ("year", -1, -1),
    "THIS_YEAR": ("year", 0, 0),
    "NEXT_YEAR": ("year", 1, 1),
    "LAST_FISCAL_QUARTER": ("fiscal_quarter", -1, -1),
    "THIS_FISCAL_QUARTER": ("fiscal_quarter", 0, 0),
    "NEXT_FISCAL_QUARTER": ("fiscal_quarter", 1, 1),
    "LAST_FISCAL_YEAR": ("fiscal_year", -1, -1),
    "THIS_FISCAL_YEAR": ("fiscal_year", 0, 0),
    "NEXT_FISCAL_YEAR": ("fiscal_year", 1, 1),
}

# name -> (unit, kind) for the ``:n`` literals.
_Kind = Literal["last", "next", "ago"]
_PARAMETERISED: dict[str, tuple[_Unit, _Kind]] = {
    "LAST_N_DAYS": ("day", "last"),
    "NEXT_N_DAYS": ("day", "next"),
    "N_DAYS_AGO": ("day", "ago"),
    "LAST_N_WEEKS": ("week", "last"),
    "NEXT_N_WEEKS": ("week", "next"),
    "N_WEEKS_AGO": ("week", "ago"),
    "LAST_N_MONTHS": ("month", "last"),
    "NEXT_N_MONTHS": ("month", "next"),
    "N_MONTHS_AGO": ("month", "ago"),
    "LAST_N_QUARTERS": ("quarter", "last"),
    "NEXT_N_QUARTERS": ("quarter", "next"),
    "N_QUARTERS_AGO": ("quarter", "ago"),
    "LAST_N_YEARS": ("year", "last"),
    "NEXT_N_YEARS": ("year", "next"),
    "N_YEARS_AGO": ("year", "ago"),
    "LAST_N_FISCAL_QUARTERS": ("fiscal_quarter", "last"),
    "NEXT_N_FISCAL_QUARTERS": ("fiscal_quarter", "next"),
    "N_FISCAL_QUARTERS_AGO": ("fiscal_quarter", "ago"),
    "LAST_N_FISCAL_YEARS": ("fiscal_year", "last"),
    "NEXT_N_FISCAL_YEARS": ("fiscal_year", "next"),
    "N_FISCAL_YEARS_AGO": ("fiscal_year", "ago"),
}

FIXED_DATE_LITERALS: frozenset[str] = frozenset(_FIXED)
"""Date literal names that take no parameter (``TODAY``, ``LAST_WEEK`` ...)."""

PARAMETERISED_DATE_LITERALS: frozenset[str] = frozenset(_PARAMETERISED)
"""Date literal names that require ``:n`` (``LAST_N_DAYS`` ...)."""

_MIN_ORDINAL = date.min.toordinal()
_MAX_ORDINAL = date.max.toordinal()
# Month index: year * 12 + month - 1.
_MIN_MONTH = date.min.year * 12
_MAX_MONTH = date.max.year * 12 + 11


def _day(ordinal: int) -> date:
    return date.fromordinal(min(max(ordinal, _MIN_ORDINAL), _MAX_ORDINAL))


def _month_first(index: int) -> date:
    """First day of the month with the given index (clamped to date.min/max)."""
    if index < _MIN_MONTH:
        return date.min
    if index > _MAX_MONTH:
        return date.max
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


def _month_last(index: int) -> date:
    """Last day of the month with the given index (clamped to date.min/max)."""
    if index < _MIN_MONTH:
        return date.min
    if index >= _MAX_MONTH:
        return date.max
    return _day(_month_first(index + 1).toordinal() - 1)


def _unit_span(
    unit: _Unit, first: int, last: int, *, today: date, week_start: int, fy_start: int
) -> tuple[date, date]:
    """Days from the start of unit ``first`` to the end of unit ``last``, where unit 0
    is the one containing ``today`` and negative offsets lie in the past."""
    if unit == "day":
        t = today.toordinal()
        return _day(t + first), _day(t + last)
    if unit == "week":
        week0 = today.toordinal() - (today.weekday() - week_start) % 7
        return _day(week0 + 7 * first), _day(week0 + 7 * last + 6)
    month = today.year * 12 + today.month - 1
    if unit == "month":
        size, start = 1, month
    elif unit in ("quarter", "fiscal_quarter"):
        base = 1 if unit == "quarter" else fy_start
        size, start = 3, month - (today.month - base) % 3
    else:  # year, fiscal_year
        base = 1 if unit == "year" else fy_start
        size, start = 12, month - (today.month - base) % 12
    return _month_first(start + size * first), _month_last(start + size * (last + 1) - 1)


def resolve_date_literal(
    lit: DateLiteral,
    *,
    today: date,
    week_start: int = 6,
    fiscal_year_start_month: int = 1,
) -> tuple[date, date]:
    """The closed range ``(first_day, last_day)`` of days ``lit`` covers.

    ``week_start`` uses :meth:`date.weekday` numbering (Monday 0 ... Sunday 6; the
    default is Sunday, as in the en_US locale). ``fiscal_year_start_month`` (1-12) only
    affects the FISCAL literals. With ``n == 0`` the ``NEXT_N_...`` and ``LAST_N_...``
    literals other than LAST_N_DAYS are empty: ``first_day == last_day + 1``.
    Dates are clamped to ``date.min`` / ``date.max``.
    """
    if not 0 <= week_start <= 6:
        raise ValueError(f"week_start must be 0..6, not {week_start}")
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1..12, not {fiscal_year_start_month}")

    def span(unit: _Unit, first: int, last: int) -> tuple[date, date]:
        return _unit_span(
            unit, first, last, today=today, week_start=week_start, fy_start=fiscal_year_start_month
        )

    fixed = _FIXED.get(lit.name)
    if fixed is not None:
        if lit.n is not None:
            raise ValueError(f"{lit.name} takes no parameter")
        unit, first, last = fixed
        return span(unit, first, last)
    param = _PARAMETERISED.get(lit.name)
    if param is None:
        raise ValueError(f"unknown date literal {lit.name!r}")
    if lit.n is None or lit.n < 0:
        raise ValueError(f"{lit.name} needs a parameter n >= 0")
    unit, kind = param
    n = lit.n
    if kind == "ago":
        return span(unit, -n, -n)
    if kind == "next":
        return span(unit, 1, n)
    if unit == "day":  # LAST_N_DAYS includes today
        return span(unit, -n, 0)
    return span(unit, -n, -1)


@dataclass(frozen=True, slots=True, kw_only=True)
class DateBounds:
    """What ``field <op> <date literal>`` means, as a half-open range of days.

    A date ``d`` satisfies the comparison iff
    ``(lower is None or d >= lower) and (upper is None or d < upper)``, negated when
    ``negated`` is set (only for ``!=``: outside the range). For a dateTime field use
    the same bounds as instants at local midnight (:meth:`instants`).
    """

    lower: date | None
    upper: date | None
    negated: bool = False

    def contains(self, value: date) -> bool:
        inside = (self.lower is None or value >= self.lower) and (
            self.upper is None or value < self.upper
        )
        return inside != self.negated

    def instants(self, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
        """The bounds as aware datetimes at 00:00 in ``tz`` (the user's time zone)."""
        return (
            None if self.lower is None else datetime.combine(self.lower, time(0), tzinfo=tz),
            None if self.upper is None else datetime.combine(self.upper, time(0), tzinfo=tz),
        )


def date_literal_bounds(
    op: ComparisonOp,
    lit: DateLiteral,
    *,
    today: date,
    week_start: int = 6,
    fiscal_year_start_month: int = 1,
) -> DateBounds:
    """Translate ``field <op> lit`` into :class:`DateBounds`.

    ``=`` is within the range, ``!=`` outside it, ``<`` before its first day, ``<=`` up
    to its last day, ``>`` after its last day and ``>=`` from its first day on.
    """
    first, last = resolve_date_literal(
        lit, today=today, week_start=week_start, fiscal_year_start_month=fiscal_year_start_month
    )
    # Exclusive end; None when the range runs to the end of representable time.
    end: date | None = None if last == date.max else _day(last.toordinal() + 1)
    if op == "=":
        return DateBounds(lower=first, upper=end)
    if op == "!=":
        return DateBounds(lower=first, upper=end, negated=True)
    if op == "<":
        return DateBounds(lower=None, upper=first)
    if op == "<=":
        return DateBounds(lower=None, upper=end)
    if op == ">":
        return DateBounds(lower=end, upper=None) if end is not None else _EMPTY
    if op == ">=":
        return DateBounds(lower=first, upper=None)
    raise ValueError(f"operator {op} cannot be used with a date literal")


_EMPTY = DateBounds(lower=date.max, upper=date.max)
