"""Type aliases shared by the orchestration definition modules."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

Lines = Mapping[str, int]
"""Element name -> the line it starts on (``""``: the object's own element)."""

NO_LINES: Lines = MappingProxyType({})


def no_lines() -> Lines:
    """The default of every ``lines`` field (built values have none)."""
    return NO_LINES
