"""Writing the readable form (see :mod:`workroute.orchestration.yaml_form` for the shape).

``load_orchestration(orchestration_to_yaml(o)) == o`` for every definition, and the
same for :func:`orchestration_to_json`. The writer builds YAML nodes itself, so every
value keeps its canonical text and text that would read as another type is quoted.
"""

from __future__ import annotations

import json

import yaml  # type: ignore[import-untyped]

from workroute.orchestration._yaml import (
    BOOL_TAG,
    DEFAULT_LOGIC,
    FLOAT_TAG,
    INT_TAG,
    MAP_TAG,
    NULL_TAG,
    SEQ_TAG,
    STEP_TYPES,
    STR_TAG,
    Node,
)
from workroute.orchestration.definition import Decision, Orchestration, Stage, Step
from workroute.orchestration.resources import Trigger
from workroute.orchestration.values import (
    Condition,
    Connector,
    Criteria,
    EvaluationFlow,
    OutputParameter,
    Parameter,
    Value,
)
from workroute.orchestration.vocabulary import (
    COMPLETED,
    AssigneeType,
    ComparisonOperator,
    EvaluationActionType,
    FlowStatus,
    FlowTriggerType,
    ValueKind,
)

__all__ = ["orchestration_to_json", "orchestration_to_yaml"]


_SHORT_TYPES = {v: k for k, v in STEP_TYPES.items()}


def _s(text: str) -> Node:
    return yaml.ScalarNode(STR_TAG, text)


def _b(value: bool) -> Node:
    return yaml.ScalarNode(BOOL_TAG, "true" if value else "false")


def _i(value: int) -> Node:
    return yaml.ScalarNode(INT_TAG, str(value))


def _null() -> Node:
    return yaml.ScalarNode(NULL_TAG, "null")


def _seq(items: list[Node], *, flow: bool = False) -> Node:
    return yaml.SequenceNode(SEQ_TAG, items, flow_style=flow)


class _M:
    """A mapping node under construction; ``None`` values are left out."""

    def __init__(self) -> None:
        self.pairs: list[tuple[Node, Node]] = []

    def put(self, key: str, value: Node | None) -> _M:
        if value is not None:
            self.pairs.append((_s(key), value))
        return self

    def text(self, key: str, value: str | None) -> _M:
        return self.put(key, None if value is None else _s(value))

    def flag(self, key: str, value: bool | None) -> _M:
        return self.put(key, None if value is None else _b(value))

    def node(self, *, flow: bool = False) -> Node:
        return yaml.MappingNode(MAP_TAG, self.pairs, flow_style=flow)


def _value_node(v: Value) -> Node:
    if v.kind is ValueKind.STRING:
        return _s(v.text)
    if v.kind is ValueKind.BOOLEAN:
        return _b(v.text == "true")
    if v.kind is ValueKind.NUMBER:
        is_int = v.text.lstrip("-").isdigit()
        return yaml.ScalarNode(INT_TAG if is_int else FLOAT_TAG, v.text)
    key = {
        ValueKind.REFERENCE: "ref",
        ValueKind.DATE: "date",
        ValueKind.DATETIME: "datetime",
        ValueKind.TIME: "time",
    }[v.kind]
    return _M().text(key, v.text).node(flow=True)


def _opt_value(v: Value | None) -> Node | None:
    return None if v is None else _value_node(v)


def _connector(c: Connector | None) -> Node | None:
    if c is None:
        return None
    if not c.is_go_to:
        return _s(c.target)
    return _M().text("to", c.target).flag("goTo", True).node(flow=True)


def _condition(c: Condition) -> Node:
    m = _M().text("left", c.left).text("operator", c.operator.value)
    m.put("right", _opt_value(c.right)).text("type", c.condition_type)
    return m.node(flow=True)


def _inputs(params: tuple[Parameter, ...]) -> Node | None:
    if not params:
        return None
    m = _M()
    for p in params:
        m.pairs.append((_s(p.name), _null()
                        if p.value is None else _value_node(p.value)))  # fmt: skip
    return m.node()


def _outputs(outputs: tuple[OutputParameter, ...]) -> Node | None:
    if not outputs:
        return None
    m = _M()
    for o in outputs:
        m.text(o.name, o.assign_to)
    return m.node()


def _is_after(criteria: Criteria) -> bool:
    return (
        criteria.logic == DEFAULT_LOGIC
        and bool(criteria.conditions)
        and all(
            c.condition_type is None
            and c.operator is ComparisonOperator.EQUAL_TO
            and c.right == Value.string(COMPLETED)
            and c.left.endswith(".Status")
            and c.left.count(".") == 1
            for c in criteria.conditions
        )
    )


def _conditions(
    criteria: Criteria, flow: EvaluationFlow | None, default: str | None
) -> Node | None:
    """An entry/completion/exit block; None when it is the default."""
    if flow is None and not criteria.conditions and criteria.logic == default:
        return None
    m = _M()
    if _is_after(criteria) and flow is None:
        names = [_s(c.left[: -len(".Status")]) for c in criteria.conditions]
        return m.put("after", _seq(names, flow=True)).node()
    if criteria.logic != default:
        m.put("logic", _s(criteria.logic) if criteria.logic is not None else
              _null())  # fmt: skip
    if criteria.conditions:
        m.put("conditions", _seq([_condition(c) for c in criteria.conditions]))
    if flow is not None:
        m.text("flow", flow.name)
        if flow.action_type is not EvaluationActionType.EVALUATION_FLOW:
            m.text("type", flow.action_type.value)
        m.put("inputs", _inputs(flow.inputs)).put("outputs", _outputs(flow.outputs))
    return m.node()


def _assignee(step: Step) -> Node | None:
    a = step.assignee
    if a is None:
        return None
    key = a.type.value.lower()
    if a.value is None:
        value: Node = _null()
    elif a.type is AssigneeType.RESOURCE and a.value.is_reference:
        value = _s(a.value.text)
    elif a.type is AssigneeType.RESOURCE and a.value.kind is ValueKind.STRING:
        value = _M().text("string", a.value.text).node(flow=True)
    else:
        value = _value_node(a.value)
    return _M().put(key, value).node(flow=True)


def _step(s: Step) -> Node:
    m = _M().text("name", s.name).text("label", s.label).text("description", s.description)
    m.text("type", _SHORT_TYPES.get(s.action_type, s.action_type.value))
    m.text("flow", s.action_name)
    m.put("assignee", _assignee(s))
    m.put("entry", _conditions(s.entry, s.entry_flow, DEFAULT_LOGIC))
    m.put("completion", _conditions(s.exit, s.exit_flow, None))
    m.put("inputs", _inputs(s.inputs)).put("outputs", _outputs(s.outputs))
    m.flag("canAssigneeEdit", s.can_assignee_edit)
    m.flag("debugSimulateStep", s.debug_simulate_step)
    m.flag("requiresAsyncProcessing", s.requires_async_processing)
    m.flag("runAsUser", s.run_as_user).flag("shouldLock", s.should_lock)
    m.text("subtype", s.step_subtype)
    return m.node()


def _location(location: tuple[int, int] | None) -> Node | None:
    return None if location is None else _seq([_i(location[0]), _i(location[1])], flow=True)


def _stage(s: Stage) -> Node:
    m = _M().text("name", s.name).text("label", s.label).text("description", s.description)
    m.put("next", _connector(s.connector)).put("faultNext", _connector(s.fault_connector))
    m.put("location", _location(s.location))
    m.put("exit", _conditions(s.exit, s.exit_flow, DEFAULT_LOGIC))
    if s.steps:
        m.put("steps", _seq([_step(x) for x in s.steps]))
    return m.node()


def _decision(d: Decision) -> Node:
    m = _M().text("name", d.name).text("label", d.label).text("description", d.description)
    m.put("location", _location(d.location))
    rules = []
    for r in d.rules:
        x = _M().text("name", r.name).text("label", r.label).text("description", r.description)
        if r.criteria.logic != DEFAULT_LOGIC:
            x.put("logic", _s(r.criteria.logic) if r.criteria.logic is not None else
                  _null())  # fmt: skip
        if r.criteria.conditions:
            x.put("conditions", _seq([_condition(c) for c in r.criteria.conditions]))
        x.put("next", _connector(r.connector)).flag(
            "onlyWhenChanged", r.does_require_record_changed
        )
        rules.append(x.node())
    if rules:
        m.put("rules", _seq(rules))
    m.put("default", _connector(d.default_connector)).text(
        "defaultLabel", d.default_connector_label
    )
    return m.node()


def _trigger(t: Trigger) -> Node:
    m = _M().text("object", t.object).text("on", t.record_trigger_type.value)
    if t.trigger_type is not FlowTriggerType.RECORD_AFTER_SAVE:
        m.text("type", t.trigger_type.value)
    m.flag("onlyWhenChanged", t.requires_record_changed).text("filterLogic", t.filter_logic)
    if t.filters:
        m.put(
            "filters",
            _seq(
                [
                    _M()
                    .text("field", f.field)
                    .text("operator", f.operator.value)
                    .put("value", _opt_value(f.value))
                    .node(flow=True)
                    for f in t.filters
                ]
            ),
        )
    m.text("formula", t.filter_formula)
    return m.node()


def _tree(o: Orchestration) -> Node:
    m = _M().text("name", o.name).text("label", o.label)
    if o.status is not FlowStatus.DRAFT:
        m.text("status", o.status.value)
    m.text("apiVersion", o.api_version).text("description", o.description)
    m.text("interviewLabel", o.interview_label)
    m.text("runInMode", None if o.run_in_mode is None else o.run_in_mode.value)
    if o.trigger is not None:
        m.put("trigger", _trigger(o.trigger))
    first = o.stages[0].name if o.stages else None
    if o.start is None:
        if o.stages:
            m.put("start", _null())
    elif o.start.is_go_to or o.start.target != first:
        m.put("start", _connector(o.start))
    m.put("startLocation", _location(o.start_location))
    resources: list[tuple[str, list[Node]]] = [
        (
            "variables",
            [
                _M()
                .text("name", v.name)
                .text("dataType", v.data_type.value)
                .flag("input", v.is_input)
                .flag("output", v.is_output)
                .flag("collection", v.is_collection)
                .text("objectType", v.object_type)
                .put("scale", None if v.scale is None else _i(v.scale))
                .put("value", _opt_value(v.value))
                .text("description", v.description)
                .text("apexClass", v.apex_class)
                .node(flow=True)
                for v in o.variables
            ],
        ),
        (
            "formulas",
            [
                _M()
                .text("name", f.name)
                .text("dataType", None if f.data_type is None else f.data_type.value)
                .text("expression", f.expression)
                .put("scale", None if f.scale is None else _i(f.scale))
                .text("description", f.description)
                .node()
                for f in o.formulas
            ],
        ),
        (
            "constants",
            [
                _M()
                .text("name", c.name)
                .text("dataType", c.data_type.value)
                .put("value", _opt_value(c.value))
                .text("description", c.description)
                .node(flow=True)
                for c in o.constants
            ],
        ),
        (
            "textTemplates",
            [
                _M()
                .text("name", t.name)
                .text("text", t.text)
                .flag("plainText", t.is_viewed_as_plain_text)
                .text("description", t.description)
                .node()
                for t in o.text_templates
            ],
        ),
        ("stages", [_stage(s) for s in o.stages]),
        ("decisions", [_decision(d) for d in o.decisions]),
    ]
    for key, items in resources:
        if items:
            m.put(key, _seq(items))
    return m.node()


def orchestration_to_yaml(o: Orchestration) -> str:
    """``o`` in the readable YAML form."""
    text: str = yaml.serialize(_tree(o), Dumper=yaml.SafeDumper, allow_unicode=True, width=100)
    return text


def _json(node: Node, indent: str = "") -> str:
    """JSON text of a node tree; numbers keep their exact text."""
    inner = indent + "  "
    if isinstance(node, yaml.MappingNode):
        if not node.value:
            return "{}"
        items = [f"{inner}{json.dumps(str(k.value))}: {_json(v, inner)}" for k, v in node.value]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(node, yaml.SequenceNode):
        if not node.value:
            return "[]"
        return "[\n" + ",\n".join(inner + _json(v, inner) for v in node.value) + "\n" + indent + "]"
    if node.tag in (BOOL_TAG, INT_TAG, FLOAT_TAG, NULL_TAG):
        return str(node.value)
    return json.dumps(str(node.value), ensure_ascii=False)


def orchestration_to_json(o: Orchestration) -> str:
    """``o`` in the readable form, as JSON."""
    return _json(_tree(o)) + "\n"
