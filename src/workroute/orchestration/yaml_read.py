"""Reading the parts of the readable form into the model (see
:mod:`workroute.orchestration.yaml_form` for the shape)."""

from __future__ import annotations

import yaml  # type: ignore[import-untyped]

from workroute.orchestration._yaml import (
    DEFAULT_LOGIC,
    INT_TAG,
    NULL_TAG,
    STEP_TYPES,
    STR_TAG,
    Ctx,
    KeyedMap,
    Node,
    read_value,
)
from workroute.orchestration.definition import Decision, DecisionRule, Orchestration, Stage, Step
from workroute.orchestration.resources import (
    Constant,
    Formula,
    RecordFilter,
    TextTemplate,
    Trigger,
    Variable,
)
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

__all__ = ["read_orchestration"]


def _connector(m: KeyedMap, key: str) -> Connector | None:
    node = m.get(key)
    if node is None:
        return None
    line = {"": node.start_mark.line + 1, "targetReference": node.start_mark.line + 1}
    if isinstance(node, yaml.ScalarNode):
        return Connector(target=str(node.value), lines=line)
    x = KeyedMap(m.ctx, node, f"'{key}' of {m.what}", {"to": "targetReference", "goTo": "isGoTo"})
    return Connector(target=x.req("to"), is_go_to=bool(x.flag("goTo")), lines=line)


def _condition(ctx: Ctx, node: Node, what: str) -> Condition:
    m = KeyedMap(
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


def _parameters(m: KeyedMap, key: str) -> tuple[Parameter, ...]:
    out = []
    for k, v in m.pairs(key):
        lines = {"": k.start_mark.line + 1, "name": k.start_mark.line + 1}
        value = None
        if not (isinstance(v, yaml.ScalarNode) and v.tag == NULL_TAG):
            value = read_value(m.ctx, v, f"input '{k.value}' of {m.what}")
        out.append(Parameter(name=str(k.value), value=value, lines=lines))
    return tuple(out)


def _outputs(m: KeyedMap, key: str) -> tuple[OutputParameter, ...]:
    out = []
    for k, v in m.pairs(key):
        lines = {"": k.start_mark.line + 1, "assignToReference": v.start_mark.line + 1}
        if not isinstance(v, yaml.ScalarNode) or v.tag == NULL_TAG:
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
    ctx: Ctx,
    parent: KeyedMap,
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
    m = KeyedMap(ctx, node, f"'{key}' of {what}", _CONDITION_KEYS)
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


def _assignee(ctx: Ctx, m: KeyedMap, what: str) -> Assignee | None:
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
    if kind is AssigneeType.RESOURCE and isinstance(v, yaml.ScalarNode) and v.tag == STR_TAG:
        value: Value | None = Value(kind=ValueKind.REFERENCE, text=str(v.value), lines=lines)
    else:
        value = read_value(ctx, v, f"the assignee of {what}")
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


def _step(ctx: Ctx, node: Node) -> Step:
    m = KeyedMap(ctx, node, "a step", _STEP_KEYS)
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


def _stage(ctx: Ctx, node: Node) -> Stage:
    m = KeyedMap(ctx, node, "a stage", _STAGE_KEYS)
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


def _decision(ctx: Ctx, node: Node) -> Decision:
    m = KeyedMap(
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
        x = KeyedMap(
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


def _trigger(ctx: Ctx, node: Node) -> Trigger:
    m = KeyedMap(
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
        x = KeyedMap(
            ctx, f, "a trigger filter", {"field": "field", "operator": None, "value": None}
        )
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


def _variable(ctx: Ctx, node: Node) -> Variable:
    m = KeyedMap(
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
    ctx: Ctx, top: KeyedMap
) -> tuple[tuple[Formula, ...], tuple[Constant, ...], tuple[TextTemplate, ...]]:
    formulas = []
    for node in top.seq("formulas"):
        m = KeyedMap(
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
        m = KeyedMap(
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
        m = KeyedMap(
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


def read_orchestration(ctx: Ctx, root: Node, file: str) -> Orchestration:
    top = KeyedMap(ctx, root, "the orchestration", _TOP_KEYS)
    name = top.req("name")
    ctx.name = name or ctx.name
    stages = tuple(_stage(ctx, s) for s in top.seq("stages"))
    start = _connector(top, "start")
    if start is None and stages and not top.has("start"):
        start = Connector(target=stages[0].name, lines={"": top.lines[""]})
    location = None
    loc = top.seq("startLocation")
    if loc:
        pair = [int(n.value) for n in loc if isinstance(n, yaml.ScalarNode) and n.tag == INT_TAG]
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
