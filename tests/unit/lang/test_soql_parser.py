"""SOQL parser: every supported construct, positions, and located syntax errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from workroute.kernel.errors import MalformedQueryError
from workroute.lang.soql import parse_soql
from workroute.lang.soql.ast import (
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
    StringValue,
    Value,
)


def fp(dotted: str) -> FieldPath:
    return FieldPath(parts=tuple(dotted.split(".")))


def where(condition: str) -> Condition:
    cond = parse_soql(f"SELECT Id FROM Account WHERE {condition}").where
    assert cond is not None
    return cond


def value(literal: str) -> Value:
    cond = where(f"X = {literal}")
    assert isinstance(cond, Comparison)
    return cond.value


# --------------------------------------------------------------------------- SELECT


def test_minimal_query() -> None:
    q = parse_soql("SELECT Id FROM Account")
    assert q == Query(select=(fp("Id"),), from_="Account")
    assert not q.count_only
    assert (q.line, q.column, q.from_line, q.from_column) == (1, 1, 1, 16)


def test_plain_fields_and_relationship_paths() -> None:
    q = parse_soql(
        "SELECT Name, Owner.Name, Account.Owner.Email, Custom__r.Field__c, ns__X__c FROM Case"
    )
    assert q.select == (
        fp("Name"),
        fp("Owner.Name"),
        fp("Account.Owner.Email"),
        fp("Custom__r.Field__c"),
        fp("ns__X__c"),
    )
    path = q.select[2]
    assert isinstance(path, FieldPath)
    assert path.dotted == "Account.Owner.Email" and path.is_relationship


def test_keywords_case_insensitive_identifiers_keep_case() -> None:
    a = parse_soql("select iD, oWNER.nAME from aCCOUNT where nAME = 'x' order by nAME desc limit 5")
    b = parse_soql("SELECT iD, oWNER.nAME FROM aCCOUNT WHERE nAME = 'x' ORDER BY nAME DESC LIMIT 5")
    assert a == b
    assert a.select == (fp("iD"), fp("oWNER.nAME"))
    assert a.from_ == "aCCOUNT"


@pytest.mark.parametrize(
    "name", ["Name", "Type", "Status", "Count__c", "Count", "Fields", "Limit", "Order", "Group"]
)
def test_keyword_like_field_names(name: str) -> None:
    q = parse_soql(f"SELECT {name} FROM Case WHERE {name} = 'x' ORDER BY {name}")
    assert q.select == (fp(name),)
    assert q.where == Comparison(field=fp(name), op="=", value=StringValue(value="x"))
    assert q.order_by == (OrderItem(field=fp(name)),)


def test_keyword_like_object_names() -> None:
    assert parse_soql("SELECT Id FROM Order ORDER BY Id").from_ == "Order"
    assert parse_soql("SELECT Id FROM Group WHERE Type = 'Queue'").from_ == "Group"
    q = parse_soql("SELECT Order.OrderNumber FROM OrderItem WHERE Order.Status = 'Draft'")
    assert q.select == (fp("Order.OrderNumber"),)


def test_count_only() -> None:
    q = parse_soql("SELECT COUNT() FROM Contact WHERE Email != null")
    assert q.select == (Aggregate(func="COUNT", field=None),)
    assert q.count_only


@pytest.mark.parametrize("func", ["COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"])
def test_aggregates(func: str) -> None:
    q = parse_soql(f"SELECT {func.lower()}(Amount), {func}(Owner.Name) total FROM Opportunity")
    assert q.select == (
        Aggregate(func=func, field=fp("Amount")),  # type: ignore[arg-type]
        Aggregate(func=func, field=fp("Owner.Name"), alias="total"),  # type: ignore[arg-type]
    )
    assert not q.count_only


def test_aggregate_with_group_by() -> None:
    q = parse_soql("SELECT StageName, COUNT(Id) cnt FROM Opportunity GROUP BY StageName, Type")
    assert q.select == (fp("StageName"), Aggregate(func="COUNT", field=fp("Id"), alias="cnt"))
    assert q.group_by == (fp("StageName"), fp("Type"))


@pytest.mark.parametrize("kind", ["ALL", "STANDARD", "CUSTOM"])
def test_fields_function(kind: str) -> None:
    q = parse_soql(f"SELECT fields({kind.lower()}), Name FROM Account LIMIT 200")
    assert q.select == (FieldsFunction(kind=kind), fp("Name"))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- WHERE


@pytest.mark.parametrize(
    ("op", "expected"),
    [("=", "="), ("!=", "!="), ("<>", "!="), ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">=")],
)
def test_comparison_operators(op: str, expected: str) -> None:
    assert where(f"Amount {op} 5") == Comparison(
        field=fp("Amount"),
        op=expected,  # type: ignore[arg-type]
        value=NumberValue(value=Decimal(5)),
    )


def test_operators_without_spaces() -> None:
    assert where("Amount>=-5") == Comparison(
        field=fp("Amount"), op=">=", value=NumberValue(value=Decimal(-5))
    )
    assert where("Name<>'x'") == Comparison(field=fp("Name"), op="!=", value=StringValue(value="x"))


def test_null_comparisons() -> None:
    assert where("ParentId = null") == Comparison(field=fp("ParentId"), op="=", value=NullValue())
    assert where("ParentId != NULL") == Comparison(field=fp("ParentId"), op="!=", value=NullValue())


def test_like_keeps_wildcard_escapes() -> None:
    cond = where(r"Name LIKE 'Acme\_%\%\\x\'s'")
    assert cond == Comparison(
        field=fp("Name"), op="LIKE", value=StringValue(value=r"Acme\_%\%\\x's")
    )
    # A \uXXXX escape stands for a literal character, even % or _.
    cond = where(r"Name LIKE '\u0025%\u005f\u005C\u00e9'")
    assert cond == Comparison(field=fp("Name"), op="LIKE", value=StringValue(value=r"\%%\_\\é"))


def test_in_and_not_in() -> None:
    assert where("Type IN ('a', 'b', null, 5, true, 2024-01-02)") == InList(
        field=fp("Type"),
        values=(
            StringValue(value="a"),
            StringValue(value="b"),
            NullValue(),
            NumberValue(value=Decimal(5)),
            BooleanValue(value=True),
            DateValue(value=date(2024, 1, 2)),
        ),
    )
    assert where("Type NOT IN ('a')") == InList(
        field=fp("Type"), values=(StringValue(value="a"),), negated=True
    )


def test_includes_excludes() -> None:
    cond = where("Colors__c INCLUDES ('red;blue', 'green')")
    assert cond == Includes(
        field=fp("Colors__c"), values=(StringValue(value="red;blue"), StringValue(value="green"))
    )
    assert isinstance(cond, Includes)
    assert cond.value_sets == (frozenset({"red", "blue"}), frozenset({"green"}))
    assert where("Colors__c excludes ('red')") == Includes(
        field=fp("Colors__c"), values=(StringValue(value="red"),), negated=True
    )


def test_and_or_not_and_parentheses() -> None:
    a = Comparison(field=fp("A"), op="=", value=NumberValue(value=Decimal(1)))
    b = Comparison(field=fp("B"), op="=", value=NumberValue(value=Decimal(2)))
    c = Comparison(field=fp("C"), op="=", value=NumberValue(value=Decimal(3)))
    assert where("A = 1 AND B = 2 AND C = 3") == And(items=(a, b, c))
    assert where("A = 1 OR B = 2 OR C = 3") == Or(items=(a, b, c))
    assert where("(A = 1 AND B = 2) OR C = 3") == Or(items=(And(items=(a, b)), c))
    assert where("A = 1 AND (B = 2 OR C = 3)") == And(items=(a, Or(items=(b, c))))
    assert where("((A = 1))") == a
    # NOT binds to the condition right after it.
    assert where("NOT A = 1 AND B = 2") == And(items=(Not(item=a), b))
    assert where("NOT (A = 1 OR B = 2)") == Not(item=Or(items=(a, b)))
    assert where("A = 1 AND NOT B = 2") == And(items=(a, Not(item=b)))
    # Parenthesised groups are kept as written, not flattened.
    assert where("(A = 1 AND B = 2) AND C = 3") == And(items=(And(items=(a, b)), c))


@pytest.mark.parametrize(
    "condition",
    ["A = 1 AND B = 2 OR C = 3", "A = 1 OR B = 2 AND C = 3", "(A = 1 OR B = 2 AND C = 3)"],
)
def test_mixing_and_or_without_parentheses_is_malformed(condition: str) -> None:
    with pytest.raises(MalformedQueryError) as info:
        parse_soql(f"SELECT Id FROM Account WHERE {condition}")
    assert "cannot be mixed without parentheses" in info.value.message
    assert info.value.column is not None and info.value.column > 30


# --------------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("literal", "text"),
    [
        (r"'plain'", "plain"),
        (r"''", ""),
        (r"'it\'s'", "it's"),
        (r"'say \"hi\"'", 'say "hi"'),
        (r"'back\\slash'", "back\\slash"),
        (r"'a\nb\rc\td\be\ff'", "a\nb\rc\td\be\ff"),
        (r"'A\NB\RC\TD'", "A\nB\rC\tD"),
        (r"'under_score 100%'", "under_score 100%"),
        (r"'caf\u00e9 \u00E9\u0027'", "café é'"),
        ("'multi\nline'", "multi\nline"),
        ("'unicode: ünï €'", "unicode: ünï €"),
    ],
)
def test_string_literals(literal: str, text: str) -> None:
    assert value(literal) == StringValue(value=text)


@pytest.mark.parametrize(
    ("literal", "number"),
    [("0", "0"), ("42", "42"), ("-7", "-7"), ("+3", "3"), ("3.25", "3.25"), ("-0.5", "-0.5")],
)
def test_numbers(literal: str, number: str) -> None:
    v = value(literal)
    assert v == NumberValue(value=Decimal(number))
    assert isinstance(v, NumberValue)
    assert v.is_integer == ("." not in literal)


def test_booleans_and_null() -> None:
    assert value("true") == BooleanValue(value=True)
    assert value("FALSE") == BooleanValue(value=False)
    assert value("Null") == NullValue()


def test_dates_and_datetimes() -> None:
    assert value("2024-01-31") == DateValue(value=date(2024, 1, 31))
    assert value("2024-02-29") == DateValue(value=date(2024, 2, 29))
    assert value("2024-01-31T10:00:00Z") == DateTimeValue(
        value=datetime(2024, 1, 31, 10, tzinfo=UTC)
    )
    plus = value("2024-01-31T10:00:00+05:30")
    assert isinstance(plus, DateTimeValue)
    assert plus.value.utcoffset() == timedelta(hours=5, minutes=30)
    assert plus.value == datetime(2024, 1, 31, 4, 30, tzinfo=UTC)
    minus = value("2024-01-31T10:00:00-08:00")
    assert minus == DateTimeValue(
        value=datetime(2024, 1, 31, 10, tzinfo=timezone(timedelta(hours=-8)))
    )
    frac = value("2024-01-31T10:00:00.123Z")
    assert frac == DateTimeValue(value=datetime(2024, 1, 31, 10, 0, 0, 123000, tzinfo=UTC))
    micro = value("2024-01-31T10:00:00.1234567Z")  # beyond microseconds: truncated
    assert micro == DateTimeValue(value=datetime(2024, 1, 31, 10, 0, 0, 123456, tzinfo=UTC))


FIXED = [
    "YESTERDAY",
    "TODAY",
    "TOMORROW",
    "LAST_WEEK",
    "THIS_WEEK",
    "NEXT_WEEK",
    "LAST_MONTH",
    "THIS_MONTH",
    "NEXT_MONTH",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
    "THIS_QUARTER",
    "LAST_QUARTER",
    "NEXT_QUARTER",
    "THIS_YEAR",
    "LAST_YEAR",
    "NEXT_YEAR",
]
PARAMETERISED = [
    "LAST_N_DAYS",
    "NEXT_N_DAYS",
    "N_DAYS_AGO",
    "LAST_N_WEEKS",
    "NEXT_N_WEEKS",
    "N_WEEKS_AGO",
    "LAST_N_MONTHS",
    "NEXT_N_MONTHS",
    "N_MONTHS_AGO",
    "LAST_N_QUARTERS",
    "NEXT_N_QUARTERS",
    "LAST_N_YEARS",
    "NEXT_N_YEARS",
    "N_YEARS_AGO",
]


@pytest.mark.parametrize("name", FIXED)
def test_named_date_literals(name: str) -> None:
    assert value(name) == DateLiteral(name=name)
    assert value(name.lower()) == DateLiteral(name=name)


@pytest.mark.parametrize("name", PARAMETERISED)
def test_parameterised_date_literals(name: str) -> None:
    assert value(f"{name}:14") == DateLiteral(name=name, n=14)
    assert value(f"{name.lower()}:0") == DateLiteral(name=name, n=0)


def test_date_literal_with_every_operator() -> None:
    for op in ("=", "!=", "<", "<=", ">", ">="):
        assert where(f"CloseDate {op} LAST_N_DAYS:30") == Comparison(
            field=fp("CloseDate"),
            op=op,
            value=DateLiteral(name="LAST_N_DAYS", n=30),
        )


# --------------------------------------------------------------------------- other clauses


def test_order_by() -> None:
    q = parse_soql(
        "SELECT Id FROM Account ORDER BY Name, Owner.Name DESC, Rating ASC NULLS LAST, "
        "Type DESC NULLS FIRST, Industry nulls last"
    )
    assert q.order_by == (
        OrderItem(field=fp("Name")),
        OrderItem(field=fp("Owner.Name"), descending=True),
        OrderItem(field=fp("Rating"), nulls="LAST"),
        OrderItem(field=fp("Type"), descending=True, nulls="FIRST"),
        OrderItem(field=fp("Industry"), nulls="LAST"),
    )
    assert [o.nulls_first for o in q.order_by] == [True, False, False, True, False]


def test_limit_offset() -> None:
    q = parse_soql("SELECT Id FROM Account LIMIT 10 OFFSET 2000")
    assert (q.limit, q.offset) == (10, 2000)
    assert parse_soql("SELECT Id FROM Account OFFSET 0").offset == 0
    assert parse_soql("SELECT Id FROM Account LIMIT 0").limit == 0


def test_flags() -> None:
    q = parse_soql(
        "SELECT Id FROM Account USING SCOPE mine WHERE Name = 'x' WITH SECURITY_ENFORCED "
        "ORDER BY Name LIMIT 1 FOR UPDATE"
    )
    assert (q.using_scope, q.security, q.for_) == ("mine", "SECURITY_ENFORCED", "UPDATE")
    assert parse_soql("SELECT Id FROM Account FOR VIEW").for_ == "VIEW"
    assert parse_soql("SELECT Id FROM Account for reference").for_ == "REFERENCE"
    assert parse_soql("SELECT Id FROM Account WITH USER_MODE").security == "USER_MODE"
    assert parse_soql("SELECT Id FROM Account WITH system_mode").security == "SYSTEM_MODE"


def test_full_clause_order() -> None:
    q = parse_soql(
        "SELECT Type, COUNT(Id) n FROM Account USING SCOPE everything WHERE Name != null "
        "WITH SECURITY_ENFORCED GROUP BY Type ORDER BY Type LIMIT 5 OFFSET 1 FOR VIEW"
    )
    assert q == Query(
        select=(fp("Type"), Aggregate(func="COUNT", field=fp("Id"), alias="n")),
        from_="Account",
        using_scope="everything",
        where=Comparison(field=fp("Name"), op="!=", value=NullValue()),
        security="SECURITY_ENFORCED",
        group_by=(fp("Type"),),
        order_by=(OrderItem(field=fp("Type")),),
        limit=5,
        offset=1,
        for_="VIEW",
    )


def test_whitespace_and_newlines_are_free() -> None:
    text = "  SELECT\n\tId ,Name\nFROM   Account\n WHERE\n  Name='x'\nLIMIT\n1  "
    assert parse_soql(text) == parse_soql("SELECT Id, Name FROM Account WHERE Name = 'x' LIMIT 1")


# --------------------------------------------------------------------------- positions


def test_node_positions() -> None:
    q = parse_soql(
        "SELECT Id, COUNT(Name) c, FIELDS(ALL)\n"
        "FROM Case\n"
        "WHERE Status = 'New' AND (Priority IN ('High') OR NOT Foo__c > 2024-01-01)\n"
        "ORDER BY Subject DESC"
    )
    id_, count, fields = q.select
    assert (id_.line, id_.column) == (1, 8)
    assert (count.line, count.column) == (1, 12)
    assert (fields.line, fields.column) == (1, 27)
    assert (q.from_line, q.from_column) == (2, 6)
    cond = q.where
    assert isinstance(cond, And)
    status, group = cond.items
    assert isinstance(status, Comparison) and isinstance(group, Or)
    assert (status.line, status.column) == (3, 7)
    assert (status.value.line, status.value.column) == (3, 16)
    priority, negation = group.items
    assert (group.line, group.column) == (3, 27)
    assert (priority.line, priority.column) == (3, 27)
    assert isinstance(negation, Not)
    assert (negation.line, negation.column) == (3, 51)
    assert isinstance(negation.item, Comparison)
    assert (negation.item.line, negation.item.column) == (3, 55)
    assert (negation.item.value.line, negation.item.value.column) == (3, 64)
    (order,) = q.order_by
    assert (order.line, order.column) == (4, 10)


def test_positions_do_not_affect_equality_or_hash() -> None:
    a = parse_soql("SELECT Id FROM Account WHERE Name = 'x'")
    b = parse_soql("SELECT   Id\nFROM Account\nWHERE\n Name =\n'x'")
    assert a == b and hash(a) == hash(b)
    assert a.where is not None and b.where is not None
    assert (a.where.line, b.where.line) == (1, 4)


# --------------------------------------------------------------------------- errors


def error(text: str) -> MalformedQueryError:
    with pytest.raises(MalformedQueryError) as info:
        parse_soql(text)
    err = info.value
    assert err.code == "MALFORMED_QUERY" and err.http_status == 400
    assert err.line is not None and err.column is not None
    assert err.message.endswith(f" at Row:{err.line}:Column:{err.column}")
    return err


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("", 1, 1, "empty query"),
        ("   \n ", 1, 1, "empty query"),
        ("SELECT Id FORM Account", 1, 11, "unexpected token: 'FORM'; expecting one of: FROM, ','"),
        ("SELECT Id FROM", 1, 15, "unexpected end of query; expecting identifier"),
        ("SELECT FROM Account", 1, 8, "unexpected token: 'FROM'"),
        ("SELECT Id, FROM Account", 1, 12, "unexpected token: 'FROM'"),
        ("SELECT Id FROM Account WHERE", 1, 29, "unexpected end of query"),
        ("SELECT Id FROM Account WHERE Name = 'abc", 1, 37, "unterminated string literal"),
        ("SELECT Id FROM Account WHERE\nName = 'a\nb", 2, 8, "unterminated string literal"),
        ('SELECT Id FROM Account WHERE Name = "x"', 1, 37, "single quotes"),
        ("SELECT Id FROM Account WHERE Name = 'a\\qb'", 1, 39, "invalid escape sequence: '\\q'"),
        ("SELECT Id FROM Account WHERE\n Name = 'x\ny\\z'", 3, 2, "invalid escape sequence"),
        ("SELECT Id FROM Account WHERE Name = 'a\\_b'", 1, 39, "only allowed in LIKE patterns"),
        ("SELECT Id FROM Account WHERE Name IN ('a\\%')", 1, 41, "only allowed in LIKE patterns"),
        ("SELECT Id FROM Account WHERE Name = 'a\\u00g1'", 1, 39, "4 hex digits"),
        ("SELECT Id FROM Account WHERE Name = 'a\\u00'", 1, 39, "4 hex digits"),
        ("SELECT Id FROM Account WHERE D = LAST_N_DAYS", 1, 34, "needs a parameter"),
        ("SELECT Id FROM Account WHERE D = LAST_N_DAYS:x", 1, 46, "unexpected token: 'x'"),
        ("SELECT Id FROM Account WHERE D = LAST_N_DAYS:-1", 1, 46, "non-negative integer"),
        ("SELECT Id FROM Account WHERE D = LAST_N_DAYS:1.5", 1, 46, "non-negative integer"),
        ("SELECT Id FROM Account WHERE D = TODAY:3", 1, 40, "does not take a parameter"),
        ("SELECT Id FROM Account WHERE D = LAST_N_DAY:3", 1, 34, "unknown date literal"),
        ("SELECT Id FROM Account WHERE D = Foo", 1, 34, "unexpected token: 'Foo'"),
        ("SELECT Id FROM Account WHERE D = 2024-02-30", 1, 34, "invalid date: 2024-02-30"),
        ("SELECT Id FROM Account WHERE D = 2023-02-29", 1, 34, "invalid date"),
        ("SELECT Id FROM Account WHERE D = 2024-13-01", 1, 34, "invalid date"),
        ("SELECT Id FROM Account WHERE D > 2024-01-01T10:00:00", 1, 34, "invalid dateTime"),
        ("SELECT Id FROM Account WHERE D > 2024-01-01T25:00:00Z", 1, 34, "invalid dateTime"),
        ("SELECT Id FROM Account WHERE D > 2024-01-01T10:00Z", 1, 34, "invalid dateTime"),
        ("SELECT Id FROM Account WHERE D > 2024-01-01T10:00:00+05:75", 1, 34, "invalid dateTime"),
        ("SELECT Id FROM Account LIMIT -1", 1, 30, "LIMIT must be a non-negative integer"),
        ("SELECT Id FROM Account LIMIT 2.5", 1, 30, "LIMIT must be a non-negative integer"),
        ("SELECT Id FROM Account LIMIT", 1, 29, "unexpected end of query; expecting number"),
        ("SELECT Id FROM Account OFFSET 2001", 1, 31, "Maximum SOQL offset allowed is 2000"),
        ("SELECT Id FROM Account OFFSET -5", 1, 31, "OFFSET must be a non-negative integer"),
        ("SELECT Id FROM Account WHERE Id = :accId", 1, 36, "bind variables are not supported"),
        ("SELECT Id FROM Account WHERE Id IN :ids", 1, 37, "bind variables are not supported"),
        ("SELECT Id FROM Account LIMIT :n", 1, 31, "bind variables are not supported"),
        (
            "SELECT TYPEOF What WHEN Account THEN Phone ELSE Name END FROM Event",
            1,
            8,
            "TYPEOF is not supported",
        ),
        (
            "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
            1,
            12,
            "subqueries are not supported",
        ),
        (
            "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)",
            1,
            37,
            "subqueries are not supported",
        ),
        ("SELECT Id FROM Account a", 1, 24, "object aliases are not supported"),
        (
            "SELECT Type, COUNT(Id) FROM Account GROUP BY Type HAVING COUNT(Id) > 1",
            1,
            51,
            "HAVING is not supported",
        ),
        ("SELECT COUNT(), Id FROM Account", 1, 8, "COUNT() must be the only item"),
        ("SELECT Id, COUNT() FROM Account", 1, 12, "COUNT() must be the only item"),
        ("SELECT COUNT() c FROM Account", 1, 16, "COUNT() cannot have an alias"),
        ("SELECT SUM() FROM Account", 1, 8, "SUM() needs a field"),
        ("SELECT FOO(Id) FROM Account", 1, 8, "function FOO() is not supported"),
        ("SELECT FIELDS(SOME) FROM Account", 1, 8, "FIELDS() takes ALL, STANDARD or CUSTOM"),
        ("SELECT FIELDS(ALL) f FROM Account", 1, 20, "FIELDS() cannot have an alias"),
        ("SELECT Id FROM Account WHERE D > null", 1, 32, "null can only be compared"),
        ("SELECT Id FROM Account WHERE D IN (TODAY)", 1, 36, "date literals cannot be used in IN"),
        ("SELECT Id FROM Account WHERE Name LIKE 5", 1, 40, "expecting string"),
        ("SELECT Id FROM Account WHERE Name IN ()", 1, 39, "unexpected token: ')'"),
        ("SELECT Id FROM Account WHERE X INCLUDES (1)", 1, 42, "expecting string"),
        ("SELECT Id FROM Account WHERE (A = 1", 1, 36, "expecting ')'"),
        ("SELECT Id FROM Account WHERE X = 5abc", 1, 34, "unexpected token: '5abc'"),
        ("SELECT Id FROM Account WHERE X = 1 #", 1, 36, "unexpected token: '#'"),
        ("SELECT Id FROM Account ORDER BY Name WHERE X = 1", 1, 38, "unexpected token: 'WHERE'"),
        ("SELECT Id FROM Account LIMIT 1 LIMIT 2", 1, 32, "unexpected token: 'LIMIT'"),
        ("SELECT Id FROM Account WITH DATA CATEGORY Geo__c AT usa__c", 1, 29, "'DATA'"),
        ("SELECT Id FROM Account, Contact", 1, 23, "unexpected token: ','"),
        ("SELECT Id FROM Account WHERE NOT NOT A = 1", 1, 34, "unexpected token: 'NOT'"),
        ("UPDATE Account SET Name = 'x'", 1, 1, "expecting SELECT"),
    ],
)
def test_errors_are_located(text: str, line: int, column: int, fragment: str) -> None:
    err = error(text)
    assert fragment in err.message
    assert (err.line, err.column) == (line, column)


def test_expected_set_is_readable() -> None:
    err = error("SELECT Id FROM Account WHERE Name")
    assert err.message.startswith(
        "unexpected end of query; expecting one of: comparison operator, LIKE, IN, NOT, "
        "INCLUDES, EXCLUDES"
    )
    err = error("SELECT Id FROM Account WHERE Name = 'x' ORDER Name")
    assert "unexpected token: 'Name'; expecting BY" in err.message


def test_parse_is_memoised_but_errors_are_not_cached() -> None:
    text = "SELECT Id FROM Account WHERE Name = 'memo'"
    assert parse_soql(text) is parse_soql(text)
    for _ in range(2):
        error("SELECT Id FROM Account WHERE")


def test_long_queries_are_not_memoised() -> None:
    names = ", ".join(f"F{i}__c" for i in range(1000))
    text = f"SELECT {names} FROM Account"
    q = parse_soql(text)
    assert len(q.select) == 1000
    assert parse_soql(text) == q
