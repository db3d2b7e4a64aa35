"""Printer: parse(print(ast)) == ast for random trees, print(parse(text)) for real queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workroute.lang.soql import (
    FIXED_DATE_LITERALS,
    PARAMETERISED_DATE_LITERALS,
    condition_to_soql,
    parse_soql,
    to_soql,
    value_to_soql,
)
from workroute.lang.soql.ast import (
    AGGREGATE_FUNCTIONS,
    Aggregate,
    And,
    BooleanValue,
    Comparison,
    Condition,
    DateLiteral,
    DateTimeValue,
    DateValue,
    FieldPath,
    FieldsFunction,
    Includes,
    InList,
    Not,
    NullValue,
    NumberValue,
    Or,
    OrderItem,
    Query,
    SelectItem,
    StringValue,
    Value,
)

# --------------------------------------------------------------------------- strategies

# Words that are keywords somewhere in SOQL: the contextual lexer must still read them
# as identifiers wherever a keyword cannot stand. (Only NOT as the first name of a
# condition's field, TYPEOF as the first name of a selected field and FROM as an alias
# are ambiguous; the printer refuses those, and these strategies avoid them.)
TRICKY = [
    "Order",
    "Group",
    "Limit",
    "Offset",
    "Count",
    "Count__c",
    "Fields",
    "Name",
    "Type",
    "Status",
    "Select",
    "Where",
    "By",
    "Asc",
    "desc",
    "Nulls",
    "First",
    "Last",
    "In",
    "Like",
    "And",
    "Or",
    "Includes",
    "Excludes",
    "True",
    "False",
    "Null",
    "Today",
    "Last_N_Days",
    "With",
    "Using",
    "Scope",
    "For",
    "Update",
    "View",
    "Reference",
    "When",
    "Then",
    "Else",
    "End",
    "Security_Enforced",
]
AMBIGUOUS = {"NOT", "TYPEOF", "FROM"}

idents = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True),
    st.sampled_from(TRICKY),
).filter(lambda s: s.upper() not in AMBIGUOUS)

field_paths = st.lists(idents, min_size=1, max_size=4).map(
    lambda parts: FieldPath(parts=tuple(parts))
)

strings = st.text(max_size=12).map(lambda s: StringValue(value=s))
# LIKE patterns: text plus wildcards and escaped wildcards / backslashes.
patterns = (
    st.lists(
        st.one_of(
            st.text(min_size=1, max_size=4).filter(lambda s: "\\" not in s),
            st.sampled_from(["%", "_", "\\%", "\\_", "\\\\"]),
        ),
        max_size=5,
    )
    .map("".join)
    .map(lambda s: StringValue(value=s))
)
numbers = st.decimals(
    min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False, allow_infinity=False
).map(lambda d: NumberValue(value=d))
booleans = st.booleans().map(lambda b: BooleanValue(value=b))
dates = st.dates().map(lambda d: DateValue(value=d))
offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda m: UTC if m == 0 else timezone(timedelta(minutes=m))
)
datetimes = st.datetimes(timezones=offsets).map(lambda dt: DateTimeValue(value=dt))
date_literals = st.one_of(
    st.sampled_from(sorted(FIXED_DATE_LITERALS)).map(lambda n: DateLiteral(name=n)),
    st.builds(
        lambda name, n: DateLiteral(name=name, n=n),
        st.sampled_from(sorted(PARAMETERISED_DATE_LITERALS)),
        st.integers(0, 10_000),
    ),
)
plain_values: st.SearchStrategy[Value] = st.one_of(strings, numbers, booleans, dates, datetimes)


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    field = draw(field_paths)
    op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "LIKE"]))
    if op == "LIKE":
        return Comparison(field=field, op="LIKE", value=draw(patterns))
    choices = [plain_values, date_literals]
    if op in ("=", "!="):
        choices.append(st.just(NullValue()))
    value = draw(st.one_of(*choices))
    return Comparison(field=field, op=op, value=value)  # type: ignore[arg-type]


in_lists = st.builds(
    lambda field, values, negated: InList(field=field, values=tuple(values), negated=negated),
    field_paths,
    st.lists(st.one_of(plain_values, st.just(NullValue())), min_size=1, max_size=4),
    st.booleans(),
)
includes = st.builds(
    lambda field, values, negated: Includes(field=field, values=tuple(values), negated=negated),
    field_paths,
    st.lists(strings, min_size=1, max_size=3),
    st.booleans(),
)


def _compound(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
    items = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(
        items.map(lambda i: And(items=i)),
        items.map(lambda i: Or(items=i)),
        children.map(lambda c: Not(item=c)),
    )


conditions: st.SearchStrategy[Condition] = st.recursive(
    st.one_of(comparisons(), in_lists, includes), _compound, max_leaves=8
)

aggregates = st.builds(
    lambda func, field, alias: Aggregate(func=func, field=field, alias=alias),
    st.sampled_from(AGGREGATE_FUNCTIONS),
    field_paths,
    st.none() | idents,
)
select_items: st.SearchStrategy[SelectItem] = st.one_of(
    field_paths,
    aggregates,
    st.sampled_from(["ALL", "STANDARD", "CUSTOM"]).map(lambda k: FieldsFunction(kind=k)),  # type: ignore[arg-type]
)
order_items = st.builds(
    lambda field, desc, nulls: OrderItem(field=field, descending=desc, nulls=nulls),
    field_paths,
    st.booleans(),
    st.sampled_from([None, "FIRST", "LAST"]),
)
select_lists = st.one_of(
    st.just((Aggregate(func="COUNT", field=None),)),
    st.lists(select_items, min_size=1, max_size=4).map(tuple),
)

queries = st.builds(
    Query,
    select=select_lists,
    from_=idents,
    where=st.none() | conditions,
    group_by=st.lists(field_paths, max_size=2).map(tuple),
    order_by=st.lists(order_items, max_size=2).map(tuple),
    limit=st.none() | st.integers(0, 100_000),
    offset=st.none() | st.integers(0, 2000),
    using_scope=st.none() | st.sampled_from(["everything", "mine", "team", "Delegated"]),
    security=st.sampled_from([None, "SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE"]),
    for_=st.sampled_from([None, "VIEW", "REFERENCE", "UPDATE"]),
)


@settings(max_examples=200, deadline=None)
@given(query=queries)
def test_print_then_parse_is_identity(query: Query) -> None:
    text = to_soql(query)
    parsed = parse_soql(text)
    assert parsed == query, text
    assert to_soql(parsed) == text


@settings(max_examples=200, deadline=None)
@given(condition=conditions)
def test_conditions_round_trip(condition: Condition) -> None:
    text = f"SELECT Id FROM X WHERE {condition_to_soql(condition)}"
    assert parse_soql(text).where == condition, text


# --------------------------------------------------------------------------- hand-written

QUERIES = [
    "SELECT Id FROM Account",
    "select id, name from account where name = 'Acme' limit 10",
    "SELECT Id, Name, Owner.Name, Account.Owner.Email, Custom__r.Field__c FROM Contact",
    "SELECT COUNT() FROM Case WHERE IsClosed = false",
    "SELECT StageName, COUNT(Id) cnt, SUM(Amount) total, AVG(Amount), MIN(CloseDate), "
    "MAX(CloseDate), COUNT_DISTINCT(OwnerId) owners FROM Opportunity GROUP BY StageName",
    "SELECT FIELDS(ALL) FROM Account LIMIT 200",
    "SELECT FIELDS(STANDARD), FIELDS(CUSTOM), Name FROM Lead",
    "SELECT Id FROM Case WHERE Status = 'New' AND Priority IN ('High', 'Medium') "
    "AND CreatedDate = LAST_N_DAYS:7",
    "SELECT Id FROM Case WHERE (Status = 'New' OR Status = 'Open') AND NOT Subject LIKE '%test%'",
    "SELECT Id FROM Case WHERE Status <> 'Closed' AND OwnerId != null",
    "SELECT Id FROM Lead WHERE Email LIKE '%\\_%@example.com' OR Name LIKE '100\\%'",
    "SELECT Id FROM Contact WHERE Name = 'O\\'Brien' AND Title = 'Line\\nBreak\\t\\\\'",
    "SELECT Id FROM Account WHERE Colors__c INCLUDES ('red;blue', 'green') "
    "AND Tags__c EXCLUDES ('x')",
    "SELECT Id FROM Account WHERE Type NOT IN ('Prospect', null) AND AnnualRevenue >= -1.50",
    "SELECT Id FROM Opportunity WHERE CloseDate >= 2024-01-01 AND CloseDate < 2024-04-01",
    "SELECT Id FROM Event WHERE StartDateTime > 2024-01-31T10:00:00Z "
    "AND EndDateTime < 2024-01-31T18:30:00.250-08:00 AND X__c = 2024-01-31T10:00:00+05:30",
    "SELECT Id FROM Task WHERE ActivityDate = TODAY OR ActivityDate = TOMORROW "
    "OR ActivityDate = N_DAYS_AGO:3",
    "SELECT Id FROM Account WHERE CreatedDate > LAST_QUARTER AND CreatedDate < NEXT_N_YEARS:2",
    "SELECT Id FROM Account WHERE IsDeleted = TRUE ORDER BY Name DESC NULLS LAST, Id "
    "LIMIT 50 OFFSET 100",
    "SELECT Id FROM Account USING SCOPE mine WHERE Name != null WITH SECURITY_ENFORCED "
    "ORDER BY Name ASC NULLS FIRST LIMIT 1 FOR UPDATE",
    "SELECT Id FROM Account WHERE NOT (A = 1 AND (B = 2 OR NOT C = 3)) AND D = 4",
    "SELECT Order.OrderNumber, Count, Type FROM OrderItem WHERE Order.Status = 'Draft' "
    "ORDER BY Order.OrderNumber",
    "SELECT Id FROM Group WHERE Type = 'Queue'",
]


@pytest.mark.parametrize("text", QUERIES)
def test_parse_print_parse(text: str) -> None:
    first = parse_soql(text)
    printed = to_soql(first)
    assert parse_soql(printed) == first
    assert to_soql(parse_soql(printed)) == printed


def test_canonical_form() -> None:
    text = (
        "select Id ,Name from Account where Name<>'x' and not (A=1 or B=2) "
        "order by Name asc nulls first limit 5"
    )
    assert to_soql(parse_soql(text)) == (
        "SELECT Id, Name FROM Account WHERE Name != 'x' AND NOT (A = 1 OR B = 2) "
        "ORDER BY Name NULLS FIRST LIMIT 5"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (StringValue(value="it's\n\\"), "'it\\'s\\n\\\\'"),
        (NumberValue(value=Decimal("1E+3")), "1000"),
        (NumberValue(value=Decimal("-0.50")), "-0.50"),
        (BooleanValue(value=False), "false"),
        (NullValue(), "null"),
        (DateValue(value=date(2024, 2, 29)), "2024-02-29"),
        (DateValue(value=date(99, 1, 2)), "0099-01-02"),
        (DateTimeValue(value=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)), "2024-01-02T03:04:05Z"),
        (
            DateTimeValue(
                value=datetime(2024, 1, 2, 3, 4, 5, 120000, timezone(timedelta(hours=5.5)))
            ),
            "2024-01-02T03:04:05.120+05:30",
        ),
        (
            DateTimeValue(
                value=datetime(2024, 1, 2, 3, 4, 5, 7, timezone(-timedelta(hours=8, minutes=30)))
            ),
            "2024-01-02T03:04:05.000007-08:30",
        ),
        (
            DateTimeValue(value=datetime(2024, 1, 2, tzinfo=timezone(timedelta(seconds=30)))),
            "2024-01-01T23:59:30Z",
        ),
        (DateLiteral(name="THIS_WEEK"), "THIS_WEEK"),
        (DateLiteral(name="LAST_N_DAYS", n=30), "LAST_N_DAYS:30"),
    ],
)
def test_value_printing(value: Value, text: str) -> None:
    assert value_to_soql(value) == text


def test_like_pattern_printing() -> None:
    cond = Comparison(
        field=FieldPath(parts=("Name",)), op="LIKE", value=StringValue(value="a\\%b%'c\\_")
    )
    assert condition_to_soql(cond) == "Name LIKE 'a\\%b%\\'c\\_'"


def fp(name: str) -> FieldPath:
    return FieldPath(parts=(name,))


@pytest.mark.parametrize(
    "query",
    [
        Query(select=(), from_="Account"),
        Query(select=(fp("Id"),), from_="Bad Name"),
        Query(select=(fp("Id"),), from_="1abc"),
        Query(select=(FieldPath(parts=()),), from_="Account"),
        Query(select=(fp("TypeOf"),), from_="Account"),
        Query(select=(Aggregate(func="COUNT", field=fp("Id"), alias="from"),), from_="A"),
        Query(select=(Aggregate(func="SUM", field=None),), from_="A"),
        Query(select=(Aggregate(func="COUNT", field=None, alias="n"),), from_="A"),
        Query(
            select=(fp("Id"),),
            from_="A",
            where=Comparison(field=fp("Not"), op="=", value=NullValue()),
        ),
        Query(
            select=(fp("Id"),),
            from_="A",
            where=And(items=(Comparison(field=fp("X"), op="=", value=NullValue()),)),
        ),
        Query(select=(fp("Id"),), from_="A", where=InList(field=fp("X"), values=())),
        Query(
            select=(fp("Id"),),
            from_="A",
            where=Comparison(field=fp("X"), op="LIKE", value=NumberValue(value=Decimal(1))),
        ),
        Query(
            select=(fp("Id"),),
            from_="A",
            where=Comparison(field=fp("X"), op="=", value=NumberValue(value=Decimal("NaN"))),
        ),
        Query(
            select=(fp("Id"),),
            from_="A",
            where=Comparison(
                field=fp("X"),
                op="=",
                value=DateTimeValue(value=datetime(2024, 1, 1)),  # noqa: DTZ001 - naive on purpose
            ),
        ),
        Query(select=(fp("Id"),), from_="A", limit=-1),
    ],
)
def test_printer_rejects_unprintable_trees(query: Query) -> None:
    with pytest.raises(ValueError):
        to_soql(query)
