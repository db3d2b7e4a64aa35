"""The compiler, the evaluation context, the cache, the JSON encoding, and speed."""

from __future__ import annotations

import inspect
import re
import time as clock
from datetime import UTC, date, datetime, time
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from workroute.lang.formula import compiler as compiler_module
from workroute.lang.formula import functions as functions_module
from workroute.lang.formula.checker import DictEnvironment, SchemaEnvironment
from workroute.lang.formula.compiler import CompiledFormula, FormulaCache, compile_formula
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.errors import FormulaReferenceError, FormulaSyntaxError, WrongTypeError
from workroute.lang.formula.functions import dates, logical, text
from workroute.lang.formula.functions import math as math_functions
from workroute.lang.formula.parser import parse_formula
from workroute.lang.formula.types import FormulaType, Kind
from workroute.lang.formula.values import (
    FormulaEvaluationError,
    decode_identifier,
    decode_value,
    encode_result,
)
from workroute.schema.registry import SchemaRegistry
from workroute.schema.standard import standard_registry

NOW = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)
ENV = DictEnvironment(
    {
        "Status": "picklist",
        "Amount": FormulaType(Kind.CURRENCY, scale=2),
        "Email": "text",
        "Rate": "percent",
        "Account.AnnualRevenue": "currency",
        "$User.Email": "text",
    }
)


def ctx(record: dict[str, Any] | None = None, **kw: Any) -> EvalContext:
    return EvalContext(record or {}, now=NOW, **kw)


# --------------------------------------------------------------- compile_formula


def test_compiles_text_or_trees() -> None:
    text = 'AND(ISPICKVAL(Status, "Closed"), Amount > 1000, NOT(ISBLANK(Email)))'
    from_text = compile_formula(text, ENV)
    from_tree = compile_formula(parse_formula(text), ENV)
    record = {"Status": "Closed", "Amount": 1500.0, "Email": "a@b.c"}
    assert from_text(ctx(record)) is True
    assert from_tree(ctx(record)) is True
    assert from_text.fn(ctx({**record, "Amount": 999})) is False
    assert from_text.text == text and from_tree.text is None
    assert from_text.result_type == FormulaType(Kind.CHECKBOX)
    assert isinstance(from_text, CompiledFormula)
    assert "CompiledFormula" in repr(from_text)


def test_errors_propagate_from_parser_and_checker() -> None:
    with pytest.raises(FormulaSyntaxError):
        compile_formula("1 +", ENV)
    with pytest.raises(FormulaReferenceError):
        compile_formula("Nope", ENV)


def test_names_resolve_case_insensitively_at_compile_time() -> None:
    formula = compile_formula("amount + AMOUNT", ENV)
    assert formula(ctx({"Amount": 2})) == Decimal(4)
    assert formula.fields == {"Amount"}
    assert formula(ctx({"amount": 2})) is None  # the record uses canonical names


def test_paths_fields_and_bindings() -> None:
    formula = compile_formula(
        "IF(ISCHANGED(Amount), Account.AnnualRevenue, 0) > 5 && $User.Email != Email", ENV
    )
    assert formula.fields == {"Amount", "Email"}
    assert formula.prior_fields == {"Amount"}
    assert formula.related_paths == {"Account.AnnualRevenue"}
    assert formula.global_paths == {"$User.Email"}
    assert formula.paths == {"Account.AnnualRevenue", "$User.Email"}
    assert formula.bindings["Account.AnnualRevenue"].source == "related"
    context = ctx(
        {"Amount": 2, "Email": "a@x"},
        prior={"Amount": 1},
        related={"Account.AnnualRevenue": 10},
        globals={"$User.Email": "b@x"},
    )
    assert formula(context) is True


@pytest.fixture(scope="module")
def schema() -> SchemaRegistry:
    return standard_registry()


def test_schema_environment_end_to_end(schema: SchemaRegistry) -> None:
    env = SchemaEnvironment(schema, "Case")
    formula = compile_formula(
        'AND(ISPICKVAL(status, "Escalated"), Account.Owner.Email = $User.Email,'
        " Account.AnnualRevenue > 1000000)",
        env,
    )
    assert formula.paths == {"Account.Owner.Email", "$User.Email", "Account.AnnualRevenue"}
    owner = formula.bindings["Account.Owner.Email"]
    assert owner.hops == (("AccountId", "Account"), ("OwnerId", "User"))
    context = ctx(
        {"Status": "Escalated"},
        related={"Account.Owner.Email": "o@x.com", "Account.AnnualRevenue": 2e6},
        globals={"$User.Email": "o@x.com"},
    )
    assert formula(context) is True
    origin = compile_formula("$System.OriginDateTime", env)
    assert origin(ctx()) == datetime(1900, 1, 1, tzinfo=UTC)
    assert origin.paths == frozenset()
    # a constant, also without a schema (Salesforce gold file testOriginDateTime)
    assert compile_formula("$system.origindatetime", ENV)(ctx()) == datetime(1900, 1, 1, tzinfo=UTC)


def test_constant_folding() -> None:
    formula = compile_formula('IF(LEN("abc") = 3, ROUND(10 / 4, 0), 0) * 2', ENV)
    assert formula.fn(ctx()) == Decimal(6)
    # NOW() is not folded
    now = compile_formula("NOW()", ENV)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    assert now(EvalContext(now=later)) == later


def test_blank_as_zero_applies_to_every_numeric_field() -> None:
    formula = compile_formula("Amount + Account.AnnualRevenue + Rate", ENV, blank_as_zero=True)
    assert formula(ctx()) == Decimal(0)
    assert compile_formula("Amount + 1", ENV)(ctx()) is None
    # PRIORVALUE reads the stored prior value, as Salesforce's engine does
    prior = compile_formula("PRIORVALUE(Amount)", ENV, blank_as_zero=True)
    assert prior(ctx({"Amount": 5}, prior={})) is None


# -------------------------------------------------------- declared result types


def test_declared_numeric_result_is_rounded_at_the_end() -> None:
    formula = compile_formula("Amount / 3", ENV, result_kind=Kind.CURRENCY, result_scale=2)
    assert formula(ctx({"Amount": 10})) == Decimal("3.33")
    assert formula.result_type == FormulaType(Kind.CURRENCY, scale=2)
    # intermediate results keep their precision: (10/3)*3 is 10.00, not 9.99
    exact = compile_formula("Amount / 3 * 3", ENV, result_kind=Kind.NUMBER, result_scale=2)
    assert exact(ctx({"Amount": 10})) == Decimal("10.00")
    assert formula(ctx()) is None


def test_declared_percent_result_is_the_api_value() -> None:
    # a percent formula returning 0.125 shows (and stores) 12.5%
    formula = compile_formula("Rate / 2", ENV, result_kind=Kind.PERCENT, result_scale=1)
    assert formula(ctx({"Rate": 25})) == Decimal("12.5")


def test_declared_text_is_truncated() -> None:
    formula = compile_formula('Email & "!"', ENV, result_kind=Kind.TEXT, result_length=3)
    assert formula(ctx({"Email": "abcdef"})) == "abc"
    assert compile_formula("NULL", ENV, result_kind=Kind.DATE)(ctx()) is None


def test_declared_result_type_must_match() -> None:
    with pytest.raises(WrongTypeError) as info:
        compile_formula("Email", ENV, result_kind=Kind.NUMBER)
    assert info.value.message == (
        "Formula result is data type (Text), incompatible with expected data type (Number)."
    )
    with pytest.raises(WrongTypeError):
        compile_formula("TODAY()", ENV, result_kind=Kind.DATETIME)
    assert compile_formula("Amount", ENV, result_kind=Kind.PERCENT, result_scale=0)


# ----------------------------------------------------------------------- cache


def test_cache() -> None:
    cache = FormulaCache(maxsize=2)
    first = cache.get("Amount * 2", ENV)
    assert cache.get("Amount * 2", ENV) is first
    assert cache.get("Amount * 2", DictEnvironment({"Amount": "number"})) is not first
    assert cache.get("Amount * 2", ENV, blank_as_zero=True) is not first
    assert (cache.hits, cache.misses) == (1, 3)
    assert len(cache) == 2  # least recently used out
    assert cache.get("Amount * 2", ENV) is not first
    with pytest.raises(FormulaReferenceError):
        cache.get("Nope", ENV)
    with pytest.raises(FormulaReferenceError):
        cache.get("Nope", ENV)  # errors are not cached
    cache.clear()
    assert len(cache) == 0


def test_schema_environments_share_cache_entries(schema: SchemaRegistry) -> None:
    cache = FormulaCache()
    a = cache.get("Subject", SchemaEnvironment(schema, "Case"))
    assert cache.get("Subject", SchemaEnvironment(schema, "case")) is a
    assert cache.get("Name", SchemaEnvironment(schema, "Account")) is not a


# --------------------------------------------------------------------- context


def test_context() -> None:
    c = EvalContext({"Amount": 1}, now=NOW, globals={"$User.Email": "u@x"})
    other = c.with_record({"Amount": 2}, prior={"Amount": 1})
    assert other.record == {"Amount": 2} and other.prior == {"Amount": 1}
    assert other.globals == {"$User.Email": "u@x"} and other.now == NOW
    assert c.today == date(2024, 3, 15)
    assert EvalContext(now=NOW).record == {}


@pytest.mark.parametrize(
    "module", [compiler_module, functions_module, logical, math_functions, text, dates]
)
def test_evaluation_uses_closures_only(module: ModuleType) -> None:
    # no eval/exec/compile of source text anywhere in the evaluator
    assert not re.search(r"(?<![\w.])(eval|exec|compile)\(", inspect.getsource(module))


# -------------------------------------------------------------------- encoding


N = FormulaType(Kind.NUMBER)
N0 = FormulaType(Kind.NUMBER, scale=0)
N2 = FormulaType(Kind.NUMBER, scale=2)
STAMP = datetime(2024, 2, 29, 13, 5, 9, 7000, tzinfo=UTC)


def naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("value", "ftype", "kind", "expected"),
    [
        (Decimal("3.14159"), N2, "number", 3.14),
        (Decimal("2.5"), N0, "number", 3),
        (Decimal("-2.5"), N0, "number", -3),
        (Decimal("1.50"), FormulaType(Kind.CURRENCY, scale=2), "number", 1.5),
        (Decimal(1) / 3, N, "number", 0.333333333333333333),
        (Decimal("12345678901234567890"), N0, "number", 12345678901234567890),
        ("abc", FormulaType(Kind.TEXT), "text", "abc"),
        ("", FormulaType(Kind.TEXT), "text", ""),
        (True, FormulaType(Kind.CHECKBOX), "checkbox", True),
        (date(2024, 2, 29), FormulaType(Kind.DATE), "date", "2024-02-29"),
        (STAMP, FormulaType(Kind.DATETIME), "datetime", "2024-02-29T13:05:09.007Z"),
        (naive(STAMP), FormulaType(Kind.DATETIME), "datetime", "2024-02-29T13:05:09.007Z"),
        (time(1, 2, 3, 456789), FormulaType(Kind.TIME), "time", "01:02:03.456"),
        (
            (Decimal("37.775"), Decimal("-122.418")),
            FormulaType(Kind.GEOLOCATION),
            "geolocation",
            [37.775, -122.418],
        ),
        (None, N, "null", None),
        (None, FormulaType(Kind.CHECKBOX), "null", None),
        (None, FormulaType(Kind.NULL), "null", None),
    ],
)
def test_encode_result(value: Any, ftype: FormulaType, kind: str, expected: Any) -> None:
    assert encode_result(value, ftype) == {"type": kind, "value": expected}


@pytest.mark.parametrize(
    ("value", "type_name", "expected"),
    [
        (1.5, "number", Decimal("1.5")),
        ("2.25", "currency", Decimal("2.25")),
        (10, "percent", Decimal(10)),
        ("abc", "text", "abc"),
        (["a", "b"], "multipicklist", ["a", "b"]),
        ("a;b", "multipicklist", ["a", "b"]),
        (False, "checkbox", False),
        ("2024-02-29", "date", date(2024, 2, 29)),
        ("2024-02-29T13:05:09.007Z", "datetime", STAMP),
        ("2024-02-29T13:05:09+01:00", "datetime", datetime(2024, 2, 29, 12, 5, 9, tzinfo=UTC)),
        ("01:02:03.45", "time", time(1, 2, 3, 450000)),
        ("01:02:03", "time", time(1, 2, 3)),
        ([1.5, -2], "geolocation", (Decimal("1.5"), Decimal(-2))),
        (None, "date", None),
    ],
)  # fmt: skip
def test_decode_value(value: Any, type_name: str, expected: Any) -> None:
    assert decode_value(value, type_name) == expected


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ("x", "number"),
        (True, "number"),
        (1, "text"),
        ("yes", "checkbox"),
        ("2024-13-01", "date"),
        ("1:2:3", "time"),
    ],
)
def test_decode_value_rejects_bad_values(value: Any, type_name: str) -> None:
    with pytest.raises(ValueError):
        decode_value(value, type_name)


def test_decode_identifier_uses_the_bridge_defaults() -> None:
    # tests/differential/formulon_identifiers.js: numbers scale 0, text length 255
    assert decode_identifier({"type": "number", "value": 1.5}) == (
        FormulaType(Kind.NUMBER, scale=0),
        Decimal(2),
    )
    assert decode_identifier({"type": "number", "value": 1.25, "scale": 1}) == (
        FormulaType(Kind.NUMBER, scale=1),
        Decimal("1.3"),
    )
    ftype, value = decode_identifier({"type": "text", "value": "x" * 300})
    assert ftype == FormulaType(Kind.TEXT, length=255) and value == "x" * 255
    assert decode_identifier({"type": "percent", "value": 12.5, "scale": 1}) == (
        FormulaType(Kind.PERCENT, scale=3),
        Decimal("12.5"),
    )
    assert decode_identifier({"type": "date", "value": None}) == (FormulaType(Kind.DATE), None)


def test_cli_round_trip() -> None:
    identifiers: dict[str, dict[str, Any]] = {
        "Amount": {"type": "currency", "value": 1234.5, "scale": 2},
        "Opened": {"type": "datetime", "value": "2024-03-01T10:00:00.000Z"},
    }
    types: dict[str, FormulaType | str] = {}
    record: dict[str, Any] = {}
    for name, spec in identifiers.items():
        types[name], record[name] = decode_identifier(spec)
    env = DictEnvironment(types)
    formula = compile_formula("ROUND(Amount / 7, 3)", env)
    assert encode_result(formula(ctx(record)), formula.result_type) == {
        "type": "number",
        "value": 176.357,
    }
    elapsed = compile_formula("NOW() - Opened", env)
    assert encode_result(elapsed(ctx(record)), elapsed.result_type) == {
        "type": "number",
        "value": 13.979166666666666,
    }
    with pytest.raises(FormulaEvaluationError) as info:
        compile_formula("Amount / 0", env)(ctx(record))
    assert info.value.error_type == "EvaluationError"


# ----------------------------------------------------------------------- speed


def test_evaluation_speed() -> None:
    """A typical criterion, compiled once, over 100,000 records."""
    formula = compile_formula(
        'AND(ISPICKVAL(Status, "Closed"), Amount > 1000, NOT(ISBLANK(Email)))', ENV
    )
    contexts = [
        EvalContext(
            {
                "Status": "Closed" if i % 4 else "Open",
                "Amount": float(i % 3000),
                "Email": f"u{i}@x.com" if i % 5 else None,
            },
            now=NOW,
        )
        for i in range(100_000)
    ]
    fn = formula.fn
    start = clock.perf_counter()
    matched = sum(1 for c in contexts if fn(c))
    elapsed = clock.perf_counter() - start
    expected = sum(1 for i in range(100_000) if i % 4 and (i % 3000) > 1000 and i % 5)
    assert matched == expected
    rate = len(contexts) / elapsed
    print(f"\n{rate:,.0f} evaluations/second ({elapsed / len(contexts) * 1e6:.2f} us each)")
    assert rate > 100_000  # a few microseconds at most, even on a slow CI machine
