"""What a real-world .workflow file needs from its org, read from the file itself.

A public workflow file comes without the org it ran in: its custom objects, custom
fields and email templates. To deploy it, the corpus test builds them from the file's
own references: every custom field the file names on its object becomes a field whose
type is read from how the file uses it (criteria values, operations, field-update
operations, recipient types, date offsets, formula usage), and every template an alert
names becomes a text template. Standard objects and standard fields are never made up:
a file that needs one this org lacks is refused with the deploy's own message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from workroute.lang.formula.ast import Binary, BoolLit, Call, Expr, FieldRef, NumberLit, Unary
from workroute.lang.formula.errors import FormulaError
from workroute.lang.formula.parser import parse_formula
from workroute.metadata.workflow import (
    ActionEmailRecipientTypes,
    FieldUpdateOperation,
    FilterOperation,
    LookupValueType,
    Workflow,
)

NS = "http://soap.sforce.com/2006/04/metadata"

#: Field kinds, strongest evidence first: a later guess never replaces an earlier one.
_RANK = ["lookup_user", "lookup_contact", "multi", "picklist", "datetime", "date",
         "checkbox", "number", "email", "text"]  # fmt: skip

_US_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")
_RELATIVE = re.compile(r"^(TODAY|YESTERDAY|TOMORROW|(LAST|NEXT|THIS) \w+|\d+ \w+ AGO|"
                       r"(LAST|NEXT) \d+ \w+)$", re.IGNORECASE)  # fmt: skip


@dataclass
class Scaffold:
    """The object, fields and templates a workflow file needs."""

    object_name: str
    kinds: dict[str, str] = field(default_factory=dict)
    picklist_values: dict[str, set[str]] = field(default_factory=dict)
    templates: set[str] = field(default_factory=set)
    #: Custom fields the file reads on the running user (``User.Bypass__c``).
    user_kinds: dict[str, str] = field(default_factory=dict)
    sender_addresses: set[str] = field(default_factory=set)
    #: Namespaced (managed-package) fields the file needs: never made up.
    packaged: set[str] = field(default_factory=set)

    def note(self, name: str, kind: str, values: Iterable[str] = ()) -> None:
        if not name.lower().endswith("__c"):
            return  # standard fields exist or they don't: never made up
        if "__" in name[:-3]:
            self.packaged.add(name)
            return
        have = self.kinds.get(name)
        if have is None or _RANK.index(kind) < _RANK.index(have):
            self.kinds[name] = kind
        if kind in ("picklist", "multi"):
            self.picklist_values.setdefault(name, set()).update(v for v in values if v)

    def user_xml(self) -> str | None:
        if not self.user_kinds:
            return None
        fields = "".join(self._field_xml(n, k) for n, k in sorted(self.user_kinds.items()))
        return _object_doc(fields)

    def object_xml(self, *, create: bool) -> str:
        """``objects/<Object>.object``: a new custom object when ``create``, else only
        the custom fields to add to an existing object."""
        head = (
            "<label>Scaffold</label><pluralLabel>Scaffolds</pluralLabel>"
            "<nameField><label>Name</label><type>Text</type></nameField>"
            "<deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel>"
            if create
            else ""
        )
        fields = "".join(self._field_xml(n, k) for n, k in sorted(self.kinds.items()))
        return _object_doc(head + fields)

    def _field_xml(self, name: str, kind: str) -> str:
        label = escape(name[:-3].replace("_", " ")[:40] or name)
        body = {
            "lookup_user": "<type>Lookup</type><referenceTo>User</referenceTo>"
            f"<relationshipName>{_rel(name)}</relationshipName>",
            "lookup_contact": "<type>Lookup</type><referenceTo>Contact</referenceTo>"
            f"<relationshipName>{_rel(name)}</relationshipName>",
            "datetime": "<type>DateTime</type>",
            "date": "<type>Date</type>",
            "checkbox": "<type>Checkbox</type><defaultValue>false</defaultValue>",
            "number": "<type>Number</type><precision>18</precision><scale>2</scale>",
            "email": "<type>Email</type>",
            "text": "<type>Text</type><length>255</length>",
        }.get(kind)
        if body is None:  # picklists
            values = sorted(self.picklist_values.get(name, set())) or ["A", "B"]
            if len(values) < 2:
                values.append("Other" if values[0] != "Other" else "Another")
            entries = "".join(
                f"<value><fullName>{escape(v)}</fullName><default>false</default>"
                f"<label>{escape(v)}</label></value>"
                for v in values
            )
            kind_xml = "MultiselectPicklist" if kind == "multi" else "Picklist"
            extra = "<visibleLines>4</visibleLines>" if kind == "multi" else ""
            body = (
                f"<type>{kind_xml}</type>{extra}<valueSet><valueSetDefinition>"
                f"<sorted>false</sorted>{entries}</valueSetDefinition></valueSet>"
            )
        return f"<fields><fullName>{name}</fullName><label>{label}</label>{body}</fields>"


def _object_doc(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="{NS}">{body}</CustomObject>'


def _rel(name: str) -> str:
    return re.sub(r"\W", "", name[:-3]) + "_Rel"


def scaffold_for(wf: Workflow, object_name: str) -> Scaffold:
    s = Scaffold(object_name)

    def local(path: str | None) -> str | None:
        """The field of ``path`` on the file's own object, if it is one."""
        if not path:
            return None
        parts = path.strip().split(".")
        if len(parts) == 2 and parts[0].lower() == object_name.lower():
            return parts[1]
        return parts[0] if len(parts) == 1 else None

    def running_user(path: str | None) -> None:
        parts = (path or "").strip().split(".")
        if (
            len(parts) == 2
            and parts[0].lower() == "user"
            and object_name.lower() != "user"
            and parts[1].lower().endswith("__c")
            and "__" not in parts[1][:-3]
        ):
            s.user_kinds.setdefault(parts[1], "checkbox")

    for alert in wf.alerts:
        if alert.sender_address:
            s.sender_addresses.add(alert.sender_address)
    for rule in wf.rules:
        for item in rule.criteria_items:
            running_user(item.field)
            name = local(item.field)
            if name is None:
                continue
            values = _split(item.value)
            if item.operation in (FilterOperation.INCLUDES, FilterOperation.EXCLUDES):
                s.note(name, "multi", [p.strip() for v in values for p in v.split(";")])
            else:
                s.note(name, _kind_of_values(values), values)
            other = local(item.value_field)
            if other:
                s.note(other, s.kinds.get(name, "text"))
        if rule.formula:
            _note_formula(s, rule.formula)
        for tt in rule.workflow_time_triggers:
            if name := local(tt.offset_from_field):
                s.note(name, "datetime")
    for fu in wf.field_updates:
        if fu.target_object:
            continue  # a parent's field: not made up
        name = local(fu.field)
        if name is None:
            continue
        if fu.operation in (FieldUpdateOperation.NEXT_VALUE, FieldUpdateOperation.PREVIOUS_VALUE):
            s.note(name, "picklist", ["A", "B"])
        elif fu.operation is FieldUpdateOperation.LOOKUP_VALUE:
            if fu.lookup_value_type in (LookupValueType.USER, LookupValueType.QUEUE):
                s.note(name, "lookup_user")
        elif fu.operation is FieldUpdateOperation.LITERAL:
            value = fu.literal_value or ""
            if value.lower() in ("true", "false", "1", "0"):
                s.note(name, "checkbox")
            else:
                s.note(name, "picklist" if value else "text", [value])
        elif fu.operation is FieldUpdateOperation.FORMULA and fu.formula:
            s.note(name, _formula_result_kind(fu.formula))
            _note_formula(s, fu.formula)
    for alert in wf.alerts:
        s.templates.add(alert.template)
        for rc in alert.recipients:
            name = local(rc.field)
            if name is None:
                continue
            if rc.type is ActionEmailRecipientTypes.USER_LOOKUP:
                s.note(name, "lookup_user")
            elif rc.type is ActionEmailRecipientTypes.CONTACT_LOOKUP:
                s.note(name, "lookup_contact")
            elif rc.type is ActionEmailRecipientTypes.EMAIL:
                s.note(name, "email")
    for task in wf.tasks:
        if name := local(task.offset_from_field):
            s.note(name, "datetime")
    for om in wf.outbound_messages:
        for f in om.fields:
            if name := local(f):
                s.note(name, "text")
    return s


def _split(value: str | None) -> list[str]:
    if not value:
        return []
    out, buf, quoted = [], "", False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append(buf.strip())
            buf = ""
        else:
            buf += ch
    out.append(buf.strip())
    return [v for v in out if v]


def _kind_of_values(values: list[str]) -> str:
    if not values:
        return "text"
    if all(v.lower() in ("true", "false") for v in values):
        return "checkbox"
    if all(_US_DATE.match(v) or _RELATIVE.match(v) for v in values):
        return "date"
    if all(_is_number(v) for v in values):
        return "number"
    return "picklist"


def _is_number(text: str) -> bool:
    cleaned = re.sub(r"^[A-Za-z]{3}\s+", "", text).replace(",", "")
    try:
        Decimal(cleaned)
    except InvalidOperation:
        return False
    return True


def _formula_result_kind(text: str) -> str:
    try:
        expr = parse_formula(text)
    except FormulaError:
        return "text"
    if isinstance(expr, NumberLit) or (isinstance(expr, Binary) and expr.op in "+-*/^"):
        return "number"
    if isinstance(expr, Call) and expr.name in ("TODAY", "DATEVALUE", "DATE", "ADDMONTHS"):
        return "date"
    if isinstance(expr, Call) and expr.name in ("NOW", "DATETIMEVALUE"):
        return "datetime"
    return "text"


def _note_formula(s: Scaffold, text: str) -> None:
    """Type the custom fields a formula reads from how it uses them."""
    try:
        expr = parse_formula(text)
    except FormulaError:
        return  # the deploy reports the formula itself

    def name_of(e: Expr) -> str | None:
        if isinstance(e, FieldRef) and len(e.parts) == 1:
            return e.parts[0]
        if (
            isinstance(e, FieldRef)
            and len(e.parts) == 2
            and e.parts[0].lower() == s.object_name.lower()
        ):
            return e.parts[1]
        return None

    def walk(e: Expr, expect: str | None) -> None:
        name = name_of(e)
        if name is not None:
            s.note(name, expect or "text")
            return
        if isinstance(e, Call):
            fn = e.name
            for i, arg in enumerate(e.args):
                walk(arg, _arg_kind(fn, i, len(e.args)))
        elif isinstance(e, Binary):
            if e.op in ("&&", "||"):
                kinds: tuple[str | None, str | None] = ("checkbox", "checkbox")
            elif e.op in ("+", "-", "*", "/", "^", "<", "<=", ">", ">="):
                kinds = ("number", "number")
            elif e.op in ("=", "!="):
                lit = _literal_kind(e.left) or _literal_kind(e.right)
                kinds = (lit, lit)
            else:
                kinds = (None, None)
            walk(e.left, kinds[0])
            walk(e.right, kinds[1])
        elif isinstance(e, Unary):
            walk(e.operand, "checkbox" if e.op == "NOT" else "number")

    walk(expr, None)


def _literal_kind(e: Expr) -> str | None:
    if isinstance(e, NumberLit):
        return "number"
    if isinstance(e, BoolLit):
        return "checkbox"
    return None


def _arg_kind(fn: str, index: int, count: int) -> str | None:
    if fn in ("ISPICKVAL", "TEXT") and index == 0:
        return "picklist"
    if fn == "INCLUDES" and index == 0:
        return "multi"
    if fn in ("AND", "OR", "NOT"):
        return "checkbox"
    if fn == "IF" and index == 0:
        return "checkbox"
    if fn in ("ISCHANGED", "PRIORVALUE", "ISBLANK", "ISNULL", "BLANKVALUE", "NULLVALUE"):
        return None
    if fn in ("YEAR", "MONTH", "DAY", "WEEKDAY"):
        return "date"
    if fn in ("DATEVALUE", "TIMEVALUE"):
        return "datetime"
    if fn in ("ROUND", "ABS", "FLOOR", "CEILING", "MAX", "MIN", "MOD", "SQRT"):
        return "number"
    if fn in ("CONTAINS", "BEGINS", "LEN", "LEFT", "RIGHT", "MID", "UPPER", "LOWER",
              "TRIM", "SUBSTITUTE", "FIND", "HYPERLINK", "REGEX"):  # fmt: skip
        return "text"
    return None
