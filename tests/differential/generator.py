"""Random, well-typed Salesforce formulas for the differential test against formulon.

Formulas are written in the syntax both implementations read the same way: every
operator application is parenthesized and unary minus only appears on literals
(formulon reads ``-x`` and ``!a && b`` differently, see the parser's notes). Functions
formulon 6.25.6 lacks (TRUNC, DAYOFYEAR, INITCAP, REVERSE, ISNUMBER, TIMEVALUE of a
datetime, ordering of text) are left out; their unit tests cite Salesforce's docs. Each case
comes with identifiers of every type, some of them null, in workroute's JSON-lines
encoding.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

Kind = str  # "number" | "text" | "checkbox" | "date" | "datetime"


@dataclass(frozen=True)
class Case:
    formula: str
    identifiers: dict[str, dict[str, Any]]

    def line(self, case_id: int) -> dict[str, Any]:
        return {"id": case_id, "formula": self.formula, "identifiers": self.identifiers}


_WORDS = ["alpha", "Beta", "gamma delta", "", "  padded  ", "ÉTÉ", "a,b", 'x"y', "100", "3.5"]


def _identifiers(rng: random.Random) -> dict[str, dict[str, Any]]:
    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.12 else value

    day = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 900))
    second = rng.randrange(0, 86400)
    return {
        "Amount": {
            "type": "currency",
            "value": maybe(round(rng.uniform(-5000, 50000), 2)),
            "scale": 2,
            "length": 16,
        },
        "Qty": {
            "type": "number",
            "value": maybe(rng.randrange(-20, 200)),
            "scale": 0,
            "length": 18,
        },
        "Rate": {
            "type": "percent",
            "value": maybe(round(rng.uniform(0, 100), 1)),
            "scale": 1,
            "length": 16,
        },
        "Name": {"type": "text", "value": maybe(rng.choice(_WORDS)), "length": 80},
        "Code": {
            "type": "text",
            "value": maybe(rng.choice(["AB-12", "zz", "Q", "12.75"])),
            "length": 20,
        },
        "Flag": {"type": "checkbox", "value": rng.random() < 0.5},
        "Due": {"type": "date", "value": maybe(day.isoformat())},
        "Stamp": {
            "type": "datetime",
            "value": maybe(
                f"{day.isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
                ".000Z"
            ),
        },
        "Status": {"type": "picklist", "value": maybe(rng.choice(["New", "Working", "Closed"]))},
    }


_VARS: dict[Kind, list[str]] = {
    "number": ["Amount", "Qty", "Rate"],
    "text": ["Name", "Code"],
    "checkbox": ["Flag"],
    "date": ["Due"],
    "datetime": ["Stamp"],
}


class FormulaGenerator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def case(self) -> Case:
        kind = self.rng.choice(
            ["number", "number", "text", "checkbox", "checkbox", "date", "datetime"]
        )
        return Case(self.expr(kind, 3), _identifiers(self.rng))

    def cases(self, n: int) -> list[Case]:
        return [self.case() for _ in range(n)]

    # -- expressions ----------------------------------------------------------------

    def expr(self, kind: Kind, depth: int) -> str:
        if depth <= 0 or self.rng.random() < 0.25:
            return self.leaf(kind)
        makers = self._makers(kind)
        return self.rng.choice(makers)(depth - 1)

    def leaf(self, kind: Kind) -> str:
        r = self.rng
        if r.random() < 0.55:
            return r.choice(_VARS[kind])
        if kind == "number":
            return r.choice(["0", "1", "2", "7", "10", "0.5", "2.25", "100", "-3", "-1.5"])
        if kind == "text":
            return '"' + r.choice(["abc", "Hello World", "", " x ", "New", "42", "7.50"]) + '"'
        if kind == "checkbox":
            return r.choice(["TRUE", "FALSE"])
        if kind == "date":
            return f"DATE({r.randrange(2020, 2026)}, {r.randrange(1, 13)}, {r.randrange(1, 29)})"
        return 'DATETIMEVALUE("2024-02-29 13:45:00")'

    def _makers(self, kind: Kind) -> list[Callable[[int], str]]:
        e = self.expr
        r = self.rng

        def num(op: str) -> Callable[[int], str]:
            return lambda d: f"({e('number', d)} {op} {e('number', d)})"

        def call(name: str, *kinds: Kind) -> Callable[[int], str]:
            return lambda d: f"{name}({', '.join(e(k, d) for k in kinds)})"

        def small(lo: int, hi: int) -> str:
            return str(r.randrange(lo, hi))

        if kind == "number":
            return [
                num("+"),
                num("-"),
                num("*"),
                num("/"),
                call("ABS", "number"),
                call("CEILING", "number"),
                call("FLOOR", "number"),
                lambda d: f"ROUND({e('number', d)}, {small(0, 4)})",
                lambda d: f"MOD({e('number', d)}, {r.choice(['2', '3', '7', '0.5'])})",
                call("MAX", "number", "number"),
                call("MIN", "number", "number", "number"),
                call("LEN", "text"),
                lambda d: f"FIND({e('text', d)}, {e('text', d)})",
                lambda d: f"IF({e('checkbox', d)}, {e('number', d)}, {e('number', d)})",
                lambda d: (
                    f"CASE({e('number', d)}, 1, {e('number', d)}, 2, {e('number', d)}, "
                    f"{e('number', d)})"
                ),
                call("DAY", "date"),
                call("MONTH", "date"),
                call("YEAR", "date"),
                call("WEEKDAY", "date"),
                call("BLANKVALUE", "number", "number"),
                call("NULLVALUE", "number", "number"),
                lambda d: f"({e('date', d)} - {e('date', d)})",
                lambda d: f"MCEILING({e('number', d)})",
                lambda d: f"MFLOOR({e('number', d)})",
                lambda d: f"SQRT(ABS({e('number', d)}))",
                lambda d: "VALUE(" + r.choice(["Code", '"12.5"', '"-3"', "TEXT(Qty)"]) + ")",
            ]
        if kind == "text":
            return [
                lambda d: f"({e('text', d)} & {e('text', d)})",
                lambda d: f"LEFT({e('text', d)}, {small(0, 6)})",
                lambda d: f"RIGHT({e('text', d)}, {small(0, 6)})",
                lambda d: f"MID({e('text', d)}, {small(1, 5)}, {small(0, 5)})",
                call("LOWER", "text"),
                call("UPPER", "text"),
                call("TRIM", "text"),
                lambda d: f"SUBSTITUTE({e('text', d)}, {e('text', d)}, {e('text', d)})",
                call("TEXT", "number"),
                call("TEXT", "date"),
                lambda d: "TEXT(Status)",
                lambda d: f"IF({e('checkbox', d)}, {e('text', d)}, {e('text', d)})",
                lambda d: f'CASE({e("text", d)}, "abc", {e("text", d)}, {e("text", d)})',
                lambda d: f'LPAD({e("text", d)}, {small(0, 8)}, "*")',
                lambda d: f"RPAD({e('text', d)}, {small(0, 8)})",
                call("BLANKVALUE", "text", "text"),
            ]
        if kind == "checkbox":

            def cmp(k: Kind) -> Callable[[int], str]:
                ordered = k not in ("checkbox", "text")  # formulon orders neither
                ops = ["=", "!=", "<", "<=", ">", ">="] if ordered else ["=", "!="]
                return lambda d: f"({e(k, d)} {r.choice(ops)} {e(k, d)})"

            return [
                lambda d: f"({e('checkbox', d)} && {e('checkbox', d)})",
                lambda d: f"({e('checkbox', d)} || {e('checkbox', d)})",
                call("NOT", "checkbox"),
                call("AND", "checkbox", "checkbox", "checkbox"),
                call("OR", "checkbox", "checkbox"),
                cmp("number"),
                cmp("text"),
                cmp("date"),
                cmp("datetime"),
                cmp("checkbox"),
                lambda d: f"ISBLANK({e(r.choice(['number', 'text', 'date']), d)})",
                lambda d: f"ISNULL({e(r.choice(['number', 'date']), d)})",
                lambda d: f"BEGINS({e('text', d)}, {e('text', d)})",
                lambda d: f"CONTAINS({e('text', d)}, {e('text', d)})",
                lambda d: 'ISPICKVAL(Status, "' + r.choice(["New", "Closed", "Other"]) + '")',
                lambda d: f"IF({e('checkbox', d)}, {e('checkbox', d)}, {e('checkbox', d)})",
            ]
        if kind == "date":
            return [
                lambda d: f"({e('date', d)} + {small(-40, 400)})",
                lambda d: f"({e('date', d)} - {small(-40, 400)})",
                lambda d: f"ADDMONTHS({e('date', d)}, {small(-14, 30)})",
                lambda d: f"DATEVALUE({e('datetime', d)})",
                lambda d: (
                    'DATEVALUE("' + r.choice(["2024-02-29", "2023-12-31", "2021-07-04"]) + '")'
                ),
                lambda d: f"IF({e('checkbox', d)}, {e('date', d)}, {e('date', d)})",
                call("BLANKVALUE", "date", "date"),
            ]
        return [
            lambda d: f"({e('datetime', d)} + {r.choice(['1', '0.5', '-2', '0.25', '30'])})",
            lambda d: f"IF({e('checkbox', d)}, {e('datetime', d)}, {e('datetime', d)})",
            lambda d: (
                'DATETIMEVALUE("' + r.choice(["2024-01-31 23:59:59", "2022-06-01 00:00:00"]) + '")'
            ),
        ]
