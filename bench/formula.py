"""Formula evaluation: workroute's compiled formulas vs formulon, on the same records.

A mix of workflow formulas (a criterion, a field update, text building, date
arithmetic, a CASE) over BENCH_FORMULA_RECORDS records (default 100,000). Ours are
compiled once and evaluated per record, as a save does. formulon is driven by
tests/differential/formulon_bench.js in the same run; its API parses on every call
(it exports no way to evaluate a parsed tree), which is part of what it costs.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from workroute.lang.formula.checker import DictEnvironment
from workroute.lang.formula.compiler import compile_formula
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.values import decode_identifier

RECORDS = int(os.environ.get("BENCH_FORMULA_RECORDS", "100000"))
ROOT = Path(__file__).resolve().parent.parent
BRIDGE = ROOT / "tests" / "differential" / "formulon_bench.js"

FORMULAS = [
    'AND(ISPICKVAL(Status, "Closed"), Amount > 1000, NOT(ISBLANK(Email)))',
    'ROUND(Amount * (1 - Discount) + CASE(Priority, "High", 50, "Medium", 20, 0), 2)',
    'UPPER(LEFT(Name, 3)) & "-" & TEXT(YEAR(CloseDate)) & "-" & LPAD(TEXT(Seq), 5, "0")',
    'IF(CloseDate - DATE(2024, 6, 1) < 7, "Due soon", '
    'IF(ADDMONTHS(CloseDate, 1) > DATE(2024, 7, 1), "Later", "This month"))',
    'IF(OR(Priority = "High", Amount >= 25000), "Escalate", '
    'BLANKVALUE(Email, "no-reply@example.com"))',
]


def _records(n: int) -> list[dict[str, dict[str, Any]]]:
    rng = random.Random(7)
    start = date(2024, 1, 1)
    out: list[dict[str, dict[str, Any]]] = []
    for i in range(n):
        out.append(
            {
                "Status": {"type": "picklist", "value": rng.choice(["New", "Working", "Closed"])},
                "Amount": {
                    "type": "currency",
                    "value": round(rng.uniform(0, 50000), 2),
                    "scale": 2,
                },
                "Discount": {"type": "number", "value": rng.choice([0, 0.05, 0.1]), "scale": 2},
                "Email": {"type": "text", "value": rng.choice([None, f"c{i}@example.com"])},
                "Priority": {"type": "text", "value": rng.choice(["High", "Medium", "Low"])},
                "Name": {"type": "text", "value": rng.choice(["acme", "globex", "initech"])},
                "CloseDate": {
                    "type": "date",
                    "value": (start + timedelta(days=rng.randrange(365))).isoformat(),
                },
                "Seq": {"type": "number", "value": i, "scale": 0},
            }
        )
    return out


def _ours(records: list[dict[str, dict[str, Any]]]) -> tuple[int, float]:
    types = {}
    rows = []
    for rec in records:
        row = {}
        for name, spec in rec.items():
            types[name], row[name] = decode_identifier(spec)
        rows.append(row)
    env = DictEnvironment(types)
    compiled = [compile_formula(f, env) for f in FORMULAS]
    now = datetime(2024, 6, 1, 12, tzinfo=UTC)
    evaluations = 0
    started = time.perf_counter()
    for formula in compiled:
        fn = formula.fn
        for row in rows:
            fn(EvalContext(row, now=now))
            evaluations += 1
    return evaluations, time.perf_counter() - started


def _formulon(records: list[dict[str, dict[str, Any]]]) -> dict[str, Any] | None:
    node = shutil.which("node")
    if node is None or not (BRIDGE.parent / "node_modules" / "formulon").exists():
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"formulas": FORMULAS, "records": records}, f)
        path = f.name
    try:
        done = subprocess.run([node, str(BRIDGE), path], capture_output=True, text=True, check=True)
    finally:
        os.unlink(path)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> None:
    records = _records(RECORDS)
    evaluations, seconds = _ours(records)
    ours_rate = evaluations / seconds
    print(f"formula: {len(FORMULAS)} workflow formulas x {RECORDS:,} records")
    print(
        f"  workroute (compiled once): {ours_rate:,.0f} evaluations/s "
        f"({seconds / evaluations * 1e6:.2f} us each)"
    )
    theirs = _formulon(records)
    if theirs is None:
        print("  formulon: not installed (make test installs it); no comparison")
        return
    rate = theirs["evaluations"] / theirs["seconds"]
    print(
        f"  formulon (node {theirs['node']}, parses per call): {rate:,.0f} evaluations/s "
        f"({theirs['seconds'] / theirs['evaluations'] * 1e6:.2f} us each), "
        f"{theirs['errors']} errors"
    )
    print(f"  ratio workroute/formulon: {ours_rate / rate:.1f}x  (aim: > 1x)")
