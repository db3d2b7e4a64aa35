"""SOQL WHERE clauses as Python predicates: each operator, nulls, dates and date
literals at a fixed time, and a property test against the store's SQL engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workroute.kernel.errors import (
    InvalidFieldError,
    InvalidQueryFilterOperatorError,
    MalformedQueryError,
)
from workroute.kernel.ids import make_id
from workroute.lang.soql import condition_to_soql, parse_soql
from workroute.lang.soql.ast import (
    And,
    BooleanValue,
    Comparison,
    ComparisonOp,
    Condition,
    DateLiteral,
    DateTimeValue,
    DateValue,
    FieldPath,
    Includes,
    InList,
    Not,
    NullValue,
    NumberValue,
    Or,
    StringValue,
    Value,
)
from workroute.org import Org
from workroute.schema.model import FieldDef, FieldType, ObjectDef, PicklistValue
from workroute.schema.registry import system_fields
from workroute.store.soql import SoqlEngine
from workroute.streaming.predicate import compile_where, where_fields

NOW = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)  # the conftest clock's T0 (a Friday)
USER = make_id("005", 7)

PROBE = ObjectDef(
    name="Probe__c",
    key_prefix="a0P",
    label="Probe",
    label_plural="Probes",
    custom=True,
    fields=(
        *system_fields(),
        FieldDef(name="Name", type=FieldType.STRING, length=80, name_field=True),
        FieldDef(name="Code__c", type=FieldType.STRING, length=20, custom=True),
        FieldDef(name="Notes__c", type=FieldType.TEXTAREA, length=1000, custom=True),
        FieldDef(name="Score__c", type=FieldType.DOUBLE, precision=8, scale=2, custom=True),
        FieldDef(name="Count__c", type=FieldType.INT, precision=9, custom=True),
        FieldDef(name="Flag__c", type=FieldType.BOOLEAN, default=False, custom=True),
        FieldDef(name="Day__c", type=FieldType.DATE, custom=True),
        FieldDef(name="At__c", type=FieldType.DATETIME, custom=True),
        FieldDef(
            name="Level__c",
            type=FieldType.PICKLIST,
            custom=True,
            picklist=tuple(PicklistValue(value=v, label=v) for v in ("Low", "High")),
        ),
        FieldDef(
            name="Tags__c",
            type=FieldType.MULTIPICKLIST,
            custom=True,
            picklist=tuple(PicklistValue(value=v, label=v) for v in ("a", "b", "c")),
        ),
        FieldDef(name="Owner__c", type=FieldType.REFERENCE, reference_to=("User",), custom=True),
        FieldDef(
            name="Double__c",
            type=FieldType.DOUBLE,
            custom=True,
            formula="Score__c * 2",
        ),
    ),
)


def where(text: str) -> Condition:
    condition = parse_soql(f"SELECT Id FROM Probe__c WHERE {text}").where
    assert condition is not None
    return condition


def matches(text: str, /, **record: object) -> bool:
    return compile_where(where(text), PROBE)(record, NOW)


# -- text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Code__c = 'abc'", "ABC", True),  # case-insensitive, as SOQL
        ("Code__c = 'abc'", "abd", False),
        ("Code__c != 'abc'", "ABC", False),
        ("Code__c != 'abc'", "x", True),
        ("Code__c < 'b'", "A", True),  # compared ignoring case
        ("Code__c < 'b'", "c", False),
        ("Code__c <= 'B'", "b", True),
        ("Code__c > 'b'", "C", True),
        ("Code__c >= 'c'", "B", False),
        ("Level__c = 'high'", "High", True),  # picklists are text
    ],
)
def test_text_comparisons_ignore_case(text: str, value: str, expected: bool) -> None:
    field = text.split()[0]
    assert matches(text, **{field: value}) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("ab%", "ABCDEF", True),
        ("ab%", "xab", False),
        ("%cd%", "abCDef", True),
        ("a_c", "abc", True),
        ("a_c", "abbc", False),
        ("a_c", "ac", False),
        ("%", "", True),
        ("100\\%", "100%", True),  # an escaped wildcard is literal
        ("100\\%", "1000", False),
        ("a\\_c", "a_c", True),
        ("a\\_c", "abc", False),
        ("a.c", "abc", False),  # regex characters are literal
        ("line%", "line\nbreak", True),  # % spans newlines
    ],
)
def test_like_wildcards(pattern: str, value: str, expected: bool) -> None:
    assert matches(f"Name LIKE '{pattern}'", Name=value) is expected


def test_like_never_matches_null() -> None:
    assert matches("Name LIKE '%'", Name=None) is False


# -- nulls ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Code__c = null", True),
        ("Code__c != null", False),
        ("Code__c = 'x'", False),
        ("Code__c != 'x'", True),  # != matches null, as SOQL's
        ("Code__c < 'x'", False),
        ("Score__c > 0", False),
        ("Score__c != 0", True),
        ("Day__c <= 2024-03-15", False),
        ("Code__c IN ('x')", False),
        ("Code__c NOT IN ('x')", True),
        ("Code__c IN ('x', null)", True),
        ("Code__c NOT IN ('x', null)", False),
        ("Tags__c INCLUDES ('a')", False),
        ("Tags__c EXCLUDES ('a')", True),
    ],
)
def test_null_fields(text: str, expected: bool) -> None:
    assert matches(text) is expected  # every field absent: null


def test_a_missing_key_is_null_and_a_present_value_is_not() -> None:
    assert matches("Code__c = null", Code__c="x") is False
    assert matches("Code__c != null", Code__c="x") is True


def test_not_keeps_sql_three_valued_logic() -> None:
    # NOT (null = 'x') is unknown, so it does not match, as SOQL answers it.
    assert matches("NOT Code__c = 'x'") is False
    assert matches("NOT Code__c = 'x'", Code__c="y") is True
    assert matches("NOT Code__c = 'x'", Code__c="x") is False
    # Unknown OR true is true; unknown AND false is false; NOT of that is true.
    assert matches("NOT (Code__c = 'x' AND Flag__c = true)", Flag__c=False) is True
    assert matches("NOT (Code__c = 'x' OR Flag__c = false)", Flag__c=False) is False
    assert matches("NOT (Code__c = 'x' OR Flag__c = true)", Flag__c=False) is False


# -- numbers, booleans, ids -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Score__c = 1.5", 1.5, True),
        ("Score__c = 1.5", Decimal("1.50"), True),  # read back from the database
        ("Score__c = 0.1", Decimal("0.10"), True),
        ("Score__c < 2", 1.99, True),
        ("Score__c <= 2", Decimal(2), True),
        ("Score__c > -1", -0.5, True),
        ("Score__c >= 10", 9.99, False),
        ("Score__c != 3", 3.0, False),
        ("Count__c = 3", 3, True),
        ("Count__c IN (1, 2, 3)", 2, True),
        ("Count__c NOT IN (1, 2, 3)", 4, True),
    ],
)
def test_numbers(text: str, value: object, expected: bool) -> None:
    field = text.split()[0]
    assert matches(text, **{field: value}) is expected


def test_booleans() -> None:
    assert matches("Flag__c = true", Flag__c=True) is True
    assert matches("Flag__c = true", Flag__c=False) is False
    assert matches("Flag__c != true", Flag__c=False) is True
    assert matches("Flag__c = false", Flag__c=False) is True


def test_ids_compare_as_18_character_ids() -> None:
    assert matches(f"Owner__c = '{USER[:15]}'", Owner__c=USER) is True
    assert matches(f"Owner__c IN ('{USER[:15]}')", Owner__c=USER) is True
    assert matches(f"Owner__c = '{make_id('005', 8)}'", Owner__c=USER) is False
    assert matches(f"Owner__c LIKE '{USER}'", Owner__c=USER) is True


# -- IN, INCLUDES, AND, OR --------------------------------------------------------------


def test_in_lists_ignore_case_for_text() -> None:
    assert matches("Code__c IN ('A', 'b')", Code__c="a") is True
    assert matches("Code__c IN ('A', 'b')", Code__c="c") is False
    assert matches("Code__c NOT IN ('A', 'b')", Code__c="B") is False
    assert matches("Code__c NOT IN ('A', 'b')", Code__c="c") is True


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Tags__c INCLUDES ('a')", "a;b", True),
        ("Tags__c INCLUDES ('A')", "a;b", True),
        ("Tags__c INCLUDES ('c')", "a;b", False),
        ("Tags__c INCLUDES ('c', 'b')", "a;b", True),  # any alternative
        ("Tags__c INCLUDES ('a;b')", "b;a", True),  # an alternative needs all its values
        ("Tags__c INCLUDES ('a;c')", "a;b", False),
        ("Tags__c EXCLUDES ('c')", "a;b", True),
        ("Tags__c EXCLUDES ('c', 'a')", "a;b", False),
        ("Tags__c EXCLUDES ('a;c')", "a;b", True),
    ],
)
def test_includes_and_excludes(text: str, value: str, expected: bool) -> None:
    assert matches(text, Tags__c=value) is expected


def test_and_or_nesting() -> None:
    text = "Code__c = 'a' AND (Score__c > 5 OR Flag__c = true)"
    assert matches(text, Code__c="A", Score__c=6.0) is True
    assert matches(text, Code__c="A", Flag__c=True) is True
    assert matches(text, Code__c="A", Score__c=1.0, Flag__c=False) is False
    assert matches(text, Code__c="b", Score__c=6.0, Flag__c=True) is False
    assert matches("Code__c = 'a' OR Code__c = 'b' OR Code__c = 'c'", Code__c="C") is True


# -- dates ------------------------------------------------------------------------------


def test_dates_and_datetimes() -> None:
    assert matches("Day__c = 2024-03-15", Day__c=date(2024, 3, 15)) is True
    assert matches("Day__c > 2024-03-15", Day__c=date(2024, 3, 16)) is True
    assert matches("Day__c < 2024-03-15", Day__c=date(2024, 3, 16)) is False
    at = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)
    assert matches("At__c = 2024-03-15T09:30:00Z", At__c=at) is True
    assert matches("At__c = 2024-03-15T10:30:00+01:00", At__c=at) is True  # same instant
    assert matches("At__c < 2024-03-15T09:30:01Z", At__c=at) is True
    assert matches("At__c >= 2024-03-15T09:30:01Z", At__c=at) is False


@pytest.mark.parametrize(
    ("literal", "day", "expected"),
    [
        ("TODAY", date(2024, 3, 15), True),
        ("TODAY", date(2024, 3, 14), False),
        ("YESTERDAY", date(2024, 3, 14), True),
        ("TOMORROW", date(2024, 3, 16), True),
        ("LAST_N_DAYS:2", date(2024, 3, 13), True),  # today and the two days before
        ("LAST_N_DAYS:2", date(2024, 3, 12), False),
        ("LAST_N_DAYS:2", date(2024, 3, 16), False),
        ("NEXT_N_DAYS:2", date(2024, 3, 15), False),  # starts tomorrow
        ("NEXT_N_DAYS:2", date(2024, 3, 17), True),
        ("THIS_WEEK", date(2024, 3, 10), True),  # weeks start on Sunday (en_US)
        ("THIS_WEEK", date(2024, 3, 9), False),
        ("THIS_MONTH", date(2024, 3, 1), True),
        ("LAST_MONTH", date(2024, 2, 29), True),
        ("N_DAYS_AGO:3", date(2024, 3, 12), True),
    ],
)
def test_date_literals_at_a_fixed_now(literal: str, day: date, expected: bool) -> None:
    assert matches(f"Day__c = {literal}", Day__c=day) is expected


def test_date_literal_operators_and_nulls() -> None:
    assert matches("Day__c < TODAY", Day__c=date(2024, 3, 14)) is True
    assert matches("Day__c <= TODAY", Day__c=date(2024, 3, 15)) is True
    assert matches("Day__c > TODAY", Day__c=date(2024, 3, 15)) is False
    assert matches("Day__c >= TODAY", Day__c=date(2024, 3, 15)) is True
    assert matches("Day__c != TODAY", Day__c=date(2024, 3, 14)) is True
    assert matches("Day__c != TODAY") is True  # outside the range includes null
    assert matches("Day__c = TODAY") is False
    assert matches("NOT Day__c = TODAY") is True  # false, not unknown, for null


def test_datetime_date_literals_are_utc_days() -> None:
    assert matches("At__c = TODAY", At__c=datetime(2024, 3, 15, 0, 0, tzinfo=UTC)) is True
    assert matches("At__c = TODAY", At__c=datetime(2024, 3, 14, 23, 59, 59, tzinfo=UTC)) is False
    assert matches("At__c = LAST_N_DAYS:1", At__c=datetime(2024, 3, 14, 1, tzinfo=UTC)) is True


def test_date_literals_follow_the_now_of_each_call() -> None:
    predicate = compile_where(where("Day__c = TODAY"), PROBE)
    record = {"Day__c": date(2024, 3, 16)}
    assert predicate(record, NOW) is False
    assert predicate(record, NOW + timedelta(days=1)) is True


# -- errors and field lists -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Nope__c = 'x'", InvalidFieldError),
        ("Owner__r.Name = 'x'", InvalidFieldError),  # a record holds no parent fields
        ("Double__c = 2", InvalidFieldError),  # nor formula values
        ("Score__c = 'x'", MalformedQueryError),
        ("Code__c = 5", MalformedQueryError),
        ("Day__c = 2024-03-15T00:00:00Z", MalformedQueryError),
        ("Score__c LIKE '1%'", MalformedQueryError),  # the value fails first, as in SQL
        ("Code__c INCLUDES ('a')", InvalidQueryFilterOperatorError),
        ("Code__c = TODAY", InvalidQueryFilterOperatorError),
        ("Owner__c = 'not-an-id'", InvalidQueryFilterOperatorError),
    ],
)
def test_conditions_the_record_cannot_answer_are_refused(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        compile_where(where(text), PROBE)


def test_where_fields_lists_each_field_once_in_the_schemas_spelling() -> None:
    condition = where("code__C = 'a' AND (score__c > 1 OR Code__c IN ('b')) AND NOT Flag__c = true")
    assert where_fields(condition, PROBE) == ("Code__c", "Score__c", "Flag__c")
    assert where_fields(condition) == ("code__C", "score__c", "Flag__c")
    assert where_fields(where("Owner__r.Name = 'x'"), PROBE) == ("Owner__r.Name",)
    assert where_fields(None) == ()


# -- the SQL engine is the reference -------------------------------------------------------

TEXTS = ["a", "A", "ab", "B", "a%b", "x_y", "back\\slash", "zz"]
PATTERNS = ["a%", "%b", "_", "A_", "%\\%%", "%\\_%", "%", "b%", "%SLASH"]
SCORES = [0, 0.1, 1.5, -2, 10]
COUNTS = [0, 1, 3, -7]
DAYS = [date(2024, 3, 15), date(2024, 3, 14), date(2024, 3, 16), date(2024, 2, 29)]
INSTANTS = [
    NOW,
    datetime(2024, 3, 15, 0, 0, tzinfo=UTC),
    datetime(2024, 3, 14, 23, 59, 59, tzinfo=UTC),
    datetime(2024, 3, 16, 12, 0, tzinfo=UTC),
    datetime(2024, 3, 1, 0, 0, tzinfo=UTC),
]
LITERALS = [
    DateLiteral(name="TODAY"),
    DateLiteral(name="YESTERDAY"),
    DateLiteral(name="THIS_WEEK"),
    DateLiteral(name="THIS_MONTH"),
    DateLiteral(name="LAST_N_DAYS", n=1),
    DateLiteral(name="NEXT_N_DAYS", n=1),
]
TAGS = ["a", "b", "a;b", "b;c", "a;b;c"]

records = st.fixed_dictionaries(
    {},
    optional={
        "Code__c": st.sampled_from([None, *TEXTS]),
        "Score__c": st.sampled_from([None, *SCORES]),
        "Count__c": st.sampled_from([None, *COUNTS]),
        "Flag__c": st.booleans(),
        "Day__c": st.sampled_from([None, *DAYS]),
        "At__c": st.sampled_from([None, *INSTANTS]),
        "Level__c": st.sampled_from([None, "Low", "High", "low"]),
        "Tags__c": st.sampled_from([None, *TAGS]),
    },
)


def _path(name: str) -> FieldPath:
    return FieldPath(parts=(name,))


def _values_for(name: str) -> st.SearchStrategy[Value]:
    if name in ("Code__c", "Level__c"):
        return st.sampled_from([*TEXTS, "low", "HIGH"]).map(lambda v: StringValue(value=v))
    if name == "Score__c":
        return st.sampled_from(SCORES).map(lambda v: NumberValue(value=Decimal(str(v))))
    if name == "Count__c":
        return st.sampled_from(COUNTS).map(lambda v: NumberValue(value=Decimal(v)))
    if name == "Flag__c":
        return st.booleans().map(lambda v: BooleanValue(value=v))
    if name == "Day__c":
        return st.sampled_from(DAYS).map(lambda v: DateValue(value=v))
    return st.sampled_from(INSTANTS).map(lambda v: DateTimeValue(value=v))


ORDERED = ["Code__c", "Level__c", "Score__c", "Count__c", "Flag__c", "Day__c", "At__c"]
OPS: list[ComparisonOp] = ["=", "!=", "<", "<=", ">", ">="]


@st.composite
def leaves(draw: st.DrawFn) -> Condition:
    kind = draw(st.sampled_from(["compare", "null", "like", "in", "includes", "literal"]))
    if kind == "compare":
        name = draw(st.sampled_from(ORDERED))
        op = draw(st.sampled_from(OPS[:2] if name == "Flag__c" else OPS))
        return Comparison(field=_path(name), op=op, value=draw(_values_for(name)))
    if kind == "null":
        name = draw(st.sampled_from([*ORDERED, "Tags__c"]))
        return Comparison(field=_path(name), op=draw(st.sampled_from(OPS[:2])), value=NullValue())
    if kind == "like":
        pattern = draw(st.sampled_from(PATTERNS))
        return Comparison(field=_path("Code__c"), op="LIKE", value=StringValue(value=pattern))
    if kind == "in":
        name = draw(st.sampled_from(["Code__c", "Score__c", "Count__c", "Day__c"]))
        values = draw(
            st.lists(st.one_of(_values_for(name), st.just(NullValue())), min_size=1, max_size=3)
        )
        return InList(field=_path(name), values=tuple(values), negated=draw(st.booleans()))
    if kind == "includes":
        chosen = draw(st.lists(st.sampled_from(["a", "B", "c", "a;b", "b;C"]), min_size=1))
        return Includes(
            field=_path("Tags__c"),
            values=tuple(StringValue(value=v) for v in chosen[:3]),
            negated=draw(st.booleans()),
        )
    name = draw(st.sampled_from(["Day__c", "At__c"]))
    op = draw(st.sampled_from(OPS))
    return Comparison(field=_path(name), op=op, value=draw(st.sampled_from(LITERALS)))


conditions = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(items=tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(items=tuple(xs))),
        inner.map(lambda x: Not(item=x)),
    ),
    max_leaves=6,
)


def test_predicate_agrees_with_the_sql_engine(org: Org) -> None:
    """Random records and WHERE clauses: the records the predicate accepts are exactly
    those the store's SOQL query returns, on SQLite and PostgreSQL."""
    probe = org.save_object(PROBE)
    admin = org.admin_user_id()
    engine = SoqlEngine(org.store)
    assert org.clock.now() == NOW  # the SQL engine's date literals resolve at the same day
    seen = {"matched": 0, "missed": 0}

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=st.lists(records, min_size=1, max_size=4), condition=conditions)
    def check(batch: list[dict[str, Any]], condition: Condition) -> None:
        ids = org.store.insert(probe.name, [{"Name": "p", **r} for r in batch], user_id=admin)
        text = condition_to_soql(condition)
        listed = ", ".join(f"'{i}'" for i in ids)
        soql = f"SELECT Id FROM {probe.name} WHERE Id IN ({listed}) AND ({text})"
        expected = {str(r["Id"]) for r in engine.records(soql)}
        predicate = compile_where(where(text), probe)
        stored = org.store.get_many(probe.name, ids)  # values as the database gives them
        assert {str(r["Id"]) for r in stored if predicate(r, NOW)} == expected, soql
        seen["matched"] += len(expected)
        seen["missed"] += len(ids) - len(expected)

    check()
    assert seen["matched"] > 50 and seen["missed"] > 50, seen  # both outcomes were compared
