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


_UPPER_BIT = {c: 1 for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _suffix(id15: str) -> str:
    u = _UPPER_BIT
    a = _SUFFIX_ALPHABET
    out = ""
    for s in (0, 5, 10):
        out += a[
            u.get(id15[s], 0)
            | u.get(id15[s + 1], 0) << 1
            | u.get(id15[s + 2], 0) << 2
            | u.get(id15[s + 3], 0) << 3
            | u.get(id15[s + 4], 0) << 4
        ]
    return out


_PAIRS = [a + b for a in BASE62 for b in BASE62]


def to18(id15: str) -> str:
    return id15 + _suffix(id15)


def make_id(key_prefix: str, counter: int, *, pod: str = "5w") -> str:
    """The 18-character id of the ``counter``-th record with ``key_prefix``."""
    if len(key_prefix) != 3:
        raise ValueError(f"key prefix must have 3 characters: {key_prefix!r}")
    if not 0 < counter <= MAX_COUNTER:
        raise ValueError("id counter out of range")
    # 9 base-62 digits: one head digit and four pairs from a 3,844-entry table.
    rest, p4 = divmod(counter, 3844)
    rest, p3 = divmod(rest, 3844)
    rest, p2 = divmod(rest, 3844)
    head, p1 = divmod(rest, 3844)
    body = BASE62[head] + _PAIRS[p1] + _PAIRS[p2] + _PAIRS[p3] + _PAIRS[p4]
    return to18(key_prefix + pod + "0" + body)


#: Which of a pair's two characters are upper-case letters (bit 0: the first).
_PAIR_UPPER = [_UPPER_BIT.get(p[0], 0) | _UPPER_BIT.get(p[1], 0) << 1 for p in _PAIRS]


def make_ids(key_prefix: str, first: int, count: int, *, pod: str = "5w") -> list[str]:
    """``make_id`` for the ``count`` counters from ``first``: ids that differ only in
    their last pair share their first 13 characters and two of the suffix's three, so
    those are worked out once per 3,844 ids (record ids are allocated in runs)."""
    if len(key_prefix) != 3:
        raise ValueError(f"key prefix must have 3 characters: {key_prefix!r}")
    end = first + count
    if count and not (0 < first and end - 1 <= MAX_COUNTER):
        raise ValueError("id counter out of range")
    out: list[str] = []
    counter = first
    while counter < end:
        rest, p4 = divmod(counter, 3844)
        rest, p3 = divmod(rest, 3844)
        head, p2 = divmod(rest, 3844)
        head, p1 = divmod(head, 3844)
        head13 = key_prefix + pod + "0" + BASE62[head] + _PAIRS[p1] + _PAIRS[p2] + _PAIRS[p3]
        u = _UPPER_BIT
        known = _suffix(head13 + "00")[:2]  # the first two chunks do not hold the last pair
        low = u.get(head13[10], 0) | u.get(head13[11], 0) << 1 | u.get(head13[12], 0) << 2
        a, pairs, upper = _SUFFIX_ALPHABET, _PAIRS, _PAIR_UPPER
        stop = min(end - counter + p4, 3844)
        out.extend(head13 + pairs[p] + known + a[low | upper[p] << 3] for p in range(p4, stop))
        counter += stop - p4
    return out


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
