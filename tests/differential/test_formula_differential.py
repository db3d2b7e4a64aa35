"""workroute's formulas against formulon, value by value, on generated formulas.

Both sides read the same JSON lines: ours through the real ``workroute formula eval``
command, formulon through ``formulon_bridge.js``. Every difference must be one of
the documented ones in ``KNOWN_DIFFERENCES`` (each names the Salesforce
documentation that decides it); anything else fails the test.
"""

from __future__ import annotations

import json
import os
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
CASES = int(os.environ.get("WORKROUTE_DIFFERENTIAL_CASES", "3000"))
SEED = 20241122
NOW = "2024-05-01T10:00:00Z"

Outcome = dict[str, Any]


@dataclass(frozen=True)
class KnownDifference:
    name: str
    reason: str  # the Salesforce documentation that decides it
    applies: Callable[[Case, Outcome, Outcome], bool]


def _formulon_crashed_on_null(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    return theirs.get("errorType") == "BridgeError" and "of null" in str(theirs.get("error"))


def _formulon_rejects_null_argument(case: Case, ours: Outcome, theirs: Outcome) -> bool:
    message = str(theirs.get("error", ""))
    return "error" not in ours and (
        ("Incorrect parameter type" in message and "received Null" in message)
        or "Invalid Value 'null'" in message
    )


KNOWN_DIFFERENCES = [
    KnownDifference(
        "formulon throws on a blank text argument",
        "Salesforce Help, 'Handle Null Values in Formulas': a blank text field is an "
        "empty string in text functions (LEN, SUBSTITUTE, LOWER... of a blank field "
        "return results, not errors). formulon 6.25.6 dereferences null in these "
        "functions and throws a JavaScript TypeError.",
        _formulon_crashed_on_null,
    ),
    KnownDifference(
        "formulon refuses null where a typed value is expected",
        "Salesforce Help, 'Handle Null Values in Formulas' and 'Formula Operators and "
        "Functions': a blank field is a valid argument; arithmetic and date functions on "
        "a blank number or date return blank (or zero with 'Treat blank fields as "
        "zeroes'), they do not fail to compile. formulon types a null value as Null "
        "and reports a parameter type error.",
        _formulon_rejects_null_argument,
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
