"""``workroute formula eval`` and ``workroute formula check``.

``eval`` reads JSON lines on stdin and writes one JSON line per input, in order:
``{"formula": "...", "identifiers": {"Name": {"type": ..., "value": ..., "scale"?, "length"?}},
"id"?: ...}`` in, ``{"type": ..., "value": ...}`` or ``{"error": ..., "errorType": ...}`` out.
A bad line gives an error line and the command goes on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from workroute.kernel.clock import SystemClock
from workroute.lang.formula.checker import DictEnvironment, SchemaEnvironment
from workroute.lang.formula.compiler import FormulaCache
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.errors import FormulaError
from workroute.lang.formula.types import FormulaType
from workroute.lang.formula.values import decode_identifier, encode_result

formula_app = typer.Typer(help="Evaluate and check Salesforce formulas.", no_args_is_help=True)

MAX_LINE_BYTES = 1024 * 1024


def _error(message: str, error_type: str) -> dict[str, Any]:
    return {"error": message, "errorType": error_type}


def evaluate_line(line: str, *, cache: FormulaCache, now: datetime) -> dict[str, Any]:
    """One input line's output object (never raises for bad input)."""
    if len(line) > MAX_LINE_BYTES:
        return _error(f"input line longer than {MAX_LINE_BYTES} bytes", "InputError")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return _error(f"input is not JSON: {exc}", "InputError")
    if not isinstance(data, dict):
        return _error("input must be a JSON object", "InputError")
    out = _evaluate(data, cache=cache, now=now)
    if "id" in data:
        out["id"] = data["id"]
    return out


def _evaluate(data: dict[str, Any], *, cache: FormulaCache, now: datetime) -> dict[str, Any]:
    formula = data.get("formula")
    if not isinstance(formula, str):
        return _error("'formula' must be a string", "InputError")
    specs = data.get("identifiers") or {}
    if not isinstance(specs, dict):
        return _error("'identifiers' must be an object", "InputError")
    types: dict[str, FormulaType] = {}
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if not isinstance(spec, dict) or "type" not in spec:
            return _error(f"identifier {name!r} needs a type", "InputError")
        try:
            types[name], values[name] = decode_identifier(spec)
        except (ValueError, TypeError, KeyError) as exc:
            return _error(f"identifier {name!r}: {exc}", "InputError")
    try:
        compiled = cache.get(formula, DictEnvironment(types))
        record = {k: v for k, v in values.items() if not k.startswith("$") and "." not in k}
        related = {k: v for k, v in values.items() if "." in k and not k.startswith("$")}
        globals_ = {k: v for k, v in values.items() if k.startswith("$")}
        ctx = EvalContext(record, now=now, related=related, globals=globals_)
        return encode_result(compiled(ctx), compiled.result_type)
    except FormulaError as exc:
        return _error(exc.message, exc.error_type)


def run_eval(lines: Iterable[str], out: TextIO, *, now: datetime) -> int:
    cache = FormulaCache()
    count = 0
    for line in lines:
        if not line.strip():
            continue
        out.write(json.dumps(evaluate_line(line, cache=cache, now=now)) + "\n")
        out.flush()
        count += 1
    return count


def _stdin_lines() -> Iterator[str]:
    yield from sys.stdin


@formula_app.command("eval")
def eval_command(
    now: Annotated[
        str | None,
        typer.Option(help="The time NOW() and TODAY() see (ISO 8601, UTC); default: now."),
    ] = None,
) -> None:
    """Evaluate JSON lines from stdin; one JSON line out per line in."""
    from workroute.cli.main import fail
    from workroute.store.values import parse_datetime

    try:
        at = parse_datetime(now) if now else SystemClock().now()
    except ValueError:
        fail(f"--now is not a datetime: {now}")
    run_eval(_stdin_lines(), sys.stdout, now=at.astimezone(UTC))


@formula_app.command("check")
def check_command(
    formula: Annotated[str, typer.Argument(help="The formula text.")],
    object_name: Annotated[str, typer.Option("--object", help="The object it runs on.")],
    db: Annotated[Path | None, typer.Option("--db", help="SQLite file of the org.")] = None,
) -> None:
    """Type-check a formula against a deployed object; prints its result type."""
    from workroute.cli.main import err, fail, open_org, out
    from workroute.kernel.errors import WorkrouteError

    org = open_org(db)
    try:
        try:
            env = SchemaEnvironment(org.schema, object_name)
        except WorkrouteError as exc:
            fail(exc.message)
        try:
            compiled = FormulaCache().get(formula, env)
        except FormulaError as exc:
            where = f" at line {exc.line}, column {exc.column}" if exc.line else ""
            err.print(f"[red]{exc.error_type}[/]{where}: {exc.message}", highlight=False)
            if exc.offset is not None:
                err.print(formula.splitlines()[(exc.line or 1) - 1], highlight=False, markup=False)
                err.print(" " * ((exc.column or 1) - 1) + "^", highlight=False)
            raise typer.Exit(1) from None
    finally:
        org.close()
    out.print(compiled.result_type.label, highlight=False)
