"""Formula types, environments and the type checker: result types, scales, errors.

Expected messages are Salesforce's (the labels of its open-sourced formula engine,
github.com/salesforce/formula-engine, ``FormulaFieldExceptionMessages``); where
formulon words an error differently the test says so.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from workroute.lang.formula.ast import Binary, Call, Expr, FieldRef, NumberLit, TextLit
from workroute.lang.formula.checker import DictEnvironment, SchemaEnvironment, check
from workroute.lang.formula.errors import (
    ArgumentError,
    FormulaError,
    FormulaReferenceError,
    NoFunctionError,
    WrongTypeError,
)
from workroute.lang.formula.functions import registry
from workroute.lang.formula.parser import parse_formula
from workroute.lang.formula.types import (
    CHECKBOX,
    DATE,
    DATETIME,
    ID,
    MULTIPICKLIST,
    NULL,
    PICKLIST,
    TEXT,
    TIME,
    FormulaType,
    Kind,
    Typed,
    type_for_field,
    type_from_name,
)
from workroute.schema.model import FieldDef, FieldType, ObjectDef
from workroute.schema.registry import SchemaRegistry
from workroute.schema.standard import standard_registry

ENV = DictEnvironment(
    {
        "Amount": FormulaType(Kind.CURRENCY, scale=2),
        "Qty": FormulaType(Kind.NUMBER, scale=0),
        "Rate": FormulaType(Kind.PERCENT, scale=4),
        "Name": "text",
        "Notes": "textarea",
        "OwnerId": "id",
        "Status": "picklist",
        "Tags": "multipicklist",
        "IsClosed": "checkbox",
        "CloseDate": "date",
        "CreatedDate": "datetime",
        "Start": "time",
        "Where": "geolocation",
        "Account.Name": "text",
        "$User.Email": "text",
    }
)


def typed(formula: str) -> Typed:
    return check(parse_formula(formula), ENV)


def type_of(formula: str) -> FormulaType:
    return typed(formula).type


def fails(formula: str) -> FormulaError:
    with pytest.raises(FormulaError) as info:
        typed(formula)
    return info.value


# hand-built trees (the checker does not depend on the parser)


def num(value: str, column: int = 1) -> NumberLit:
    return NumberLit(value=Decimal(value), line=1, column=column, offset=column - 1)


def ref(path: str, column: int = 1) -> FieldRef:
    return FieldRef(parts=tuple(path.split(".")), line=1, column=column, offset=column - 1)


def call(name: str, *args: Expr, column: int = 1) -> Call:
    return Call(name=name, args=args, line=1, column=column, offset=column - 1)


# ------------------------------------------------------------------------ types


def test_type_names_and_labels() -> None:
    assert type_from_name("Number", scale=2) == FormulaType(Kind.NUMBER, scale=2)
    assert type_from_name("TEXT", length=80) == FormulaType(Kind.TEXT, length=80)
    assert type_from_name("checkbox").label == "Boolean"
    assert type_from_name("datetime").label == "DateTime"
    assert type_from_name("geolocation").label == "Location"
    assert type_from_name("currency").label == "Number"
    assert ID.is_text and type_from_name("textarea").is_text
    assert not PICKLIST.is_text and PICKLIST.is_picklist and MULTIPICKLIST.is_picklist
    with pytest.raises(ValueError):
        type_from_name("blob")


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (FieldDef(name="N", type=FieldType.INT), FormulaType(Kind.NUMBER, scale=0)),
        (FieldDef(name="N", type=FieldType.DOUBLE, scale=3), FormulaType(Kind.NUMBER, scale=3)),
        (FieldDef(name="C", type=FieldType.CURRENCY, scale=2), FormulaType(Kind.CURRENCY, 2)),
        # a percent field holding 12.5 reads as 0.125: two more decimals
        (FieldDef(name="P", type=FieldType.PERCENT, scale=1), FormulaType(Kind.PERCENT, 3)),
        (FieldDef(name="S", type=FieldType.STRING, length=80), FormulaType(Kind.TEXT, None, 80)),
        (FieldDef(name="E", type=FieldType.EMAIL, length=80), FormulaType(Kind.TEXT, None, 80)),
        (FieldDef(name="U", type=FieldType.URL), TEXT),
        (FieldDef(name="P", type=FieldType.PHONE), TEXT),
        (FieldDef(name="T", type=FieldType.TEXTAREA), FormulaType(Kind.TEXTAREA)),
        (FieldDef(name="Id", type=FieldType.ID, length=18), FormulaType(Kind.ID, length=18)),
        (FieldDef(name="R", type=FieldType.REFERENCE, length=18), FormulaType(Kind.ID, None, 18)),
        (FieldDef(name="B", type=FieldType.BOOLEAN), CHECKBOX),
        (FieldDef(name="D", type=FieldType.DATE), DATE),
        (FieldDef(name="DT", type=FieldType.DATETIME), DATETIME),
        (FieldDef(name="T", type=FieldType.TIME), TIME),
        (FieldDef(name="PL", type=FieldType.PICKLIST), PICKLIST),
        (FieldDef(name="MS", type=FieldType.MULTIPICKLIST), MULTIPICKLIST),
    ],
)
def test_field_types(field: FieldDef, expected: FormulaType) -> None:
    assert type_for_field(field) == expected


def test_registry_has_every_function() -> None:
    names = {
        *"AND OR NOT IF CASE ISBLANK ISNULL BLANKVALUE NULLVALUE ISNUMBER ISCHANGED".split(),
        *"ISNEW ISCLONE PRIORVALUE ISPICKVAL ABS CEILING FLOOR EXP LN LOG MAX MIN MOD".split(),
        *"ROUND SQRT MCEILING MFLOOR TRUNC DISTANCE GEOLOCATION BEGINS CONTAINS FIND".split(),
        *"LEFT RIGHT MID LEN LOWER UPPER LPAD RPAD TRIM SUBSTITUTE TEXT VALUE HYPERLINK".split(),
        *"IMAGE INCLUDES REGEX BR CASESAFEID INITCAP REVERSE UNICODE DATE DATEVALUE".split(),
        *"DATETIMEVALUE TIMEVALUE TODAY NOW TIMENOW DAY MONTH YEAR WEEKDAY ADDMONTHS".split(),
        *"HOUR MINUTE SECOND MILLISECOND ISOWEEK ISOYEAR DAYOFYEAR FROMUNIXTIME".split(),
        "UNIXTIMESTAMP",
    }
    assert names == set(registry())


# ---------------------------------------------------------------- result types


@pytest.mark.parametrize(
    ("formula", "kind"),
    [
        ("1 + 2", Kind.NUMBER),
        ('"a" & Name', Kind.TEXT),
        ('"a" + "b"', Kind.TEXT),  # + concatenates text in Salesforce's engine
        ("Amount > 10", Kind.CHECKBOX),
        ("CloseDate + 1", Kind.DATE),
        ("1 + CloseDate", Kind.DATE),
        ("CloseDate - 1", Kind.DATE),
        ("CloseDate - CloseDate", Kind.NUMBER),
        ("CreatedDate + 0.5", Kind.DATETIME),
        ("0.5 + CreatedDate", Kind.DATETIME),
        ("CreatedDate - CreatedDate", Kind.NUMBER),
        ("Start + 1000", Kind.TIME),
        ("Start - Start", Kind.NUMBER),
        ("IF(IsClosed, Amount, Qty)", Kind.NUMBER),
        ("IF(IsClosed, Amount, NULL)", Kind.CURRENCY),
        ("IF(IsClosed, NULL, NULL)", Kind.NULL),
        ("IF(IsClosed, Name, OwnerId)", Kind.TEXT),
        ("BLANKVALUE(CloseDate, TODAY())", Kind.DATE),
        ("TEXT(Status)", Kind.TEXT),
        ("PRIORVALUE(Amount)", Kind.CURRENCY),
        ("ADDMONTHS(CreatedDate, 1)", Kind.DATETIME),
        ("NULL", Kind.NULL),
        ("1 + NULL", Kind.NULL),
        ("Account.Name", Kind.TEXT),
        ("$User.Email", Kind.TEXT),
        ("GEOLOCATION(1, 2)", Kind.GEOLOCATION),
    ],
)
def test_result_types(formula: str, kind: Kind) -> None:
    assert type_of(formula).kind is kind


@pytest.mark.parametrize(
    ("formula", "scale"),
    [
        ("1.25", 2),
        ("100", 0),
        ("Amount", 2),
        ("Rate", 4),
        ("Amount + 1.125", 3),  # + and -: the larger scale
        ("Amount - Qty", 2),
        ("Amount * 1.5", 3),  # *: the sum of the scales
        ("Amount * Rate", 6),
        ("Amount / 3", None),  # /: inexact
        ("1.5 ^ 2", 2),  # ^ with an integer literal exponent n: scale * n
        ("2 ^ -1", None),
        ("ROUND(Amount * Rate, 2)", 2),  # ROUND/TRUNC(x, n): min(scale(x), max(n, 0))
        ("ROUND(1.5, 4)", 1),
        ("ROUND(Amount / 3, 3)", 3),
        ("ROUND(Amount, -2)", 0),
        ("ROUND(Amount, Qty)", 2),
        ("TRUNC(Amount / 7)", 0),
        ("CEILING(Amount)", 0),
        ("MFLOOR(Amount)", 0),
        ("ABS(Amount)", 2),
        ("MOD(Amount, 0.125)", 3),
        ("MAX(1, 2.5, Amount)", 2),
        ("MIN(1, Amount / 3)", None),
        ("SQRT(Amount)", None),
        ("VALUE(Name)", None),
        ("LEN(Name)", 0),
        ("FIND(Name, Name)", 0),
        ("DAY(CloseDate)", 0),
        ("CloseDate - CloseDate", 0),
        ("CreatedDate - CreatedDate", None),
        ("IF(IsClosed, 1.5, Amount * 1.5)", 3),
        ("CASE(Qty, 1, 1.5, 2, 2.25, 0)", 2),
        ("-Amount", 2),
    ],
)
def test_numeric_scales(formula: str, scale: int | None) -> None:
    t = type_of(formula)
    assert t.is_number
    assert t.scale == scale


def test_typed_tree_carries_bindings() -> None:
    t = typed("IF(ISPICKVAL(Status, 'X'), Account.Name, $User.Email)")
    assert t.function == "IF"
    pick = t.args[0]
    assert pick.function == "ISPICKVAL"
    assert pick.args[0].binding is not None
    assert pick.args[0].binding.source == "record"
    assert t.args[1].binding is not None and t.args[1].binding.source == "related"
    assert t.args[2].binding is not None and t.args[2].binding.source == "global"


# ------------------------------------------------------------------ environments


def test_dict_environment_is_case_insensitive_and_canonical() -> None:
    t = typed("amount + AMOUNT")
    left = t.args[0].binding
    assert left is not None and left.key == "Amount"
    assert typed("account.name").args == ()
    assert typed("account.name").binding == ENV.resolve(("Account", "Name"))
    assert ENV.cache_key == DictEnvironment(dict(reversed(_env_items().items()))).cache_key


def _env_items() -> dict[str, FormulaType | str]:
    return {
        "Amount": FormulaType(Kind.CURRENCY, scale=2),
        "Qty": FormulaType(Kind.NUMBER, scale=0),
        "Rate": FormulaType(Kind.PERCENT, scale=4),
        "Name": "text",
        "Notes": "textarea",
        "OwnerId": "id",
        "Status": "picklist",
        "Tags": "multipicklist",
        "IsClosed": "checkbox",
        "CloseDate": "date",
        "CreatedDate": "datetime",
        "Start": "time",
        "Where": "geolocation",
        "Account.Name": "text",
        "$User.Email": "text",
    }


@pytest.fixture(scope="module")
def schema() -> SchemaRegistry:
    reg = standard_registry()
    reg.put(
        ObjectDef(
            name="Ticket__c",
            key_prefix="a01",
            custom=True,
            has_owner=True,
            fields=(
                FieldDef(name="Name", type=FieldType.STRING, length=80),
                FieldDef(name="Hours__c", type=FieldType.DOUBLE, scale=1, custom=True),
                FieldDef(name="Discount__c", type=FieldType.PERCENT, scale=2, custom=True),
                FieldDef(name="Stage__c", type=FieldType.PICKLIST, custom=True),
                FieldDef(
                    name="Case__c",
                    type=FieldType.REFERENCE,
                    reference_to=("Case",),
                    relationship_name="Case__r",
                    custom=True,
                ),
            ),
        )
    )
    return reg


def test_schema_environment_fields_and_paths(schema: SchemaRegistry) -> None:
    env = SchemaEnvironment(schema, "ticket__c")
    hours = env.resolve(("hours__C",))
    assert (hours.source, hours.key, hours.type) == (
        "record",
        "Hours__c",
        FormulaType(Kind.NUMBER, scale=1),
    )
    assert env.resolve(("Discount__c",)).type == FormulaType(Kind.PERCENT, scale=4)
    path = env.resolve(("case__r", "account", "owner", "email"))
    assert path.source == "related"
    assert path.key == "Case__r.Account.Owner.Email"
    # Owner is polymorphic (Group or User): User fields resolve against User
    assert path.hops == (("Case__c", "Case"), ("AccountId", "Account"), ("OwnerId", "User"))
    assert path.object_name == "User"
    owner = env.resolve(("Owner", "Name"))
    assert owner.hops == (("OwnerId", "User"),)
    with pytest.raises(FormulaReferenceError, match=r"Field Case__r\.Nope does not exist"):
        env.resolve(("Case__r", "Nope"))
    with pytest.raises(FormulaReferenceError, match=r"Field Case__c\.Subject does not exist"):
        env.resolve(("Case__c", "Subject"))  # a field name is not a relationship name


def test_schema_environment_globals(schema: SchemaRegistry) -> None:
    env = SchemaEnvironment(schema, "Case")
    email = env.resolve(("$user", "email"))
    assert (email.source, email.key, email.type.kind) == ("global", "$User.Email", Kind.TEXT)
    profile = env.resolve(("$User", "Profile", "Name"))
    assert profile.key == "$User.Profile.Name"
    assert profile.hops == (("ProfileId", "Profile"),)
    assert env.resolve(("$Organization", "Name")).key == "$Organization.Name"
    assert env.resolve(("$Profile", "Name")).key == "$Profile.Name"
    assert env.resolve(("$UserRole", "DeveloperName")).key == "$UserRole.DeveloperName"
    origin = env.resolve(("$System", "OriginDateTime"))
    assert (origin.key, origin.type) == ("$System.OriginDateTime", DATETIME)
    for bad in (("$User",), ("$Nope", "X"), ("$User", "Nope"), ("$System", "Nope")):
        with pytest.raises(FormulaReferenceError):
            env.resolve(bad)
    assert env.cache_key != SchemaEnvironment(schema, "Account").cache_key


def test_schema_environment_checks_formulas(schema: SchemaRegistry) -> None:
    env = SchemaEnvironment(schema, "Case")
    t = check(parse_formula('AND(ISPICKVAL(Status, "Closed"), Account.AnnualRevenue > 1000)'), env)
    assert t.type == CHECKBOX
    with pytest.raises(WrongTypeError, match="Field Status is a picklist field"):
        check(parse_formula('Status = "Closed"'), env)


# ---------------------------------------------------------------------- errors


def test_unknown_field_is_a_located_reference_error() -> None:
    tree = Binary(op="+", left=num("1"), right=ref("Foo__c", column=5), line=1, column=3)
    with pytest.raises(FormulaReferenceError) as info:
        check(tree, ENV)
    err = info.value
    assert err.message == "Field Foo__c does not exist. Check spelling."
    assert (err.line, err.column, err.offset) == (1, 5, 4)
    assert err.error_type == "ReferenceError"


def test_unknown_function_is_a_located_no_function_error() -> None:
    err = fails("1 +\n  FOO(1)")
    assert isinstance(err, NoFunctionError)
    assert err.message == "Unknown function FOO. Check spelling."
    assert (err.line, err.column) == (2, 3)
    assert err.error_type == "NoFunctionError"


def test_arguments_are_checked_before_the_function_is_looked_up() -> None:
    # as in formulon (and Salesforce's bottom-up validation), a bad argument comes first
    assert isinstance(fails("FOO(Nope)"), FormulaReferenceError)


@pytest.mark.parametrize(
    ("formula", "function", "expected", "received", "column"),
    [
        ("IF(TRUE, 1)", "IF", 3, 2, 1),
        ("  NOT()", "NOT", 1, 0, 3),
        ("AND()", "AND", 1, 0, 1),
        ("LEFT('a')", "LEFT", 2, 1, 1),
        ("FIND('a','b',1,2)", "FIND", 3, 4, 1),
        ("TODAY(1)", "TODAY", 0, 1, 1),
        # CASE needs an even count of at least 4 (formulon words these the same way)
        ("CASE(1, 1, 'a')", "CASE", 4, 3, 1),
        ("CASE(1, 1, 'a', 2, 'b')", "CASE", 4, 5, 1),
    ],
)
def test_wrong_counts(
    formula: str, function: str, expected: int, received: int, column: int
) -> None:
    err = fails(formula)
    assert isinstance(err, ArgumentError)
    assert err.error_type == "ArgumentError"
    assert err.message == (
        f"Incorrect number of parameters for function '{function}()'. "
        f"Expected {expected}, received {received}"
    )
    assert err.column == column


@pytest.mark.parametrize(
    ("formula", "what", "expected", "received", "column"),
    [
        ("IF(Qty, 1, 2)", "IF()", "Boolean", "Number", 4),
        ("IF(IsClosed, 1, 'a')", "IF()", "Number", "Text", 17),
        ("ISPICKVAL(Name, 'x')", "ISPICKVAL()", "Picklist", "Text", 11),
        ("ISPICKVAL(Status, Name)", "ISPICKVAL()", "Text Literal", "Text", 19),
        ("INCLUDES(Name, 'a')", "INCLUDES()", "MultiPicklist", "Text", 10),
        ("AND(TRUE, 1)", "AND()", "Boolean", "Number", 11),
        ("LEFT(1, 2)", "LEFT()", "Text", "Number", 6),
        ("TEXT(Name)", "TEXT()", "Number, Date, DateTime, Picklist", "Text", 6),
        ("TEXT(IsClosed)", "TEXT()", "Number, Date, DateTime, Picklist", "Boolean", 6),
        ("DAY(CreatedDate)", "DAY()", "Date", "DateTime", 5),
        ("HOUR(CreatedDate)", "HOUR()", "Time", "DateTime", 6),
        ("BLANKVALUE(Amount, 'x')", "BLANKVALUE()", "Number", "Text", 20),
        ("CASE(Qty, 'a', 1, 0)", "CASE()", "Number", "Text", 11),
        ("CASE(Qty, 1, 1, 'x')", "CASE()", "Number", "Text", 17),
        ("DISTANCE(Where, 1, 'km')", "DISTANCE()", "Location", "Number", 17),
        # operators
        ("1 + 'a'", "op +", "Number, Date, DateTime", "Text", 5),
        ("'a' + 1", "op +", "Text", "Number", 7),
        ("IsClosed + 1", "op +", "Number, Date, DateTime", "Boolean", 1),
        ("CloseDate + CloseDate", "op +", "Number", "Date", 13),
        ("CloseDate + CreatedDate", "op +", "Number, Date", "DateTime", 13),
        ("CloseDate - CreatedDate", "op -", "Number, Date", "DateTime", 13),
        ("CreatedDate - CloseDate", "op -", "Number, DateTime", "Date", 15),
        ("1 - CloseDate", "op -", "Number", "Date", 5),
        ("1 + Start", "op +", "Number, Date, DateTime", "Time", 5),
        ("Qty * 'a'", "op *", "Number", "Text", 7),
        ("'a' / 2", "op /", "Number", "Text", 1),
        ("2 ^ CloseDate", "op ^", "Number", "Date", 5),
        ("Name & 1", "op &", "Text", "Number", 8),
        ("Qty = 'a'", "op =", "Number", "Text", 7),
        ("CloseDate <> CreatedDate", "op !=", "Date", "DateTime", 14),
        ("Qty < 'a'", "op <", "Number", "Text", 7),
        ("IsClosed < TRUE", "op <", "Number, Date, DateTime", "Boolean", 1),
        ("IsClosed && 1", "op &&", "Boolean", "Number", 13),
        ("-'a'", "op -", "Number", "Text", 2),
        ("!Qty", "op !", "Boolean", "Number", 2),
    ],
)
def test_wrong_types(formula: str, what: str, expected: str, received: str, column: int) -> None:
    """``what`` is "IF()" for function 'IF()' and "op +" for operator '+'."""
    described = f"operator '{what[3:]}'" if what.startswith("op ") else f"function '{what}'"
    err = fails(formula)
    assert isinstance(err, WrongTypeError)
    assert err.error_type == "WrongTypeError"
    assert err.message == (
        f"Incorrect parameter type for {described}. Expected {expected}, received {received}"
    )
    assert err.column == column


@pytest.mark.parametrize(
    "formula",
    [
        "ISBLANK(IsClosed)",  # checkboxes are never blank
        "ISNULL(IsClosed)",
        "BLANKVALUE(IsClosed, TRUE)",
        "BLANKVALUE(Where, Where)",
        "CASE(IsClosed, TRUE, 1, 0)",
        "CASE(Qty, 1, TRUE, FALSE)",  # CASE cannot return a checkbox
        "ISNUMBER(Qty)",
        "DATEVALUE(CloseDate)",
        "TIMEVALUE(CloseDate)",
        "ADDMONTHS(Qty, 1)",
        "ADDMONTHS(CloseDate, 'a')",
        "ISOWEEK(Start)",
        "UNIXTIMESTAMP(Qty)",
        "REGEX(Qty, 'a')",
        "ISCHANGED(1)",
        "PRIORVALUE(Where)",
        "Where = Where",
        "Start + Start",
    ],
)
def test_argument_types_never_allowed(formula: str) -> None:
    err = fails(formula)
    assert isinstance(err, WrongTypeError)
    assert err.message.startswith("Incorrect argument type for ")


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        (
            "DISTANCE(Where, Where, 'yd')",
            "Incorrect parameter value for function 'DISTANCE()'. "
            "Expected 'mi'/'km', received 'yd'",
        ),
        ("GEOLOCATION(91, 0)", "Incorrect parameter for function 'GEOLOCATION()'."),
        ("GEOLOCATION(0, -181)", "Incorrect parameter for function 'GEOLOCATION()'."),
        (
            "ISCHANGED(Account.Name)",
            "The ISCHANGED function cannot reference the Account.Name field.",
        ),
        (
            "PRIORVALUE($User.Email)",
            "The PRIORVALUE function cannot reference the $User.Email field.",
        ),
    ],
)
def test_argument_values(formula: str, message: str) -> None:
    err = fails(formula)
    assert isinstance(err, ArgumentError)
    assert err.message == message


def test_compile_time_regex_errors() -> None:
    err = fails("REGEX(Name, '[a-')")
    assert isinstance(err, ArgumentError)
    assert "invalid regular expression" in err.message
    assert isinstance(fails("REGEX(Name, '" + "a" * 1001 + "')"), ArgumentError)
    assert type_of("REGEX(Name, '(a+)+b')") == CHECKBOX  # risky, but valid


# -------------------------------------------------------------------- picklists


PICKLIST_MESSAGE = (
    "Field Status is a picklist field. Picklist fields are only supported in certain functions."
)


@pytest.mark.parametrize(
    "formula",
    [
        'ISPICKVAL(Status, "Open")',
        'ISPICKVAL(PRIORVALUE(Status), "Open")',
        'CASE(Status, "Open", 1, "Closed", 2, 0)',
        'CASE(PRIORVALUE(Status), "Open", 1, 0)',
        "TEXT(Status)",
        "TEXT(PRIORVALUE(Status))",
        "ISBLANK(Status)",
        "ISNULL(Status)",
        "ISCHANGED(Status)",
        "ISBLANK(Tags)",
        "ISNULL(Tags)",
        "ISCHANGED(Tags)",
        "INCLUDES(Tags, 'a')",
        "INCLUDES(PRIORVALUE(Tags), 'a')",
    ],
)
def test_picklists_in_allowed_functions(formula: str) -> None:
    assert type_of(formula) in (CHECKBOX, TEXT, FormulaType(Kind.NUMBER, scale=0))


@pytest.mark.parametrize(
    ("formula", "column"),
    [
        ('Status = "Open"', 1),
        ('"x" & Status', 7),
        ("Status", 1),  # a formula cannot return a picklist
        ("PRIORVALUE(Status)", 12),
        ('IF(IsClosed, Status, "x")', 14),
        ('BLANKVALUE(Status, "x")', 12),
        ('CONTAINS(Status, "x")', 10),
        ("LEN(Status)", 5),
    ],
)
def test_picklists_elsewhere_are_rejected(formula: str, column: int) -> None:
    err = fails(formula)
    assert isinstance(err, WrongTypeError)
    assert err.message == PICKLIST_MESSAGE
    assert err.column == column


def test_multi_select_picklists_elsewhere_are_rejected() -> None:
    err = fails("TEXT(Tags)")
    assert err.message == (
        "Field Tags is a multi-select picklist field. Multi-select picklist fields are "
        "only supported in certain functions."
    )
    assert fails('Tags = "a"').message.startswith("Field Tags is a multi-select picklist")
    assert fails('ISPICKVAL(Tags, "a")').message.startswith("Field Tags is a multi-select")


def test_case_on_a_picklist_needs_literals() -> None:
    err = fails("CASE(Status, Name, 1, 0)")
    assert err.message == (
        "Incorrect parameter type for function 'CASE()'. Expected Text Literal, received Text"
    )


def test_hand_built_call_positions() -> None:
    tree = call("ISPICKVAL", ref("Name", column=11), TextLit(value="x"), column=1)
    with pytest.raises(WrongTypeError) as info:
        check(tree, ENV)
    assert info.value.column == 11
    assert check(call("NOW"), ENV).type == DATETIME
    assert check(call("ISNEW"), ENV).type == CHECKBOX
    assert check(NumberLit(value=Decimal("1.50")), ENV).type.scale == 2
    assert NULL.is_null
