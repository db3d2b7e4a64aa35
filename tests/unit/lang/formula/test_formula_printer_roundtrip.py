"""The formula printer: canonical text that parses back to an equal tree."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workroute.lang.formula.ast import (
    Binary,
    BinaryOp,
    BoolLit,
    Call,
    Expr,
    FieldRef,
    NullLit,
    NumberLit,
    TextLit,
    Unary,
    UnaryOp,
)
from workroute.lang.formula.lexer import NAME, OP, Positions, tokenize
from workroute.lang.formula.parser import parse_formula
from workroute.lang.formula.printer import to_formula

# ---------------------------------------------------------------- realistic formulas

WORKFLOW_FORMULAS = [
    'AND(ISPICKVAL(Status, "Closed"), ISCHANGED(Status))',
    'IF(Amount > 10000, "Large", "Small") & " deal"',
    "TODAY() - DATEVALUE(CreatedDate) > 30",
    "BLANKVALUE(Account.Owner.Email, $User.Email)",
    'CASE(MONTH(CloseDate), 1, "Jan", 2, "Feb", "Other")',
    "ISCHANGED(OwnerId) && PRIORVALUE(OwnerId) != $User.Id",
    "OR(ISNEW(), ISCHANGED(StageName)) && Probability >= 0.75",
    "NOT(ISBLANK(Email)) && NOT(REGEX(Email, '[a-zA-Z0-9._-]+@[a-zA-Z]+\\\\.[a-z]{2,4}'))",
    "AND(\n  RecordType.DeveloperName = 'Partner',\n  ISPICKVAL(Type, 'Reseller')\n)",
    "Amount * (1 - Discount__c / 100)",
    'LEFT(FirstName, 1) & ". " & LastName',
    "IF(ISBLANK(Phone), IF(ISBLANK(MobilePhone), 'none', MobilePhone), Phone)",
    "$Profile.Name <> 'System Administrator' && ISCHANGED(Amount)",
    "CloseDate < TODAY() && !IsClosed",
    "ADDMONTHS(Contract_Start__c, Term_Months__c) - 1",
    "Days_Open__c = NOW() - CreatedDate",
    "VALUE(TEXT(Quantity__c)) * UnitPrice__c ^ 2",
    "HYPERLINK('/' & Id, Name, '_blank')",
    "IF(\r\n  Priority = 'High',\r\n  /* escalate quickly */\r\n  4,\r\n  24\r\n)",
    "/* Validation: discount cap */\nDiscount_Percent__c > 0.2 &&\n"
    "  $UserRole.Name != 'VP Sales' /* VPs may exceed */",
    "CASE(Rating,\n  'Hot', 3, /* best */\n  'Warm', 2,\n  'Cold', 1,\n  0)",
    "ROUND(Amount / 1000, 1) & 'k'",
    "FLOOR((TODAY() - Birthdate) / 365.2425)",
    "MOD(WEEKDAY(CloseDate) + 5, 7) < 5",
    "SUBSTITUTE(Description, '\\n', ' ')",
    "INCLUDES(Interests__c, 'Golf') || INCLUDES(Interests__c, 'Tennis')",
    "$Setup.Thresholds__c.Max_Discount__c < Discount__c",
    "YEAR(CloseDate) = YEAR(TODAY()) && MONTH(CloseDate) = MONTH(TODAY())",
    "-Amount + ABS(-Refund__c)",
    "(Amount - Cost__c) / Amount >= .25",
    "LEN(TRIM(Name)) == 0 || CONTAINS(LOWER(Name), 'test')",
    "IF(a, 1, 0) + IF(b, 1, 0) + IF(c, 1, 0) > 1",
    "MAX(Score1__c, Score2__c, Score3__c) - MIN(Score1__c, Score2__c, Score3__c)",
    "DATETIMEVALUE(TEXT(YEAR(TODAY())) & '-01-01 00:00:00') < $System.OriginDateTime",
]


@pytest.mark.parametrize("formula", WORKFLOW_FORMULAS)
def test_workflow_formulas_round_trip(formula: str) -> None:
    tree = parse_formula(formula)
    printed = to_formula(tree)
    assert parse_formula(printed) == tree
    assert to_formula(parse_formula(printed)) == printed
    assert "\n" not in printed
    assert "/*" not in printed


@pytest.mark.parametrize(
    ("formula", "canonical"),
    [
        ("a+b*c", "a + b * c"),
        ("(a+b)*c", "(a + b) * c"),
        ("a-(b-c)", "a - (b - c)"),
        ("a-(b+c)", "a - (b + c)"),
        ("(a-b)-c", "a - b - c"),
        ("a/(b*c)", "a / (b * c)"),
        ("(a||b)&&c", "(a || b) && c"),
        ("a||(b&&c)", "a || b && c"),
        ("a&(b&c)", "a & (b & c)"),
        ("(a&b)&c", "a & b & c"),
        ("(a+b)&c", "a + b & c"),
        ("a&(b=c)", "a & (b = c)"),
        ("-(a+b)", "-(a + b)"),
        ("-(-a)", "--a"),
        ("!(a&&b)", "!(a && b)"),
        ("!(!a)", "!!a"),
        ("(-a)*b", "-a * b"),
        ("a*(-b)", "a * -b"),
        ("a == b", "a = b"),
        ("a <> b", "a != b"),
        ("isblank(x)", "ISBLANK(x)"),
        ("true && false || null", "TRUE && FALSE || NULL"),
        ("'single'", '"single"'),
        ("'it\\'s \"q\"'", '"it\'s \\"q\\""'),
        ("'a\\\\b\nc\r\td'", '"a\\\\b\\nc\\r\\td"'),
        ("1.50", "1.50"),
        (".5", "0.5"),
        ("1.", "1"),
        ("007", "7"),
        ("f( a ,b )", "F(a, b)"),
        ("TODAY()", "TODAY()"),
        # exponentiation: operands other than atoms are always parenthesised, as is a
        # power inside * or / or a unary operator (Salesforce's real order differs)
        ("2^3^2", "(2 ^ 3) ^ 2"),
        ("2^(3^2)", "2 ^ (3 ^ 2)"),
        ("-2^2", "(-2) ^ 2"),
        ("-(2^2)", "-(2 ^ 2)"),
        ("2^-1", "2 ^ (-1)"),
        ("2*2^3", "2 * (2 ^ 3)"),
        ("2^3*2", "(2 ^ 3) * 2"),
        ("(2*2)^3", "(2 * 2) ^ 3"),
        ("1+2^3", "1 + 2 ^ 3"),
        ("a^b & c", "a ^ b & c"),
        ("f(x)^2", "F(x) ^ 2"),
        # comparisons inside comparisons are always parenthesised
        ("a=b=c", "(a = b) = c"),
        ("a=(b<c)", "a = (b < c)"),
        ("a = b && c < d", "a = b && c < d"),
    ],
)
def test_canonical_text(formula: str, canonical: str) -> None:
    tree = parse_formula(formula)
    assert to_formula(tree) == canonical
    assert parse_formula(canonical) == tree


def test_negative_number_literal_prints_as_unary_minus() -> None:
    tree = Binary(op="^", left=NumberLit(value=Decimal("-2")), right=NumberLit(value=Decimal(2)))
    assert to_formula(tree) == "(-2) ^ 2"
    assert to_formula(NumberLit(value=Decimal("-1.5"))) == "-1.5"
    assert to_formula(Unary(op="-", operand=NumberLit(value=Decimal(-1)))) == "--1"
    assert parse_formula("(-2) ^ 2") == Binary(
        op="^",
        left=Unary(op="-", operand=NumberLit(value=Decimal(2))),
        right=NumberLit(value=Decimal(2)),
    )


def test_numbers_print_positionally() -> None:
    assert to_formula(NumberLit(value=Decimal("1E+3"))) == "1000"
    assert to_formula(NumberLit(value=Decimal("1.5E-7"))) == "0.00000015"
    assert to_formula(NumberLit(value=Decimal("0E-3"))) == "0.000"


@pytest.mark.parametrize(
    "tree",
    [
        FieldRef(parts=()),
        FieldRef(parts=("TRUE",)),
        FieldRef(parts=("null",)),
        FieldRef(parts=("a", "")),
        FieldRef(parts=("a b",)),
        FieldRef(parts=("a", "$b")),
        FieldRef(parts=("1a",)),
        Call(name="A.B", args=()),
        Call(name="", args=()),
        NumberLit(value=Decimal("NaN")),
        NumberLit(value=Decimal("Infinity")),
    ],
)
def test_unprintable_trees(tree: Expr) -> None:
    with pytest.raises(ValueError):
        to_formula(tree)


def test_keyword_parts_inside_paths_print() -> None:
    tree = FieldRef(parts=("True", "Null"))
    assert parse_formula(to_formula(tree)) == tree


# ------------------------------------------------------------------ property tests

_BINARY_OPS: list[BinaryOp] = [
    "^", "*", "/", "+", "-", "&", "=", "!=", "<", "<=", ">", ">=", "&&", "||",
]  # fmt: skip
_UNARY_OPS: list[UnaryOp] = ["-", "+", "NOT"]
_KEYWORDS = {"TRUE", "FALSE", "NULL"}

_numbers = st.builds(
    lambda value: NumberLit(value=value),
    st.decimals(min_value=0, allow_nan=False, allow_infinity=False).filter(
        lambda d: not d.is_signed()
    ),
)
_tricky_text = st.text(
    alphabet=st.sampled_from(list("ab \"'\\\n\r\t/*()&,é\u2028\x00\b\f")), max_size=12
)
_texts = st.builds(lambda value: TextLit(value=value), st.one_of(_tricky_text, st.text()))
_bools = st.builds(lambda value: BoolLit(value=value), st.booleans())
_nulls = st.just(NullLit())
_name = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True)
_fields = st.builds(
    lambda dollar, first, rest: FieldRef(parts=(("$" if dollar else "") + first, *rest)),
    st.booleans(),
    _name,
    st.lists(_name, max_size=3),
).filter(lambda f: len(f.parts) > 1 or f.parts[0].upper() not in _KEYWORDS)
_function_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True)

_leaves = st.one_of(_numbers, _texts, _bools, _nulls, _fields)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(
            lambda name, args: Call(name=name, args=tuple(args)),
            _function_names,
            st.lists(children, max_size=4),
        ),
        st.builds(
            lambda op, operand: Unary(op=op, operand=operand),
            st.sampled_from(_UNARY_OPS),
            children,
        ),
        st.builds(
            lambda op, left, right: Binary(op=op, left=left, right=right),
            st.sampled_from(_BINARY_OPS),
            children,
            children,
        ),
    )


_trees = st.recursive(_leaves, _extend, max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_trees)
def test_print_then_parse_gives_the_same_tree(tree: Expr) -> None:
    printed = to_formula(tree)
    assert parse_formula(printed) == tree
    assert to_formula(parse_formula(printed)) == printed


def _is_deliberate(tree: Expr) -> bool:
    """Whether the printer adds parentheses beyond the minimum somewhere in ``tree``."""
    if isinstance(tree, Binary):
        if tree.op == "^":
            return True
        comparisons = {"=", "!=", "<", "<=", ">", ">="}
        if tree.op in comparisons and any(
            isinstance(child, Binary) and child.op in comparisons
            for child in (tree.left, tree.right)
        ):
            return True
        return _is_deliberate(tree.left) or _is_deliberate(tree.right)
    if isinstance(tree, Unary):
        return _is_deliberate(tree.operand)
    if isinstance(tree, Call):
        return any(_is_deliberate(arg) for arg in tree.args)
    return False


def _grouping_parentheses(text: str) -> list[tuple[int, int]]:
    """Offsets of each matching pair of grouping (not call) parentheses."""
    tokens = tokenize(text, Positions(text))
    pairs: list[tuple[int, int]] = []
    stack: list[int | None] = []
    for i, tok in enumerate(tokens):
        if tok.kind == OP and tok.text == "(":
            is_call = i > 0 and tokens[i - 1].kind == NAME
            stack.append(None if is_call else tok.start)
        elif tok.kind == OP and tok.text == ")":
            start = stack.pop()
            if start is not None:
                pairs.append((start, tok.start))
    return pairs


@settings(max_examples=200, deadline=None)
@given(_trees.filter(lambda tree: not _is_deliberate(tree)))
def test_every_parenthesis_is_needed(tree: Expr) -> None:
    printed = to_formula(tree)
    for start, end in _grouping_parentheses(printed):
        without = printed[:start] + " " + printed[start + 1 : end] + " " + printed[end + 1 :]
        assert parse_formula(without) != tree, f"redundant parentheses at {start} in {printed!r}"
