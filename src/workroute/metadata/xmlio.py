"""Reading and writing Metadata API XML (namespace ``http://soap.sforce.com/2006/04/metadata``).

Parsing keeps line numbers, never resolves entities nor touches the network, refuses
DOCTYPE declarations and files larger than :data:`MAX_XML_BYTES`. A file that is not
well formed becomes a :class:`DeployProblem` with the file name and the line and column
lxml reports.

Files with the Metadata API namespace and files without any namespace are both
accepted: after :func:`parse_xml` every element that had no namespace is in
:data:`MD_NS`, so the helpers below (which look children up by local name in
:data:`MD_NS`) work on either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, cast

from lxml import etree

from workroute.kernel.errors import DeployError, DeployProblem

MD_NS = "http://soap.sforce.com/2006/04/metadata"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_XML_BYTES = 10 * 1024 * 1024

Element = etree._Element

_LOCATION_SUFFIX = re.compile(r",\s*line \d+,\s*column \d+\s*$")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_INT_RE = re.compile(r"^[+-]?\d+$")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        collect_ids=False,
    )


def qname(name: str) -> str:
    """``name`` in the Metadata API namespace, in lxml's ``{ns}local`` form."""
    return f"{{{MD_NS}}}{name}"


def local_name(el: Element) -> str:
    """The tag of ``el`` without its namespace."""
    tag = el.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rpartition("}")[2]


def parse_xml(
    data: bytes,
    file: str,
    *,
    root: str | None = None,
    component: str | None = None,
    max_bytes: int = MAX_XML_BYTES,
) -> Element:
    """Parse one metadata file and return its root element.

    ``root``, when given, is the local name the root element must have (for example
    ``"CustomObject"``). Raises :class:`DeployError` with one located problem when the
    file is too large, not well formed, has a DOCTYPE, or has the wrong root element
    or namespace.
    """

    def fail(message: str, line: int | None = None, element: str | None = None) -> DeployError:
        return DeployError(
            [
                DeployProblem(
                    file=file, line=line, element=element, message=message, component=component
                )
            ]
        )

    if len(data) > max_bytes:
        raise fail(
            f"The file is {len(data)} bytes; metadata files may be at most {max_bytes} bytes"
        )
    if not data.strip():
        raise fail("The file is empty; expected an XML document", line=1)
    try:
        el = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        position = cast("tuple[int, int] | None", getattr(exc, "position", None))
        line, column = position if position else (1, 0)
        msg = _LOCATION_SUFFIX.sub("", exc.msg or str(exc)).strip()
        raise fail(
            f"XML is not well formed (line {line}, column {column}): {msg}", line=line
        ) from None
    except ValueError as exc:  # e.g. unsupported encoding declarations
        raise fail(f"XML could not be read: {exc}", line=1) from None
    docinfo = el.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None:
        raise fail("DOCTYPE declarations are not allowed in metadata files", line=1)
    namespace = etree.QName(el).namespace
    if namespace not in (None, MD_NS):
        raise fail(
            f"The root element is in namespace {namespace}; expected {MD_NS}",
            line=line_of(el),
            element=local_name(el),
        )
    if root is not None and local_name(el) != root:
        raise fail(
            f"The root element is <{local_name(el)}>; expected <{root}>",
            line=line_of(el),
            element=local_name(el),
        )
    _normalise(el)
    return el


def _normalise(root: Element) -> None:
    """Put elements without a namespace into the Metadata API namespace."""
    for el in root.iter():
        tag = el.tag
        if isinstance(tag, str) and not tag.startswith("{"):
            el.tag = qname(tag)


# -- reading ------------------------------------------------------------------------


def iter_elements(el: Element) -> Iterator[Element]:
    """The element children of ``el`` (no comments), in document order."""
    for c in el:
        if isinstance(c.tag, str):
            yield c


def line_of(el: Element) -> int | None:
    """The line ``el`` starts on in its file (None for built elements)."""
    line = cast("int | None", el.sourceline)
    return line


def child(el: Element, name: str) -> Element | None:
    """The first child of ``el`` named ``name``, or None."""
    return el.find(qname(name))


def child_or(el: Element, name: str) -> Element:
    """The first child of ``el`` named ``name``, or ``el`` itself (to locate a problem)."""
    c = el.find(qname(name))
    return el if c is None else c


def children(el: Element, name: str) -> list[Element]:
    """All children of ``el`` named ``name`` (repeated elements), in document order."""
    return el.findall(qname(name))


def element_text(el: Element, *, strip: bool = True) -> str:
    """The text of ``el`` (including text after nested comments); '' when empty."""
    text = "".join(str(t) for t in el.itertext())
    return text.strip() if strip else text


def child_text(el: Element, name: str, *, strip: bool = True) -> str | None:
    """The text of the first child named ``name``; None when there is no such child."""
    c = child(el, name)
    return None if c is None else element_text(c, strip=strip)


def parse_bool(text: str) -> bool | None:
    """xsd:boolean: 'true'/'false' (also '1'/'0'); None for anything else."""
    t = text.strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    return None


def parse_int(text: str) -> int | None:
    """An xsd:int written as digits; None for anything else."""
    t = text.strip()
    return int(t) if _INT_RE.match(t) else None


class ProblemLog:
    """Collects located deploy problems; :meth:`raise_if_any` raises them together."""

    def __init__(self) -> None:
        self.problems: list[DeployProblem] = []

    def add(
        self,
        file: str,
        message: str,
        *,
        node: Element | None = None,
        element: str | None = None,
        line: int | None = None,
        component: str | None = None,
    ) -> None:
        if node is not None:
            line = line if line is not None else line_of(node)
            element = element if element is not None else local_name(node)
        self.problems.append(
            DeployProblem(
                file=file, line=line, element=element, message=message, component=component
            )
        )

    def extend(self, problems: list[DeployProblem]) -> None:
        self.problems.extend(problems)

    def __len__(self) -> int:
        return len(self.problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise DeployError(list(self.problems))


class Reader:
    """Typed access to one file's elements; bad values become problems in ``log``."""

    def __init__(self, file: str, log: ProblemLog, component: str | None = None) -> None:
        self.file = file
        self.log = log
        self.component = component

    def for_component(self, component: str | None) -> Reader:
        return Reader(self.file, self.log, component)

    def problem(
        self, message: str, node: Element | None = None, element: str | None = None
    ) -> None:
        self.log.add(self.file, message, node=node, element=element, component=self.component)

    def text(self, el: Element, name: str, *, strip: bool = True) -> str | None:
        return child_text(el, name, strip=strip)

    def boolean(self, el: Element, name: str, default: bool = False) -> bool:
        c = child(el, name)
        if c is None:
            return default
        text = element_text(c)
        if not text:
            return default
        value = parse_bool(text)
        if value is None:
            self.problem(f"'{text}' is not a valid value for <{name}>; use true or false", c)
            return default
        return value

    def integer(self, el: Element, name: str) -> int | None:
        c = child(el, name)
        if c is None:
            return None
        text = element_text(c)
        if not text:
            return None
        value = parse_int(text)
        if value is None:
            self.problem(f"'{text}' is not a valid integer for <{name}>", c)
        return value

    def line(self, el: Element, name: str) -> int | None:
        """The line of child ``name`` of ``el``, or of ``el`` when it has none."""
        c = child(el, name)
        return line_of(c if c is not None else el)


# -- writing ------------------------------------------------------------------------


def new_root(name: str) -> Element:
    """A root element ``name`` declaring the Metadata API namespace as default."""
    nsmap = cast(Any, {None: MD_NS})  # lxml-stubs do not allow the None (default) prefix
    return etree.Element(qname(name), nsmap=nsmap)


def add_element(parent: Element, name: str) -> Element:
    """Append an empty child element ``name`` to ``parent``."""
    return etree.SubElement(parent, qname(name))


def add_value(parent: Element, name: str, value: str | bool | int | None) -> Element | None:
    """Append ``<name>value</name>`` (booleans as true/false); nothing when value is None."""
    if value is None:
        return None
    c = add_element(parent, name)
    if isinstance(value, bool):
        c.text = "true" if value else "false"
    else:
        c.text = str(value)
    return c


def to_bytes(root: Element) -> bytes:
    """``root`` as UTF-8 with the XML declaration, indented by four spaces like Salesforce."""
    copy = etree.fromstring(etree.tostring(root))
    etree.indent(copy, space="    ")
    return XML_DECLARATION + etree.tostring(copy, encoding="UTF-8") + b"\n"
