"""The deploy's checks of a flow body: what a run would trip over, found at deploy.

* every connector leads to an element of the flow;
* every reference (element values, merge fields in text, condition sides, assignment
  targets, choice references, record and output targets) names something the flow
  has (see :class:`~workroute.flows.names.Names`);
* every formula (``<formulas>``, screen field validation rules) parses, names what
  exists and, where the types of its references are declared, type-checks and gives
  its declared ``dataType``. Fields of the related record have no declared type here
  (the deploy reads a flow without the object it will run on), so a formula reading
  them is type-checked when it runs.

Problems carry the file, the line and the element, like the reader's.
"""

from __future__ import annotations

from workroute.flows.model import (
    ActionCall,
    Assignment,
    FlowBody,
    RecordCreate,
    RecordUpdate,
    Screen,
)
from workroute.flows.names import (
    MERGE_FIELD,
    FlowEnvironment,
    Names,
    RefKind,
    UnknownReferenceError,
    declared_type,
)
from workroute.lang.formula.compiler import compile_formula
from workroute.lang.formula.errors import ArgumentError, FormulaError, WrongTypeError
from workroute.lang.formula.parser import parse_formula
from workroute.metadata.xmlio import Reader
from workroute.orchestration.definition import Decision
from workroute.orchestration.logic import logic_problems
from workroute.orchestration.references import formula_source, result_kind
from workroute.orchestration.resources import Variable
from workroute.orchestration.types import Lines
from workroute.orchestration.values import Connector, Value
from workroute.orchestration.vocabulary import FlowDataType, ValueKind

__all__ = ["check_body", "check_formula"]

_ASSIGNABLE = frozenset({RefKind.VARIABLE, RefKind.RECORD})


def check_formula(
    names: Names, expression: str, data_type: FlowDataType | None = None
) -> FormulaError | None:
    """Why ``expression`` would not compile at run time (None: it would, as far as the
    declared types tell)."""
    env = FlowEnvironment(names, lambda ref: declared_type(names, ref))
    try:
        tree = parse_formula(formula_source(expression))
        compile_formula(tree, env, result_kind=result_kind(data_type))
    except (WrongTypeError, ArgumentError) as exc:
        # A reference of unknown type (NULL) passes any type check, but the result of
        # a function over it may then be reported wrongly: only declared types count.
        return None if env.untyped and isinstance(exc, WrongTypeError) else exc
    except FormulaError as exc:
        return exc
    return None


class _Checker:
    def __init__(self, r: Reader, body: FlowBody, names: Names) -> None:
        self.r = r
        self.body = body
        self.names = names

    def add(
        self,
        message: str,
        lines: Lines,
        element: str,
        component: str | None,
        *,
        at: Lines | None = None,
    ) -> None:
        """Report ``message`` at ``element`` of the element whose lines are ``lines``
        (or at the nested element ``at``, when it knows its own line)."""
        line = (at.get("") if at else None) or lines.get(element) or lines.get("")
        who = f"{self.r.component}.{component}" if component and self.r.component else component
        self.r.log.add(
            self.r.file, message, line=line, element=element, component=who or self.r.component
        )

    # -- parts ------------------------------------------------------------------------

    def connector(self, c: Connector | None, lines: Lines, element: str, owner: str) -> None:
        if c is None:
            return
        if self.body.element(c.target) is None and self.body.other(c.target) is None:
            self.add(
                f"'{owner}' connects to '{c.target}', which is no element of this flow",
                lines,
                element,
                owner,
                at=c.lines,
            )

    def reference(
        self,
        ref: str,
        lines: Lines,
        element: str,
        owner: str,
        *,
        assign: bool = False,
        choice: bool = False,
        at: Lines | None = None,
    ) -> None:
        try:
            found = self.names.resolve(ref)
        except UnknownReferenceError as exc:
            self.add(exc.message, lines, element, owner, at=at)
            return
        if assign and (
            found.kind not in _ASSIGNABLE or (found.kind is RefKind.RECORD and not found.rest)
        ):
            self.add(
                f"'{ref}' is a {found.kind.value}; only a variable (or a field of one, or of "
                "$Record) can be assigned",
                lines,
                element,
                owner,
            )
        if choice and found.kind is not RefKind.CHOICE:
            self.add(f"'{ref}' is a {found.kind.value}, not a choice", lines, element, owner)

    def text(
        self, text: str | None, lines: Lines, element: str, owner: str, at: Lines | None = None
    ) -> None:
        for m in MERGE_FIELD.finditer(text or ""):
            self.reference(m.group(1), lines, element, owner, at=at)

    def value(self, v: Value | None, lines: Lines, element: str, owner: str) -> None:
        if v is None:
            return
        if v.kind is ValueKind.REFERENCE:
            self.reference(v.text, lines, element, owner, at=v.lines)
        elif v.kind is ValueKind.STRING:
            self.text(v.text, lines, element, owner, at=v.lines)

    def formula(
        self,
        expression: str | None,
        data_type: FlowDataType | None,
        lines: Lines,
        element: str,
        owner: str,
    ) -> None:
        if expression is None:
            return
        exc = check_formula(self.names, expression, data_type)
        if exc is not None:
            self.add(f"Formula '{owner}': {exc.located}", lines, element, owner)

    def logic(self, logic: str | None, count: int, lines: Lines, element: str, owner: str) -> None:
        for why in logic_problems(logic, count, element):
            self.add(why, lines, element, owner)

    # -- elements ---------------------------------------------------------------------

    def run(self) -> None:
        b = self.body
        if b.start is not None:
            start_lines = b.start.lines or b.lines
            self.connector(b.start, start_lines, "start", "start")
        for s in b.screens:
            self.screen(s)
        for a in b.assignments:
            self.assignment(a)
        for d in b.decisions:
            self.decision(d)
        for u in b.record_updates:
            self.record_update(u)
        for c in b.record_creates:
            self.record_create(c)
        for call in b.action_calls:
            self.action_call(call)
        for f in b.formulas:
            self.formula(f.expression, f.data_type, f.lines, "expression", f.name)
        for k in b.constants:
            self.value(k.value, k.lines, "value", k.name)
        for t in b.text_templates:
            self.text(t.text, t.lines, "text", t.name)
        for choice in b.choices:
            value = getattr(choice, "value", None)
            self.value(value, choice.lines, "value", choice.name)

    def screen(self, s: Screen) -> None:
        self.connector(s.connector, s.lines, "connector", s.name)
        for f in s.fields:
            self.text(f.label, f.lines, "fieldText", f.name)
            self.value(f.default, f.lines, "defaultValue", f.name)
            for c in f.choices:
                self.reference(c, f.lines, "choiceReferences", f.name, choice=True)
            if f.default_choice is not None:
                self.reference(
                    f.default_choice, f.lines, "defaultSelectedChoiceReference", f.name, choice=True
                )
            if f.field_type.is_choice and not f.choices:
                self.add(
                    f"Screen field '{f.name}' is a {f.field_type.value} without <choiceReferences>",
                    f.lines,
                    "choiceReferences",
                    f.name,
                )
            self.formula(f.validation, FlowDataType.BOOLEAN, f.lines, "validationRule", f.name)

    def assignment(self, a: Assignment) -> None:
        self.connector(a.connector, a.lines, "connector", a.name)
        for item in a.items:
            self.reference(item.target, item.lines, "assignToReference", a.name, assign=True)
            self.value(item.value, item.lines, "value", a.name)

    def decision(self, d: Decision) -> None:
        self.connector(d.default_connector, d.lines, "defaultConnector", d.name)
        for rule in d.rules:
            self.connector(rule.connector, rule.lines, "connector", rule.name)
            c = rule.criteria
            self.logic(c.logic, len(c.conditions), rule.lines, "conditionLogic", rule.name)
            for cond in c.conditions:
                self.reference(cond.left, cond.lines, "leftValueReference", rule.name)
                self.value(cond.right, cond.lines, "rightValue", rule.name)

    def record_update(self, u: RecordUpdate) -> None:
        self.connector(u.connector, u.lines, "connector", u.name)
        self.connector(u.fault_connector, u.lines, "faultConnector", u.name)
        if u.input_reference is not None:
            self.reference(u.input_reference, u.lines, "inputReference", u.name)
        self.logic(u.filter_logic, len(u.filters), u.lines, "filterLogic", u.name)
        for f in u.filters:
            self.value(f.value, f.lines, "value", u.name)
        for fv in u.assignments:
            self.value(fv.value, fv.lines, "value", u.name)

    def record_create(self, c: RecordCreate) -> None:
        self.connector(c.connector, c.lines, "connector", c.name)
        self.connector(c.fault_connector, c.lines, "faultConnector", c.name)
        if c.input_reference is not None:
            self.reference(c.input_reference, c.lines, "inputReference", c.name)
        if c.assign_id_to is not None:
            self.reference(
                c.assign_id_to, c.lines, "assignRecordIdToReference", c.name, assign=True
            )
        for fv in c.assignments:
            self.value(fv.value, fv.lines, "value", c.name)

    def action_call(self, a: ActionCall) -> None:
        self.connector(a.connector, a.lines, "connector", a.name)
        self.connector(a.fault_connector, a.lines, "faultConnector", a.name)
        for p in a.inputs:
            self.value(p.value, p.lines, "value", a.name)
        for o in a.outputs:
            self.reference(o.assign_to, o.lines, "assignToReference", a.name, assign=True)


def check_body(
    r: Reader,
    body: FlowBody,
    *,
    variables: tuple[Variable, ...],
    process_type: str,
) -> None:
    """Report the problems of ``body`` (see the module docstring) to ``r``."""
    names = Names(body, variables=variables, process_type=process_type)
    _Checker(r, body, names).run()
