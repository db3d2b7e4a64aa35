"""Formula text -> tokens.

One compiled regular expression reads a token together with the whitespace and
``/* ... */`` comments before it, so the lexer makes one ``match`` call per token. Every
lexical error is a :class:`FormulaSyntaxError` carrying the position of the offending
character: an unterminated string or comment is reported at its start, an invalid escape
sequence at its backslash.

Token kinds:

* ``NUMBER``: ``12``, ``1.5``, ``1.``, ``.5`` (no sign, no exponent; a leading minus is
  the unary operator).
* ``STRING``: in double or single quotes; ``value`` is the decoded text. Escapes are
  ``\\" \\' \\\\ \\n \\r \\t \\b \\f`` (either case) and ``\\uXXXX``; any other backslash
  is an error, as Salesforce's REGEX documentation implies ("backslash is an escape
  character in Salesforce", so a regex's ``\\d`` must be written ``\\\\d``). Raw line
  breaks inside a string are kept.
* ``NAME``: a name or dotted path, ``Name``, ``Custom__c``, ``Account.Owner.Email``,
  ``$User.Email``: segments of letters, digits and ``_`` starting with a letter; only the
  first segment may start with ``$``. No whitespace inside a path.
* ``OP``: ``&& || == != <> <= >= + - * / ^ & = < > ! ( ) ,``.
* ``EOF``: the end; its position is just after the last token, which is where a missing
  ``)`` belongs.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import NamedTuple

from workroute.lang.formula.errors import FormulaSyntaxError

__all__ = ["EOF", "NAME", "NUMBER", "OP", "STRING", "Positions", "Token", "shown", "tokenize"]

# Each kind is the number of the pattern's group that matches it.
NUMBER = 1
NAME = 2
STRING = 3
OP = 4
EOF = 9


class Token(NamedTuple):
    kind: int
    text: str
    """The source text of the token (for ``EOF`` the empty string)."""
    start: int
    end: int
    value: str
    """The decoded text of a ``STRING``; otherwise the same as ``text``."""


# Whitespace as formulon reads it (plus CR/LF): space, \t \n \v \f \r, NBSP, zero-width
# space, the Unicode line and paragraph separators and the BOM.
_WS = " \\t\\n\\r\\v\\f\\u00a0\\u200b\\u2028\\u2029\\ufeff"
_IDENT_CHARS = "A-Za-z0-9_$."
_TOKEN = re.compile(
    # Skipped: whitespace and complete comments (comments do not nest).
    rf"(?:[{_WS}]++|/\*.*?\*/)*+"
    r"(?:"
    # 1 number; a letter, digit, `_`, `$` or `.` straight after it makes a bad word.
    rf"((?:[0-9]++(?:\.[0-9]*+)?|\.[0-9]++)(?![{_IDENT_CHARS}]))"
    # 2 name or path
    rf"|(\$?[A-Za-z][A-Za-z0-9_]*+(?:\.[A-Za-z][A-Za-z0-9_]*+)*+(?![{_IDENT_CHARS}]))"
    # 3 string
    r"""|("[^"\\]*+(?:\\.[^"\\]*+)*+"|'[^'\\]*+(?:\\.[^'\\]*+)*+')"""
    # 4 operator or punctuation (a `/` that starts a comment is not one)
    r"|(&&|\|\||==|!=|<>|<=|>=|/(?!\*)|[-+*^&=<>!(),])"
    # 5 unterminated comment
    r"|(/\*)"
    # 6 unterminated string
    r"""|(["'])"""
    # 7 a word that is neither a number nor a name (`1a`, `a.`, `_x`, `a$b`)
    rf"|([{_IDENT_CHARS}]++)"
    # 8 any other character
    r"|(.)"
    # 9 the end
    r"|(\Z)"
    r")",
    re.DOTALL,
)

_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Positions:
    """Offsets -> 1-based (line, column); CRLF, LF and a lone CR each end a line."""

    __slots__ = ("_starts",)

    def __init__(self, text: str) -> None:
        if "\n" in text or "\r" in text:
            self._starts: list[int] | None = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        else:
            self._starts = None

    def line_column(self, offset: int) -> tuple[int, int]:
        starts = self._starts
        if starts is None:
            return 1, offset + 1
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def error(self, message: str, offset: int) -> FormulaSyntaxError:
        line, column = self.line_column(offset)
        return FormulaSyntaxError(message, line=line, column=column, offset=offset)


def shown(text: str, limit: int = 40) -> str:
    """Source text as quoted in an error message, shortened if long."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def tokenize(text: str, positions: Positions) -> list[Token]:
    """All tokens of ``text``, ending with one ``EOF`` token."""
    tokens: list[Token] = []
    append = tokens.append
    match = _TOKEN.match
    new = tuple.__new__
    pos = 0
    while True:
        m = match(text, pos)
        assert m is not None  # the last alternatives match anything, or the end
        kind = m.lastindex or 0
        start, end = m.span(kind)
        tok = m.group(kind)
        if kind == 4 or kind < 3:  # operator, number, name
            append(new(Token, (kind, tok, start, end, tok)))
        elif kind == 3:
            body = tok[1:-1]
            if "\\" in body:
                body = _decode(body, start + 1, positions)
            append(new(Token, (STRING, tok, start, end, body)))
        elif kind == EOF:
            last_end = tokens[-1].end if tokens else 0
            append(Token(EOF, "", last_end, last_end, ""))
            return tokens
        elif kind == 5:
            raise positions.error("Syntax error. Missing '*/' (unterminated comment)", start)
        elif kind == 6:
            shown_quote = "'\"'" if tok == '"' else '"\'"'
            raise positions.error(
                f"Syntax error. Missing {shown_quote} (unterminated string)", start
            )
        elif kind == 7:
            raise positions.error(f"Syntax error. Found '{shown(tok)}'", start)
        else:
            raise positions.error(f"Syntax error. Invalid character {_char(tok)}", start)
        pos = end


def _char(c: str) -> str:
    if c.isprintable() and not c.isspace():
        return f"'{c}'"
    return f"U+{ord(c):04X}"


def _decode(body: str, offset: int, positions: Positions) -> str:
    """The text of a string literal's body (between the quotes) that has escapes."""
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        j = body.find("\\", i)
        if j < 0:
            out.append(body[i:])
            break
        out.append(body[i:j])
        e = body[j + 1]  # the token pattern guarantees a character after a backslash
        if e in "uU":
            digits = body[j + 2 : j + 6]
            if not _HEX4.fullmatch(digits):
                raise positions.error(
                    "Syntax error. Invalid escape sequence: \\u must be followed by 4 hex digits",
                    offset + j,
                )
            out.append(chr(int(digits, 16)))
            i = j + 6
            continue
        decoded = _ESCAPES.get(e) or _ESCAPES.get(e.lower())
        if decoded is None:
            raise positions.error(
                f"Syntax error. Invalid escape sequence '\\{e}' (write '\\\\' for a backslash)",
                offset + j,
            )
        out.append(decoded)
        i = j + 2
    return "".join(out)
