"""Lenient reading of Flow XML elements: typed children, connectors and values, with
bad values reported to the :class:`~workroute.metadata.xmlio.Reader`; children the
engine does not need are ignored."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from workroute.metadata.xmlio import (
    XSI_NS,
    Element,
    Reader,
    child,
    children,
    element_text,
    iter_elements,
    line_of,
    local_name,
    parse_bool,
    parse_int,
)
from workroute.orchestration.types import Lines
from workroute.orchestration.values import Connector, Value, canonical_value
from workroute.orchestration.vocabulary import ValueKind

E = TypeVar("E", bound=StrEnum)

_VALUE_KINDS = frozenset(k.value for k in ValueKind)


class El:
    """Lenient typed access to one element's children."""

    def __init__(self, r: Reader, el: Element) -> None:
        self.r = r
        self.el = el
        lines: dict[str, int] = {}
        own = line_of(el)
        if own is not None:
            lines[""] = own
        for c in iter_elements(el):
            line = line_of(c)
            if line is not None:
                lines.setdefault(local_name(c), line)
        self.lines: Lines = MappingProxyType(lines)

    def text(self, name: str, *, strip: bool = True) -> str | None:
        c = child(self.el, name)
        if c is None or c.get(f"{{{XSI_NS}}}nil") == "true":
            return None
        text = element_text(c, strip=strip)
        return text if text.strip() else None

    def req(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            self.r.problem(f"<{local_name(self.el)}> requires <{name}>", self.el, element=name)
            return ""
        return value

    def boolean(self, name: str) -> bool | None:
        text = self.text(name)
        if text is None:
            return None
        value = parse_bool(text)
        if value is None:
            self.r.problem(
                f"'{text}' is not a valid value for <{name}>; use true or false",
                child(self.el, name),
            )
        return value

    def integer(self, name: str) -> int | None:
        text = self.text(name)
        if text is None:
            return None
        value = parse_int(text)
        if value is None:
            self.r.problem(f"'{text}' is not a valid integer for <{name}>", child(self.el, name))
        return value

    def enum(self, name: str, kind: type[E], *, valid: Iterable[E] | None = None) -> E | None:
        text = self.text(name)
        if text is None:
            return None
        allowed = list(valid if valid is not None else kind)
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value not in allowed:
            listed = ", ".join(m.value for m in allowed)
            self.r.problem(
                f"'{text}' is not a valid value for <{name}>; valid: {listed}",
                child(self.el, name),
            )
            return None
        return value

    def each(self, name: str) -> list[Element]:
        return children(self.el, name)

    def texts(self, name: str) -> tuple[str, ...]:
        return tuple(t for c in children(self.el, name) if (t := element_text(c)))

    def connector(self, name: str = "connector") -> Connector | None:
        c = child(self.el, name)
        if c is None:
            return None
        e = El(self.r, c)
        target = e.text("targetReference")
        if target is None:
            return None
        return Connector(target=target, is_go_to=bool(e.boolean("isGoTo")), lines=e.lines)

    def value(self, name: str) -> Value | None:
        return read_value(self.r, child(self.el, name))


def read_value(r: Reader, el: Element | None) -> Value | None:
    """A FlowElementReferenceOrValue; None when empty, nil, or of a kind the engine
    does not read (apexValue, sobjectValue...)."""
    if el is None or el.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    found = [c for c in iter_elements(el) if local_name(c) in _VALUE_KINDS]
    if not found:
        return None
    c = found[0]
    kind = ValueKind(local_name(c))
    if c.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    raw = "".join(str(t) for t in c.itertext())
    text = raw if kind is ValueKind.STRING else raw.strip()
    canonical = canonical_value(kind, text)
    if canonical is None:
        if kind is ValueKind.REFERENCE:
            return None
        r.problem(f"'{text}' is not a valid <{kind.value}>", c)
        canonical = text
    lines: dict[str, int] = {}
    if (line := line_of(c)) is not None:
        lines[""] = line
    return Value(kind=kind, text=canonical, lines=MappingProxyType(lines))
