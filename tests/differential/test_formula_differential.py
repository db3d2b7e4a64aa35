"""workroute's formulas against formulon, value by value, on generated formulas.

Both sides read the same JSON lines: ours through the real ``workroute formula eval``
command, formulon through ``formulon_bridge.js``. Every difference must be one of
the documented ones in ``KNOWN_DIFFERENCES`` (each names the Salesforce
documentation that decides it); anything else fails the test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.differential.generator import Case, FormulaGenerator

HERE = Path(__file__).parent
CASES = int(os.environ.get("WORKROUTE_DIFFERENTIAL_CASES", "5000"))
SEED = 20241122
NOW = "2024-05-01T10:00:00Z"

Outcome = dict[str, Any]


@dataclass(frozen=True)
class KnownDifference:
    name: str
    reason: str  # the Salesforce documentation that decides it
    applies: Callable[[Case, Outcome, Outcome], bool]


def _referenced_blank(case: Case) -> bool:
    """Some identifier the formula names is blank (null, or empty text)."""
    return any(
        spec.get("value") in (None, "") and re.search(rf"\b{name}\b", case.formula)
        for name, spec in case.identifiers.items()
    )


def _calls(case: Case, *names: str) -> bool:
    return any(f"{n}(" in case.formula for n in names)


def _formulon_crashed_on_null(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    return theirs.get("errorType") == "BridgeError" and "of null" in str(theirs.get("error"))


def _formulon_rejects_blank(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    message = str(theirs.get("error", ""))
    return (
        "error" not in ours
        and theirs.get("errorType") in ("ArgumentError", "WrongTypeError")
        and (_referenced_blank(case) or "received Null" in message or "'null'" in message)
    )


_MATH = ("ROUND", "MCEILING", "MFLOOR", "CEILING", "FLOOR", "ABS", "MIN", "MAX", "MOD")


def _blank_stays_blank(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    if "error" in theirs or "error" in ours or not _referenced_blank(case):
        return False
    return ours.get("type") == "null" or _calls(case, *_MATH)


def _decimal_precision(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    a, b = str(ours.get("value", "")), str(theirs.get("value", ""))
    return (
        ours.get("type") == theirs.get("type") == "text"
        and _calls(case, "TEXT")
        and len(b) >= 12
        and a.startswith(b[:-1])
    )


def _invalid_value_is_error(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    return ours.get("errorType") == "EvaluationError" and "is not a valid number" in str(
        ours.get("error")
    )


def _division_by_zero_is_error(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    return ours.get("errorType") == "EvaluationError" and "Division by zero" in str(
        ours.get("error")
    )


def _addmonths_month_end(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    return _calls(case, "ADDMONTHS") and "error" not in ours and "error" not in theirs


def _pad_truncates(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    return _calls(case, "LPAD", "RPAD") and "error" not in ours and "error" not in theirs


def _text_slices(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    return (
        _calls(case, "RIGHT", "LEFT", "MID", "SUBSTITUTE", "TRIM")
        and "error" not in ours
        and "error" not in theirs
    )


def _text_of_blank(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    return (
        _calls(case, "TEXT")
        and "null" in str(theirs.get("value", "")).lower()
        and "null" not in str(ours.get("value", "")).lower()
    )


_COMPARISON = re.compile(r"(?<![<>!=])(=|!=|<|>|<=|>=)(?![=])|BEGINS\(|CONTAINS\(")


def _blank_comparison(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    return (
        "error" not in ours
        and "error" not in theirs
        and (_referenced_blank(case) or '(""' in case.formula)  # "" is blank text too
        and bool(_COMPARISON.search(case.formula))
    )


KNOWN_DIFFERENCES = [
    KnownDifference(
        "formulon throws on a blank text argument",
        "Salesforce Help, 'Handle Null Values in Formulas': a blank field is a valid "
        "argument of text functions. formulon 6.25.6 dereferences null in LEN, "
        "SUBSTITUTE, LOWER... and throws a JavaScript TypeError.",
        _formulon_crashed_on_null,
    ),
    KnownDifference(
        "formulon refuses a blank value where a typed value is expected",
        "Salesforce Help, 'Handle Null Values in Formulas': arithmetic and date functions "
        "on a blank number or date give blank (or zero with 'Treat blank fields as "
        "zeroes'); they do not fail. formulon types the value as Null and reports a "
        "parameter type error.",
        _formulon_rejects_blank,
    ),
    KnownDifference(
        "a blank input gives a blank result",
        "Salesforce Help, 'Formula Field Blank Handling': with 'Treat blank fields as "
        "blanks' (workroute formula eval's default) a math function of a blank value is "
        "blank; formulon substitutes 0 or skips the value (ROUND, MCEILING, MIN...), "
        "which then also changes what NULLVALUE and BLANKVALUE pick.",
        _blank_stays_blank,
    ),
    KnownDifference(
        "VALUE of text that is not a number is an error",
        "Salesforce Help, 'VALUE': the text must be a number; otherwise the formula "
        "shows #Error!. formulon returns null or parses a prefix.",
        _invalid_value_is_error,
    ),
    KnownDifference(
        "division by zero is an error",
        "Salesforce Help, 'Formula Operators': dividing by zero makes the formula show "
        "#Error!. formulon returns null.",
        _division_by_zero_is_error,
    ),
    KnownDifference(
        "ADDMONTHS keeps the last day of the month",
        "Salesforce Help, 'ADDMONTHS': if the specified date is the last day of the "
        "month, the resulting date is the last day of the resulting month. formulon "
        "keeps the day number (2024-02-29 plus 4 months gives 2024-06-29, not 06-30).",
        _addmonths_month_end,
    ),
    KnownDifference(
        "LPAD and RPAD truncate to the padded length",
        "Salesforce Help, 'LPAD' and 'RPAD': if text is longer than padded_length, it is "
        'truncated to padded_length characters (RPAD("2024-04-22", 4) is "2024"). '
        "formulon returns the text unchanged.",
        _pad_truncates,
    ),
    KnownDifference(
        "text slices of blank or short text",
        "Salesforce Help, 'RIGHT', 'LEFT', 'MID', 'SUBSTITUTE', 'TRIM': RIGHT(\" x \", 5) "
        "is the whole text, an empty slice is blank, and a blank result compares as "
        "blank (BEGINS of blank is blank, not FALSE). formulon drops characters in "
        "RIGHT and treats an empty slice as the empty string.",
        _text_slices,
    ),
    KnownDifference(
        "numbers are decimal, not binary floating point",
        "Salesforce Help, 'Formula Data Types': numbers are decimal; TEXT shows the "
        "computed decimal digits. formulon computes in JavaScript doubles and stops at "
        "17 significant digits.",
        _decimal_precision,
    ),
    KnownDifference(
        "TEXT of a blank value is blank",
        "Salesforce Help, 'TEXT': converts a value to text; a blank value gives blank "
        'text. formulon writes the string "NULL" (or "null") into the result.',
        _text_of_blank,
    ),
    KnownDifference(
        "comparisons with a blank value follow Salesforce's blank rules",
        "Salesforce Help, 'Handle Null Values in Formulas' and 'ISBLANK': blank text is "
        'the empty string (Name = "" is TRUE when Name is blank) and a comparison with '
        "a blank number, date or datetime is blank, which IF, AND and OR treat as FALSE. "
        "formulon compares the JavaScript null.",
        _blank_comparison,
    ),
]


def _node() -> str | None:
    return shutil.which("node")


def _run(cmd: list[str], cases: list[Case]) -> list[Outcome]:
    lines = "".join(json.dumps(c.line(i)) + "\n" for i, c in enumerate(cases))
    done = subprocess.run(cmd, input=lines, capture_output=True, text=True, check=True)
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o.get("id") for o in out] == list(range(len(cases))), done.stderr[-2000:]
    return out


def _same(ours: Outcome, theirs: Outcome) -> bool:
    if "error" in ours or "error" in theirs:
        return ours.get("errorType") == theirs.get("errorType")
    if ours["type"] != theirs["type"]:
        return False
    a, b = ours["value"], theirs["value"]
    if ours["type"] == "number" and a is not None and b is not None:
        # formulon computes in binary floating point; compare to 10 significant digits.
        da, db = Decimal(str(a)), Decimal(str(b))
        return abs(da - db) <= max(abs(da), abs(db), Decimal(1)) * Decimal("1e-10")
    return bool(a == b)


@pytest.fixture(scope="module")
def outcomes() -> tuple[list[Case], list[Outcome], list[Outcome]]:
    bridge_modules = HERE / "node_modules" / "formulon"
    if _node() is None or not bridge_modules.exists():
        if os.environ.get("WORKROUTE_REQUIRE_FORMULON") == "1":
            pytest.fail("formulon is required: run 'make test' (npm ci in tests/differential)")
        pytest.skip("node or formulon is not installed (make test installs them)")
    cases = FormulaGenerator(SEED).cases(CASES)
    ours = _run([sys.executable, "-m", "workroute", "formula", "eval", "--now", NOW], cases)
    theirs = _run([str(_node()), str(HERE / "formulon_bridge.js")], cases)
    return cases, ours, theirs


def test_every_difference_with_formulon_is_explained(
    outcomes: tuple[list[Case], list[Outcome], list[Outcome]],
) -> None:
    cases, ours, theirs = outcomes
    explained: Counter[str] = Counter()
    unexplained = []
    for case, a, b in zip(cases, ours, theirs, strict=True):
        if _same(a, b):
            continue
        known = next((k for k in KNOWN_DIFFERENCES if k.applies(case, a, b)), None)
        if known is None:
            unexplained.append((case.formula, case.identifiers, a, b))
        else:
            explained[known.name] += 1
    agree = len(cases) - sum(explained.values()) - len(unexplained)
    summary = {
        "cases": len(cases),
        "agree": agree,
        "agreement_rate": round(agree / len(cases), 4),
        "explained": dict(explained),
        "unexplained": len(unexplained),
    }
    print("formula differential:", json.dumps(summary))
    shown = "\n".join(
        f"{f}\n  identifiers={json.dumps(i)}\n  workroute={a}\n  formulon={b}"
        for f, i, a, b in unexplained[:15]
    )
    assert not unexplained, f"{len(unexplained)} unexplained differences:\n{shown}"


def test_the_generator_exercises_every_result_type(
    outcomes: tuple[list[Case], list[Outcome], list[Outcome]],
) -> None:
    _, ours, _ = outcomes
    kinds = Counter(o.get("type", "error") for o in ours)
    assert {"number", "text", "checkbox", "date", "datetime"} <= set(kinds)
    # Mostly values, not errors: the generator writes well-typed formulas.
    assert kinds["error"] < len(ours) * 0.1, kinds
