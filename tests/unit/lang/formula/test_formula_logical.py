"""Logical functions and operators, with Salesforce's null semantics.

Expected values were checked against formulon 6.25.6 (tests/differential) where it
implements the function, and against Salesforce's documentation and its open-sourced
formula engine (github.com/salesforce/formula-engine) everywhere; cases marked
"formulon differs" follow Salesforce and say why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from workroute.lang.formula.checker import DictEnvironment
from workroute.lang.formula.compiler import compile_formula
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.types import FormulaType
from workroute.lang.formula.values import FormulaEvaluationError

NOW = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)
NAIVE_2024 = datetime(2024, 1, 1, tzinfo=UTC).replace(tzinfo=None)  # stored naive UTC

TYPES: dict[str, str | FormulaType] = {
    "Amount": "currency",
    "Qty": "number",
    "Name": "text",
    "Status": "picklist",
    "Tags": "multipicklist",
    "IsClosed": "checkbox",
    "CloseDate": "date",
    "CreatedDate": "datetime",
    "Where": "geolocation",
    "Pct": "percent",
}


def run(
    formula: str,
    record: Mapping[str, Any] | None = None,
    *,
    prior: Mapping[str, Any] | None = None,
    is_clone: bool = False,
    blank_as_zero: bool = False,
) -> Any:
    compiled = compile_formula(formula, DictEnvironment(TYPES), blank_as_zero=blank_as_zero)
    ctx = EvalContext(record or {}, now=NOW, prior=prior, is_clone=is_clone)
    return compiled(ctx)


# ------------------------------------------------------------------- AND OR NOT


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("AND(TRUE, TRUE)", True),
        ("AND(TRUE, FALSE)", False),
        ("AND(TRUE)", True),
        ("AND(TRUE, TRUE, TRUE, TRUE, FALSE)", False),
        ("AND(TRUE, TRUE, TRUE, TRUE)", True),
        ("OR(FALSE, FALSE)", False),
        ("OR(FALSE, TRUE)", True),
        ("OR(FALSE, FALSE, FALSE, TRUE)", True),
        ("OR(FALSE, FALSE, FALSE, FALSE)", False),
        ("NOT(TRUE)", False),
        ("NOT(FALSE)", True),
        ("!TRUE", False),
        ("TRUE && FALSE", False),
        ("TRUE || FALSE", True),
        ("NOT(TRUE) || TRUE && FALSE", False),
    ],
)
def test_boolean_logic(formula: str, expected: bool) -> None:
    assert run(formula) is expected


def test_and_or_treat_null_as_false_and_not_keeps_null() -> None:
    # Amount > 1 is null when Amount is blank (three-valued comparison)
    assert run("Amount > 1") is None
    assert run("AND(TRUE, Amount > 1)") is False
    assert run("OR(Amount > 1, FALSE)") is False
    assert run("OR(Amount > 1, TRUE)") is True
    assert run("(Amount > 1) && TRUE") is False
    assert run("(Amount > 1) || TRUE") is True
    assert run("NOT(Amount > 1)") is None
    assert run("IsClosed") is None  # an absent checkbox value
    assert run("NOT(IsClosed)", {"IsClosed": False}) is True


def test_and_or_short_circuit() -> None:
    assert run("AND(FALSE, 1/Qty > 0)", {"Qty": 0}) is False
    assert run("OR(TRUE, 1/Qty > 0)", {"Qty": 0}) is True
    with pytest.raises(FormulaEvaluationError):
        run("AND(TRUE, 1/Qty > 0)", {"Qty": 0})


# ------------------------------------------------------------------------- IF


def test_if() -> None:
    assert run('IF(IsClosed, "yes", "no")', {"IsClosed": True}) == "yes"
    assert run('IF(IsClosed, "yes", "no")', {"IsClosed": False}) == "no"
    assert run('IF(IsClosed, "yes", "no")') == "no"  # a null condition is false
    assert run("IF(Amount > 100, Amount, 0)", {"Amount": 150}) == Decimal(150)
    assert run("IF(TRUE, NULL, 1)") is None
    # only the chosen branch runs
    assert run("IF(Qty = 0, 0, 10 / Qty)", {"Qty": 0}) == Decimal(0)
    assert run("IF(FALSE, 1/0, 2)") == Decimal(2)


# ----------------------------------------------------------------------- CASE


def test_case_numbers_dates_text() -> None:
    f = 'CASE(Qty, 1, "one", 2, "two", "many")'
    assert run(f, {"Qty": 1}) == "one"
    assert run(f, {"Qty": 2.0}) == "two"
    assert run(f, {"Qty": 7}) == "many"
    assert run(f) == "many"  # a null never matches
    assert run('CASE(Name, "a", 1, "", 2, 3)') == Decimal(2)  # blank text matches ""
    assert run('CASE(Name, "a", 1, "", 2, 3)', {"Name": "a"}) == Decimal(1)
    assert run("CASE(CloseDate, DATE(2024,1,1), 1, 0)", {"CloseDate": date(2024, 1, 1)}) == 1
    assert run("CASE(MONTH(CloseDate), 1, 1, 2, 1, 3, 1, 2)", {"CloseDate": date(2024, 3, 9)}) == 1
    # first match wins; non-constant when values are compared at run time
    assert run("CASE(Qty, 1, 10, 1, 20, 0)", {"Qty": 1}) == 10
    assert run("CASE(Qty, Amount, 10, 0)", {"Qty": 5, "Amount": 5}) == 10
    assert run("CASE(Qty, Amount, 10, 0)", {"Qty": 5}) == 0
    assert run('CASE(Name, Name, "same", "other")') == "same"


def test_case_picklist() -> None:
    f = 'CASE(Status, "Open", 1, "Closed", 2, 0)'
    assert run(f, {"Status": "Closed"}) == 2
    assert run(f, {"Status": "closed"}) == 0  # picklist API names match exactly
    assert run(f) == 0
    assert run('CASE(Status, "", 1, 0)') == 1  # no value selected matches ""
    assert run('CASE(PRIORVALUE(Status), "Open", 1, 0)', {"Status": "X"}, prior={}) == 0
    assert run(
        'CASE(PRIORVALUE(Status), "Open", 1, 0)', {"Status": "X"}, prior={"Status": "Open"}
    ) == Decimal(1)


# ----------------------------------------------------------- ISBLANK / ISNULL


@pytest.mark.parametrize(
    ("formula", "record", "expected"),
    [
        ("ISBLANK(Name)", {}, True),
        ("ISBLANK(Name)", {"Name": ""}, True),
        ("ISBLANK(Name)", {"Name": " "}, False),
        ('ISBLANK("")', {}, True),
        ("ISBLANK(Amount)", {}, True),
        ("ISBLANK(Amount)", {"Amount": 0}, False),
        ("ISBLANK(CloseDate)", {}, True),
        ("ISBLANK(CloseDate)", {"CloseDate": date(2024, 1, 1)}, False),
        ("ISBLANK(Status)", {}, True),
        ("ISBLANK(Status)", {"Status": "Open"}, False),
        ("ISBLANK(Tags)", {"Tags": []}, True),
        ("ISBLANK(Tags)", {"Tags": ["a"]}, False),
        ("ISBLANK(Where)", {}, True),
        ("ISBLANK(Where)", {"Where": (1.5, 2.5)}, False),
        ("ISBLANK(Amount + 1)", {}, True),
        ("ISBLANK(Name & 'x')", {}, False),
        ("ISNULL(Amount)", {}, True),
        ("ISNULL(Amount)", {"Amount": 5}, False),
        ("ISNULL(CloseDate)", {}, True),
        ("ISNULL(Status)", {}, True),
        ("ISNULL(Tags)", {}, True),
    ],
)
def test_isblank_isnull(formula: str, record: Mapping[str, Any], expected: bool) -> None:
    assert run(formula, record) is expected


def test_isnull_on_text_is_always_false() -> None:
    # formulon differs (ISNULL(blank text) is TRUE there). Salesforce: "Text fields are
    # never null, so using this function with a text field always returns false"
    # (ISNULL tips, help.salesforce.com customize_functions_isnull.htm).
    assert run("ISNULL(Name)") is False
    assert run('ISNULL("")') is False


def test_blank_as_zero_numbers_are_never_blank() -> None:
    # "If you use ISBLANK with a numeric field, the function only returns TRUE if the
    # field has no value and is not configured to treat blank fields as zeroes."
    assert run("ISBLANK(Amount)", blank_as_zero=True) is False
    assert run("ISNULL(Amount)", blank_as_zero=True) is False
    assert run("ISBLANK(Name)", blank_as_zero=True) is True


# -------------------------------------------------------- BLANKVALUE / NULLVALUE


def test_blankvalue() -> None:
    assert run('BLANKVALUE(Name, "none")') == "none"
    assert run('BLANKVALUE(Name, "none")', {"Name": ""}) == "none"
    assert run('BLANKVALUE(Name, "none")', {"Name": "x"}) == "x"
    assert run("BLANKVALUE(Amount, 0)") == Decimal(0)
    assert run("BLANKVALUE(Amount, 0)", {"Amount": 12.5}) == Decimal("12.5")
    assert run("BLANKVALUE(CloseDate, TODAY())") == NOW.date()
    assert run("BLANKVALUE(NULL, 5)") == Decimal(5)
    # the substitute is only evaluated when needed
    assert run("BLANKVALUE(Amount, 1/Qty)", {"Amount": 1, "Qty": 0}) == 1


def test_nullvalue() -> None:
    assert run("NULLVALUE(Amount, 7)") == Decimal(7)
    assert run("NULLVALUE(Amount, 7)", {"Amount": 3}) == Decimal(3)
    assert run("NULLVALUE(CloseDate, DATE(2024, 1, 2))") == date(2024, 1, 2)
    # formulon differs (gives "x"). Salesforce: text fields are never null, so
    # NULLVALUE(text, x) is the text (NULLVALUE tips: "Avoid using this function with
    # text fields because they are never null even when they are blank").
    assert run('NULLVALUE(Name, "x")') is None
    assert run('NULLVALUE(Name, "x")', {"Name": "a"}) == "a"


# --------------------------------------------------------------------- ISNUMBER


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", True),
        ("-12.5", True),
        ("+3", True),
        (".5", True),
        ("5.", True),
        ("1e3", True),
        ("1E-3", True),
        ("", False),
        (" 12", False),
        ("12 ", False),
        ("1,000", False),
        ("abc", False),
        ("12abc", False),
        ("NaN", False),
        ("Infinity", False),
        ("1_000", False),
    ],
)
def test_isnumber(text: str, expected: bool) -> None:
    # Salesforce parses with java.math.BigDecimal (BigDecimalHelper.functionIsNumber)
    assert run("ISNUMBER(Name)", {"Name": text}) is expected


def test_isnumber_blank() -> None:
    assert run("ISNUMBER(Name)") is False


# ------------------------------------------------ ISCHANGED PRIORVALUE ISNEW ISCLONE


def test_isnew_isclone() -> None:
    assert run("ISNEW()") is True
    assert run("ISNEW()", prior={}) is False
    assert run("ISCLONE()") is False
    assert run("ISCLONE()", is_clone=True) is True


@pytest.mark.parametrize(
    ("formula", "old", "new", "expected"),
    [
        ("ISCHANGED(Name)", "a", "b", True),
        ("ISCHANGED(Name)", "a", "a", False),
        ("ISCHANGED(Name)", None, "a", True),  # "If a text field was previously blank..."
        ("ISCHANGED(Name)", "a", None, True),
        ("ISCHANGED(Name)", "", None, False),  # blank is blank
        ("ISCHANGED(Name)", "a\r\nb", "a\nb", False),  # line endings normalised
        ("ISCHANGED(Amount)", 1, 1.0, False),
        ("ISCHANGED(Amount)", 1, Decimal("1.00"), False),
        ("ISCHANGED(Amount)", 0.1, Decimal("0.1"), False),
        ("ISCHANGED(Amount)", 1, 2, True),
        ("ISCHANGED(Amount)", Decimal(1), Decimal(2), True),
        ("ISCHANGED(Amount)", None, 0, True),
        ("ISCHANGED(Amount)", 0, None, True),
        ("ISCHANGED(Amount)", None, None, False),
        ("ISCHANGED(Status)", "Open", "Closed", True),
        ("ISCHANGED(Tags)", "a;b", ["b", "a"], False),
        ("ISCHANGED(Tags)", ["a"], ["a", "b"], True),
        ("ISCHANGED(CloseDate)", date(2024, 1, 1), date(2024, 1, 2), True),
        ("ISCHANGED(IsClosed)", False, True, True),
        ("ISCHANGED(CreatedDate)", NAIVE_2024, datetime(2024, 1, 1, tzinfo=UTC), False),
    ],
)
def test_ischanged(formula: str, old: Any, new: Any, expected: bool) -> None:
    field = formula[formula.index("(") + 1 : -1]
    assert run(formula, {field: new}, prior={field: old}) is expected


def test_ischanged_is_false_on_create() -> None:
    # "This function returns FALSE when evaluating any field on a newly created record."
    assert run("ISCHANGED(Name)", {"Name": "a"}) is False


def test_priorvalue() -> None:
    assert run("PRIORVALUE(Amount)", {"Amount": 2}, prior={"Amount": 1.5}) == Decimal("1.5")
    assert run("PRIORVALUE(Amount) + 1", {"Amount": 2}, prior={}) is None
    # "When users create a record, this function returns the value of the field
    # referenced rather than null." (PRIORVALUE tips)
    assert run("PRIORVALUE(Amount)", {"Amount": 2}) == Decimal(2)
    assert run("PRIORVALUE(Pct)", {"Pct": 10}, prior={"Pct": 25}) == Decimal("0.25")
    assert run(
        'ISPICKVAL(PRIORVALUE(Status), "Open")', {"Status": "Closed"}, prior={"Status": "Open"}
    )
    assert run("TEXT(PRIORVALUE(Status))", {"Status": "New"}) == "New"
    assert run("INCLUDES(PRIORVALUE(Tags), 'a')", {"Tags": []}, prior={"Tags": "a;b"}) is True
    stored = {"CreatedDate": NAIVE_2024}
    assert run("PRIORVALUE(CreatedDate)", prior=stored) == datetime(2024, 1, 1, tzinfo=UTC)


def test_changed_to_closed_criterion() -> None:
    f = (
        'AND(ISCHANGED(Status), ISPICKVAL(Status, "Closed"),'
        ' NOT(ISPICKVAL(PRIORVALUE(Status), "")))'
    )
    assert run(f, {"Status": "Closed"}, prior={"Status": "Open"}) is True
    assert run(f, {"Status": "Closed"}, prior={"Status": None}) is False
    assert run(f, {"Status": "Closed"}) is False


# -------------------------------------------------------------------- ISPICKVAL


def test_ispickval() -> None:
    assert run('ISPICKVAL(Status, "Closed")', {"Status": "Closed"}) is True
    assert run('ISPICKVAL(Status, "Closed")', {"Status": "Open"}) is False
    assert run('ISPICKVAL(Status, "Closed")') is False
    assert run('ISPICKVAL(Status, "closed")', {"Status": "Closed"}) is False
    assert run('ISPICKVAL(Status, "")') is True
    assert run('ISPICKVAL(Status, "")', {"Status": ""}) is True
    assert run('ISPICKVAL(Status, "")', {"Status": "Open"}) is False


# ----------------------------------------------------------- equality and order


@pytest.mark.parametrize(
    ("formula", "record", "expected"),
    [
        ("Amount = 10", {"Amount": 10.0}, True),
        ("Amount = 10", {"Amount": 10}, True),
        ("Amount = 10", {"Amount": Decimal("10.00")}, True),
        ("Amount = 0.1", {"Amount": 0.1}, True),
        ("Amount != 0.1", {"Amount": 0.1}, False),
        ("Amount = 0.3", {"Amount": 0.1 + 0.2}, False),  # 0.30000000000000004 is stored
        ("Amount > 0.1", {"Amount": 0.1}, False),
        ("Amount >= 0.1", {"Amount": 0.1}, True),
        ("0.1 < Amount", {"Amount": 0.2}, True),
        ("1000 >= Amount", {"Amount": 1000}, True),
        ("Amount <= 12345678901234567.5", {"Amount": Decimal("12345678901234567.5")}, True),
        ("Amount < 12345678901234567.5", {"Amount": 12345678901234566.0}, True),
        ("Amount = Qty", {"Amount": 2, "Qty": 2.0}, True),
        ("Amount <> Qty", {"Amount": 2, "Qty": 3}, True),
        ('Name = "a"', {"Name": "a"}, True),
        ('Name = "A"', {"Name": "a"}, False),  # text comparison is case-sensitive
        ('Name = ""', {}, True),
        ("Name = NULL", {}, True),
        ('"" = Name', {"Name": ""}, True),
        ('Name != "a"', {}, True),
        ('Name < "b"', {"Name": "a"}, True),
        ('Name > "b"', {"Name": "a"}, False),
        ("IsClosed = TRUE", {"IsClosed": True}, True),
        ("IsClosed = FALSE", {"IsClosed": True}, False),
        ("CloseDate = DATE(2024,1,1)", {"CloseDate": date(2024, 1, 1)}, True),
        ("CloseDate < TODAY()", {"CloseDate": date(2024, 1, 1)}, True),
        ("CreatedDate < NOW()", {"CreatedDate": NAIVE_2024}, True),
        ("Pct = 0.1", {"Pct": 10}, True),  # percent fields read as fractions
        ("Pct > 0.1", {"Pct": 10.5}, True),
    ],
)
def test_comparisons(formula: str, record: Mapping[str, Any], expected: bool) -> None:
    assert run(formula, record) is expected


@pytest.mark.parametrize(
    "formula",
    ["Amount > 1", "Amount = 1", "Amount <> 1", "1 < Amount", "CloseDate < TODAY()", 'Name < "a"'],
)
def test_comparisons_with_null_are_null(formula: str) -> None:
    # formulon differs: JavaScript compares null as 0 ("Amount > 1" is false,
    # "1 < Amount" is false but "Amount < 1" true). Salesforce's engine follows SQL
    # three-valued logic (OperatorComparison/OperatorEquality: "Follow Oracle
    # three-value semantics"); IF/AND/OR then treat the null as false.
    assert run(formula) is None


def test_equality_with_null_literal() -> None:
    # formulon differs (Amount = NULL is TRUE for a blank Amount); in Salesforce it is
    # null, so use ISBLANK/ISNULL. Text compares blank as "": Name = NULL is TRUE.
    assert run("Amount = NULL") is None
    assert run("Amount = NULL", {"Amount": 1}) is None
    assert run("Name = NULL") is True
    assert run("IF(Amount = NULL, 1, 2)") == Decimal(2)


def test_blank_as_zero_comparisons() -> None:
    assert run("Amount = 0", blank_as_zero=True) is True
    assert run("Amount > -1", blank_as_zero=True) is True
    assert run("Amount + Qty", {"Qty": 2}, blank_as_zero=True) == Decimal(2)


@pytest.mark.parametrize("value", [True, False, None])
def test_not_of_a_checkbox_field(value: bool | None) -> None:
    """NOT reads a checkbox field directly; a blank one stays blank (null)."""
    expected = None if value is None else not value
    assert run("NOT(IsClosed)", {"IsClosed": value}) is expected
    assert run("!IsClosed", {"IsClosed": value}) is expected
