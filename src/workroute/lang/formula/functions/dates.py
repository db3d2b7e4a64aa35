"""Date and time functions: DATE DATEVALUE DATETIMEVALUE TIMEVALUE TODAY NOW TIMENOW
DAY MONTH YEAR WEEKDAY ADDMONTHS HOUR MINUTE SECOND MILLISECOND ISOWEEK ISOYEAR
DAYOFYEAR FROMUNIXTIME UNIXTIMESTAMP.

All date/time values are in UTC (workroute has no per-user time zone): TODAY() is
the UTC date of the evaluation time and DATEVALUE(datetime) the UTC date. NOW(),
TODAY() and TIMENOW() read :attr:`EvalContext.now`, never the system clock.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.functions import (
    DATE_ARG,
    DATETIME_ARG,
    NUMBER_ARG,
    TEXT_ARG,
    TIME_ARG,
    CheckCall,
    CompileCall,
    Evaluator,
    FunctionSpec,
)
from workroute.lang.formula.functions.math import strict1, strict2
from workroute.lang.formula.types import (
    DATE,
    DATETIME,
    INTEGER,
    TIME,
    FormulaType,
    Kind,
)
from workroute.lang.formula.values import evaluation_error, time_to_ms, to_utc

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)
_ONE_DAY = timedelta(days=1)


def add_months(value: date, months: int) -> date:
    """Salesforce's ADDMONTHS on a date.

    The last day of a month stays the last day (2024-02-29 + 1 month = 2024-03-31);
    otherwise the day is kept, or clamped to the end of a shorter month
    (2024-01-30 + 1 month = 2024-02-29).
    """
    last = value.day == calendar.monthrange(value.year, value.month)[1]
    if last:
        value += _ONE_DAY
    years, month0 = divmod(value.month - 1 + months, 12)
    year = value.year + years
    if not 1 <= year <= 9999:
        raise OverflowError("year out of range")
    day = min(value.day, calendar.monthrange(year, month0 + 1)[1])
    result = date(year, month0 + 1, day)
    return result - _ONE_DAY if last else result


def _date_of(v: date) -> date:
    return to_utc(v).date() if isinstance(v, datetime) else v


# ---------------------------------------------------------------- constructors


def _check_date(call: CheckCall) -> FormulaType:
    call.require_all(NUMBER_ARG)
    return DATE


def _compile_date(call: CompileCall) -> Evaluator:
    node = call.node
    fy, fm, fd = call.fns

    def date_(ctx: EvalContext) -> date | None:
        y, m, d = fy(ctx), fm(ctx), fd(ctx)
        if y is None or m is None or d is None:
            return None
        year = int(y)
        if not 1 <= year <= 9999:
            raise evaluation_error("Year out of range in DATE() function", node)
        try:
            return date(year, int(m), int(d))
        except ValueError:
            raise evaluation_error("Month or Day out of range in DATE() function", node) from None

    return date_


_DATE_PREFIX = re.compile(r"(\d{4})-(\d+)-(\d+)")
_DATETIME_PREFIX = re.compile(r"(\d{4})-(\d+)-(\d+) (\d+):(\d+):(\d+)")
_TIME_TEXT = re.compile(r"(\d+):(\d+):(\d+)\.(\d+)")


def parse_date_text(text: str) -> date | None:
    """DATEVALUE's reading of text: ``YYYY-MM-DD`` at the start (the rest ignored)."""
    m = _DATE_PREFIX.match(text)
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_datetime_text(text: str) -> datetime | None:
    """DATETIMEVALUE's reading of text: ``YYYY-MM-DD HH:MM:SS`` (GMT) at the start."""
    m = _DATETIME_PREFIX.match(text)
    if m is None:
        return None
    hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6))
    if hour > 23 or minute > 59 or second > 59:
        return None
    try:
        return datetime(
            int(m.group(1)), int(m.group(2)), int(m.group(3)), hour, minute, second, tzinfo=UTC
        )
    except ValueError:
        return None


def parse_time_text(text: str) -> time | None:
    """TIMEVALUE's reading of text: exactly ``HH:MM:SS.MS``."""
    m = _TIME_TEXT.fullmatch(text)
    if m is None:
        return None
    hour, minute, second, millis = (int(g) for g in m.groups())
    if hour > 23 or minute > 59 or second > 59 or millis > 999:
        return None
    return time(hour, minute, second, millis * 1000)


def _check_datevalue(call: CheckCall) -> FormulaType:
    call.forbid(0, DATETIME_ARG, TEXT_ARG)
    return DATE


def _compile_datevalue(call: CompileCall) -> Evaluator:
    node = call.node
    a = call.fns[0]
    if call.args[0].type.kind is Kind.DATETIME:
        return strict1(a, lambda v: to_utc(v).date())

    def datevalue(ctx: EvalContext) -> date | None:
        v = a(ctx)
        if not v:
            return None
        parsed = parse_date_text(v)
        if parsed is None:
            raise evaluation_error(f"Invalid date '{v}' for DATEVALUE()", node)
        return parsed

    return datevalue


def _check_datetimevalue(call: CheckCall) -> FormulaType:
    call.forbid(0, DATETIME_ARG, DATE_ARG, TEXT_ARG)
    return DATETIME


def _compile_datetimevalue(call: CompileCall) -> Evaluator:
    node = call.node
    a = call.fns[0]
    kind = call.args[0].type.kind
    if kind is Kind.DATETIME:
        return a
    if kind is Kind.DATE:
        return strict1(a, lambda v: datetime(v.year, v.month, v.day, tzinfo=UTC))

    def datetimevalue(ctx: EvalContext) -> datetime | None:
        v = a(ctx)
        if not v:
            return None
        parsed = parse_datetime_text(v)
        if parsed is None:
            raise evaluation_error(f"Invalid date/time '{v}' for DATETIMEVALUE()", node)
        return parsed

    return datetimevalue


def _check_timevalue(call: CheckCall) -> FormulaType:
    call.forbid(0, DATETIME_ARG, TIME_ARG, TEXT_ARG)
    return TIME


def _time_of(v: datetime) -> time:
    v = to_utc(v)
    return time(v.hour, v.minute, v.second, v.microsecond // 1000 * 1000)


def _compile_timevalue(call: CompileCall) -> Evaluator:
    node = call.node
    a = call.fns[0]
    kind = call.args[0].type.kind
    if kind is Kind.TIME:
        return a
    if kind is Kind.DATETIME:
        return strict1(a, _time_of)

    def timevalue(ctx: EvalContext) -> time | None:
        v = a(ctx)
        if not v:
            return None
        parsed = parse_time_text(v)
        if parsed is None:
            raise evaluation_error(f"Invalid time '{v}' for TIMEVALUE()", node)
        return parsed

    return timevalue


# ------------------------------------------------------------------------- clock


def _returns(ftype: FormulaType) -> Callable[[CheckCall], FormulaType]:
    return lambda call: ftype


def _compile_today(call: CompileCall) -> Evaluator:
    return lambda ctx: ctx.today


def _compile_now(call: CompileCall) -> Evaluator:
    return lambda ctx: ctx.now


def _compile_timenow(call: CompileCall) -> Evaluator:
    return lambda ctx: _time_of(ctx.now)


# ------------------------------------------------------------------- date parts


def _check_date_part(call: CheckCall) -> FormulaType:
    call.require(0, DATE_ARG)
    return INTEGER


def _check_time_part(call: CheckCall) -> FormulaType:
    call.require(0, TIME_ARG)
    return INTEGER


def _check_iso(call: CheckCall) -> FormulaType:
    call.forbid(0, DATE_ARG, DATETIME_ARG)
    return INTEGER


def _part(op: Callable[[Any], int]) -> Callable[[CompileCall], Evaluator]:
    return lambda call: strict1(call.fns[0], lambda v: Decimal(op(v)))


def _weekday(v: date) -> int:
    """1 for Sunday through 7 for Saturday."""
    return v.isoweekday() % 7 + 1


# --------------------------------------------------------------------- ADDMONTHS


def _check_addmonths(call: CheckCall) -> FormulaType:
    t = call.forbid(0, DATE_ARG, DATETIME_ARG)
    call.forbid(1, NUMBER_ARG)
    return DATE if t.is_null else t


def _compile_addmonths(call: CompileCall) -> Evaluator:
    node = call.node
    a, b = call.fns

    def addmonths(v: date, months: Decimal) -> date:
        try:
            if isinstance(v, datetime):
                v = to_utc(v)
                d = add_months(v.date(), int(months))
                return datetime.combine(d, v.timetz())
            return add_months(v, int(months))
        except (OverflowError, ValueError):
            raise evaluation_error("Date out of range in ADDMONTHS()", node) from None

    return strict2(a, b, addmonths)


# ------------------------------------------------------------------- unix times


def _check_fromunixtime(call: CheckCall) -> FormulaType:
    call.require(0, NUMBER_ARG)
    return DATETIME


def _compile_fromunixtime(call: CompileCall) -> Evaluator:
    node = call.node

    def fromunixtime(v: Decimal) -> datetime:
        try:
            return EPOCH + timedelta(milliseconds=int(v.scaleb(3)))
        except (OverflowError, ValueError):
            raise evaluation_error(f"FROMUNIXTIME() value out of range: {v}", node) from None

    return strict1(call.fns[0], fromunixtime)


def _check_unixtimestamp(call: CheckCall) -> FormulaType:
    call.forbid(0, DATE_ARG, DATETIME_ARG, TIME_ARG)
    return INTEGER


def _trunc_div(n: int, d: int) -> int:
    q = abs(n) // d
    return q if n >= 0 else -q


def unixtimestamp(v: date | time) -> Decimal:
    if isinstance(v, datetime):
        ms = (to_utc(v) - EPOCH) // timedelta(milliseconds=1)
        return Decimal(_trunc_div(ms, 1000))
    if isinstance(v, date):
        return Decimal((v - _EPOCH_DATE).days * 86_400)
    return Decimal(time_to_ms(v) // 1000)


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("DATE", 3, 3, _check_date, _compile_date),
    FunctionSpec("DATEVALUE", 1, 1, _check_datevalue, _compile_datevalue),
    FunctionSpec("DATETIMEVALUE", 1, 1, _check_datetimevalue, _compile_datetimevalue),
    FunctionSpec("TIMEVALUE", 1, 1, _check_timevalue, _compile_timevalue),
    FunctionSpec("TODAY", 0, 0, _returns(DATE), _compile_today, pure=False),
    FunctionSpec("NOW", 0, 0, _returns(DATETIME), _compile_now, pure=False),
    FunctionSpec("TIMENOW", 0, 0, _returns(TIME), _compile_timenow, pure=False),
    FunctionSpec("DAY", 1, 1, _check_date_part, _part(lambda v: v.day)),
    FunctionSpec("MONTH", 1, 1, _check_date_part, _part(lambda v: v.month)),
    FunctionSpec("YEAR", 1, 1, _check_date_part, _part(lambda v: v.year)),
    FunctionSpec("WEEKDAY", 1, 1, _check_date_part, _part(_weekday)),
    FunctionSpec("DAYOFYEAR", 1, 1, _check_date_part, _part(lambda v: v.timetuple().tm_yday)),
    FunctionSpec("ISOWEEK", 1, 1, _check_iso, _part(lambda v: _date_of(v).isocalendar()[1])),
    FunctionSpec("ISOYEAR", 1, 1, _check_iso, _part(lambda v: _date_of(v).isocalendar()[0])),
    FunctionSpec("ADDMONTHS", 2, 2, _check_addmonths, _compile_addmonths),
    FunctionSpec("HOUR", 1, 1, _check_time_part, _part(lambda v: v.hour)),
    FunctionSpec("MINUTE", 1, 1, _check_time_part, _part(lambda v: v.minute)),
    FunctionSpec("SECOND", 1, 1, _check_time_part, _part(lambda v: v.second)),
    FunctionSpec("MILLISECOND", 1, 1, _check_time_part, _part(lambda v: v.microsecond // 1000)),
    FunctionSpec("FROMUNIXTIME", 1, 1, _check_fromunixtime, _compile_fromunixtime),
    FunctionSpec(
        "UNIXTIMESTAMP", 1, 1, _check_unixtimestamp, lambda c: strict1(c.fns[0], unixtimestamp)
    ),
)

__all__ = [
    "FUNCTIONS",
    "add_months",
    "parse_date_text",
    "parse_datetime_text",
    "parse_time_text",
    "unixtimestamp",
]
