"""What a reference in a flow names, and the formula environment built on it.

A reference is an element value (``<elementReference>``), a condition's left side,
an assignment target, or a merge field (``{!name}``) in a formula, a text template or
a text value. Its first part names a resource of the flow (variable, formula,
constant, text template, choice, screen field), an element (a created record's Id,
an action's outputs, the elements the engine does not run), or a global: ``$Record``
(the related record), ``$User``, ``$Organization``, ``$Profile``, ``$UserRole``,
``$Flow``, ``$GlobalConstant``, ``$System``... Names compare ignoring case.

:class:`FlowEnvironment` lets the formula checker resolve merge fields: every
reference becomes a ``global`` binding keyed by its canonical spelling
(:attr:`Ref.key`), the key a run puts the value under in ``EvalContext.globals``. The
types come from a *typer*: at deploy only declared types are known
(:func:`declared_type`); a run also knows the schema and the values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from workroute.flows.model import Choice, FlowBody
from workroute.flows.vocabulary import CONDITION_MET, ScreenFieldType
from workroute.kernel.errors import MetadataError
from workroute.lang.formula.errors import FormulaReferenceError
from workroute.lang.formula.types import (
    CHECKBOX,
    DATE,
    DATETIME,
    NULL,
    TEXT,
    FieldBinding,
    FormulaType,
)
from workroute.orchestration.definition import FlowSummary
from workroute.orchestration.references import formula_type
from workroute.orchestration.resources import Variable
from workroute.orchestration.vocabulary import FlowDataType, FlowProcessType

__all__ = [
    "FlowEnvironment",
    "Names",
    "Ref",
    "RefKind",
    "UnknownReferenceError",
    "declared_type",
    "merge_fields",
]

MERGE_FIELD = re.compile(r"\{!([^}]*)\}")


class RefKind(StrEnum):
    VARIABLE = "variable"
    FORMULA = "formula"
    CONSTANT = "constant"
    TEXT_TEMPLATE = "textTemplate"
    CHOICE = "choice"
    SCREEN_FIELD = "screenField"
    ELEMENT = "element"
    RECORD = "record"
    PRIOR_RECORD = "priorRecord"
    GLOBAL = "global"
    FLOW_GLOBAL = "flowGlobal"
    GLOBAL_CONSTANT = "globalConstant"
    OTHER_GLOBAL = "otherGlobal"


class UnknownReferenceError(MetadataError):
    """The reference names nothing this flow has."""

    code = "INVALID_CROSS_REFERENCE_KEY"


@dataclass(frozen=True, slots=True)
class Ref:
    """A resolved reference: its kind, the canonical spelling of its first part, and
    the rest of the path as written (``$Record.Account.Name``: head ``$Record``, rest
    ``("Account", "Name")``)."""

    kind: RefKind
    head: str
    rest: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return ".".join((self.head, *self.rest))


_GLOBALS = {
    "$user": "$User",
    "$organization": "$Organization",
    "$profile": "$Profile",
    "$userrole": "$UserRole",
}
_FLOW_GLOBALS = {
    "currentdate": ("CurrentDate", DATE),
    "currentdatetime": ("CurrentDateTime", DATETIME),
    "currentrecord": ("CurrentRecord", TEXT),
    "interviewguid": ("InterviewGuid", TEXT),
    "interviewstarttime": ("InterviewStartTime", DATETIME),
    "faultmessage": ("FaultMessage", TEXT),
}
_GLOBAL_CONSTANTS = {
    "true": ("True", CHECKBOX),
    "false": ("False", CHECKBOX),
    "emptystring": ("EmptyString", TEXT),
}


def merge_fields(text: str) -> Iterator[str]:
    """The references of the ``{!name}`` merge fields in ``text``."""
    for m in MERGE_FIELD.finditer(text):
        yield m.group(1).strip()


class Names:
    """The names a flow's references can use: its variables and its body's resources
    and elements."""

    def __init__(
        self, body: FlowBody, *, variables: tuple[Variable, ...], process_type: str
    ) -> None:
        self.body = body
        self.variables = variables
        self._own: dict[str, tuple[RefKind, str]] = {}
        for name in body.other_elements:
            self._add(name, RefKind.ELEMENT)
        for e in body.elements():
            self._add(e.name, RefKind.ELEMENT)
        for _, f in body.fields():
            self._add(f.name, RefKind.SCREEN_FIELD)
        for c in body.choices:
            self._add(c.name, RefKind.CHOICE)
        for t in body.text_templates:
            self._add(t.name, RefKind.TEXT_TEMPLATE)
        for k in body.constants:
            self._add(k.name, RefKind.CONSTANT)
        for fo in body.formulas:
            self._add(fo.name, RefKind.FORMULA)
        if process_type == FlowProcessType.EVALUATION_FLOW:
            self._add(CONDITION_MET, RefKind.VARIABLE)
        for v in variables:
            self._add(v.name, RefKind.VARIABLE)

    @classmethod
    def of(cls, flow: FlowSummary, body: FlowBody) -> Names:
        return cls(body, variables=flow.variables, process_type=flow.process_type)

    def _add(self, name: str, kind: RefKind) -> None:
        # Later kinds win: a variable named like an element is the variable.
        self._own[name.lower()] = (kind, name)

    def resolve(self, ref: str) -> Ref:
        """What ``ref`` names; raises :class:`UnknownReferenceError` with the reason."""
        parts = tuple(p.strip() for p in ref.strip().split("."))
        if not parts or any(not p for p in parts):
            raise UnknownReferenceError(f"'{ref}' is not a valid reference")
        head, rest = parts[0], parts[1:]
        low = head.lower()
        if low.startswith("$"):
            return self._global(ref, head, rest)
        found = self._own.get(low)
        if found is None:
            what = f"'{ref}'" if ref.strip() == head else f"'{ref}' refers to '{head}', which"
            raise UnknownReferenceError(
                f"{what} is no variable, formula, constant, text template, choice, screen "
                "field or element of this flow"
            )
        kind, name = found
        if rest and kind not in (RefKind.VARIABLE, RefKind.ELEMENT):
            raise UnknownReferenceError(f"'{ref}': '{name}' is a {kind.value}; it has no fields")
        if rest and kind is RefKind.VARIABLE:
            v = self.flow_variable(name)
            if v is not None and v.data_type is not FlowDataType.SOBJECT:
                raise UnknownReferenceError(
                    f"'{ref}': '{name}' is a {v.data_type.value} variable; it has no fields"
                )
        return Ref(kind, name, rest)

    def _global(self, ref: str, head: str, rest: tuple[str, ...]) -> Ref:
        low = head.lower()
        if low in ("$record", "$record__prior"):
            kind = RefKind.RECORD if low == "$record" else RefKind.PRIOR_RECORD
            return Ref(kind, "$Record" if low == "$record" else "$Record__Prior", rest)
        if low in _GLOBALS:
            if not rest:
                raise UnknownReferenceError(f"'{ref}': name a field of {_GLOBALS[low]}")
            return Ref(RefKind.GLOBAL, _GLOBALS[low], rest)
        if low == "$flow":
            entry = _FLOW_GLOBALS.get(rest[0].lower()) if len(rest) == 1 else None
            if entry is None:
                known = ", ".join(f"$Flow.{n}" for n, _ in _FLOW_GLOBALS.values())
                raise UnknownReferenceError(f"'{ref}' is not a flow global; known: {known}")
            return Ref(RefKind.FLOW_GLOBAL, "$Flow", (entry[0],))
        if low == "$globalconstant":
            entry = _GLOBAL_CONSTANTS.get(rest[0].lower()) if len(rest) == 1 else None
            if entry is None:
                raise UnknownReferenceError(
                    f"'{ref}': the global constants are $GlobalConstant.True, "
                    "$GlobalConstant.False and $GlobalConstant.EmptyString"
                )
            return Ref(RefKind.GLOBAL_CONSTANT, "$GlobalConstant", (entry[0],))
        # $Api, $System, $Label, $Setup, $Permission...: read so real files deploy; a
        # run says which are not available.
        return Ref(RefKind.OTHER_GLOBAL, head, rest)

    def flow_variable(self, name: str) -> Variable | None:
        key = name.lower()
        return next((v for v in self.variables if v.name.lower() == key), None)


def declared_type(names: Names, ref: Ref) -> FormulaType:
    """The type of ``ref`` as far as the flow declares it (NULL: known only at run
    time, such as a field of the related record)."""
    body = names.body
    if ref.kind is RefKind.VARIABLE:
        if ref.head.lower() == CONDITION_MET.lower() and names.flow_variable(ref.head) is None:
            return CHECKBOX
        v = names.flow_variable(ref.head)
        if v is None or ref.rest or v.is_collection:
            return NULL
        return formula_type(v.data_type, scale=v.scale)
    if ref.kind is RefKind.FORMULA:
        f = body.formula(ref.head)
        return NULL if f is None else formula_type(f.data_type, scale=f.scale)
    if ref.kind is RefKind.CONSTANT:
        c = body.constant(ref.head)
        return NULL if c is None else formula_type(c.data_type)
    if ref.kind is RefKind.TEXT_TEMPLATE:
        return TEXT
    if ref.kind is RefKind.CHOICE:
        choice = body.choice(ref.head)
        if isinstance(choice, Choice) and choice.data_type is not None:
            return formula_type(choice.data_type)
        return TEXT
    if ref.kind is RefKind.SCREEN_FIELD:
        field = body.field(ref.head)
        if field is None or field.field_type is ScreenFieldType.DISPLAY_TEXT:
            return TEXT
        return formula_type(field.value_type, scale=field.scale)
    if ref.kind is RefKind.FLOW_GLOBAL:
        return _FLOW_GLOBALS[ref.rest[0].lower()][1]
    if ref.kind is RefKind.GLOBAL_CONSTANT:
        return _GLOBAL_CONSTANTS[ref.rest[0].lower()][1]
    return NULL


Typer = Callable[[Ref], FormulaType]


class FlowEnvironment:
    """Names of a flow formula (see :class:`Names`), typed by ``typer``, as ``global``
    bindings keyed by :attr:`Ref.key`. ``untyped`` is set once a reference of unknown
    (NULL) type was resolved: the checker's type errors then prove nothing."""

    def __init__(self, names: Names, typer: Typer) -> None:
        self.names = names
        self.typer = typer
        self.untyped = False

    @property
    def cache_key(self) -> Hashable:
        return ("flow", id(self))

    def resolve(self, parts: tuple[str, ...]) -> FieldBinding:
        try:
            ref = self.names.resolve(".".join(parts))
        except UnknownReferenceError as exc:
            raise FormulaReferenceError(exc.message) from None
        t = self.typer(ref)
        if t.is_null:
            self.untyped = True
        return FieldBinding("global", ref.key, t)
