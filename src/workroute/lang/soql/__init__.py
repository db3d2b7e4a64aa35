"""SOQL front end: parse text to a typed AST and print an AST back to SOQL.

    >>> q = parse_soql("SELECT Name FROM Account WHERE CreatedDate = LAST_N_DAYS:7")
    >>> to_soql(q)
    'SELECT Name FROM Account WHERE CreatedDate = LAST_N_DAYS:7'

The AST lives in :mod:`workroute.lang.soql.ast`; date literal semantics in
:mod:`workroute.lang.soql.dates`.
"""

from workroute.lang.soql.dates import (
    FIXED_DATE_LITERALS,
    PARAMETERISED_DATE_LITERALS,
    DateBounds,
    date_literal_bounds,
    resolve_date_literal,
)
from workroute.lang.soql.parser import MAX_OFFSET, RESERVED_WORDS, parse_soql
from workroute.lang.soql.printer import condition_to_soql, to_soql, value_to_soql

__all__ = [
    "FIXED_DATE_LITERALS",
    "MAX_OFFSET",
    "PARAMETERISED_DATE_LITERALS",
    "RESERVED_WORDS",
    "DateBounds",
    "condition_to_soql",
    "date_literal_bounds",
    "parse_soql",
    "resolve_date_literal",
    "to_soql",
    "value_to_soql",
]
