"""The readable form of an orchestration: YAML (or JSON, which YAML reads too).

For people who write definitions by hand. It holds exactly the model of
:mod:`workroute.orchestration.definition`, with shorter keys; reading it gives the same
:class:`Orchestration` as the Flow XML would, and the same validation runs
(:func:`~workroute.orchestration.validate.validate_orchestration`), with problems
located at the file's lines and named by its keys.

The shape (this example is tested: it loads and validates)::

    name: Case_Review                 # required: the flow's API name
    label: Case Review                # required
    status: Active                    # Active | Draft (default) | Obsolete | InvalidDraft
    apiVersion: "62.0"                # also: description, interviewLabel, runInMode
    trigger:                          # leave out: the orchestration is started by the API
      object: Case
      on: CreateAndUpdate             # Create | Update | CreateAndUpdate
      onlyWhenChanged: true           # start only when an update makes the criteria true
      filterLogic: and                # and (default) | or | custom logic "1 AND (2 OR 3)"
      filters:
        - {field: Status, operator: EqualTo, value: Escalated}
      # formula: "ISPICKVAL({!$Record.Status}, 'Escalated')"   (instead of filters)
    start: Review                     # the first stage or decision (default: the first stage)
    variables:
      - {name: reviewer, dataType: String, input: true}
      - {name: approved, dataType: Boolean, output: true}
      # also: collection, objectType (SObject), scale, value, description
    formulas:
      - {name: Is_Urgent, dataType: Boolean, expression: "TEXT({!$Record.Priority}) = 'High'"}
    constants: [{name: Max_Reviews, dataType: Number, value: 3}]
    textTemplates: [{name: Body, text: "Please review {!$Record.Subject}"}]
    stages:
      - name: Review
        label: Review
        next: Decide                  # the next stage or decision; {to: X, goTo: true}
        steps:
          - name: Check
            label: Check the case
            type: interactive         # interactive | background (or a Salesforce actionType)
            flow: Review_Screen       # the screen flow (interactive) or autolaunched flow
            assignee: {queue: Reviewers}   # or user: <username>, group:, resource: <variable>
            inputs:
              ActionInput__RecordId: {ref: $Record.Id}
              ActionInput__CustomEmailBody: {ref: Body}
              note: Please check
            outputs: {ok: approved}   # output name: the variable it is stored into
            completion:               # interactive steps (default: the screen flow is done)
              logic: or               # at most 10 conditions
              conditions:
                - {left: $Record.IsClosed, operator: EqualTo, right: true}
                - {left: Is_Urgent, operator: EqualTo, right: false}
          - name: Log
            label: Log the review
            type: background
            flow: Log_Review
            entry:                    # leave out: when the stage starts
              after: [Check]          # when these steps are Completed
              # or: logic + conditions, or flow: an evaluation flow (inputs:, outputs:)
        # exit: when the stage is complete (leave out: when all its steps are Completed);
        #   conditions, or flow: an evaluation flow
      - name: Close
        label: Close
        exit: {flow: Case_Is_Closed, inputs: {caseId: {ref: $Record.Id}}}
        steps:
          - {name: Close_Case, label: Close the case, type: background, flow: Close_Case}
    decisions:
      - name: Decide
        label: Approved?
        rules:
          - name: Yes_Approved
            label: Yes
            conditions: [{left: approved, operator: EqualTo, right: true}]
            next: Close
        default: Review               # when no rule holds (leave out: the run ends)
        defaultLabel: No

Values are written as YAML scalars (text, true/false, numbers), ``null`` for none, or
``{ref: Name}`` for a reference to a resource (``{date: ...}``, ``{datetime: ...}``,
``{time: ...}`` for the other literal kinds). Step keys also take ``description``,
``canAssigneeEdit``, ``requiresAsyncProcessing``, ``runAsUser``, ``shouldLock``,
``debugSimulateStep`` and ``subtype``; stages and decisions ``location: [x, y]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import yaml  # type: ignore[import-untyped]

from workroute.kernel.errors import DeployError, DeployProblem
from workroute.orchestration.definition import (
    Decision,
    DecisionRule,
    Orchestration,
    Stage,
    Step,
)
from workroute.orchestration.resources import (
    Constant,
    Formula,
    RecordFilter,
    TextTemplate,
    Trigger,
    Variable,
)
from workroute.orchestration.validate import validate_orchestration
from workroute.orchestration.values import (
    NO_CRITERIA,
    Assignee,
    Condition,
    Connector,
    Criteria,
    EvaluationFlow,
    OutputParameter,
    Parameter,
    Value,
    canonical_value,
)
from workroute.orchestration.vocabulary import (
    COMPLETED,
    AssigneeType,
    ComparisonOperator,
    EvaluationActionType,
    FlowDataType,
    FlowRunInMode,
    FlowStatus,
    FlowTriggerType,
    RecordFilterOperator,
    RecordTriggerType,
    StepActionType,
    ValueKind,
)
from workroute.schema.registry import SchemaRegistry

__all__ = ["ELEMENT_KEYS", "STEP_TYPES", "load_orchestration"]

E = TypeVar("E", bound=StrEnum)
Node = Any  # a yaml node (PyYAML ships no type information)

_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

#: Short step types.
STEP_TYPES = {
    "interactive": StepActionType.STEP_INTERACTIVE,
    "background": StepActionType.STEP_BACKGROUND,
}
#: Default condition logic where Flow Builder always writes one.
DEFAULT_LOGIC = "and"

#: Model line keys (XML element names, as validation names them) -> the keys of this
#: form, so problems of a YAML file name its own keys.
ELEMENT_KEYS: Mapping[str, str] = {
    "actionName": "flow",
    "actionType": "type",
    "assignees": "assignee",
    "assigneeType": "assignee",
    "inputParameters": "inputs",
    "outputParameters": "outputs",
    "assignToReference": "outputs",
    "entryConditions": "entry",
    "entryConditionLogic": "entry",
    "entryActionName": "entry",
    "exitConditions": "exit",
    "exitConditionLogic": "exit",
    "exitActionName": "exit",
    "conditionLogic": "logic",
    "conditions": "conditions",
    "leftValueReference": "left",
    "rightValue": "right",
    "connector": "next",
    "faultConnector": "faultNext",
    "targetReference": "next",
    "defaultConnector": "default",
    "orchestratedStages": "stages",
    "doesRequireRecordChangedToMeetCriteria": "onlyWhenChanged",
    "recordTriggerType": "on",
    "triggerType": "type",
    "filterFormula": "formula",
    "fullName": "name",
    "stageSteps": "steps",
    "expression": "expression",
}


@dataclass
class _Ctx:
    file: str
    name: str
    problems: list[DeployProblem] = field(default_factory=list)

    def add(self, message: str, node: Node | None, key: str | None = None) -> None:
        line = None if node is None else node.start_mark.line + 1
        self.problems.append(
            DeployProblem(
                file=self.file, line=line, element=key, message=message, component=self.name
            )
        )


class _Map:
    """A mapping of the form: its keys checked, values read by type."""

    def __init__(self, ctx: _Ctx, node: Node, what: str, keys: Mapping[str, str | None]) -> None:
        self.ctx = ctx
        self.node = node
        self.what = what
        self.items: dict[str, tuple[Node, Node]] = {}
        self.lines: dict[str, int] = {"": node.start_mark.line + 1}
        self.ok = isinstance(node, yaml.MappingNode)
        if not self.ok:
            ctx.add(f"{what} must be a mapping (key: value)", node)
            return
        for k, v in node.value:
            key = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
            if key not in keys:
                valid = ", ".join(keys)
                ctx.add(f"'{key}' is not a key of {what}; valid keys: {valid}", k, key)
                continue
            if key in self.items:
                ctx.add(f"'{key}' is given twice in {what}", k, key)
                continue
            self.items[key] = (k, v)
            self.lines[keys[key] or key] = k.start_mark.line + 1

    def has(self, key: str) -> bool:
        return key in self.items

    def get(self, key: str) -> Node | None:
        found = self.items.get(key)
        if found is None or (isinstance(found[1], yaml.ScalarNode) and found[1].tag == _NULL):
            return None
        return found[1]

    def missing(self, key: str) -> None:
        if self.ok:  # else the wrong shape is reported already
            self.ctx.add(f"{self.what} needs '{key}'", self.node, key)

    def text(self, key: str, *, required: bool = False) -> str | None:
        node = self.get(key)
        if node is None:
            if required:
                self.missing(key)
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.ctx.add(f"'{key}' of {self.what} must be text", node, key)
            return None
        return str(node.value)

    def req(self, key: str) -> str:
        return self.text(key, required=True) or ""

    def flag(self, key: str) -> bool | None:
        node = self.get(key)
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != _BOOL:
            self.ctx.add(f"'{key}' of {self.what} must be true or false", node, key)
            return None
        return str(node.value).lower() in ("true", "yes", "on", "y")

    def whole(self, key: str) -> int | None:
        node = self.get(key)
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != _INT:
            self.ctx.add(f"'{key}' of {self.what} must be a whole number", node, key)
            return None
        return int(str(node.value))

    def enum(
        self, key: str, kind: type[E], *, required: bool = False, aliases: Mapping[str, E] = {}
    ) -> E | None:
        text = self.text(key, required=required)
        if text is None:
            return None
        if text in aliases:
            return aliases[text]
        try:
            return kind(text)
        except ValueError:
            valid = ", ".join([*aliases, *(m.value for m in kind)])
            self.ctx.add(
                f"'{text}' is not a valid {key} of {self.what}; valid: {valid}",
                self.get(key),
                key,
            )
            return None

    def seq(self, key: str) -> list[Node]:
        node = self.get(key)
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.ctx.add(f"'{key}' of {self.what} must be a list", node, key)
            return []
        return list(node.value)

    def pairs(self, key: str) -> list[tuple[Node, Node]]:
        """A mapping value, as (key node, value node) pairs in order."""
        node = self.get(key)
        if node is None:
            return []
        if not isinstance(node, yaml.MappingNode):
            self.ctx.add(f"'{key}' of {self.what} must be a mapping (name: value)", node, key)
            return []
        seen: set[str] = set()
        out = []
        for k, v in node.value:
            name = str(k.value)
            if name in seen:
                self.ctx.add(f"'{name}' is given twice in '{key}' of {self.what}", k, key)
                continue
            seen.add(name)
            out.append((k, v))
        return out

    def value(self, key: str) -> Value | None:
        node = self.get(key)
        return None if node is None else _value(self.ctx, node, f"'{key}' of {self.what}")

    def location(self) -> tuple[int, int] | None:
        items = self.seq("location")
        if not items:
            return None
        ok = len(items) == 2 and all(
            isinstance(n, yaml.ScalarNode) and n.tag == _INT for n in items
        )
        if not ok:
            self.ctx.add(f"'location' of {self.what} is [x, y]", self.get("location"), "location")
            return None
        return (int(items[0].value), int(items[1].value))


_VALUE_KEYS = {
    "ref": ValueKind.REFERENCE,
    "string": ValueKind.STRING,
    "boolean": ValueKind.BOOLEAN,
    "number": ValueKind.NUMBER,
    "date": ValueKind.DATE,
    "datetime": ValueKind.DATETIME,
    "time": ValueKind.TIME,
}


def _value(ctx: _Ctx, node: Node, what: str) -> Value | None:
    line = {"": node.start_mark.line + 1}
    if isinstance(node, yaml.ScalarNode):
        kind = {
            _BOOL: ValueKind.BOOLEAN,
            _INT: ValueKind.NUMBER,
            _FLOAT: ValueKind.NUMBER,
            _TIMESTAMP: ValueKind.DATE if len(str(node.value)) == 10 else ValueKind.DATETIME,
            _NULL: None,
        }.get(node.tag, ValueKind.STRING)
        if kind is None:
            return None
        return _made(ctx, node, kind, str(node.value), line, what)
    if isinstance(node, yaml.MappingNode) and len(node.value) == 1:
        k, v = node.value[0]
        kind = _VALUE_KEYS.get(str(k.value))
        if kind is not None and isinstance(v, yaml.ScalarNode):
            return _made(ctx, v, kind, str(v.value), line, what)
    valid = ", ".join(f"{{{k}: ...}}" for k in _VALUE_KEYS)
    ctx.add(f"{what} must be text, true/false, a number, null or one of {valid}", node)
    return None


def _made(
    ctx: _Ctx, node: Node, kind: ValueKind, text: str, lines: dict[str, int], what: str
) -> Value | None:
    if kind is ValueKind.BOOLEAN:
        text = "true" if text.lower() in ("true", "yes", "on", "y") else text
        text = "false" if text.lower() in ("false", "no", "off", "n") else text
    canonical = canonical_value(kind, text)
    if canonical is None:
        ctx.add(f"{what}: '{text}' is not a valid {kind.value}", node)
        return None
    return Value(kind=kind, text=canonical, lines=lines)


# -- the parts ---------------------------------------------------------------------------


def _connector(m: _Map, key: str) -> Connector | None:
    node = m.get(key)
    if node is None:
        return None
    line = {"": node.start_mark.line + 1, "targetReference": node.start_mark.line + 1}
    if isinstance(node, yaml.ScalarNode):
        return Connector(target=str(node.value), lines=line)
    x = _Map(m.ctx, node, f"'{key}' of {m.what}", {"to": "targetReference", "goTo": "isGoTo"})
    return Connector(target=x.req("to"), is_go_to=bool(x.flag("goTo")), lines=line)


def _condition(ctx: _Ctx, node: Node, what: str) -> Condition:
    m = _Map(
        ctx,
        node,
        f"a condition of {what}",
        {
            "left": "leftValueReference",
            "operator": None,
            "right": "rightValue",
            "type": "conditionType",
        },
    )
    return Condition(
        left=m.req("left"),
        operator=m.enum("operator", ComparisonOperator, required=True)
        or ComparisonOperator.EQUAL_TO,
        right=m.value("right"),
        condition_type=m.text("type"),
        lines=m.lines,
    )


def _parameters(m: _Map, key: str) -> tuple[Parameter, ...]:
    out = []
    for k, v in m.pairs(key):
        lines = {"": k.start_mark.line + 1, "name": k.start_mark.line + 1}
        value = None
        if not (isinstance(v, yaml.ScalarNode) and v.tag == _NULL):
            value = _value(m.ctx, v, f"input '{k.value}' of {m.what}")
        out.append(Parameter(name=str(k.value), value=value, lines=lines))
    return tuple(out)


def _outputs(m: _Map, key: str) -> tuple[OutputParameter, ...]:
    out = []
    for k, v in m.pairs(key):
        lines = {"": k.start_mark.line + 1, "assignToReference": v.start_mark.line + 1}
        if not isinstance(v, yaml.ScalarNode) or v.tag == _NULL:
            m.ctx.add(f"output '{k.value}' of {m.what} needs the variable it is stored into", v)
            continue
        out.append(OutputParameter(name=str(k.value), assign_to=str(v.value), lines=lines))
    return tuple(out)


_CONDITION_KEYS: dict[str, str | None] = {
    "logic": None,
    "conditions": None,
    "after": None,
    "flow": None,
    "type": None,
    "inputs": None,
    "outputs": None,
}


def _condition_block(
    ctx: _Ctx,
    parent: _Map,
    key: str,
    prefix: str,
    default_logic: str | None,
    what: str,
) -> tuple[Criteria, EvaluationFlow | None]:
    """``entry``/``completion``/``exit``: criteria, or an evaluation flow."""
    node = parent.get(key)
    if node is None:
        logic = default_logic
        return (NO_CRITERIA if logic is None else Criteria(logic=logic)), None
    m = _Map(ctx, node, f"'{key}' of {what}", _CONDITION_KEYS)
    lines = dict(m.lines)
    lines[f"{prefix}ConditionLogic"] = lines.get("logic", lines[""])
    lines[f"{prefix}Conditions"] = lines.get("conditions", lines.get("after", lines[""]))
    conditions = [_condition(ctx, c, what) for c in m.seq("conditions")]
    after = m.seq("after")
    for n in after:
        conditions.append(
            Condition(
                left=f"{n.value}.Status",
                operator=ComparisonOperator.EQUAL_TO,
                right=Value.string(COMPLETED),
                lines={"": n.start_mark.line + 1, "leftValueReference": n.start_mark.line + 1},
            )
        )
    if after and m.has("conditions"):
        ctx.add(f"'{key}' of {what} has both 'after' and 'conditions'; use one", node, key)
    flow_name = m.text("flow")
    flow = None
    if flow_name is not None:
        lines[f"{prefix}ActionName"] = m.lines.get("flow", lines[""])
        flow = EvaluationFlow(
            name=flow_name,
            action_type=m.enum("type", EvaluationActionType)
            or EvaluationActionType.EVALUATION_FLOW,
            inputs=_parameters(m, "inputs"),
            outputs=_outputs(m, "outputs"),
            lines={f"{prefix}ActionName": lines[f"{prefix}ActionName"], "": lines[""]},
        )
    else:
        for k in ("type", "inputs", "outputs"):
            if m.has(k):
                ctx.add(f"'{k}' of '{key}' of {what} needs 'flow', the evaluation flow", node, k)
    # ``after`` means all those steps: "and", wherever the default is something else.
    logic = m.text("logic") if m.has("logic") else (DEFAULT_LOGIC if after else default_logic)
    criteria = Criteria(logic=logic, conditions=tuple(conditions), lines=lines)
    return criteria, flow


_ASSIGNEE_KEYS = {t.value.lower(): t for t in AssigneeType}


def _assignee(ctx: _Ctx, m: _Map, what: str) -> Assignee | None:
    node = m.get("assignee")
    if node is None:
        return None
    lines = {"": node.start_mark.line + 1, "assignee": node.start_mark.line + 1}
    if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
        ctx.add(
            f"'assignee' of {what} is one of user:, group:, queue:, resource:", node, "assignee"
        )
        return None
    k, v = node.value[0]
    kind = _ASSIGNEE_KEYS.get(str(k.value).lower())
    if kind is None:
        ctx.add(f"'{k.value}' is not an assignee type; use user, group, queue or resource", k)
        return None
    if kind is AssigneeType.RESOURCE and isinstance(v, yaml.ScalarNode) and v.tag == _STR:
        value: Value | None = Value(kind=ValueKind.REFERENCE, text=str(v.value), lines=lines)
    else:
        value = _value(ctx, v, f"the assignee of {what}")
    return Assignee(type=kind, value=value, lines=lines)


_STEP_KEYS: dict[str, str | None] = {
    "name": "name",
    "label": "label",
    "description": "description",
    "type": "actionType",
    "flow": "actionName",
    "assignee": "assignees",
    "entry": "entryConditions",
    "completion": "exitConditions",
    "inputs": "inputParameters",
    "outputs": "outputParameters",
    "canAssigneeEdit": None,
    "debugSimulateStep": None,
    "requiresAsyncProcessing": None,
    "runAsUser": None,
    "shouldLock": None,
    "subtype": "stepSubtype",
}


def _step(ctx: _Ctx, node: Node) -> Step:
    m = _Map(ctx, node, "a step", _STEP_KEYS)
    name = m.req("name")
    what = f"step '{name}'"
    m.what = what
    entry, entry_flow = _condition_block(ctx, m, "entry", "entry", DEFAULT_LOGIC, what)
    exit_, exit_flow = _condition_block(ctx, m, "completion", "exit", None, what)
    lines = dict(m.lines)
    lines.update({k: v for k, v in entry.lines.items() if k.startswith("entry")})
    lines.update({k: v for k, v in exit_.lines.items() if k.startswith("exit")})
    return Step(
        name=name,
        label=m.req("label"),
        action_type=m.enum("type", StepActionType, required=True, aliases=STEP_TYPES)
        or StepActionType.STEP_BACKGROUND,
        action_name=m.req("flow"),
        description=m.text("description"),
        assignee=_assignee(ctx, m, what),
        entry=entry,
        entry_flow=entry_flow,
        exit=exit_,
        exit_flow=exit_flow,
        inputs=_parameters(m, "inputs"),
        outputs=_outputs(m, "outputs"),
        can_assignee_edit=m.flag("canAssigneeEdit"),
        debug_simulate_step=m.flag("debugSimulateStep"),
        requires_async_processing=m.flag("requiresAsyncProcessing"),
        run_as_user=m.flag("runAsUser"),
        should_lock=m.flag("shouldLock"),
        step_subtype=m.text("subtype"),
        lines=lines,
    )


_STAGE_KEYS: dict[str, str | None] = {
    "name": "name",
    "label": "label",
    "description": "description",
    "next": "connector",
    "faultNext": "faultConnector",
    "exit": "exitConditions",
    "steps": "stageSteps",
    "location": None,
}


def _stage(ctx: _Ctx, node: Node) -> Stage:
    m = _Map(ctx, node, "a stage", _STAGE_KEYS)
    name = m.req("name")
    m.what = f"stage '{name}'"
    exit_, exit_flow = _condition_block(ctx, m, "exit", "exit", DEFAULT_LOGIC, m.what)
    lines = dict(m.lines)
    lines.update({k: v for k, v in exit_.lines.items() if k.startswith("exit")})
    return Stage(
        name=name,
        label=m.req("label"),
        description=m.text("description"),
        steps=tuple(_step(ctx, s) for s in m.seq("steps")),
        exit=exit_,
        exit_flow=exit_flow,
        connector=_connector(m, "next"),
        fault_connector=_connector(m, "faultNext"),
        location=m.location(),
        lines=lines,
    )


def _decision(ctx: _Ctx, node: Node) -> Decision:
    m = _Map(
        ctx,
        node,
        "a decision",
        {
            "name": "name",
            "label": "label",
            "description": "description",
            "rules": "rules",
            "default": "defaultConnector",
            "defaultLabel": "defaultConnectorLabel",
            "location": None,
        },
    )
    name = m.req("name")
    m.what = f"decision '{name}'"
    rules = []
    for r in m.seq("rules"):
        x = _Map(
            ctx,
            r,
            f"an outcome of {m.what}",
            {
                "name": "name",
                "label": "label",
                "description": "description",
                "logic": "conditionLogic",
                "conditions": "conditions",
                "next": "connector",
                "onlyWhenChanged": "doesRequireRecordChangedToMeetCriteria",
            },
        )
        conditions = tuple(_condition(ctx, c, x.what) for c in x.seq("conditions"))
        logic = x.text("logic") if x.has("logic") else DEFAULT_LOGIC
        rules.append(
            DecisionRule(
                name=x.req("name"),
                label=x.req("label"),
                criteria=Criteria(logic=logic, conditions=conditions, lines=x.lines),
                connector=_connector(x, "next"),
                description=x.text("description"),
                does_require_record_changed=x.flag("onlyWhenChanged"),
                lines=x.lines,
            )
        )
    return Decision(
        name=name,
        label=m.req("label"),
        rules=tuple(rules),
        default_connector=_connector(m, "default"),
        default_connector_label=m.text("defaultLabel"),
        description=m.text("description"),
        location=m.location(),
        lines=m.lines,
    )


def _trigger(ctx: _Ctx, node: Node) -> Trigger:
    m = _Map(
        ctx,
        node,
        "the trigger",
        {
            "object": "object",
            "on": "recordTriggerType",
            "type": "triggerType",
            "onlyWhenChanged": "doesRequireRecordChangedToMeetCriteria",
            "filterLogic": "filterLogic",
            "filters": "filters",
            "formula": "filterFormula",
        },
    )
    filters = []
    for f in m.seq("filters"):
        x = _Map(ctx, f, "a trigger filter", {"field": "field", "operator": None, "value": None})
        filters.append(
            RecordFilter(
                field=x.req("field"),
                operator=x.enum("operator", RecordFilterOperator, required=True)
                or RecordFilterOperator.EQUAL_TO,
                value=x.value("value"),
                lines=x.lines,
            )
        )
    return Trigger(
        object=m.req("object"),
        record_trigger_type=m.enum("on", RecordTriggerType, required=True)
        or RecordTriggerType.CREATE,
        trigger_type=m.enum("type", FlowTriggerType) or FlowTriggerType.RECORD_AFTER_SAVE,
        filters=tuple(filters),
        filter_logic=m.text("filterLogic"),
        filter_formula=m.text("formula"),
        requires_record_changed=m.flag("onlyWhenChanged"),
        lines=m.lines,
    )


def _variable(ctx: _Ctx, node: Node) -> Variable:
    m = _Map(
        ctx,
        node,
        "a variable",
        {
            "name": "name",
            "dataType": "dataType",
            "input": "isInput",
            "output": "isOutput",
            "collection": "isCollection",
            "objectType": "objectType",
            "scale": "scale",
            "value": "value",
            "description": "description",
            "apexClass": "apexClass",
        },
    )
    return Variable(
        name=m.req("name"),
        data_type=m.enum("dataType", FlowDataType, required=True) or FlowDataType.STRING,
        is_collection=m.flag("collection"),
        is_input=m.flag("input"),
        is_output=m.flag("output"),
        object_type=m.text("objectType"),
        scale=m.whole("scale"),
        value=m.value("value"),
        description=m.text("description"),
        apex_class=m.text("apexClass"),
        lines=m.lines,
    )


def _resources(
    ctx: _Ctx, top: _Map
) -> tuple[tuple[Formula, ...], tuple[Constant, ...], tuple[TextTemplate, ...]]:
    formulas = []
    for node in top.seq("formulas"):
        m = _Map(
            ctx,
            node,
            "a formula",
            {
                "name": "name",
                "dataType": "dataType",
                "expression": "expression",
                "scale": "scale",
                "description": "description",
            },
        )
        formulas.append(
            Formula(
                name=m.req("name"),
                expression=m.req("expression"),
                data_type=m.enum("dataType", FlowDataType),
                scale=m.whole("scale"),
                description=m.text("description"),
                lines=m.lines,
            )
        )
    constants = []
    for node in top.seq("constants"):
        m = _Map(
            ctx,
            node,
            "a constant",
            {
                "name": "name",
                "dataType": "dataType",
                "value": "value",
                "description": "description",
            },
        )
        constants.append(
            Constant(
                name=m.req("name"),
                data_type=m.enum("dataType", FlowDataType, required=True) or FlowDataType.STRING,
                value=m.value("value"),
                description=m.text("description"),
                lines=m.lines,
            )
        )
    templates = []
    for node in top.seq("textTemplates"):
        m = _Map(
            ctx,
            node,
            "a text template",
            {
                "name": "name",
                "text": "text",
                "plainText": "isViewedAsPlainText",
                "description": "description",
            },
        )
        templates.append(
            TextTemplate(
                name=m.req("name"),
                text=m.req("text"),
                is_viewed_as_plain_text=m.flag("plainText"),
                description=m.text("description"),
                lines=m.lines,
            )
        )
    return tuple(formulas), tuple(constants), tuple(templates)


_TOP_KEYS: dict[str, str | None] = {
    "name": "fullName",
    "label": "label",
    "status": "status",
    "apiVersion": "apiVersion",
    "description": "description",
    "interviewLabel": "interviewLabel",
    "runInMode": "runInMode",
    "trigger": "start",
    "start": "start",
    "startLocation": None,
    "variables": "variables",
    "formulas": "formulas",
    "constants": "constants",
    "textTemplates": "textTemplates",
    "stages": "orchestratedStages",
    "decisions": "decisions",
}


def _orchestration(ctx: _Ctx, root: Node, file: str) -> Orchestration:
    top = _Map(ctx, root, "the orchestration", _TOP_KEYS)
    name = top.req("name")
    ctx.name = name or ctx.name
    stages = tuple(_stage(ctx, s) for s in top.seq("stages"))
    start = _connector(top, "start")
    if start is None and stages and not top.has("start"):
        start = Connector(target=stages[0].name, lines={"": top.lines[""]})
    location = None
    loc = top.seq("startLocation")
    if loc:
        pair = [int(n.value) for n in loc if isinstance(n, yaml.ScalarNode) and n.tag == _INT]
        location = (pair[0], pair[1]) if len(pair) == 2 == len(loc) else None
        if location is None:
            ctx.add("'startLocation' is [x, y]", top.get("startLocation"), "startLocation")
    trigger_node = top.get("trigger")
    formulas, constants, templates = _resources(ctx, top)
    return Orchestration(
        name=name,
        label=top.req("label"),
        status=top.enum("status", FlowStatus) or FlowStatus.DRAFT,
        api_version=top.text("apiVersion"),
        description=top.text("description"),
        interview_label=top.text("interviewLabel"),
        run_in_mode=top.enum("runInMode", FlowRunInMode),
        trigger=None if trigger_node is None else _trigger(ctx, trigger_node),
        start=start,
        start_location=location,
        stages=stages,
        decisions=tuple(_decision(ctx, d) for d in top.seq("decisions")),
        variables=tuple(_variable(ctx, v) for v in top.seq("variables")),
        formulas=formulas,
        constants=constants,
        text_templates=templates,
        file=file,
        lines=top.lines,
    )


def load_orchestration(
    text: str | bytes,
    file: str,
    *,
    schema: SchemaRegistry | None = None,
    validate: bool = True,
) -> Orchestration:
    """Read the YAML (or JSON) form; raises :class:`DeployError` with every problem,
    located at the file's lines. With ``validate`` (the default) the definition is
    validated as a deploy validates it (against ``schema`` when given)."""
    ctx = _Ctx(file=file, name=file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise DeployError(
            [DeployProblem(file=file, line=line, message=f"Not valid YAML or JSON: {problem}")]
        ) from None
    if root is None:
        raise DeployError([DeployProblem(file=file, line=1, message="The file is empty")])
    orch = _orchestration(ctx, root, file)
    if not ctx.problems and validate and orch.status is not FlowStatus.INVALID_DRAFT:
        for p in validate_orchestration(orch, schema=schema):
            element = ELEMENT_KEYS.get(p.element or "", p.element)
            ctx.problems.append(
                DeployProblem(
                    file=p.file,
                    line=p.line,
                    element=element,
                    message=p.message,
                    component=p.component,
                )
            )
    if ctx.problems:
        raise DeployError(ctx.problems)
    return orch
