"""Flow metadata (``flows/Name.flow-meta.xml``): read into orchestration definitions,
write back.

A Flow with ``processType`` Orchestrator becomes an
:class:`~workroute.orchestration.definition.Orchestration` (stages, steps, decisions,
the record trigger, variables, formulas, constants, text templates); any other flow
becomes a :class:`~workroute.orchestration.definition.FlowSummary` (name, type,
status, variables), enough for a step's ``actionName`` to resolve to it. A flow of
another type that holds ``<orchestratedStages>`` (a CMS ``ManagedContentAuthoringWorkflow``)
is refused: its steps act on Salesforce features workroute does not have.

Reading reports every problem at once, each with file, line and element: XML that is
not well formed, elements unknown to the Metadata API, elements the Metadata API
knows but an orchestration cannot hold (screens, record updates...), elements given
twice, values of the wrong type or outside their enum, missing required elements.
Builder layout hints (``processMetadataValues``, ``environments``...) are read and
dropped. What needs more than the file (names, references, the schema) is checked by
:func:`workroute.orchestration.validate.validate_orchestration`.

:func:`orchestration_to_xml` writes the elements in the Metadata API's order;
``parse_flow(orchestration_to_xml(o)) == o``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from workroute.flows.reader import read_flow_body
from workroute.metadata.workflow import _El as _Element  # the Metadata API element reader
from workroute.metadata.xmlio import (
    XSI_NS,
    Element,
    ProblemLog,
    Reader,
    add_element,
    add_value,
    child,
    iter_elements,
    local_name,
    new_root,
    parse_xml,
    qname,
    to_bytes,
)
from workroute.orchestration.definition import (
    Decision,
    DecisionRule,
    FlowSummary,
    FlowVersion,
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
    AssigneeType,
    ComparisonOperator,
    EvaluationActionType,
    FlowDataType,
    FlowProcessType,
    FlowRunInMode,
    FlowStatus,
    FlowTriggerType,
    RecordFilterOperator,
    RecordTriggerType,
    StepActionType,
    ValueKind,
)

__all__ = ["flow_name", "orchestration_to_xml", "parse_flow"]

E = TypeVar("E", bound=StrEnum)

#: Builder metadata an orchestration may carry; read and dropped.
_LAYOUT = ("processMetadataValues",)
_FLOW_IGNORED = (
    "areMetricsLoggedToDataCloud",
    "fullName",
    "isAdditionalPermissionRequiredToRun",
    "isOverridable",
    "isTemplate",
    "migratedFromWorkflowRuleName",
    "overriddenFlow",
    "sourceTemplate",
    "timeZoneSidKey",
    "triggerOrder",
)
_FLOW_IGNORED_REPEATED = ("customProperties", "environments", "processMetadataValues")
#: Flow elements (valid in other flow types) an orchestration cannot hold.
_NOT_IN_ORCHESTRATIONS = (
    "actionCalls",
    "apexPluginCalls",
    "assignments",
    "choices",
    "collectionFilterCriteria",
    "collectionProcessors",
    "customErrors",
    "dataSpace",
    "dynamicChoiceSets",
    "exitRules",
    "experiments",
    "groups",
    "loops",
    "recordCreates",
    "recordDeletes",
    "recordLookups",
    "recordRollbacks",
    "recordUpdates",
    "screens",
    "stages",
    "startElementReference",
    "steps",
    "subflows",
    "transforms",
    "waits",
)
_START_NOT_SUPPORTED = (
    "activation",
    "activationTemplate",
    "capabilityTypes",
    "conditionLogic",
    "conditions",
    "dataGraph",
    "dataTypeMappings",
    "entryType",
    "eventName",
    "eventType",
    "fanOutAction",
    "flowRunAsUser",
    "form",
    "individualObjectRelatedField",
    "inputs",
    "isAsync",
    "objectContainer",
    "prioritizedContactPointsList",
    "publishSegment",
    "schedule",
    "scheduledPaths",
    "segment",
    "sendMsgToOneContactPtPerIndv",
    "triggeringDataGraph",
    "triggeringDataModelObjectPath",
    "versionString",
)
_VALUE_NOT_SUPPORTED = (
    "apexValue",
    "collectionElements",
    "complexValue",
    "complexValueType",
    "formulaDataType",
    "formulaExpression",
    "inputConfiguratorMode",
    "isReverseValueMapping",
    "setupReference",
    "setupReferenceType",
    "sobjectValue",
    "transform",
    "transformValueReference",
    "valueMapName",
)
_FREE = ("description", "expression", "text", "stringValue", "interviewLabel")


def flow_name(path: str) -> str:
    """``flows/Name.flow-meta.xml`` or ``.../Name.flow`` -> ``Name``."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".flow-meta.xml", ".flow"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


# -- reading ------------------------------------------------------------------------------


class _Read:
    """One element: its children checked against what it may hold."""

    def __init__(
        self,
        r: Reader,
        el: Element,
        known: tuple[str, ...],
        *,
        repeated: tuple[str, ...] = (),
        unsupported: tuple[str, ...] = (),
        why: str = "",
    ) -> None:
        self.r = r
        self.el = el
        self.e = _Element(
            r,
            el,
            known,
            repeated=(*repeated, *unsupported, *_LAYOUT),
            free_text=_FREE,
        )
        self.lines = self.e.lines
        parent = local_name(el)
        bad = frozenset(unsupported)
        for c in iter_elements(el):
            if local_name(c) in bad:
                r.problem(
                    f"<{local_name(c)}> is not supported in <{parent}> of an orchestration"
                    + (f": {why}" if why else ""),
                    c,
                )

    def text(self, name: str) -> str | None:
        return self.e.text(name)

    def req(self, name: str) -> str:
        return self.e.req(name)

    def boolean(self, name: str) -> bool | None:
        return self.e.boolean(name)

    def integer(self, name: str) -> int | None:
        return self.e.integer(name)

    def enum(self, name: str, kind: type[E], *, required: bool = False) -> E | None:
        return self.e.enum(name, kind, required=required)

    def each(self, name: str) -> list[Element]:
        return self.e.each(name)

    def one(self, name: str) -> Element | None:
        return child(self.el, name)

    def location(self) -> tuple[int, int] | None:
        x, y = self.integer("locationX"), self.integer("locationY")
        return None if x is None or y is None else (x, y)


def parse_flow(content: bytes, file: str, *, full_name: str | None = None) -> FlowVersion:
    """Read one Flow file; raises :class:`~workroute.kernel.errors.DeployError` with
    every problem found. ``full_name`` defaults to the file's name."""
    name = full_name or flow_name(file)
    log = ProblemLog()
    root = parse_xml(content, file, root="Flow", component=name)
    r = Reader(file, log, name)
    process_el = child(root, "processType")
    process_type = _text(process_el) or FlowProcessType.FLOW.value
    result: FlowVersion
    if process_type == FlowProcessType.ORCHESTRATOR:
        result = _orchestration(r, root, name, file)
    else:
        stages = [c for c in iter_elements(root) if local_name(c) == "orchestratedStages"]
        if stages:
            kinds = sorted(
                {
                    _text(child(s, "actionType")) or "?"
                    for st in stages
                    for s in st.findall(qname("stageSteps"))
                }
            )
            what = (
                "a Salesforce CMS content approval workflow; its steps act on CMS content"
                if process_type == FlowProcessType.MANAGED_CONTENT_AUTHORING_WORKFLOW
                else "not an orchestration; its stages are run by Salesforce features"
            )
            r.problem(
                f"processType {process_type} is {what} ({', '.join(kinds) or 'no steps'}), "
                "which workroute does not have; workroute runs orchestrations of "
                "processType Orchestrator",
                process_el if process_el is not None else root,
            )
        result = _summary(r, root, name, file, process_type)
    log.raise_if_any()
    return result


def _text(el: Element | None) -> str | None:
    if el is None:
        return None
    text = "".join(str(t) for t in el.itertext()).strip()
    return text or None


def _summary(r: Reader, root: Element, name: str, file: str, process_type: str) -> FlowSummary:
    label_el = child(root, "label")
    status = _status(r, root)
    variables = tuple(_variable(r, v) for v in root.findall(qname("variables")))
    body = read_flow_body(r, root, variables=variables, process_type=process_type)
    return FlowSummary(
        name=name,
        label=_text(label_el) or name,
        process_type=process_type,
        status=status,
        api_version=_text(child(root, "apiVersion")),
        variables=variables,
        body=body,
        file=file,
    )


def _status(r: Reader, root: Element) -> FlowStatus:
    el = child(root, "status")
    text = _text(el)
    if text is None:
        return FlowStatus.DRAFT
    try:
        return FlowStatus(text)
    except ValueError:
        valid = ", ".join(s.value for s in FlowStatus)
        r.problem(f"'{text}' is not a valid value for <status>; valid: {valid}", el)
        return FlowStatus.DRAFT


_FLOW_KNOWN = (
    "apiVersion",
    "description",
    "interviewLabel",
    "label",
    "processType",
    "runInMode",
    "start",
    "status",
    *_FLOW_IGNORED,
)
_FLOW_REPEATED = (
    "constants",
    "decisions",
    "formulas",
    "orchestratedStages",
    "textTemplates",
    "variables",
    *_FLOW_IGNORED_REPEATED,
)


def _orchestration(r: Reader, root: Element, name: str, file: str) -> Orchestration:
    e = _Read(
        r,
        root,
        _FLOW_KNOWN,
        repeated=_FLOW_REPEATED,
        unsupported=_NOT_IN_ORCHESTRATIONS,
        why="an orchestration holds stages (orchestratedStages), decisions, variables, "
        "constants, formulas and text templates",
    )
    trigger, start, start_location = _start(r, e.one("start"))
    return Orchestration(
        name=name,
        label=e.req("label"),
        status=_status(r, root),
        api_version=e.text("apiVersion"),
        description=e.text("description"),
        interview_label=e.text("interviewLabel"),
        run_in_mode=e.enum("runInMode", FlowRunInMode),
        trigger=trigger,
        start=start,
        start_location=start_location,
        stages=tuple(_stage(r, s) for s in e.each("orchestratedStages")),
        decisions=tuple(_decision(r, d) for d in e.each("decisions")),
        variables=tuple(_variable(r, v) for v in e.each("variables")),
        formulas=tuple(_formula(r, f) for f in e.each("formulas")),
        constants=tuple(_constant(r, c) for c in e.each("constants")),
        text_templates=tuple(_text_template(r, t) for t in e.each("textTemplates")),
        file=file,
        lines=e.lines,
    )


def _start(
    r: Reader, el: Element | None
) -> tuple[Trigger | None, Connector | None, tuple[int, int] | None]:
    if el is None:
        return None, None, None
    e = _Read(
        r,
        el,
        (
            "locationX",
            "locationY",
            "connector",
            "doesRequireRecordChangedToMeetCriteria",
            "filterFormula",
            "filterLogic",
            "object",
            "recordTriggerType",
            "triggerType",
        ),
        repeated=("filters",),
        unsupported=_START_NOT_SUPPORTED,
        why="an orchestration starts on a record save or from the API",
    )
    connector = _connector(r, e.one("connector"))
    obj = e.text("object")
    trigger_type = e.enum("triggerType", FlowTriggerType)
    record_trigger_type = e.enum("recordTriggerType", RecordTriggerType)
    filters = tuple(_filter(r, f) for f in e.each("filters"))
    trigger: Trigger | None = None
    if obj is not None:
        if trigger_type is None and e.text("triggerType") is None:
            e.e.missing("triggerType")
        if record_trigger_type is None and e.text("recordTriggerType") is None:
            e.e.missing("recordTriggerType")
        trigger = Trigger(
            object=obj,
            record_trigger_type=record_trigger_type or RecordTriggerType.CREATE,
            trigger_type=trigger_type or FlowTriggerType.RECORD_AFTER_SAVE,
            filters=filters,
            filter_logic=e.text("filterLogic"),
            filter_formula=e.e.r.text(el, "filterFormula", strip=False),
            requires_record_changed=e.boolean("doesRequireRecordChangedToMeetCriteria"),
            lines=e.lines,
        )
    else:
        for name in (
            "triggerType",
            "recordTriggerType",
            "filters",
            "filterLogic",
            "filterFormula",
            "doesRequireRecordChangedToMeetCriteria",
        ):
            c = e.one(name)
            if c is not None and (
                name != "triggerType" or trigger_type is not FlowTriggerType.NONE
            ):
                r.problem(f"<{name}> needs the <object> whose records start the orchestration", c)
    return trigger, connector, e.location()


def _filter(r: Reader, el: Element) -> RecordFilter:
    e = _Read(r, el, ("field", "operator", "value"))
    return RecordFilter(
        field=e.req("field"),
        operator=e.enum("operator", RecordFilterOperator, required=True)
        or RecordFilterOperator.EQUAL_TO,
        value=_value(r, e.one("value")),
        lines=e.lines,
    )


def _connector(r: Reader, el: Element | None) -> Connector | None:
    if el is None:
        return None
    e = _Read(r, el, ("isGoTo", "targetReference"))
    return Connector(
        target=e.req("targetReference"), is_go_to=bool(e.boolean("isGoTo")), lines=e.lines
    )


def _value(r: Reader, el: Element | None) -> Value | None:
    """A FlowElementReferenceOrValue; None when empty or nil."""
    if el is None or el.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    e = _Read(r, el, tuple(k.value for k in ValueKind), unsupported=_VALUE_NOT_SUPPORTED)
    found = [c for c in iter_elements(el) if local_name(c) in {k.value for k in ValueKind}]
    if not found:
        return None
    if len({local_name(c) for c in found}) > 1:
        r.problem(
            f"<{local_name(el)}> holds one value; it has "
            + ", ".join(f"<{local_name(c)}>" for c in found),
            found[1],
        )
    c = found[0]
    kind = ValueKind(local_name(c))
    raw = "".join(str(t) for t in c.itertext())
    text = raw if kind is ValueKind.STRING else raw.strip()
    canonical = canonical_value(kind, text)
    if canonical is None:
        r.problem(f"'{text}' is not a valid <{kind.value}>", c)
        canonical = text
    return Value(kind=kind, text=canonical, lines=e.lines)


def _parameter(r: Reader, el: Element) -> Parameter:
    e = _Read(r, el, ("name", "value"))
    return Parameter(name=e.req("name"), value=_value(r, e.one("value")), lines=e.lines)


def _output(r: Reader, el: Element) -> OutputParameter:
    e = _Read(r, el, ("assignToReference", "name"))
    return OutputParameter(name=e.req("name"), assign_to=e.req("assignToReference"), lines=e.lines)


def _condition(r: Reader, el: Element) -> Condition:
    e = _Read(
        r,
        el,
        ("conditionType", "leftValueReference", "operator", "rightValue"),
        unsupported=("aggregationOperator", "conditionLogic", "conditions"),
        why="conditions are not nested in orchestrations",
    )
    return Condition(
        left=e.req("leftValueReference"),
        operator=e.enum("operator", ComparisonOperator, required=True)
        or ComparisonOperator.EQUAL_TO,
        right=_value(r, e.one("rightValue")),
        condition_type=e.text("conditionType"),
        lines=e.lines,
    )


def _criteria(r: Reader, e: _Read, logic: str, conditions: str) -> Criteria:
    items = tuple(_condition(r, c) for c in e.each(conditions))
    text = e.text(logic)
    if text is None and not items:
        return NO_CRITERIA
    lines = {k: v for k, v in e.lines.items() if k in (logic, conditions)}
    if "" in e.lines:
        lines[""] = e.lines[""]
    return Criteria(logic=text, conditions=items, lines=lines)


def _evaluation(r: Reader, e: _Read, prefix: str) -> EvaluationFlow | None:
    name = e.text(f"{prefix}ActionName")
    action_type = e.enum(f"{prefix}ActionType", EvaluationActionType)
    inputs = tuple(_parameter(r, p) for p in e.each(f"{prefix}ActionInputParameters"))
    outputs = tuple(_output(r, p) for p in e.each(f"{prefix}ActionOutputParameters"))
    if name is None:
        for part in ("ActionType", "ActionInputParameters", "ActionOutputParameters"):
            c = e.one(prefix + part)
            if c is not None:
                r.problem(f"<{prefix}{part}> needs <{prefix}ActionName>, the evaluation flow", c)
        return None
    if action_type is None and e.text(f"{prefix}ActionType") is None:
        e.e.missing(f"{prefix}ActionType")
    lines = {k: v for k, v in e.lines.items() if k.startswith(prefix + "Action")}
    return EvaluationFlow(
        name=name,
        action_type=action_type or EvaluationActionType.EVALUATION_FLOW,
        inputs=inputs,
        outputs=outputs,
        lines=lines,
    )


_STEP_KNOWN = (
    "description",
    "name",
    "actionName",
    "actionType",
    "canAssigneeEdit",
    "debugSimulateStep",
    "entryActionName",
    "entryActionType",
    "entryConditionLogic",
    "exitActionName",
    "exitActionType",
    "exitConditionLogic",
    "label",
    "requiresAsyncProcessing",
    "runAsUser",
    "shouldLock",
    "stepSubtype",
)
_STEP_REPEATED = (
    "assignees",
    "entryActionInputParameters",
    "entryActionOutputParameters",
    "entryConditions",
    "exitActionInputParameters",
    "exitActionOutputParameters",
    "exitConditions",
    "inputParameters",
    "outputParameters",
)


def _step(r: Reader, el: Element) -> Step:
    e = _Read(
        r,
        el,
        _STEP_KNOWN,
        repeated=_STEP_REPEATED,
        unsupported=("outputConfigParams",),
        why="it configures approval steps",
    )
    assignees = [_assignee(r, a) for a in e.each("assignees")]
    if len(assignees) > 1:
        r.problem(f"A step has one assignee; this one has {len(assignees)}", e.each("assignees")[1])
    return Step(
        name=e.req("name"),
        label=e.req("label"),
        action_type=e.enum("actionType", StepActionType, required=True)
        or StepActionType.STEP_BACKGROUND,
        action_name=e.req("actionName"),
        description=e.text("description"),
        assignee=assignees[0] if assignees else None,
        entry=_criteria(r, e, "entryConditionLogic", "entryConditions"),
        entry_flow=_evaluation(r, e, "entry"),
        exit=_criteria(r, e, "exitConditionLogic", "exitConditions"),
        exit_flow=_evaluation(r, e, "exit"),
        inputs=tuple(_parameter(r, p) for p in e.each("inputParameters")),
        outputs=tuple(_output(r, p) for p in e.each("outputParameters")),
        can_assignee_edit=e.boolean("canAssigneeEdit"),
        debug_simulate_step=e.boolean("debugSimulateStep"),
        requires_async_processing=e.boolean("requiresAsyncProcessing"),
        run_as_user=e.boolean("runAsUser"),
        should_lock=e.boolean("shouldLock"),
        step_subtype=e.text("stepSubtype"),
        lines=e.lines,
    )


def _assignee(r: Reader, el: Element) -> Assignee:
    e = _Read(r, el, ("assignee", "assigneeType"))
    return Assignee(
        type=e.enum("assigneeType", AssigneeType, required=True) or AssigneeType.INVALID,
        value=_value(r, e.one("assignee")),
        lines=e.lines,
    )


def _stage(r: Reader, el: Element) -> Stage:
    e = _Read(
        r,
        el,
        (
            "description",
            "name",
            "label",
            "locationX",
            "locationY",
            "connector",
            "exitActionName",
            "exitActionType",
            "exitConditionLogic",
            "faultConnector",
        ),
        repeated=(
            "exitActionInputParameters",
            "exitActionOutputParameters",
            "exitConditions",
            "stageSteps",
        ),
        unsupported=("elementSubtype", "group"),
    )
    return Stage(
        name=e.req("name"),
        label=e.req("label"),
        description=e.text("description"),
        steps=tuple(_step(r, s) for s in e.each("stageSteps")),
        exit=_criteria(r, e, "exitConditionLogic", "exitConditions"),
        exit_flow=_evaluation(r, e, "exit"),
        connector=_connector(r, e.one("connector")),
        fault_connector=_connector(r, e.one("faultConnector")),
        location=e.location(),
        lines=e.lines,
    )


def _decision(r: Reader, el: Element) -> Decision:
    e = _Read(
        r,
        el,
        (
            "description",
            "name",
            "label",
            "locationX",
            "locationY",
            "defaultConnector",
            "defaultConnectorLabel",
        ),
        repeated=("rules",),
        unsupported=("attributes", "elementSubtype", "group"),
    )
    rules = []
    for rule_el in e.each("rules"):
        x = _Read(
            r,
            rule_el,
            (
                "description",
                "name",
                "conditionLogic",
                "connector",
                "doesRequireRecordChangedToMeetCriteria",
                "label",
            ),
            repeated=("conditions",),
            unsupported=("attributes",),
        )
        if x.text("conditionLogic") is None:
            x.e.missing("conditionLogic")
        rules.append(
            DecisionRule(
                name=x.req("name"),
                label=x.req("label"),
                criteria=_criteria(r, x, "conditionLogic", "conditions"),
                connector=_connector(r, x.one("connector")),
                description=x.text("description"),
                does_require_record_changed=x.boolean("doesRequireRecordChangedToMeetCriteria"),
                lines=x.lines,
            )
        )
    return Decision(
        name=e.req("name"),
        label=e.req("label"),
        rules=tuple(rules),
        default_connector=_connector(r, e.one("defaultConnector")),
        default_connector_label=e.text("defaultConnectorLabel"),
        description=e.text("description"),
        location=e.location(),
        lines=e.lines,
    )


def _variable(r: Reader, el: Element) -> Variable:
    e = _Read(
        r,
        el,
        (
            "description",
            "name",
            "apexClass",
            "dataType",
            "isCollection",
            "isInput",
            "isOutput",
            "objectType",
            "scale",
            "value",
        ),
    )
    return Variable(
        name=e.req("name"),
        data_type=e.enum("dataType", FlowDataType, required=True) or FlowDataType.STRING,
        is_collection=e.boolean("isCollection"),
        is_input=e.boolean("isInput"),
        is_output=e.boolean("isOutput"),
        object_type=e.text("objectType"),
        scale=e.integer("scale"),
        value=_value(r, e.one("value")),
        description=e.text("description"),
        apex_class=e.text("apexClass"),
        lines=e.lines,
    )


def _formula(r: Reader, el: Element) -> Formula:
    e = _Read(r, el, ("description", "name", "dataType", "expression", "scale"))
    return Formula(
        name=e.req("name"),
        expression=e.req("expression"),
        data_type=e.enum("dataType", FlowDataType),
        scale=e.integer("scale"),
        description=e.text("description"),
        lines=e.lines,
    )


def _constant(r: Reader, el: Element) -> Constant:
    e = _Read(r, el, ("description", "name", "dataType", "value"))
    return Constant(
        name=e.req("name"),
        data_type=e.enum("dataType", FlowDataType, required=True) or FlowDataType.STRING,
        value=_value(r, e.one("value")),
        description=e.text("description"),
        lines=e.lines,
    )


def _text_template(r: Reader, el: Element) -> TextTemplate:
    e = _Read(r, el, ("description", "name", "isViewedAsPlainText", "text"))
    return TextTemplate(
        name=e.req("name"),
        text=e.req("text"),
        is_viewed_as_plain_text=e.boolean("isViewedAsPlainText"),
        description=e.text("description"),
        lines=e.lines,
    )


# -- writing ------------------------------------------------------------------------------


def _w(parent: Element, name: str, value: str | bool | int | StrEnum | None) -> None:
    add_value(parent, name, value.value if isinstance(value, StrEnum) else value)


def _w_value(parent: Element, name: str, value: Value | None, *, empty: bool = False) -> None:
    if value is None:
        if empty:
            add_element(parent, name)
        return
    el = add_element(parent, name)
    _w(el, value.kind.value, value.text)


def _w_connector(parent: Element, name: str, c: Connector | None) -> None:
    if c is None:
        return
    el = add_element(parent, name)
    if c.is_go_to:
        _w(el, "isGoTo", True)
    _w(el, "targetReference", c.target)


def _w_location(el: Element, location: tuple[int, int] | None) -> None:
    if location is not None:
        _w(el, "locationX", location[0])
        _w(el, "locationY", location[1])


def _w_parameters(parent: Element, name: str, params: tuple[Parameter, ...]) -> None:
    for p in params:
        el = add_element(parent, name)
        _w(el, "name", p.name)
        _w_value(el, "value", p.value)


def _w_outputs(parent: Element, name: str, outputs: tuple[OutputParameter, ...]) -> None:
    for o in outputs:
        el = add_element(parent, name)
        _w(el, "assignToReference", o.assign_to)
        _w(el, "name", o.name)


def _w_conditions(parent: Element, name: str, conditions: tuple[Condition, ...]) -> None:
    for c in conditions:
        el = add_element(parent, name)
        _w(el, "conditionType", c.condition_type)
        _w(el, "leftValueReference", c.left)
        _w(el, "operator", c.operator)
        _w_value(el, "rightValue", c.right)


def _w_evaluation(parent: Element, prefix: str, flow: EvaluationFlow | None, part: str) -> None:
    """One part of an evaluation flow (``InputParameters``, ``Name``...), in place."""
    if flow is None:
        return
    if part == "InputParameters":
        _w_parameters(parent, f"{prefix}ActionInputParameters", flow.inputs)
    elif part == "Name":
        _w(parent, f"{prefix}ActionName", flow.name)
    elif part == "OutputParameters":
        _w_outputs(parent, f"{prefix}ActionOutputParameters", flow.outputs)
    else:
        _w(parent, f"{prefix}ActionType", flow.action_type)


def _w_exit(parent: Element, prefix: str, flow: EvaluationFlow | None, criteria: Criteria) -> None:
    for part in ("InputParameters", "Name", "OutputParameters", "Type"):
        _w_evaluation(parent, prefix, flow, part)
    _w(parent, f"{prefix}ConditionLogic", criteria.logic)
    _w_conditions(parent, f"{prefix}Conditions", criteria.conditions)


def _w_step(parent: Element, s: Step) -> None:
    el = add_element(parent, "stageSteps")
    _w(el, "description", s.description)
    _w(el, "name", s.name)
    _w(el, "actionName", s.action_name)
    _w(el, "actionType", s.action_type)
    if s.assignee is not None:
        a = add_element(el, "assignees")
        _w_value(a, "assignee", s.assignee.value)
        _w(a, "assigneeType", s.assignee.type)
    _w(el, "canAssigneeEdit", s.can_assignee_edit)
    _w(el, "debugSimulateStep", s.debug_simulate_step)
    _w_exit(el, "entry", s.entry_flow, s.entry)
    _w_exit(el, "exit", s.exit_flow, s.exit)
    _w_parameters(el, "inputParameters", s.inputs)
    _w(el, "label", s.label)
    _w_outputs(el, "outputParameters", s.outputs)
    _w(el, "requiresAsyncProcessing", s.requires_async_processing)
    _w(el, "runAsUser", s.run_as_user)
    _w(el, "shouldLock", s.should_lock)
    _w(el, "stepSubtype", s.step_subtype)


def _w_stage(root: Element, s: Stage) -> None:
    el = add_element(root, "orchestratedStages")
    _w(el, "description", s.description)
    _w(el, "name", s.name)
    _w(el, "label", s.label)
    _w_location(el, s.location)
    _w_connector(el, "connector", s.connector)
    _w_exit(el, "exit", s.exit_flow, s.exit)
    _w_connector(el, "faultConnector", s.fault_connector)
    for step in s.steps:
        _w_step(el, step)


def _w_decision(root: Element, d: Decision) -> None:
    el = add_element(root, "decisions")
    _w(el, "description", d.description)
    _w(el, "name", d.name)
    _w(el, "label", d.label)
    _w_location(el, d.location)
    _w_connector(el, "defaultConnector", d.default_connector)
    _w(el, "defaultConnectorLabel", d.default_connector_label)
    for rule in d.rules:
        x = add_element(el, "rules")
        _w(x, "description", rule.description)
        _w(x, "name", rule.name)
        _w(x, "conditionLogic", rule.criteria.logic)
        _w_conditions(x, "conditions", rule.criteria.conditions)
        _w_connector(x, "connector", rule.connector)
        _w(x, "doesRequireRecordChangedToMeetCriteria", rule.does_require_record_changed)
        _w(x, "label", rule.label)


def _w_start(root: Element, o: Orchestration) -> None:
    t = o.trigger
    if t is None and o.start is None and o.start_location is None:
        return
    el = add_element(root, "start")
    _w_location(el, o.start_location)
    _w_connector(el, "connector", o.start)
    if t is None:
        return
    _w(el, "doesRequireRecordChangedToMeetCriteria", t.requires_record_changed)
    _w(el, "filterFormula", t.filter_formula)
    _w(el, "filterLogic", t.filter_logic)
    for f in t.filters:
        x = add_element(el, "filters")
        _w(x, "field", f.field)
        _w(x, "operator", f.operator)
        _w_value(x, "value", f.value)
    _w(el, "object", t.object)
    _w(el, "recordTriggerType", t.record_trigger_type)
    _w(el, "triggerType", t.trigger_type)


def _w_variable(root: Element, v: Variable) -> None:
    el = add_element(root, "variables")
    _w(el, "description", v.description)
    _w(el, "name", v.name)
    _w(el, "apexClass", v.apex_class)
    _w(el, "dataType", v.data_type)
    _w(el, "isCollection", v.is_collection)
    _w(el, "isInput", v.is_input)
    _w(el, "isOutput", v.is_output)
    _w(el, "objectType", v.object_type)
    _w(el, "scale", v.scale)
    _w_value(el, "value", v.value)


def orchestration_to_xml(o: Orchestration) -> bytes:
    """The Flow XML of ``o``, elements in the order the Metadata API writes them."""
    root = new_root("Flow")
    _w(root, "apiVersion", o.api_version)
    for c in o.constants:
        el = add_element(root, "constants")
        _w(el, "description", c.description)
        _w(el, "name", c.name)
        _w(el, "dataType", c.data_type)
        _w_value(el, "value", c.value)
    for d in o.decisions:
        _w_decision(root, d)
    _w(root, "description", o.description)
    for f in o.formulas:
        el = add_element(root, "formulas")
        _w(el, "description", f.description)
        _w(el, "name", f.name)
        _w(el, "dataType", f.data_type)
        _w(el, "expression", f.expression)
        _w(el, "scale", f.scale)
    _w(root, "interviewLabel", o.interview_label)
    _w(root, "label", o.label)
    for s in o.stages:
        _w_stage(root, s)
    _w(root, "processType", o.process_type)
    _w(root, "runInMode", o.run_in_mode)
    _w_start(root, o)
    _w(root, "status", o.status)
    for t in o.text_templates:
        el = add_element(root, "textTemplates")
        _w(el, "description", t.description)
        _w(el, "name", t.name)
        _w(el, "isViewedAsPlainText", t.is_viewed_as_plain_text)
        _w(el, "text", t.text)
    for v in o.variables:
        _w_variable(root, v)
    return to_bytes(root)
