"""Salesforce-style record ids: 15 case-sensitive characters plus a 3-character suffix.

The first three characters are the object's key prefix. The suffix encodes which of
the 15 characters are upper-case letters, so an 18-character id survives
case-insensitive handling; :func:`normalize_id` accepts either form and returns 18.
"""

from __future__ import annotations

import re

from workroute.kernel.errors import MalformedIdError

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")
COUNTER_WIDTH = 9
MAX_COUNTER = 62**COUNTER_WIDTH - 1


def _suffix(id15: str) -> str:
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX_ALPHABET[bits])
    return "".join(out)


def to18(id15: str) -> str:
    return id15 + _suffix(id15)


def make_id(key_prefix: str, counter: int, *, pod: str = "5w") -> str:
    """The 18-character id of the ``counter``-th record with ``key_prefix``."""
    if len(key_prefix) != 3:
        raise ValueError(f"key prefix must have 3 characters: {key_prefix!r}")
    if not 0 < counter <= MAX_COUNTER:
        raise ValueError("id counter out of range")
    digits = []
    n = counter
    for _ in range(COUNTER_WIDTH):
        n, r = divmod(n, 62)
        digits.append(BASE62[r])
    return to18(key_prefix + pod + "0" + "".join(reversed(digits)))


def normalize_id(value: object) -> str:
    """The canonical 18-character form of a 15- or 18-character id.

    An 18-character id whose letters lost their case is repaired from its suffix,
    as Salesforce does. Anything else raises :class:`MalformedIdError`.
    """
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise MalformedIdError(f"malformed id {value!r}")
    if len(value) == 15:
        return to18(value)
    head, suffix = value[:15], value[15:].upper()
    if _suffix(head) == suffix:
        return head + suffix
    chars = list(head)
    for chunk in range(3):
        try:
            bits = _SUFFIX_ALPHABET.index(suffix[chunk])
        except ValueError:
            raise MalformedIdError(f"malformed id {value!r}") from None
        for i in range(5):
            pos = chunk * 5 + i
            ch = chars[pos]
            if ch.isalpha():
                chars[pos] = ch.upper() if bits & (1 << i) else ch.lower()
            elif bits & (1 << i):
                raise MalformedIdError(f"malformed id {value!r}")
    repaired = "".join(chars)
    return repaired + _suffix(repaired)


def looks_like_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID_RE.match(value))


def key_prefix_of(record_id: str) -> str:
    return record_id[:3]
