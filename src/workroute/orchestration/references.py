"""What an element reference of an orchestration names, and its formula type.

References appear in element values (``<elementReference>$Record.Id</elementReference>``),
condition left sides, assignees, output targets and formula merge fields
(``{!Step_1.Outputs.comment}``). :func:`resolve_reference` tells what one names: the
triggering record (``$Record``, ``$Record__Prior``) and its fields through
relationships, a global (``$User``, ``$Organization``, ``$Profile``, ``$UserRole``,
``$Flow``, ``$Api``, ``$System``), a variable (and the fields of an SObject variable),
a formula, constant or text template, a step's ``Status`` or ``Outputs.<name>``, or a
stage's ``Status``. Names compare ignoring case. Without a schema, field paths are
not checked.

:class:`FlowFormulaEnvironment` lets the formula checker resolve merge fields the same
way; every reference is a ``global`` binding keyed by its canonical dotted name, which
is the key a runtime puts its value under in :attr:`EvalContext.globals`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import StrEnum

from workroute.kernel.errors import MetadataError
from workroute.lang.formula.errors import FormulaReferenceError
from workroute.lang.formula.types import (
    CHECKBOX,
    DATE,
    DATETIME,
    NULL,
    TEXT,
    TIME,
    FieldBinding,
    FormulaType,
    Kind,
    type_for_field,
)
from workroute.orchestration.definition import Orchestration
from workroute.orchestration.vocabulary import FlowDataType
from workroute.schema.model import ObjectDef
from workroute.schema.registry import SchemaRegistry

__all__ = [
    "FlowFormulaEnvironment",
    "RefKind",
    "Resolved",
    "UnresolvedReferenceError",
    "formula_source",
    "formula_type",
    "resolve_reference",
    "result_kind",
]


class RefKind(StrEnum):
    RECORD = "record"
    PRIOR_RECORD = "priorRecord"
    GLOBAL = "global"
    VARIABLE = "variable"
    FORMULA = "formula"
    CONSTANT = "constant"
    TEXT_TEMPLATE = "textTemplate"
    STEP_STATUS = "stepStatus"
    STEP_OUTPUT = "stepOutput"
    STAGE_STATUS = "stageStatus"


class UnresolvedReferenceError(MetadataError):
    """The reference names nothing this orchestration has."""

    code = "INVALID_CROSS_REFERENCE_KEY"


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a reference names. ``key`` is its canonical spelling (the element's own
    name for the first part); ``type`` is NULL where the type is not known (an SObject,
    a step output)."""

    kind: RefKind
    key: str
    type: FormulaType
    #: The element (variable, step, stage...) the reference starts from.
    element: str | None = None


_GLOBAL_OBJECTS = {
    "$user": ("$User", "User"),
    "$organization": ("$Organization", "Organization"),
    "$profile": ("$Profile", "Profile"),
    "$userrole": ("$UserRole", "UserRole"),
}
_FLOW_GLOBALS = {
    "currentdate": ("CurrentDate", DATE),
    "currentdatetime": ("CurrentDateTime", DATETIME),
    "currentrecord": ("CurrentRecord", TEXT),
    "interviewguid": ("InterviewGuid", TEXT),
    "interviewstarttime": ("InterviewStartTime", DATETIME),
    "activestages": ("ActiveStages", NULL),
    "currentstage": ("CurrentStage", NULL),
    "faultmessage": ("FaultMessage", TEXT),
}
_UNAVAILABLE = {
    "$label": "custom labels ($Label) are not available in workroute",
    "$setup": "custom settings ($Setup) are not available in workroute",
    "$permission": "custom permissions ($Permission) are not available in workroute",
    "$resource": "static resources ($Resource) are not available in workroute",
}


def formula_type(data_type: FlowDataType | None, *, scale: int | None = None) -> FormulaType:
    """The formula type of a resource of ``data_type`` (NULL: not a scalar)."""
    if data_type is FlowDataType.NUMBER:
        return FormulaType(Kind.NUMBER, scale=scale)
    if data_type is FlowDataType.CURRENCY:
        return FormulaType(Kind.CURRENCY, scale=scale)
    return (
        {
            FlowDataType.STRING: TEXT,
            FlowDataType.PICKLIST: TEXT,
            FlowDataType.MULTIPICKLIST: TEXT,
            FlowDataType.BOOLEAN: CHECKBOX,
            FlowDataType.DATE: DATE,
            FlowDataType.DATETIME: DATETIME,
            FlowDataType.TIME: TIME,
        }.get(data_type, NULL)
        if data_type is not None
        else NULL
    )


def result_kind(data_type: FlowDataType | None) -> Kind | None:
    """The result kind a formula of ``data_type`` must produce (None: not checked)."""
    t = formula_type(data_type)
    return None if t.is_null else t.kind


def _path(
    schema: SchemaRegistry | None, obj_name: str, parts: list[str], shown: str
) -> FormulaType:
    """The type of field path ``parts`` from ``obj_name``; raises with the reason."""
    if schema is None:
        return NULL
    obj: ObjectDef | None = schema.find(obj_name)
    if obj is None:
        return NULL  # the unknown object is reported where it is named (<object>, <objectType>)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if last:
            field = obj.field(part)
            if field is not None:
                return type_for_field(field)
            if obj.relationship(part) is not None:
                return NULL  # the related record itself
            raise UnresolvedReferenceError(f"'{shown}': {obj.name} has no field '{part}'")
        ref = obj.relationship(part)
        if ref is None or not ref.reference_to:
            raise UnresolvedReferenceError(f"'{shown}': {obj.name} has no relationship '{part}'")
        following = parts[i + 1]
        names = sorted(ref.reference_to, key=lambda n: n != "User")  # User first, as formulas do
        targets = [t for t in (schema.find(n) for n in names) if t is not None]
        target = next(
            (t for t in targets if t.field(following) or t.relationship(following)),
            targets[0] if targets else None,
        )
        if target is None:
            raise UnresolvedReferenceError(
                f"'{shown}': {obj.name}.{part} points to unknown object {ref.reference_to[0]}"
            )
        obj = target
    return NULL  # pragma: no cover - parts is never empty


def resolve_reference(
    orch: Orchestration, ref: str, schema: SchemaRegistry | None = None
) -> Resolved:
    """What ``ref`` names in ``orch``; raises :class:`UnresolvedReferenceError` with the
    reason when it names nothing."""
    parts = [p.strip() for p in ref.strip().split(".")]
    if not parts or not parts[0] or any(not p for p in parts):
        raise UnresolvedReferenceError(f"'{ref}' is not a valid reference")
    head, rest = parts[0], parts[1:]
    low = head.lower()
    if low.startswith("$"):
        return _global(orch, ref, head, rest, schema)
    if (v := orch.variable(head)) is not None:
        key = ".".join([v.name, *rest])
        if not rest:
            t = NULL if v.is_collection else formula_type(v.data_type, scale=v.scale)
            return Resolved(RefKind.VARIABLE, key, t, v.name)
        if v.data_type is not FlowDataType.SOBJECT or v.is_collection or not v.object_type:
            what = "collection" if v.is_collection else f"{v.data_type.value} variable"
            raise UnresolvedReferenceError(f"'{ref}': '{v.name}' is a {what}; it has no fields")
        return Resolved(RefKind.VARIABLE, key, _path(schema, v.object_type, rest, ref), v.name)
    for kind, items in (
        (RefKind.FORMULA, orch.formulas),
        (RefKind.CONSTANT, orch.constants),
        (RefKind.TEXT_TEMPLATE, orch.text_templates),
    ):
        for item in items:
            if item.name.lower() == low:
                if rest:
                    raise UnresolvedReferenceError(
                        f"'{ref}': '{item.name}' is a {_KIND_WORD[kind]}; it has no fields"
                    )
                data_type = getattr(item, "data_type", FlowDataType.STRING)
                return Resolved(kind, item.name, formula_type(data_type), item.name)
    found = orch.find_step(head)
    if found is not None:
        step = found[1]
        if len(rest) == 1 and rest[0].lower() == "status":
            return Resolved(RefKind.STEP_STATUS, f"{step.name}.Status", TEXT, step.name)
        if len(rest) == 2 and rest[0].lower() == "outputs":
            return Resolved(RefKind.STEP_OUTPUT, f"{step.name}.Outputs.{rest[1]}", NULL, step.name)
        raise UnresolvedReferenceError(
            f"'{ref}': '{step.name}' is a step; use {step.name}.Status or "
            f"{step.name}.Outputs.<output>"
        )
    stage = orch.stage(head)
    if stage is not None:
        if len(rest) == 1 and rest[0].lower() == "status":
            return Resolved(RefKind.STAGE_STATUS, f"{stage.name}.Status", TEXT, stage.name)
        raise UnresolvedReferenceError(
            f"'{ref}': '{stage.name}' is a stage; use {stage.name}.Status"
        )
    if orch.decision(head) is not None:
        raise UnresolvedReferenceError(f"'{ref}': '{head}' is a decision, which holds no value")
    raise UnresolvedReferenceError(
        f"'{ref}' refers to '{head}', which is not a variable, formula, constant, text "
        "template, step or stage of this orchestration"
    )


_KIND_WORD = {
    RefKind.FORMULA: "formula",
    RefKind.CONSTANT: "constant",
    RefKind.TEXT_TEMPLATE: "text template",
}


def _global(
    orch: Orchestration, ref: str, head: str, rest: list[str], schema: SchemaRegistry | None
) -> Resolved:
    low = head.lower()
    if low in ("$record", "$record__prior"):
        prior = low == "$record__prior"
        name = "$Record__Prior" if prior else "$Record"
        trigger = orch.trigger
        if trigger is None:
            raise UnresolvedReferenceError(
                f"'{ref}': {name} is only available in a record-triggered orchestration "
                "(this one has no <object> in <start>)"
            )
        if prior and not trigger.on_update:
            raise UnresolvedReferenceError(
                f"'{ref}': $Record__Prior is only available when the orchestration runs on "
                f"update; it runs on {trigger.record_trigger_type.value}"
            )
        kind = RefKind.PRIOR_RECORD if prior else RefKind.RECORD
        key = ".".join([name, *rest])
        if not rest:
            return Resolved(kind, key, NULL)
        return Resolved(kind, key, _path(schema, trigger.object, rest, ref))
    if low in _GLOBAL_OBJECTS:
        canonical, obj_name = _GLOBAL_OBJECTS[low]
        if not rest:
            raise UnresolvedReferenceError(f"'{ref}': name a field of {canonical}")
        key = ".".join([canonical, *rest])
        return Resolved(RefKind.GLOBAL, key, _path(schema, obj_name, rest, ref))
    if low == "$flow":
        entry = _FLOW_GLOBALS.get(rest[0].lower()) if len(rest) == 1 else None
        if entry is None:
            known = ", ".join(f"$Flow.{n}" for n, _ in _FLOW_GLOBALS.values())
            raise UnresolvedReferenceError(f"'{ref}' is not a flow global; known: {known}")
        return Resolved(RefKind.GLOBAL, f"$Flow.{entry[0]}", entry[1])
    if low == "$api" and len(rest) == 1:
        return Resolved(RefKind.GLOBAL, f"$Api.{rest[0]}", TEXT)
    if low == "$system" and [r.lower() for r in rest] == ["origindatetime"]:
        return Resolved(RefKind.GLOBAL, "$System.OriginDateTime", DATETIME)
    if low in _UNAVAILABLE:
        raise UnresolvedReferenceError(f"'{ref}': {_UNAVAILABLE[low]}")
    raise UnresolvedReferenceError(f"'{ref}': '{head}' is not a known global")


# -- formulas ----------------------------------------------------------------------------


def formula_source(expression: str) -> str:
    """``expression`` with the braces of its ``{!name}`` merge fields blanked out, so the
    formula parser reads ``name`` at the same position (strings and comments are left
    alone: ``'{!x}'`` is text)."""
    out = list(expression)
    i, n = 0, len(expression)
    while i < n:
        c = expression[i]
        if c in "'\"":
            j = i + 1
            while j < n and expression[j] != c:
                j += 2 if expression[j] == "\\" else 1
            i = j + 1
        elif expression.startswith("/*", i):
            end = expression.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif expression.startswith("{!", i):
            end = expression.find("}", i + 2)
            if end < 0:
                break  # the parser reports the stray brace
            out[i] = out[i + 1] = " "
            out[end] = " "
            i = end + 1
        else:
            i += 1
    return "".join(out)


class FlowFormulaEnvironment:
    """Names of a flow formula: the resources of ``orch`` (see
    :func:`resolve_reference`), as ``global`` bindings keyed by canonical name."""

    def __init__(self, orch: Orchestration, schema: SchemaRegistry | None = None) -> None:
        self.orch = orch
        self.schema = schema

    @property
    def cache_key(self) -> Hashable:
        return ("orchestration", id(self.orch), id(self.schema))

    def resolve(self, parts: tuple[str, ...]) -> FieldBinding:
        dotted = ".".join(parts)
        try:
            found = resolve_reference(self.orch, dotted, self.schema)
        except UnresolvedReferenceError as exc:
            raise FormulaReferenceError(exc.message) from None
        return FieldBinding("global", found.key, found.type)
