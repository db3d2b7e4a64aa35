"""The formula parser: literals, names, operators, positions and syntax errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workroute.lang.formula.ast import (
    Binary,
    BoolLit,
    Call,
    Expr,
    FieldRef,
    NullLit,
    NumberLit,
    TextLit,
    Unary,
)
from workroute.lang.formula.errors import FormulaError, FormulaSyntaxError
from workroute.lang.formula.parser import MAX_DEPTH, MAX_FORMULA_LENGTH, parse_formula


def num(value: str) -> NumberLit:
    return NumberLit(value=Decimal(value))


def ref(path: str) -> FieldRef:
    return FieldRef(parts=tuple(path.split(".")))


def text(value: str) -> TextLit:
    return TextLit(value=value)


def call(name: str, *args: Expr) -> Call:
    return Call(name=name, args=args)


def bin_(op: str, left: Expr, right: Expr) -> Binary:
    return Binary(op=op, left=left, right=right)  # type: ignore[arg-type]


def un(op: str, operand: Expr) -> Unary:
    return Unary(op=op, operand=operand)  # type: ignore[arg-type]


A, B, C = ref("a"), ref("b"), ref("c")
TRUE = BoolLit(value=True)
FALSE = BoolLit(value=False)


def syntax_error(formula: str) -> FormulaSyntaxError:
    with pytest.raises(FormulaSyntaxError) as info:
        parse_formula(formula)
    return info.value


# ---------------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("formula", "value"),
    [
        ("0", "0"),
        ("1", "1"),
        ("42", "42"),
        ("007", "7"),
        ("1.5", "1.5"),
        ("1.50", "1.50"),
        ("1.", "1"),
        (".5", "0.5"),
        ("0.000001", "0.000001"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
    ],
)
def test_numbers(formula: str, value: str) -> None:
    tree = parse_formula(formula)
    assert tree == num(value)
    assert isinstance(tree, NumberLit)
    assert isinstance(tree.value, Decimal)


def test_number_keeps_its_scale() -> None:
    tree = parse_formula("1.50")
    assert isinstance(tree, NumberLit)
    assert str(tree.value) == "1.50"


def test_negative_number_is_unary_minus() -> None:
    assert parse_formula("-1") == un("-", num("1"))
    assert parse_formula("- 1.5") == un("-", num("1.5"))


@pytest.mark.parametrize("formula", ["1e5", "1E5", "1.5.3", "1..2", "1a", "2abc", "1_0"])
def test_malformed_numbers(formula: str) -> None:
    error = syntax_error(formula)
    assert error.message == f"Syntax error. Found '{formula}'"
    assert (error.line, error.column, error.offset) == (1, 1, 0)


@pytest.mark.parametrize(
    ("formula", "value"),
    [
        ('"abc"', "abc"),
        ("'abc'", "abc"),
        ('""', ""),
        ("''", ""),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        (r'"a\"b"', 'a"b'),
        (r"'a\'b'", "a'b"),
        (r'"a\'b"', "a'b"),
        (r'"back\\slash"', "back\\slash"),
        (r'"\\d{3}"', "\\d{3}"),
        (r'"line\nbreak"', "line\nbreak"),
        (r'"cr\rlf"', "cr\rlf"),
        (r'"tab\tbed"', "tab\tbed"),
        (r'"\b\f"', "\b\f"),
        (r'"\N\R\T"', "\n\r\t"),
        (r'"\u00e9\u20AC"', "é€"),
        ('"raw\nnewline"', "raw\nnewline"),
        ('"raw\r\ncrlf"', "raw\r\ncrlf"),
        ('"/* not a comment */"', "/* not a comment */"),
        ('"ünïcödé ✓"', "ünïcödé ✓"),
    ],
)
def test_strings(formula: str, value: str) -> None:
    assert parse_formula(formula) == text(value)


@pytest.mark.parametrize("formula", ["TRUE", "true", "True", "tRuE"])
def test_true_any_case(formula: str) -> None:
    assert parse_formula(formula) == TRUE


@pytest.mark.parametrize("formula", ["FALSE", "false", "False"])
def test_false_any_case(formula: str) -> None:
    assert parse_formula(formula) == FALSE


@pytest.mark.parametrize("formula", ["NULL", "null", "Null"])
def test_null_any_case(formula: str) -> None:
    assert parse_formula(formula) == NullLit()


def test_keyword_prefixes_are_fields() -> None:
    assert parse_formula("TrueValue__c") == ref("TrueValue__c")
    assert parse_formula("Nullable") == ref("Nullable")
    assert parse_formula("True__c.Null") == FieldRef(parts=("True__c", "Null"))


# ------------------------------------------------------------------- names and paths


@pytest.mark.parametrize(
    ("formula", "parts"),
    [
        ("Name", ("Name",)),
        ("Custom__c", ("Custom__c",)),
        ("ns__Field__c", ("ns__Field__c",)),
        ("Field2", ("Field2",)),
        ("Account.Owner.Email", ("Account", "Owner", "Email")),
        ("Custom__r.Field__c", ("Custom__r", "Field__c")),
        ("$User.Email", ("$User", "Email")),
        ("$Organization.Country", ("$Organization", "Country")),
        ("$Profile.Name", ("$Profile", "Name")),
        ("$UserRole.Name", ("$UserRole", "Name")),
        ("$System.OriginDateTime", ("$System", "OriginDateTime")),
        ("$Setup.X__c.Y__c", ("$Setup", "X__c", "Y__c")),
        ("$Label.Foo", ("$Label", "Foo")),
        ("$Permission.Bypass", ("$Permission", "Bypass")),
        ("account.owner.EMAIL", ("account", "owner", "EMAIL")),
    ],
)
def test_field_references(formula: str, parts: tuple[str, ...]) -> None:
    tree = parse_formula(formula)
    assert tree == FieldRef(parts=parts)
    assert isinstance(tree, FieldRef)
    assert tree.is_global == formula.startswith("$")
    assert tree.dotted == formula


@pytest.mark.parametrize("formula", ["a.", "a..b", "a.1", "a._b", "_x", "a$b", "$", "$1", "$.x"])
def test_malformed_names(formula: str) -> None:
    error = syntax_error(formula)
    assert error.message == f"Syntax error. Found '{formula}'"
    assert error.column == 1


@pytest.mark.parametrize("formula", ["a .b", "a. b"])
def test_no_space_inside_a_path(formula: str) -> None:
    assert syntax_error(formula).message.startswith("Syntax error. Found")


# ------------------------------------------------------------------------ functions


def test_calls() -> None:
    assert parse_formula("TODAY()") == call("TODAY")
    assert parse_formula("NOW( )") == call("NOW")
    assert parse_formula("ABS(-1)") == call("ABS", un("-", num("1")))
    assert parse_formula("IF(a, 1, 2)") == call("IF", A, num("1"), num("2"))
    assert parse_formula("MAX(1,2,3,4,5)") == call("MAX", *(num(str(i)) for i in range(1, 6)))
    assert parse_formula("LEFT(MID(a, 1, 2), 1)") == call(
        "LEFT", call("MID", A, num("1"), num("2")), num("1")
    )


@pytest.mark.parametrize("formula", ["isblank(a)", "IsBlank(a)", "ISBLANK(a)", "isBLANK (a)"])
def test_function_names_are_upper_cased(formula: str) -> None:
    assert parse_formula(formula) == call("ISBLANK", A)


def test_logical_functions_are_calls() -> None:
    assert parse_formula("AND(a, b)") == call("AND", A, B)
    assert parse_formula("or(a, b, c)") == call("OR", A, B, C)
    assert parse_formula("NOT(a)") == call("NOT", A)
    assert parse_formula("Not (a)") == call("NOT", A)
    assert parse_formula("CASE(a, 1, 'x', 'y')") == call("CASE", A, num("1"), text("x"), text("y"))


def test_keyword_followed_by_parenthesis_is_a_call() -> None:
    assert parse_formula("TRUE()") == call("TRUE")


def test_arguments_are_full_expressions() -> None:
    assert parse_formula("IF(a && b || c, x & 'y', -1)") == call(
        "IF",
        bin_("||", bin_("&&", A, B), C),
        bin_("&", ref("x"), text("y")),
        un("-", num("1")),
    )


def test_path_cannot_be_called() -> None:
    error = syntax_error("Account.Name(1)")
    assert error.message == "Syntax error. Found '('"
    assert error.column == 13
    assert syntax_error("$User(1)").column == 6


# ------------------------------------------------------------------------ operators


@pytest.mark.parametrize(
    ("formula", "op"),
    [
        ("a ^ b", "^"),
        ("a * b", "*"),
        ("a / b", "/"),
        ("a + b", "+"),
        ("a - b", "-"),
        ("a & b", "&"),
        ("a = b", "="),
        ("a == b", "="),
        ("a != b", "!="),
        ("a <> b", "!="),
        ("a < b", "<"),
        ("a <= b", "<="),
        ("a > b", ">"),
        ("a >= b", ">="),
        ("a && b", "&&"),
        ("a || b", "||"),
    ],
)
def test_binary_operators_are_canonical(formula: str, op: str) -> None:
    assert parse_formula(formula) == bin_(op, A, B)
    assert parse_formula(formula.replace(" ", "")) == bin_(op, A, B)


def test_unary_operators() -> None:
    assert parse_formula("-a") == un("-", A)
    assert parse_formula("+a") == un("+", A)
    assert parse_formula("!a") == un("NOT", A)
    assert parse_formula("! a") == un("NOT", A)


def test_unary_chains() -> None:
    assert parse_formula("--1") == un("-", un("-", num("1")))
    assert parse_formula("- -1") == un("-", un("-", num("1")))
    assert parse_formula("-+-a") == un("-", un("+", un("-", A)))
    assert parse_formula("!!TRUE") == un("NOT", un("NOT", TRUE))
    assert parse_formula("!-a") == un("NOT", un("-", A))
    assert parse_formula("1 - -1") == bin_("-", num("1"), un("-", num("1")))
    assert parse_formula("1--1") == bin_("-", num("1"), un("-", num("1")))
    assert parse_formula("a * -b") == bin_("*", A, un("-", B))
    assert parse_formula("2 ^ -1") == bin_("^", num("2"), un("-", num("1")))


def test_unary_binds_tighter_than_exponent() -> None:
    # formulon reads `-2` as a literal, so `-2^2` is 4 there; Excel agrees.
    assert parse_formula("-2^2") == bin_("^", un("-", num("2")), num("2"))
    assert parse_formula("-x^2") == bin_("^", un("-", ref("x")), num("2"))
    assert parse_formula("-(x^2)") == un("-", bin_("^", ref("x"), num("2")))
    assert parse_formula("!a ^ b") == bin_("^", un("NOT", A), B)


# Each pair: (tighter op, looser op); `a LOOSE b TIGHT c` and `a TIGHT b LOOSE c` must
# group the tighter operator.
_LEVELS: list[list[str]] = [
    ["^"],
    ["*", "/"],
    ["+", "-"],
    ["&"],
    ["=", "!=", "<", "<=", ">", ">="],
    ["&&"],
    ["||"],
]
_PAIRS = [
    (tight, loose)
    for i, tighter in enumerate(_LEVELS)
    for looser in _LEVELS[i + 1 :]
    for tight in tighter
    for loose in looser
]


@pytest.mark.parametrize(("tight", "loose"), _PAIRS)
def test_precedence(tight: str, loose: str) -> None:
    assert parse_formula(f"a {loose} b {tight} c") == bin_(loose, A, bin_(tight, B, C))
    assert parse_formula(f"a {tight} b {loose} c") == bin_(loose, bin_(tight, A, B), C)


@pytest.mark.parametrize("level", _LEVELS)
def test_left_associativity(level: list[str]) -> None:
    for op1 in level:
        for op2 in level:
            assert parse_formula(f"a {op1} b {op2} c") == bin_(op2, bin_(op1, A, B), C)


def test_exponent_is_left_associative() -> None:
    # formulon (and Excel): 2^3^2 = (2^3)^2 = 64
    assert parse_formula("2^3^2") == bin_("^", bin_("^", num("2"), num("3")), num("2"))


def test_exponent_binds_tighter_than_multiplication() -> None:
    # Salesforce's documentation ("standard operator precedence") and formulon.
    assert parse_formula("2*2^3") == bin_("*", num("2"), bin_("^", num("2"), num("3")))


def test_unary_binds_tighter_than_binary() -> None:
    assert parse_formula("-a * b") == bin_("*", un("-", A), B)
    assert parse_formula("-a + b") == bin_("+", un("-", A), B)
    assert parse_formula("!a && b") == bin_("&&", un("NOT", A), B)
    assert parse_formula("!a = b") == bin_("=", un("NOT", A), B)


def test_parentheses_override_precedence() -> None:
    assert parse_formula("(a + b) * c") == bin_("*", bin_("+", A, B), C)
    assert parse_formula("a - (b - c)") == bin_("-", A, bin_("-", B, C))
    assert parse_formula("((((a))))") == A
    assert parse_formula("!(a && b)") == un("NOT", bin_("&&", A, B))
    assert parse_formula("(a || b) && c") == bin_("&&", bin_("||", A, B), C)


def test_mixed_expression() -> None:
    assert parse_formula("a + b * c ^ 2 > 10 && !d || e & 'x' = 'y'") == bin_(
        "||",
        bin_(
            "&&",
            bin_(">", bin_("+", A, bin_("*", B, bin_("^", C, num("2")))), num("10")),
            un("NOT", ref("d")),
        ),
        bin_("=", bin_("&", ref("e"), text("x")), text("y")),
    )


# ----------------------------------------------------------- whitespace and comments


def test_whitespace_and_line_breaks() -> None:
    expected = call("IF", A, num("1"), num("2"))
    for formula in [
        "IF(a,1,2)",
        "  IF( a , 1 , 2 )  ",
        "IF(\n  a,\n  1,\n  2\n)\n",
        "IF(\r\n  a,\r\n  1,\r\n  2\r\n)\r\n",
        "IF(\ta,\v1,\f2)",
        "IF(\u00a0a,\ufeff1,\u200b2)",
    ]:
        assert parse_formula(formula) == expected


def test_comments() -> None:
    expected = bin_("+", A, B)
    for formula in [
        "/* lead */ a + b",
        "a + b /* trail */",
        "a/**/+/**/b",
        "a /* multi\nline\r\ncomment */ + b",
        "/* a */ /* b */ a + /* c * / d */ b",
        "a + /* 'quote\" inside */ b",
    ]:
        assert parse_formula(formula) == expected
    assert parse_formula("IF(/*c*/a/*c*/,/*c*/1,2/*c*/)") == call("IF", A, num("1"), num("2"))
    assert parse_formula("TODAY /* c */ ()") == call("TODAY")


def test_comments_do_not_nest() -> None:
    error = syntax_error("a /* outer /* inner */ still outer */")
    assert error.message == "Syntax error. Found 'still'"


def test_only_comments_is_empty() -> None:
    error = syntax_error("/* nothing */\n  ")
    assert error.message == "Syntax error. Formula is empty"


# -------------------------------------------------------------------------- positions


def test_positions_single_line() -> None:
    tree = parse_formula("IF(a, -b, 'x')")
    assert isinstance(tree, Call)
    assert (tree.line, tree.column, tree.offset) == (1, 1, 0)
    a, neg, x = tree.args
    assert (a.line, a.column, a.offset) == (1, 4, 3)
    assert (neg.line, neg.column, neg.offset) == (1, 7, 6)
    assert isinstance(neg, Unary)
    assert (neg.operand.column, neg.operand.offset) == (8, 7)
    assert (x.line, x.column, x.offset) == (1, 11, 10)


def test_positions_of_binary_nodes_are_their_first_character() -> None:
    tree = parse_formula("  (a + b) * c")
    assert isinstance(tree, Binary)
    assert (tree.column, tree.offset) == (3, 2)  # the '('
    assert isinstance(tree.left, Binary)
    assert (tree.left.column, tree.left.offset) == (4, 3)  # `a`
    assert (tree.right.column, tree.right.offset) == (13, 12)
    chain = parse_formula("-a + b + c")
    assert isinstance(chain, Binary)
    assert isinstance(chain.left, Binary)
    assert chain.offset == chain.left.offset == 0


def test_positions_multi_line_crlf_and_comments() -> None:
    formula = "/* header\r\n comment */\r\nAND(\r\n    Amount > 10,\r\n\t$User.Email = 'x'\r\n)"
    tree = parse_formula(formula)
    assert isinstance(tree, Call)
    assert (tree.line, tree.column) == (3, 1)
    assert formula[tree.offset : tree.offset + 3] == "AND"
    gt, eq = tree.args
    assert isinstance(gt, Binary)
    assert isinstance(eq, Binary)
    assert (gt.line, gt.column) == (4, 5)
    assert (gt.right.line, gt.right.column) == (4, 14)
    assert (eq.line, eq.column) == (5, 2)
    assert (eq.right.line, eq.right.column) == (5, 16)
    assert formula[eq.right.offset] == "'"


def test_positions_after_a_multi_line_string_and_lone_cr() -> None:
    tree = parse_formula("'one\ntwo' &\rb")
    assert isinstance(tree, Binary)
    assert (tree.right.line, tree.right.column, tree.right.offset) == (3, 1, 12)


def test_positions_do_not_affect_equality() -> None:
    assert parse_formula("a+b") == parse_formula("\n\n   a   +   b")
    assert hash(parse_formula("a+b")) == hash(parse_formula(" a + b"))


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("formula", "message", "line", "column"),
    [
        # Salesforce's "Missing ')'" / "Extra ')'" family
        ("OR(BEGINS(Title, 'Chief'), CONTAINS(Title, 'President')", "Missing ')'", 1, 56),
        ("OR(BEGINS(Title, 'Chief')), CONTAINS(Title, 'President'))", "Extra ','", 1, 27),
        ("OR(a, b))", "Extra ')'", 1, 9),
        ("(a + b", "Missing ')'", 1, 7),
        ("(a + b  /* c */  ", "Missing ')'", 1, 7),
        ("f(", "Missing ')'", 1, 3),
        ("f(1,", "Missing ')'", 1, 5),
        ("IF(a,\n  1,\n  2", "Missing ')'", 3, 4),
        (")", "Extra ')'", 1, 1),
        ("a + )", "Extra ')'", 1, 5),
        # commas
        ("f(1,,2)", "Extra ','", 1, 5),
        ("f(,1)", "Extra ','", 1, 3),
        ("f(1,)", "Extra ','", 1, 4),
        ("f(1, /* c */ )", "Extra ','", 1, 4),
        ("(1, 2)", "Extra ','", 1, 3),
        ("1, 2", "Extra ','", 1, 2),
        (",", "Extra ','", 1, 1),
        # unexpected tokens
        ("1 2", "Found '2'", 1, 3),
        ("a b", "Found 'b'", 1, 3),
        ("f(1 2)", "Found '2'", 1, 5),
        ("(a b)", "Found 'b'", 1, 4),
        ("a 'x'", "Found ''x''", 1, 3),
        ("* 2", "Found '*'", 1, 1),
        ("a + * b", "Found '*'", 1, 5),
        ("a = = b", "Found '='", 1, 5),
        ("()", "Found ')'", 1, 2),
        ("f(1 + )", "Found ')'", 1, 7),
        ("a &&& b", "Found '&'", 1, 5),
        ("IF(a,\n  b c)", "Found 'c'", 2, 5),
        # missing operands
        ("1 +", "Missing operand after '+'", 1, 4),
        ("a &&  ", "Missing operand after '&&'", 1, 5),
        ("-", "Missing operand after '-'", 1, 2),
        ("!", "Missing operand after '!'", 1, 2),
        ("(", "Missing ')'", 1, 2),
        # empty
        ("", "Formula is empty", 1, 1),
        ("   \r\n\t", "Formula is empty", 1, 1),
        # lexical errors
        ('"abc', "Missing '\"' (unterminated string)", 1, 1),
        ("IF(a, 'abc, 1)", 'Missing "\'" (unterminated string)', 1, 7),
        ('"abc\\"', "Missing '\"' (unterminated string)", 1, 1),
        ("a &\n  /* open", "Missing '*/' (unterminated comment)", 2, 3),
        ("a # b", "Invalid character '#'", 1, 3),
        ("a; b", "Invalid character ';'", 1, 2),
        ("a | b", "Invalid character '|'", 1, 3),
        ("a % 2", "Invalid character '%'", 1, 3),
        ("{!Name}", "Invalid character '{'", 1, 1),
        ("[Account].Name", "Invalid character '['", 1, 1),
        ("a\u2003+ b", "Invalid character U+2003", 1, 2),
        ('"\\d"', "Invalid escape sequence '\\d' (write '\\\\' for a backslash)", 1, 2),
        ("x & 'ab\\qc'", "Invalid escape sequence '\\q' (write '\\\\' for a backslash)", 1, 8),
        ('"\\u12g4"', "Invalid escape sequence: \\u must be followed by 4 hex digits", 1, 2),
    ],
)
def test_syntax_errors(formula: str, message: str, line: int, column: int) -> None:
    error = syntax_error(formula)
    assert error.message == "Syntax error. " + message
    assert (error.line, error.column) == (line, column)
    assert error.offset is not None
    assert error.offset == _offset_of(formula, line, column)


def _offset_of(formula: str, line: int, column: int) -> int:
    starts = [0]
    i = 0
    while i < len(formula):
        if formula[i] == "\r" and formula[i + 1 : i + 2] == "\n":
            starts.append(i + 2)
            i += 2
            continue
        if formula[i] in "\r\n":
            starts.append(i + 1)
        i += 1
    return starts[line - 1] + column - 1


def test_infix_and_or_words_get_a_hint() -> None:
    error = syntax_error("a AND b")
    assert error.message == (
        "Syntax error. Found 'AND'. Use the '&&' operator or the AND() function"
    )
    assert error.column == 3
    error = syntax_error("a or b")
    assert error.message == "Syntax error. Found 'or'. Use the '||' operator or the OR() function"


def test_bare_not_is_not_an_operator() -> None:
    error = syntax_error("NOT IsClosed")
    assert error.message == (
        "Syntax error. Found 'IsClosed'. NOT is a function: use NOT(...) or the '!' operator"
    )
    assert error.column == 5


def test_long_token_is_shortened_in_message() -> None:
    error = syntax_error("a '" + "x" * 100 + "'")
    assert error.message == "Syntax error. Found ''" + "x" * 36 + "...'"


def test_error_is_a_formula_error_with_location() -> None:
    error = syntax_error("a +\n  )")
    assert isinstance(error, FormulaError)
    assert error.error_type == "SyntaxError"
    assert error.code == "INVALID_FORMULA"
    assert error.located == "Syntax error. Extra ')' (line 2, column 3)"


def test_length_limit() -> None:
    at_limit = "1" + " " * (MAX_FORMULA_LENGTH - 1)
    assert parse_formula(at_limit) == num("1")
    with_comment = "/*" + "x" * (MAX_FORMULA_LENGTH - 6) + "*/ 1"
    assert len(with_comment) == MAX_FORMULA_LENGTH
    assert parse_formula(with_comment) == num("1")
    error = syntax_error("a" + " " * MAX_FORMULA_LENGTH)
    assert error.message == (
        "Formula is too long (3,901 characters). Maximum length is 3,900 characters."
    )
    assert (error.line, error.column, error.offset) == (1, 3901, 3900)


def test_depth_limit() -> None:
    assert MAX_DEPTH == 256
    ok = "(" * 200 + "a" + ")" * 200
    assert parse_formula(ok) == A
    nested = "f(" * (MAX_DEPTH - 1) + "a" + ")" * (MAX_DEPTH - 1)
    assert isinstance(parse_formula(nested), Call)
    error = syntax_error("f(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH)
    assert error.message == "Syntax error. Formula is nested too deeply (more than 256 levels)"
    chain = " + ".join(["a"] * MAX_DEPTH)  # depth MAX_DEPTH: 255 Binary nodes over a leaf
    assert isinstance(parse_formula(chain), Binary)
    error = syntax_error(chain + " + a")
    assert error.message.endswith("nested too deeply (more than 256 levels)")
    assert error.column == len(chain) + 2
    assert syntax_error("-" * 300 + "1").message.endswith("(more than 256 levels)")
    assert syntax_error("(" * 1900 + "1" + ")" * 1900).message.endswith("256 levels)")


def test_results_are_cached() -> None:
    formula = "IF(ISBLANK(Cached__c), 0, 1)"
    assert parse_formula(formula) is parse_formula(formula)
    uncached = parse_formula.__wrapped__(formula)
    assert uncached == parse_formula(formula)
    assert uncached is not parse_formula(formula)
