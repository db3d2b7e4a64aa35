"""Email templates (``email/Folder/Name.email`` + ``-meta.xml``) and merge fields.

:func:`template_from_component` reads one EmailTemplate component into an
:class:`EmailTemplateSpec`; problems are located (file, line, element) in a
:class:`ProblemLog`. Required elements follow the Metadata API's EmailTemplate type
(``available``, ``encodingKey``, ``name``, ``style``, ``type``). Visualforce templates
are reported as not supported: their body is a page, not text with merge fields.

:func:`merge_fields` lists the ``{!Object.Field}`` / ``{!Object.Relationship.Field}`` /
``{!$Organization.Name}`` paths of a text and :func:`render` substitutes them from a
mapping the caller fills (paths are case-insensitive, nothing is evaluated).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from workroute.kernel.errors import DeployError
from workroute.metadata.package import Component
from workroute.metadata.xmlio import (
    ProblemLog,
    Reader,
    child,
    element_text,
    line_of,
    parse_xml,
)

__all__ = [
    "EmailTemplateSpec",
    "EmailTemplateStyle",
    "EmailTemplateType",
    "format_merge_value",
    "merge_fields",
    "render",
    "template_from_component",
]


class EmailTemplateType(StrEnum):
    TEXT = "text"
    HTML = "html"
    CUSTOM = "custom"
    VISUALFORCE = "visualforce"


class EmailTemplateStyle(StrEnum):
    NONE = "none"
    FREE_FORM = "freeForm"
    FORMAL_LETTER = "formalLetter"
    PROMOTION_RIGHT = "promotionRight"
    PROMOTION_LEFT = "promotionLeft"
    NEWSLETTER = "newsletter"
    PRODUCTS = "products"


#: Types whose body this engine renders (visualforce needs a page renderer).
RENDERABLE_TYPES = frozenset(
    {EmailTemplateType.TEXT, EmailTemplateType.HTML, EmailTemplateType.CUSTOM}
)
_E = TypeVar("_E", bound=StrEnum)
_REQUIRED = ("available", "encodingKey", "name", "style", "type")


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailTemplateSpec:
    """One deployed email template.

    ``full_name`` is ``Folder/DeveloperName``; ``name`` is the label from ``<name>``.
    ``body`` is the ``.email`` file as text: plain text for ``text`` templates, HTML for
    ``html`` and ``custom``. ``text_only`` is the plain-text version of an HTML
    template, when given. ``lines`` maps element names to their line in ``meta_path``.
    """

    full_name: str
    name: str
    type: EmailTemplateType
    available: bool
    encoding: str
    style: EmailTemplateStyle
    subject: str = ""
    description: str | None = None
    text_only: str | None = None
    body: str = ""
    path: str = ""
    meta_path: str = ""
    lines: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )

    @property
    def folder(self) -> str:
        return self.full_name.rpartition("/")[0]

    @property
    def developer_name(self) -> str:
        return self.full_name.rpartition("/")[2]

    @property
    def is_html(self) -> bool:
        return self.type in (EmailTemplateType.HTML, EmailTemplateType.CUSTOM)

    def merge_fields(self) -> tuple[str, ...]:
        """The merge-field paths of the subject, then the body, then ``text_only``."""
        return merge_fields(f"{self.subject}\n{self.body}\n{self.text_only or ''}")


def template_from_component(component: Component, log: ProblemLog) -> EmailTemplateSpec | None:
    """Read an EmailTemplate component; None (with problems in ``log``) when invalid."""
    before = len(log)
    full_name = component.full_name
    meta_path = component.meta_path or f"{component.path}-meta.xml"
    if component.meta_content is None:
        log.add(
            component.path,
            f"The email template {full_name} has no {meta_path.rpartition('/')[2]} file",
            component=full_name,
        )
        return None
    try:
        root = parse_xml(
            component.meta_content, meta_path, root="EmailTemplate", component=full_name
        )
    except DeployError as exc:
        log.extend(exc.problems)
        return None
    reader = Reader(meta_path, log, full_name)
    lines: dict[str, int] = {}
    for name in (*_REQUIRED, "subject", "description", "textOnly"):
        el = child(root, name)
        line = line_of(el) if el is not None else None
        if line is not None:
            lines[name] = line
    for name in _REQUIRED:
        el = child(root, name)
        if el is None or not element_text(el):
            reader.problem(
                f"Required field is missing: <{name}> in email template {full_name}",
                root if el is None else el,
                element=name,
            )
    type_text = reader.text(root, "type") or ""
    template_type: EmailTemplateType | None = None
    if type_text:
        template_type = _enum(EmailTemplateType, type_text)
        if template_type is None:
            reader.problem(
                f"'{type_text}' is not a valid email template type; use "
                f"{', '.join(t.value for t in EmailTemplateType)}",
                child(root, "type"),
            )
        elif template_type not in RENDERABLE_TYPES:
            reader.problem(
                f"Email template {full_name} is of type {template_type}: Visualforce email "
                f"templates are not supported (use a text, html or custom template)",
                child(root, "type"),
            )
    style_text = reader.text(root, "style") or ""
    style = _enum(EmailTemplateStyle, style_text) if style_text else None
    if style_text and style is None:
        reader.problem(
            f"'{style_text}' is not a valid email template style; use "
            f"{', '.join(s.value for s in EmailTemplateStyle)}",
            child(root, "style"),
        )
    available = reader.boolean(root, "available")
    body = _decode_body(component, log)
    if len(log) > before or template_type is None or style is None or body is None:
        return None
    return EmailTemplateSpec(
        full_name=full_name,
        name=reader.text(root, "name") or "",
        type=template_type,
        available=available,
        encoding=reader.text(root, "encodingKey") or "",
        style=style,
        subject=reader.text(root, "subject") or "",
        description=reader.text(root, "description"),
        text_only=reader.text(root, "textOnly", strip=False),
        body=body,
        path=component.path,
        meta_path=meta_path,
        lines=MappingProxyType(lines),
    )


def _enum(cls: type[_E], text: str) -> _E | None:
    """The member whose value is ``text``; Salesforce writes them exactly, but accepts
    any case on deploy, so match case-insensitively."""
    wanted = text.strip().lower()
    for member in cls:
        if member.value.lower() == wanted:
            return member
    return None


def _decode_body(component: Component, log: ProblemLog) -> str | None:
    try:
        return component.content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        log.add(
            component.path,
            f"The email template body is not valid UTF-8 (byte {exc.start})",
            component=component.full_name,
        )
        return None


# -- merge fields --------------------------------------------------------------------

_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*"
#: ``{!Case.CaseNumber}``, ``{!Case.Owner.Email}``, ``{!$Organization.Name}``, with
#: optional blanks inside the braces. Anything else in ``{!...}`` (formulas such as
#: ``{!IF(...)}``) is not a path and is left as written.
_MERGE_FIELD = re.compile(rf"\{{!\s*(\$?{_SEGMENT}(?:\.{_SEGMENT})*)\s*\}}")


def merge_fields(text: str) -> tuple[str, ...]:
    """The merge-field paths in ``text``, in order of first use, as written."""
    seen: dict[str, str] = {}
    for m in _MERGE_FIELD.finditer(text):
        seen.setdefault(m.group(1).lower(), m.group(1))
    return tuple(seen.values())


def render(text: str, values: Mapping[str, object], *, html_escape: bool = False) -> str:
    """``text`` with every ``{!path}`` replaced by its value from ``values``.

    Paths are looked up case-insensitively; a path with no value becomes ''. Values
    are shown as :func:`format_merge_value` does. With ``html_escape`` (HTML bodies)
    values are escaped. A ``{!`` without its ``}`` stays as written.
    """
    lowered = {k.lower(): v for k, v in values.items()}

    def substitute(m: re.Match[str]) -> str:
        shown = format_merge_value(lowered.get(m.group(1).lower()))
        return html.escape(shown) if html_escape else shown

    return _MERGE_FIELD.sub(substitute, text)


def format_merge_value(value: object) -> str:
    """A value as a merge field shows it.

    None -> ''; booleans -> 'true'/'false'; dates and times ISO 8601 (aware datetimes
    in UTC with ``Z``); Decimals and floats in plain notation, never with an exponent.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, float):
        return _plain(Decimal(repr(value)))
    return str(value)


def _plain(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    text = format(value, "f")
    return "0" if text in ("-0", "-0.0") else text
