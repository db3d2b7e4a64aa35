"""Formula text -> :mod:`~workroute.lang.formula.ast`.

A hand-written lexer (:mod:`~workroute.lang.formula.lexer`) and a precedence-climbing
(Pratt) parser. Every syntax error is a :class:`FormulaSyntaxError` with the line, column
and offset of the offending token, worded like Salesforce's own messages
(``Syntax error. Missing ')'``, ``Syntax error. Extra ','``, ``Syntax error. Found 'x'``).

Operators, tightest first (all binary operators are left-associative)::

    ( )                       grouping, function calls
    -  +  !                   unary minus, unary plus, logical not (``!`` is ``NOT``)
    ^                         exponentiation
    *  /
    +  -
    &                         text concatenation
    =  ==  !=  <>  <  <=  >  >=
    &&
    ||

So ``-2^2`` is ``(-2)^2``, ``2^3^2`` is ``(2^3)^2`` and ``!a && b`` is ``(!a) && b``.
``NOT``, ``AND``, ``OR``, ``IF`` and ``CASE`` are functions; any name followed by ``(``
is a call. A name never followed by ``(`` is a field reference, except ``TRUE``,
``FALSE`` and ``NULL`` (any case).

Trees are at most :data:`MAX_DEPTH` levels deep, so recursive visitors are safe under
Python's default recursion limit.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import NoReturn

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
from workroute.lang.formula.lexer import (
    EOF,
    NAME,
    NUMBER,
    OP,
    STRING,
    Positions,
    Token,
    shown,
    tokenize,
)

__all__ = ["BINARY_PRECEDENCE", "MAX_DEPTH", "MAX_FORMULA_LENGTH", "parse_formula"]

MAX_FORMULA_LENGTH = 3900
"""Salesforce's limit on formula text, counting spaces, line breaks and comments."""

MAX_DEPTH = 256
"""The deepest tree the parser builds (a leaf is depth 1)."""

BINARY_PRECEDENCE: dict[BinaryOp, int] = {
    "||": 1,
    "&&": 2,
    "=": 3,
    "!=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    "&": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "^": 7,
}
"""Binding strength of each canonical binary operator (higher binds tighter)."""

# Operator as written -> (precedence, canonical operator).
_INFIX: dict[str, tuple[int, BinaryOp]] = {op: (p, op) for op, p in BINARY_PRECEDENCE.items()}
_INFIX["=="] = (3, "=")
_INFIX["<>"] = (3, "!=")

_PREFIX: dict[str, UnaryOp] = {"-": "-", "+": "+", "!": "NOT"}
_KEYWORDS = frozenset({"TRUE", "FALSE", "NULL"})
_BOOLEAN_WORDS = {"AND": "&&", "OR": "||"}


@lru_cache(maxsize=4096)
def parse_formula(text: str) -> Expr:
    """Parse one formula.

    Raises :class:`~workroute.lang.formula.errors.FormulaSyntaxError` (with ``line``,
    ``column`` and ``offset``) for any syntax error, for an empty formula and for text
    longer than :data:`MAX_FORMULA_LENGTH`. Results are memoised by text; trees are immutable, so
    sharing them is safe.
    """
    return _Parser(text).parse()


class _Parser:
    __slots__ = ("i", "nesting", "open", "positions", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.positions = Positions(text)
        if len(text) > MAX_FORMULA_LENGTH:
            raise self.positions.error(
                f"Formula is too long ({len(text):,} characters). "
                f"Maximum length is {MAX_FORMULA_LENGTH:,} characters.",
                MAX_FORMULA_LENGTH,
            )
        self.tokens: list[Token] = tokenize(text, self.positions)
        self.i = 0
        self.nesting = 0  # active expr()/prefix() frames, bounded by MAX_DEPTH
        self.open = 0  # unclosed parentheses

    def parse(self) -> Expr:
        if self.tokens[0].kind == EOF:
            raise self.positions.error("Syntax error. Formula is empty", 0)
        node, _ = self.expr(0)
        tok = self.tokens[self.i]
        if tok.kind != EOF:
            if tok.text == ")":
                self.fail("Syntax error. Extra ')'", tok)
            self.fail_after_operand(tok)
        return node

    # ----------------------------------------------------------------- grammar

    def expr(self, min_precedence: int) -> tuple[Expr, int]:
        """An expression whose binary operators bind at least ``min_precedence``."""
        self.nesting += 1
        tokens = self.tokens
        first = tokens[self.i]
        if self.nesting > MAX_DEPTH:
            self.too_deep(first)
        left, depth = self.prefix()
        while True:
            tok = tokens[self.i]
            if tok.kind != OP:
                break
            infix = _INFIX.get(tok.text)
            if infix is None or infix[0] < min_precedence:
                break
            precedence, op = infix
            self.i += 1
            right, right_depth = self.expr(precedence + 1)
            depth = (depth if depth > right_depth else right_depth) + 1
            if depth > MAX_DEPTH:
                self.too_deep(tok)
            line, column = self.positions.line_column(first.start)
            left = Binary(
                op=op, left=left, right=right, line=line, column=column, offset=first.start
            )
        self.nesting -= 1
        return left, depth

    def prefix(self) -> tuple[Expr, int]:
        """A unary operation or an operand."""
        tok = self.tokens[self.i]
        kind = tok.kind
        start = tok.start
        if kind == NAME:
            self.i += 1
            nxt = self.tokens[self.i]
            if nxt.text == "(" and nxt.kind == OP:
                return self.call(tok)
            line, column = self.positions.line_column(start)
            text = tok.text
            if "." not in text and not text.startswith("$"):
                upper = text.upper()
                if upper in _KEYWORDS:
                    if upper == "NULL":
                        return NullLit(line=line, column=column, offset=start), 1
                    return BoolLit(value=upper == "TRUE", line=line, column=column, offset=start), 1
            return FieldRef(parts=tuple(text.split(".")), line=line, column=column, offset=start), 1
        if kind == NUMBER:
            self.i += 1
            line, column = self.positions.line_column(start)
            return NumberLit(value=Decimal(tok.text), line=line, column=column, offset=start), 1
        if kind == STRING:
            self.i += 1
            line, column = self.positions.line_column(start)
            return TextLit(value=tok.value, line=line, column=column, offset=start), 1
        if kind == OP:
            text = tok.text
            if text == "(":
                self.i += 1
                self.open += 1
                node, depth = self.expr(0)
                close = self.tokens[self.i]
                if close.text != ")" or close.kind != OP:
                    self.fail_in_parentheses(close, call=False)
                self.i += 1
                self.open -= 1
                return node, depth
            unary = _PREFIX.get(text)
            if unary is not None:
                self.i += 1
                self.nesting += 1
                if self.nesting > MAX_DEPTH:
                    self.too_deep(tok)
                operand, depth = self.prefix()
                self.nesting -= 1
                line, column = self.positions.line_column(start)
                return Unary(
                    op=unary, operand=operand, line=line, column=column, offset=start
                ), depth + 1
        self.fail_operand(tok)

    def call(self, name: Token) -> tuple[Expr, int]:
        """``NAME ( args )``; the current token is the ``(``."""
        paren = self.tokens[self.i]
        if "." in name.text or name.text.startswith("$"):
            self.fail("Syntax error. Found '('", paren)
        self.i += 1
        self.open += 1
        tokens = self.tokens
        args: list[Expr] = []
        depth = 0
        tok = tokens[self.i]
        if tok.text == ")" and tok.kind == OP:
            self.i += 1
        else:
            while True:
                arg, arg_depth = self.expr(0)
                args.append(arg)
                if arg_depth > depth:
                    depth = arg_depth
                tok = tokens[self.i]
                if tok.kind == OP:
                    if tok.text == ",":
                        self.i += 1
                        continue
                    if tok.text == ")":
                        self.i += 1
                        break
                self.fail_in_parentheses(tok, call=True)
        self.open -= 1
        depth += 1
        if depth > MAX_DEPTH:
            self.too_deep(name)
        line, column = self.positions.line_column(name.start)
        return Call(
            name=name.text.upper(),
            args=tuple(args),
            line=line,
            column=column,
            offset=name.start,
        ), depth

    # ------------------------------------------------------------------ errors

    def fail(self, message: str, tok: Token) -> NoReturn:
        raise self.positions.error(message, tok.start)

    def too_deep(self, tok: Token) -> NoReturn:
        self.fail(f"Syntax error. Formula is nested too deeply (more than {MAX_DEPTH} levels)", tok)

    def previous(self) -> Token | None:
        return self.tokens[self.i - 1] if self.i > 0 else None

    def fail_operand(self, tok: Token) -> NoReturn:
        """An operand was expected at ``tok``."""
        prev = self.previous()
        if tok.kind == EOF:
            if prev is not None and prev.kind == OP and prev.text not in "(,":
                self.fail(f"Syntax error. Missing operand after '{prev.text}'", tok)
            self.fail("Syntax error. Missing ')'", tok)
        if tok.text == ",":
            self.fail("Syntax error. Extra ','", tok)
        if tok.text == ")":
            if prev is not None and prev.text == ",":
                self.fail("Syntax error. Extra ','", prev)
            if self.open == 0:
                self.fail("Syntax error. Extra ')'", tok)
        self.fail(f"Syntax error. Found '{shown(tok.text)}'", tok)

    def fail_in_parentheses(self, tok: Token, *, call: bool) -> NoReturn:
        """After an operand inside parentheses, ``tok`` is not ``)`` (nor ``,`` in a call)."""
        if tok.kind == EOF:
            self.fail("Syntax error. Missing ')'", tok)
        if tok.text == "," and not call:
            self.fail("Syntax error. Extra ','", tok)
        self.fail_after_operand(tok)

    def fail_after_operand(self, tok: Token) -> NoReturn:
        """After a complete operand, ``tok`` is not an operator that can follow it."""
        if tok.text == ",":
            self.fail("Syntax error. Extra ','", tok)
        message = f"Syntax error. Found '{shown(tok.text)}'"
        prev = self.previous()
        if tok.kind == NAME and tok.text.upper() in _BOOLEAN_WORDS:
            word = tok.text.upper()
            message += f". Use the '{_BOOLEAN_WORDS[word]}' operator or the {word}() function"
        elif prev is not None and prev.kind == NAME and prev.text.upper() == "NOT":
            message += ". NOT is a function: use NOT(...) or the '!' operator"
        self.fail(message, tok)
