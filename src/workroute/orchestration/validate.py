"""Validating an orchestration definition, whatever form it was read from.

:func:`validate_orchestration` checks one :class:`Orchestration` on its own and
against a schema: API names (Salesforce's rules, unique across all elements),
connectors and step references, interactive steps (an assignee, the reserved
``ActionInput__RecordId`` input), at most 10 requirements per condition, condition
logic, element references (variables, steps, stages, ``$Record`` fields), variables
and their object types, the record trigger's object, fields and operators, and every
formula (parsed and type-checked by the formula engine). Each problem names the file,
the line and the element, from the model's ``lines``.

What needs the org's data (users, groups and queues to exist, called flows to be
active) is checked by the deploy (:mod:`workroute.orchestration.deploy`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from workroute.kernel.errors import DeployProblem
from workroute.lang.formula.compiler import compile_formula
from workroute.lang.formula.errors import FormulaError
from workroute.lang.formula.parser import parse_formula
from workroute.metadata.workflow import ACTION_NAME_RE
from workroute.orchestration.definition import Orchestration, Stage, Step
from workroute.orchestration.logic import logic_problems
from workroute.orchestration.references import (
    FlowFormulaEnvironment,
    RefKind,
    UnresolvedReferenceError,
    formula_source,
    resolve_reference,
    result_kind,
)
from workroute.orchestration.resources import Trigger
from workroute.orchestration.types import Lines
from workroute.orchestration.values import (
    Connector,
    Criteria,
    EvaluationFlow,
    OutputParameter,
    Parameter,
    Value,
)
from workroute.orchestration.vocabulary import (
    MAX_REQUIREMENTS,
    RECORD_ID_INPUT,
    RESERVED_INPUT_PREFIX,
    RESERVED_INPUTS,
    AssigneeType,
    FlowDataType,
    FlowTriggerType,
    RecordFilterOperator,
    RecordTriggerType,
    StepActionType,
    ValueKind,
)
from workroute.schema.registry import SchemaRegistry

__all__ = ["MAX_NAME_LENGTH", "name_problem", "validate_orchestration"]

#: Flow API names: a letter, then letters, digits and single underscores, no
#: underscore at the end (Flow Builder's rule for the flow and every element).
NAME_RE = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")
MAX_NAME_LENGTH = 80


def name_problem(name: str, what: str) -> str | None:
    """Why ``name`` is not a valid API name for ``what``; None when it is."""
    if not NAME_RE.match(name):
        return (
            f"{what} '{name}' is not a valid API name: use letters, digits and single "
            "underscores, begin with a letter and do not end with an underscore"
        )
    if len(name) > MAX_NAME_LENGTH:
        return f"{what} '{name}' is {len(name)} characters; API names have at most 80"
    return None


class _Problems:
    def __init__(self, orch: Orchestration) -> None:
        self.orch = orch
        self.out: list[DeployProblem] = []

    def add(self, message: str, lines: Lines, element: str, component: str | None) -> None:
        line = lines.get(element) or lines.get("")
        self.out.append(
            DeployProblem(
                file=self.orch.file,
                line=line,
                element=element,
                message=message,
                component=f"{self.orch.name}.{component}" if component else self.orch.name,
            )
        )


def validate_orchestration(
    orch: Orchestration, *, schema: SchemaRegistry | None = None
) -> list[DeployProblem]:
    """Every problem of ``orch``, located. With ``schema``, objects, field paths and
    formula types are checked too."""
    v = _Validator(orch, schema)
    v.run()
    return v.p.out


_UNSUPPORTED_STEPS = {
    StepActionType.STEP_MULESOFT: "a MuleSoft step (stepMuleSoft), which calls MuleSoft",
    StepActionType.STEP_APPROVAL: "an approval step (stepApproval), part of Salesforce "
    "approval orchestrations",
}


class _Validator:
    def __init__(self, orch: Orchestration, schema: SchemaRegistry | None) -> None:
        self.orch = orch
        self.schema = schema
        self.p = _Problems(orch)

    def run(self) -> None:
        o = self.orch
        if (why := name_problem(o.name, "The flow name")) is not None:
            self.p.add(why, o.lines, "fullName", None)
        if not o.label.strip():
            self.p.add("The orchestration needs a <label>", o.lines, "label", None)
        self._names()
        self._graph()
        if o.trigger is not None:
            self._trigger(o.trigger)
        for var in o.variables:
            self._variable_type(var.name, var.data_type, var.object_type, var.lines)
            if var.value is not None:
                self._value(var.value, var.lines, "value", var.name)
        for c in o.constants:
            if c.value is not None:
                self._value(c.value, c.lines, "value", c.name)
        for stage in o.stages:
            self._stage(stage)
        for d in o.decisions:
            for rule in d.rules:
                self._criteria(rule.criteria, rule.lines, "conditionLogic", "conditions", rule.name)
                self._connector(rule.connector, rule.lines, "connector", rule.name)
            self._connector(d.default_connector, d.lines, "defaultConnector", d.name)
        for f in o.formulas:
            self._formula(f.expression, f.data_type, f.lines, "expression", f.name)
        for t in o.text_templates:
            self._merge_fields(t.text, t.lines, "text", t.name)

    # -- names --------------------------------------------------------------------

    def _names(self) -> None:
        o = self.orch
        seen: dict[str, str] = {}
        elements: list[tuple[str, str, Lines]] = []
        elements += [("stage", s.name, s.lines) for s in o.stages]
        elements += [("step", s.name, s.lines) for _, s in o.steps()]
        elements += [("decision", d.name, d.lines) for d in o.decisions]
        elements += [("outcome", r.name, r.lines) for d in o.decisions for r in d.rules]
        elements += [("variable", v.name, v.lines) for v in o.variables]
        elements += [("formula", f.name, f.lines) for f in o.formulas]
        elements += [("constant", c.name, c.lines) for c in o.constants]
        elements += [("text template", t.name, t.lines) for t in o.text_templates]
        for kind, name, lines in elements:
            if not name:
                continue  # reported by the reader
            why = name_problem(name, f"The {kind} name")
            if why is not None:
                self.p.add(why, lines, "name", name)
                continue
            key = name.lower()
            if key in seen:
                self.p.add(
                    f"The {kind} name '{name}' is already used by the {seen[key]}; API names "
                    "are unique in an orchestration (ignoring case)",
                    lines,
                    "name",
                    name,
                )
            else:
                seen[key] = f"{kind} '{name}'"

    # -- the graph ----------------------------------------------------------------

    def _graph(self) -> None:
        o = self.orch
        if not o.stages:
            self.p.add(
                "An orchestration needs at least one stage (<orchestratedStages>)",
                o.lines,
                "orchestratedStages",
                None,
            )
            return
        if o.start is None:
            lines = o.trigger.lines if o.trigger is not None else o.lines
            self.p.add(
                "<start> needs a <connector> to the first stage or decision",
                lines,
                "connector" if o.trigger is not None else "start",
                None,
            )
        else:
            self._connector(o.start, o.start.lines, "targetReference", None)

    def _connector(
        self, c: Connector | None, lines: Lines, element: str, component: str | None
    ) -> None:
        if c is None or not c.target:
            return
        if self.orch.node(c.target) is None:
            self.p.add(
                f"The connector goes to '{c.target}', which is not a stage or decision of "
                "this orchestration",
                c.lines or lines,
                "targetReference",
                component,
            )

    # -- stages and steps ---------------------------------------------------------

    def _stage(self, stage: Stage) -> None:
        self._connector(stage.connector, stage.lines, "connector", stage.name)
        self._connector(stage.fault_connector, stage.lines, "faultConnector", stage.name)
        self._exit(stage.exit, stage.exit_flow, stage.lines, "exit", stage.name)
        for step in stage.steps:
            self._step(stage, step)
        self._waits(stage)

    def _exit(
        self,
        criteria: Criteria,
        flow: EvaluationFlow | None,
        lines: Lines,
        prefix: str,
        component: str,
    ) -> None:
        self._criteria(criteria, lines, f"{prefix}ConditionLogic", f"{prefix}Conditions", component)
        if flow is not None:
            self._evaluation(flow, lines, prefix, component)
            if criteria.conditions:
                self.p.add(
                    f"'{component}' has both {prefix} conditions and the {prefix} evaluation "
                    f"flow '{flow.name}'; use one or the other",
                    criteria.lines or lines,
                    f"{prefix}Conditions",
                    component,
                )

    def _evaluation(self, flow: EvaluationFlow, lines: Lines, prefix: str, component: str) -> None:
        element = f"{prefix}ActionName"
        if not ACTION_NAME_RE.match(flow.name):
            self.p.add(
                f"'{flow.name}' is not a valid flow name", flow.lines or lines, element, component
            )
        self._inputs(flow.inputs, component)
        self._outputs(flow.outputs, component)

    def _step(self, stage: Stage, step: Step) -> None:
        name = step.name
        lines = step.lines
        if step.action_type in _UNSUPPORTED_STEPS:
            self.p.add(
                f"Step '{name}' is {_UNSUPPORTED_STEPS[step.action_type]}; workroute runs "
                "interactive (stepInteractive) and background (stepBackground) steps",
                lines,
                "actionType",
                name,
            )
        if step.action_name and not ACTION_NAME_RE.match(step.action_name):
            self.p.add(f"'{step.action_name}' is not a valid flow name", lines, "actionName", name)
        self._exit(step.entry, step.entry_flow, lines, "entry", name)
        self._exit(step.exit, step.exit_flow, lines, "exit", name)
        self._inputs(step.inputs, name)
        self._outputs(step.outputs, name)
        for c in step.entry.conditions:
            waited = c.completed_step()
            if waited is None:
                continue
            found = self.orch.find_step(waited)
            if found is not None and found[0] is not stage:
                self.p.add(
                    f"Step '{name}' waits for step '{found[1].name}' of stage "
                    f"'{found[0].name}'; a step can wait only for steps of its own stage",
                    c.lines or lines,
                    "leftValueReference",
                    name,
                )
        if step.is_interactive:
            self._interactive(step)
        else:
            if step.assignee is not None:
                self.p.add(
                    f"Background step '{name}' has an assignee; only interactive steps are "
                    "assigned",
                    lines,
                    "assignees",
                    name,
                )
            if step.exit.conditions or step.exit_flow is not None:
                self.p.add(
                    f"Background step '{name}' completes when its flow finishes; only "
                    "interactive steps have completion conditions",
                    lines,
                    "exitConditions" if step.exit.conditions else "exitActionName",
                    name,
                )

    def _interactive(self, step: Step) -> None:
        name, lines = step.name, step.lines
        a = step.assignee
        if a is None:
            self.p.add(
                f"Interactive step '{name}' has no assignee (<assignees>): a user, group, "
                "queue or resource completes it",
                lines,
                "assignees",
                name,
            )
        elif a.type is AssigneeType.INVALID:
            self.p.add(
                f"The assignee of step '{name}' is Invalid (it was deleted or is not valid); "
                "assign a user, group, queue or resource",
                a.lines or lines,
                "assigneeType",
                name,
            )
        elif a.value is None or not a.value.text.strip():
            self.p.add(
                f"The assignee of step '{name}' has no value", a.lines or lines, "assignee", name
            )
        elif a.type is AssigneeType.RESOURCE and not a.value.is_reference:
            self.p.add(
                f"Step '{name}' assigns to a Resource, which takes a variable or formula "
                f"(<elementReference>), not the literal '{a.value.text}'",
                a.lines or lines,
                "assignee",
                name,
            )
        elif a.value.is_reference:
            self._reference(a.value.text, a.value.lines or a.lines or lines, "assignee", name)
        record_id = step.input(RECORD_ID_INPUT)
        if record_id is None or record_id.value is None:
            self.p.add(
                f"Interactive step '{name}' needs the input {RECORD_ID_INPUT} with a value: "
                "the record whose page shows the work item",
                record_id.lines if record_id is not None else lines,
                "inputParameters",
                name,
            )

    def _waits(self, stage: Stage) -> None:
        """Steps that wait for each other (or for themselves) never start."""
        steps = {s.name.lower(): s for s in stage.steps}
        edges = {k: {w.lower() for w in s.waits_for} & steps.keys() for k, s in steps.items()}

        def reach(start: str) -> set[str]:
            seen: set[str] = set()
            todo = list(edges[start])
            while todo:
                n = todo.pop()
                if n not in seen:
                    seen.add(n)
                    todo.extend(edges[n])
            return seen

        reaches = {k: reach(k) for k in steps}
        reported: set[frozenset[str]] = set()
        for k, step in steps.items():
            if k not in reaches[k]:
                continue
            cycle = frozenset(n for n in reaches[k] if k in reaches[n])
            if cycle in reported:
                continue
            reported.add(cycle)
            members = [s.name for s in stage.steps if s.name.lower() in cycle]
            message = (
                f"Step '{step.name}' waits for itself; it can never start"
                if len(members) == 1
                else "Steps "
                + " and ".join(f"'{m}'" for m in members)
                + " wait for each other; none of them can start"
            )
            self.p.add(message, step.entry.lines or step.lines, "entryConditions", step.name)

    def _inputs(self, params: Iterable[Parameter], component: str) -> None:
        seen: set[str] = set()
        for p in params:
            key = p.name.lower()
            if key in seen:
                self.p.add(
                    f"The input '{p.name}' of '{component}' is set twice",
                    p.lines,
                    "name",
                    component,
                )
            seen.add(key)
            if p.name.startswith(RESERVED_INPUT_PREFIX) and p.name not in RESERVED_INPUTS:
                known = ", ".join(sorted(RESERVED_INPUTS))
                self.p.add(
                    f"'{p.name}' is not a reserved step input; the reserved inputs are {known}",
                    p.lines,
                    "name",
                    component,
                )
            if p.value is not None:
                self._value(p.value, p.lines, "value", component)

    def _outputs(self, outputs: Iterable[OutputParameter], component: str) -> None:
        for out in outputs:
            try:
                found = resolve_reference(self.orch, out.assign_to, self.schema)
            except UnresolvedReferenceError as exc:
                self.p.add(exc.message, out.lines, "assignToReference", component)
                continue
            if found.kind is not RefKind.VARIABLE:
                self.p.add(
                    f"The output '{out.name}' of '{component}' is stored into "
                    f"'{out.assign_to}', which is not a variable",
                    out.lines,
                    "assignToReference",
                    component,
                )

    # -- conditions and references --------------------------------------------------

    def _criteria(
        self, criteria: Criteria, lines: Lines, logic_el: str, items_el: str, component: str
    ) -> None:
        here = criteria.lines or lines
        count = len(criteria.conditions)
        if count > MAX_REQUIREMENTS:
            self.p.add(
                f"'{component}' has {count} <{items_el}>; at most {MAX_REQUIREMENTS} "
                "requirements are allowed",
                here,
                items_el,
                component,
            )
        for message in logic_problems(criteria.logic, count, logic_el):
            self.p.add(message, here, logic_el, component)
        for c in criteria.conditions:
            self._reference(c.left, c.lines or here, "leftValueReference", component)
            if c.right is not None:
                self._value(c.right, c.lines or here, "rightValue", component)

    def _value(self, value: Value, lines: Lines, element: str, component: str | None) -> None:
        if value.kind is ValueKind.REFERENCE:
            self._reference(value.text, value.lines or lines, element, component)

    def _reference(self, ref: str, lines: Lines, element: str, component: str | None) -> None:
        try:
            resolve_reference(self.orch, ref, self.schema)
        except UnresolvedReferenceError as exc:
            self.p.add(exc.message, lines, element, component)

    # -- resources ------------------------------------------------------------------

    def _variable_type(
        self, name: str, data_type: FlowDataType, object_type: str | None, lines: Lines
    ) -> None:
        if data_type is FlowDataType.APEX:
            self.p.add(
                f"Variable '{name}' is Apex-defined; workroute has no Apex classes",
                lines,
                "dataType",
                name,
            )
        if data_type is FlowDataType.SOBJECT:
            if not object_type:
                self.p.add(
                    f"Record variable '{name}' needs an <objectType>", lines, "objectType", name
                )
            elif self.schema is not None and self.schema.find(object_type) is None:
                self.p.add(
                    f"Object '{object_type}' (of variable '{name}') does not exist",
                    lines,
                    "objectType",
                    name,
                )
        elif object_type:
            self.p.add(
                f"Variable '{name}' is a {data_type.value}; only SObject variables have an "
                "<objectType>",
                lines,
                "objectType",
                name,
            )

    def _formula(
        self,
        expression: str,
        data_type: FlowDataType | None,
        lines: Lines,
        element: str,
        component: str | None,
    ) -> None:
        source = formula_source(expression)
        t = self.orch.trigger
        # Without a schema, or without the triggering object (it is reported), the types
        # of $Record fields are unknown: only the syntax is checked then.
        schema = self.schema
        typed = schema is not None and (t is None or schema.find(t.object) is not None)
        try:
            tree = parse_formula(source)
            if typed:
                compile_formula(
                    tree,
                    FlowFormulaEnvironment(self.orch, self.schema),
                    result_kind=result_kind(data_type),
                )
        except FormulaError as exc:
            what = f"Formula '{component}'" if component else "The entry formula"
            self.p.add(f"{what}: {exc.located}", lines, element, component)

    def _merge_fields(self, text: str, lines: Lines, element: str, component: str) -> None:
        for m in re.finditer(r"\{!([^}]*)\}", text):
            self._reference(m.group(1), lines, element, component)

    # -- the trigger ----------------------------------------------------------------

    def _trigger(self, t: Trigger) -> None:
        lines = t.lines
        if t.trigger_type is not FlowTriggerType.RECORD_AFTER_SAVE:
            self.p.add(
                f"triggerType {t.trigger_type.value} does not start orchestrations; a "
                "record-triggered orchestration runs after the save (RecordAfterSave)",
                lines,
                "triggerType",
                None,
            )
        if t.record_trigger_type is RecordTriggerType.DELETE:
            self.p.add(
                "Orchestrations run when a record is created or updated, not deleted",
                lines,
                "recordTriggerType",
                None,
            )
        obj = self.schema.find(t.object) if self.schema is not None else None
        if self.schema is not None and obj is None:
            self.p.add(f"Object '{t.object}' does not exist", lines, "object", None)
        if t.requires_record_changed and not t.on_update:
            self.p.add(
                "doesRequireRecordChangedToMeetCriteria needs a trigger on update; this one "
                f"runs on {t.record_trigger_type.value}",
                lines,
                "doesRequireRecordChangedToMeetCriteria",
                None,
            )
        if t.filter_formula is not None and t.filters:
            self.p.add(
                "The entry criteria are either <filters> or a <filterFormula>, not both",
                lines,
                "filterFormula",
                None,
            )
        for message in logic_problems(t.filter_logic, len(t.filters), "filterLogic"):
            self.p.add(message, lines, "filterLogic", None)
        for f in t.filters:
            fl = f.lines or lines
            if obj is not None and obj.field(f.field) is None:
                self.p.add(f"{obj.name} has no field '{f.field}'", fl, "field", None)
            if f.operator is RecordFilterOperator.IS_CHANGED and not t.on_update:
                self.p.add(
                    f"IsChanged ({f.field}) needs a trigger on update (Update or "
                    f"CreateAndUpdate); this one runs on {t.record_trigger_type.value}",
                    fl,
                    "operator",
                    None,
                )
            if f.operator in (RecordFilterOperator.IS_NULL, RecordFilterOperator.IS_CHANGED) and (
                f.value is None or f.value.kind is not ValueKind.BOOLEAN
            ):
                self.p.add(
                    f"{f.operator.value} ({f.field}) takes a <booleanValue>", fl, "value", None
                )
            if f.value is not None:
                self._value(f.value, fl, "value", None)
        if t.filter_formula is not None:
            self._formula(t.filter_formula, FlowDataType.BOOLEAN, lines, "filterFormula", None)
