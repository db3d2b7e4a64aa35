"""Text functions: BEGINS CONTAINS FIND LEFT RIGHT MID LEN LOWER UPPER LPAD RPAD TRIM
SUBSTITUTE TEXT VALUE HYPERLINK IMAGE INCLUDES REGEX BR CASESAFEID INITCAP REVERSE
UNICODE.

Blank text (``None`` or ``""``) is one value, as in Salesforce. Functions that build
text return ``""`` for a blank result. Positions and lengths count code points.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.pool
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from workroute.kernel.ids import to18
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.errors import ArgumentError
from workroute.lang.formula.functions import (
    DATE_ARG,
    DATETIME_ARG,
    MULTIPICKLIST_ARG,
    NUMBER_ARG,
    PICKLIST_ARG,
    TEXT_ARG,
    CheckCall,
    CompileCall,
    Evaluator,
    FunctionSpec,
    where,
    wrong_type,
)
from workroute.lang.formula.types import (
    CHECKBOX,
    INTEGER,
    TEXT,
    FormulaType,
    Kind,
)
from workroute.lang.formula.values import (
    evaluation_error,
    format_number,
    multipicklist_values,
    parse_number,
    to_utc,
)

MAX_TEXT_LENGTH = 131_072
"""The longest text LPAD/RPAD build (Salesforce's long text area limit)."""

MAX_REGEX_LENGTH = 1_000
"""The longest REGEX() pattern accepted."""

MAX_REGEX_INPUT = 131_072
"""The longest text REGEX() matches; longer text is an evaluation error."""


def _text_result(call: CheckCall) -> FormulaType:
    call.require_all(TEXT_ARG)
    return TEXT


def _s(v: str | None) -> str:
    return "" if v is None else v


# ---------------------------------------------------------- BEGINS CONTAINS FIND


def _check_text_test(call: CheckCall) -> FormulaType:
    call.require_all(TEXT_ARG)
    return CHECKBOX


def _field_and_literal(call: CompileCall) -> tuple[str | None, str | None]:
    """(the record field read directly, the literal text) of ``F(Field, "text")``,
    the common form of BEGINS and CONTAINS: they read the stored text themselves,
    with two calls fewer per evaluation."""
    text, sub = call.codes
    if text.record_key is None or not sub.const or not isinstance(sub.value, str):
        return None, None
    return text.record_key, sub.value


def _compile_begins(call: CompileCall) -> Evaluator:
    a, b = call.fns
    key, sub = _field_and_literal(call)
    if key is not None and sub:

        def begins_literal(ctx: EvalContext) -> bool | None:
            text = ctx.record.get(key)
            return None if not text else text.startswith(sub)

        return begins_literal

    def begins(ctx: EvalContext) -> bool | None:
        sub = b(ctx)
        if not sub:
            return True
        text = a(ctx)
        return None if not text else text.startswith(sub)

    return begins


def _compile_contains(call: CompileCall) -> Evaluator:
    a, b = call.fns
    key, sub = _field_and_literal(call)
    if key is not None and sub:

        def contains_literal(ctx: EvalContext) -> bool | None:
            text = ctx.record.get(key)
            return None if not text else sub in text

        return contains_literal

    def contains(ctx: EvalContext) -> bool | None:
        sub = b(ctx)
        if not sub:
            return True
        text = a(ctx)
        return None if not text else sub in text

    return contains


def _check_find(call: CheckCall) -> FormulaType:
    call.require(0, TEXT_ARG)
    call.require(1, TEXT_ARG)
    if len(call.args) == 3:
        call.require(2, NUMBER_ARG)
    return INTEGER


def _compile_find(call: CompileCall) -> Evaluator:
    fns = call.fns
    search_fn, text_fn = fns[0], fns[1]
    start_fn = fns[2] if len(fns) == 3 else None

    def find(ctx: EvalContext) -> Decimal:
        search, text = search_fn(ctx), text_fn(ctx)
        start = 1
        if start_fn is not None:
            s = start_fn(ctx)
            if s is None:
                return Decimal(0)
            start = max(int(s), 1)  # Salesforce searches from the start when start_num < 1
        if not search or not text:
            return Decimal(0)
        return Decimal(text.find(search, start - 1) + 1)

    return find


# ------------------------------------------------------------- LEFT RIGHT MID LEN


def _check_text_number(call: CheckCall) -> FormulaType:
    call.require(0, TEXT_ARG)
    call.require_all(NUMBER_ARG, start=1)
    return TEXT


def _compile_left(call: CompileCall) -> Evaluator:
    a, b = call.fns

    def left(ctx: EvalContext) -> str | None:
        count = b(ctx)
        if count is None:
            return None
        n = int(count)
        return _s(a(ctx))[:n] if n > 0 else ""

    return left


def _compile_right(call: CompileCall) -> Evaluator:
    a, b = call.fns

    def right(ctx: EvalContext) -> str | None:
        count = b(ctx)
        if count is None:
            return None
        n = int(count)
        return _s(a(ctx))[-n:] if n > 0 else ""

    return right


def _compile_mid(call: CompileCall) -> Evaluator:
    a, b, c = call.fns

    def mid(ctx: EvalContext) -> str | None:
        start, count = b(ctx), c(ctx)
        if start is None or count is None:
            return None
        s = max(int(start), 1)
        n = max(int(count), 0)
        return _s(a(ctx))[s - 1 : s - 1 + n]

    return mid


def _check_len(call: CheckCall) -> FormulaType:
    call.require(0, TEXT_ARG)
    return INTEGER


def _compile_len(call: CompileCall) -> Evaluator:
    a = call.fns[0]

    def len_(ctx: EvalContext) -> Decimal:
        v = a(ctx)
        return Decimal(len(v)) if v else Decimal(0)

    return len_


# ------------------------------------------------------------------ LOWER UPPER


def _turkic(locale: str | None) -> bool:
    return bool(locale) and str(locale).lower()[:2] in ("tr", "az")


def upper(text: str, locale: str | None = None) -> str:
    """UPPER(text, locale): Turkish and Azeri map i to dotted capital I (U+0130)."""
    if _turkic(locale):
        text = text.replace("i", "\u0130")
    return text.upper()


def lower(text: str, locale: str | None = None) -> str:
    """LOWER(text, locale): Turkish and Azeri map I to dotless i (U+0131) and U+0130 to i."""
    if _turkic(locale):
        text = text.replace("I", "\u0131").replace("\u0130", "i")
    return text.lower()


def _compile_case_map(op: Callable[[str, str | None], str]) -> Callable[[CompileCall], Evaluator]:
    def build(call: CompileCall) -> Evaluator:
        fns = call.fns
        a = fns[0]
        if len(fns) == 1:
            return lambda ctx: op(_s(a(ctx)), None)
        locale = fns[1]
        return lambda ctx: op(_s(a(ctx)), locale(ctx))

    return build


# -------------------------------------------------------------------- LPAD RPAD


def _compile_pad(left: bool) -> Callable[[CompileCall], Evaluator]:
    name = "LPAD" if left else "RPAD"

    def build(call: CompileCall) -> Evaluator:
        node = call.node
        fns = call.fns
        text_fn, length_fn = fns[0], fns[1]
        pad_fn = fns[2] if len(fns) == 3 else None

        def pad(ctx: EvalContext) -> str | None:
            length = length_fn(ctx)
            if length is None:
                return None
            n = int(length)
            text = _s(text_fn(ctx))
            if n <= 0 or not text:
                return ""
            if n <= len(text):
                return text[:n]
            if n > MAX_TEXT_LENGTH:
                raise evaluation_error(f"{name}() padded length {n} is too large", node)
            padding = " " if pad_fn is None else _s(pad_fn(ctx))
            if not padding:
                return text
            fill = (padding * ((n - len(text)) // len(padding) + 1))[: n - len(text)]
            return fill + text if left else text + fill

        return pad

    return build


def _check_pad(call: CheckCall) -> FormulaType:
    call.require(0, TEXT_ARG)
    call.require(1, NUMBER_ARG)
    if len(call.args) == 3:
        call.require(2, TEXT_ARG)
    return TEXT


# ---------------------------------------------------------------- TRIM SUBSTITUTE


def _compile_trim(call: CompileCall) -> Evaluator:
    a = call.fns[0]
    return lambda ctx: _s(a(ctx)).strip(" ")


def _compile_substitute(call: CompileCall) -> Evaluator:
    a, b, c = call.fns

    def substitute(ctx: EvalContext) -> str:
        text: str | None = a(ctx)
        old: str | None = b(ctx)
        if not text or not old:
            return ""
        return text.replace(old, _s(c(ctx)))

    return substitute


# -------------------------------------------------------------------- TEXT_ARG VALUE


def _check_text(call: CheckCall) -> FormulaType:
    t = call.type(0)
    if t.is_null or t.is_number or t.kind in _TEXT_ACCEPTS:
        return TEXT
    expected = [NUMBER_ARG.label, DATE_ARG.label, DATETIME_ARG.label, PICKLIST_ARG.label]
    raise wrong_type(call.what, expected, t, call.args[0].node)


_TEXT_ACCEPTS = frozenset({Kind.DATE, Kind.DATETIME, Kind.TIME, Kind.PICKLIST})


def text_of(ftype: FormulaType) -> Callable[[Any], str | None]:
    """How TEXT_ARG() shows a value of ``ftype``."""
    kind = ftype.kind
    if ftype.is_number:
        return lambda v: None if v is None else format_number(v)
    if kind is Kind.DATE:
        return lambda v: None if v is None else _date_text(v)
    if kind is Kind.DATETIME:
        return lambda v: None if v is None else to_utc(v).strftime("%Y-%m-%d %H:%M:%SZ")
    if kind is Kind.TIME:
        return lambda v: None if v is None else _time_text(v)
    return lambda v: v


def _date_text(v: date) -> str:
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"


def _time_text(v: time) -> str:
    return f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond // 1000:03d}"


def _compile_text(call: CompileCall) -> Evaluator:
    show = text_of(call.args[0].type)
    a = call.fns[0]
    return lambda ctx: show(a(ctx))


def _check_value(call: CheckCall) -> FormulaType:
    call.require(0, TEXT_ARG)
    return FormulaType(Kind.NUMBER)


def _compile_value(call: CompileCall) -> Evaluator:
    node = call.node
    a = call.fns[0]

    def value(ctx: EvalContext) -> Decimal | None:
        v = a(ctx)
        if not v:
            return None
        number = parse_number(v)
        if number is None:
            raise evaluation_error(f"The value '{v}' is not a valid number.", node)
        return number

    return value


# -------------------------------------------------------------- HYPERLINK IMAGE BR


def _check_hyperlink(call: CheckCall) -> FormulaType:
    call.require_all(TEXT_ARG)
    return TEXT


def _compile_hyperlink(call: CompileCall) -> Evaluator:
    fns = call.fns
    url_fn, name_fn = fns[0], fns[1]
    target_fn = fns[2] if len(fns) == 3 else None

    def hyperlink(ctx: EvalContext) -> str:
        target = f' target="{_s(target_fn(ctx))}"' if target_fn is not None else ""
        return f'<a href="{_s(url_fn(ctx))}"{target}>{_s(name_fn(ctx))}</a>'

    return hyperlink


def _check_image(call: CheckCall) -> FormulaType:
    call.require(0, TEXT_ARG)
    call.require(1, TEXT_ARG)
    call.require_all(NUMBER_ARG, start=2)
    return TEXT


def _compile_image(call: CompileCall) -> Evaluator:
    fns = call.fns
    url_fn, alt_fn = fns[0], fns[1]
    size_fns = fns[2:]

    def image(ctx: EvalContext) -> str:
        sizes = ""
        for attr, f in zip(("height", "width"), size_fns, strict=False):
            v = f(ctx)
            if v is not None:
                sizes += f' {attr}="{format_number(v)}"'
        return f'<img src="{_s(url_fn(ctx))}" alt="{_s(alt_fn(ctx))}"{sizes}/>'

    return image


def _check_none(call: CheckCall) -> FormulaType:
    return TEXT


def _compile_br(call: CompileCall) -> Evaluator:
    return lambda ctx: "<br>"


# ---------------------------------------------------------------------- INCLUDES


def _check_includes(call: CheckCall) -> FormulaType:
    t = call.type(0)
    if t.kind is not Kind.MULTIPICKLIST:
        raise wrong_type(call.what, [MULTIPICKLIST_ARG.label], t, call.args[0].node)
    call.require_literal(1)
    return CHECKBOX


def _compile_includes(call: CompileCall) -> Evaluator:
    literal = call.codes[1].value
    a = call.fns[0]
    if not literal:
        return lambda ctx: False
    return lambda ctx: literal in multipicklist_values(a(ctx))


# ------------------------------------------------------------------------- REGEX

_QUANTIFIER = re.compile(r"[*+?]|\{(\d*)(,?)(\d*)\}")

REGEX_SAFE_LENGTH = 16
"""Text up to this length is matched in process even by a risky pattern."""

REGEX_TIMEOUT = 0.5
"""Seconds a risky pattern may run (in a worker process) before the match fails."""


@dataclass(frozen=True, slots=True)
class Regex:
    """A compiled REGEX() pattern; ``risky`` if it may backtrack exponentially."""

    pattern: re.Pattern[str]
    risky: bool


def regex_is_risky(pattern: str) -> bool:
    """Whether ``pattern`` repeats a group that contains an unbounded repetition or
    an alternation, as in ``(a+)+``, ``(\\w*x){5}`` or ``(a|aa)+``: the shapes of
    catastrophic backtracking (shared by harmless patterns such as ``([a-z]+\\.)+``)."""
    # per open group: [contains an unbounded quantifier, contains an alternation]
    stack: list[list[bool]] = [[False, False]]
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            continue
        if c == "(":
            stack.append([False, False])
            i += 1
            continue
        if c == "|":
            stack[-1][1] = True
            i += 1
            continue
        if c == ")" and len(stack) > 1:
            unbounded, alternation = stack.pop()
            m = _QUANTIFIER.match(pattern, i + 1)
            if (unbounded or alternation) and m is not None and _repeats(m):
                return True
            stack[-1][0] = stack[-1][0] or unbounded or (m is not None and _unbounded(m))
            i = i + 1 if m is None else m.end()
            continue
        m = _QUANTIFIER.match(pattern, i)
        if m is not None:
            stack[-1][0] = stack[-1][0] or _unbounded(m)
            i = m.end()
            continue
        i += 1
    return False


def _unbounded(m: re.Match[str]) -> bool:
    text = m.group(0)
    if text in ("*", "+"):
        return True
    if text == "?" or not m.group(2):
        return False
    high = m.group(3)
    return not high or int(high) > 10


def _repeats(m: re.Match[str]) -> bool:
    text = m.group(0)
    if text in ("*", "+"):
        return True
    if text == "?":
        return False
    low, comma, high = m.group(1), m.group(2), m.group(3)
    if not comma:
        return bool(low) and int(low) > 1
    return not high or int(high) > 1


@lru_cache(maxsize=256)
def compile_regex(pattern: str) -> Regex | str:
    """The compiled pattern, or why it is refused (too long, or invalid)."""
    if len(pattern) > MAX_REGEX_LENGTH:
        return f"regular expression longer than {MAX_REGEX_LENGTH} characters"
    try:
        return Regex(re.compile(pattern), regex_is_risky(pattern))
    except (re.error, OverflowError, RecursionError) as exc:
        return f"invalid regular expression: {exc}"


def _isolated_fullmatch(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None


_pool: multiprocessing.pool.Pool | None = None
_pool_lock = threading.Lock()


@atexit.register
def _close_pool() -> None:
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.terminate()
        pool.join()


def regex_fullmatch(regex: Regex, text: str) -> bool:
    """Whether ``text`` matches ``regex`` entirely, safely.

    Python's ``re`` cannot be interrupted, so a risky pattern on longer text runs in
    a worker process and fails after :data:`REGEX_TIMEOUT` seconds, as Salesforce
    stops a regular expression that runs too long ("Regular expression runtime
    exceeded").
    """
    if not regex.risky or len(text) <= REGEX_SAFE_LENGTH:
        return regex.pattern.fullmatch(text) is not None
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = multiprocessing.get_context("spawn").Pool(1)
        pool = _pool
    try:
        return bool(
            pool.apply_async(_isolated_fullmatch, (regex.pattern.pattern, text)).get(REGEX_TIMEOUT)
        )
    except multiprocessing.TimeoutError:
        with _pool_lock:
            if _pool is pool:
                _pool = None
        pool.terminate()
        raise


def _check_regex(call: CheckCall) -> FormulaType:
    call.forbid(0, TEXT_ARG)
    call.forbid(1, TEXT_ARG)
    pattern = call.literal_text(1)
    if pattern is not None:
        compiled = compile_regex(pattern)
        if isinstance(compiled, str):
            raise ArgumentError(
                f"Incorrect parameter value for {call.what}: {compiled}",
                **where(call.args[1].node),
            )
    return CHECKBOX


def _compile_regex(call: CompileCall) -> Evaluator:
    node = call.node
    text_fn, pattern_fn = call.fns
    literal = call.codes[1]
    fixed = compile_regex(_s(literal.value)) if literal.const else None

    def regex(ctx: EvalContext) -> bool:
        text = _s(text_fn(ctx))
        pattern = "" if fixed is not None else _s(pattern_fn(ctx))
        compiled = fixed if fixed is not None else compile_regex(pattern)
        if isinstance(compiled, str):
            raise evaluation_error(f"REGEX(): {compiled}", node)
        if len(text) > MAX_REGEX_INPUT:
            raise evaluation_error("Regular expression runtime exceeded: text too long", node)
        try:
            return regex_fullmatch(compiled, text)
        except multiprocessing.TimeoutError:
            raise evaluation_error(
                f"Regular expression runtime exceeded for: {compiled.pattern.pattern}", node
            ) from None

    return regex


# ------------------------------------------- CASESAFEID INITCAP REVERSE UNICODE


def _casesafeid(v: str | None) -> str:
    if not v:
        return ""
    if len(v) == 15:
        return to18(v)
    if len(v) == 18:
        return to18(v[:15])
    return v


def initcap(value: str) -> str:
    """Salesforce's INITCAP: lower-case, with the first letter of each word upper-case.

    A word starts after any character that is neither a letter nor a digit.
    """
    out = []
    start = True
    for c in value:
        if c.islower():
            out.append(c.upper() if start else c)
            start = False
        elif c.isupper():
            out.append(c if start else c.lower())
            start = False
        else:
            start = not c.isdigit()
            out.append(c)
    return "".join(out)


def _compile_map(op: Callable[[str], Any]) -> Callable[[CompileCall], Evaluator]:
    def build(call: CompileCall) -> Evaluator:
        a = call.fns[0]
        return lambda ctx: op(_s(a(ctx)))

    return build


def _check_unicode(call: CheckCall) -> FormulaType:
    call.require(0, TEXT_ARG)
    return INTEGER


def _unicode(v: str) -> Decimal:
    return Decimal(ord(v[0])) if v else Decimal(0)


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("BEGINS", 2, 2, _check_text_test, _compile_begins),
    FunctionSpec("CONTAINS", 2, 2, _check_text_test, _compile_contains),
    FunctionSpec("FIND", 2, 3, _check_find, _compile_find),
    FunctionSpec("LEFT", 2, 2, _check_text_number, _compile_left),
    FunctionSpec("RIGHT", 2, 2, _check_text_number, _compile_right),
    FunctionSpec("MID", 3, 3, _check_text_number, _compile_mid),
    FunctionSpec("LEN", 1, 1, _check_len, _compile_len),
    FunctionSpec("LOWER", 1, 2, _text_result, _compile_case_map(lower)),
    FunctionSpec("UPPER", 1, 2, _text_result, _compile_case_map(upper)),
    FunctionSpec("LPAD", 2, 3, _check_pad, _compile_pad(left=True)),
    FunctionSpec("RPAD", 2, 3, _check_pad, _compile_pad(left=False)),
    FunctionSpec("TRIM", 1, 1, _text_result, _compile_trim),
    FunctionSpec("SUBSTITUTE", 3, 3, _text_result, _compile_substitute),
    FunctionSpec("TEXT", 1, 1, _check_text, _compile_text, picklist_args=frozenset({0})),
    FunctionSpec("VALUE", 1, 1, _check_value, _compile_value),
    FunctionSpec("HYPERLINK", 2, 3, _check_hyperlink, _compile_hyperlink),
    FunctionSpec("IMAGE", 2, 4, _check_image, _compile_image),
    FunctionSpec(
        "INCLUDES",
        2,
        2,
        _check_includes,
        _compile_includes,
        multipicklist_args=frozenset({0}),
    ),
    FunctionSpec("REGEX", 2, 2, _check_regex, _compile_regex),
    FunctionSpec("BR", 0, 0, _check_none, _compile_br),
    FunctionSpec("CASESAFEID", 1, 1, _text_result, _compile_map(_casesafeid)),
    FunctionSpec("INITCAP", 1, 1, _text_result, _compile_map(initcap)),
    FunctionSpec("REVERSE", 1, 1, _text_result, _compile_map(lambda v: v[::-1])),
    FunctionSpec("UNICODE", 1, 1, _check_unicode, _compile_map(_unicode)),
)


__all__ = [
    "FUNCTIONS",
    "Regex",
    "compile_regex",
    "initcap",
    "regex_fullmatch",
    "regex_is_risky",
    "text_of",
]
