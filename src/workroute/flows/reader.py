"""Reading a flow's body from its Flow XML (see :mod:`workroute.flows.model`).

The reader is lenient where Salesforce files carry more than the engine runs: element
kinds it does not run, and children of the elements it reads that it does not need
(layout, ``processMetadataValues``, Lightning component settings), are skipped
without a problem, so every file Salesforce writes still deploys. What it reports,
with file, line and element, is what would make a run go wrong: a value of the wrong
type, an unknown screen field type or data type, an unknown assignment operator, a
missing name. References, connectors and formulas are checked afterwards by
:func:`workroute.flows.checks.check_body`, which :func:`read_flow_body` calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from workroute.flows._xml import El
from workroute.flows.model import (
    ActionCall,
    Assignment,
    AssignmentItem,
    Choice,
    ChoiceSource,
    FieldValue,
    FlowBody,
    PicklistChoiceSet,
    RecordChoiceSet,
    RecordCreate,
    RecordUpdate,
    Screen,
    ScreenField,
)
from workroute.flows.vocabulary import SCREEN_DATA_TYPES, AssignmentOperator, ScreenFieldType
from workroute.metadata.xmlio import Element, Reader, child, line_of
from workroute.orchestration.definition import Decision, DecisionRule
from workroute.orchestration.resources import (
    Constant,
    Formula,
    RecordFilter,
    TextTemplate,
    Variable,
)
from workroute.orchestration.types import Lines
from workroute.orchestration.values import (
    NO_CRITERIA,
    Condition,
    Connector,
    Criteria,
    OutputParameter,
    Parameter,
)
from workroute.orchestration.vocabulary import (
    ComparisonOperator,
    FlowDataType,
    RecordFilterOperator,
)

__all__ = ["read_flow_body"]

#: Top-level elements that are named flow elements the engine does not run.
_OTHER_ELEMENTS = (
    "apexPluginCalls",
    "collectionProcessors",
    "customErrors",
    "loops",
    "recordDeletes",
    "recordLookups",
    "recordRollbacks",
    "steps",
    "subflows",
    "transforms",
    "waits",
)


# -- the body -----------------------------------------------------------------------------


def read_flow_body(
    r: Reader, root: Element, *, variables: tuple[Variable, ...], process_type: str
) -> FlowBody:
    """The body of the flow whose ``<Flow>`` element is ``root``; problems go to
    ``r``. ``variables`` are the flow's (read by the caller); ``process_type`` decides
    the implicit resources (an evaluation flow's ``isOrchestrationConditionMet``)."""
    from workroute.flows.checks import check_body  # checks read the model this builds

    top = El(r, root)
    if top.each("orchestratedStages"):
        return FlowBody(lines=top.lines)  # refused by the Flow reader: not a flow body
    start = None
    start_el = child(root, "start")
    if start_el is not None:
        start = El(r, start_el).connector()
    if start is None and (ref := top.text("startElementReference")) is not None:
        start = Connector(target=ref, lines=_lines_of(child(root, "startElementReference")))
    others: dict[str, str] = {}
    for kind in _OTHER_ELEMENTS:
        for el in top.each(kind):
            name = El(r, el).text("name")
            if name is not None:
                others[name] = kind
    body = FlowBody(
        start=start,
        screens=tuple(_screen(r, el) for el in top.each("screens")),
        assignments=tuple(_assignment(r, el) for el in top.each("assignments")),
        decisions=tuple(_decision(r, el) for el in top.each("decisions")),
        record_updates=tuple(_record_update(r, el) for el in top.each("recordUpdates")),
        record_creates=tuple(_record_create(r, el) for el in top.each("recordCreates")),
        action_calls=tuple(_action_call(r, el) for el in top.each("actionCalls")),
        choices=(
            *(_choice(r, el) for el in top.each("choices")),
            *(c for el in top.each("dynamicChoiceSets") if (c := _choice_set(r, el))),
        ),
        formulas=tuple(_formula(r, el) for el in top.each("formulas")),
        constants=tuple(_constant(r, el) for el in top.each("constants")),
        text_templates=tuple(_text_template(r, el) for el in top.each("textTemplates")),
        other_elements=MappingProxyType(others),
        lines=top.lines,
    )
    check_body(r, body, variables=variables, process_type=process_type)
    return body


def _lines_of(el: Element | None) -> Lines:
    line = None if el is None else line_of(el)
    return MappingProxyType({} if line is None else {"": line})


def _screen(r: Reader, el: Element) -> Screen:
    e = El(r, el)
    name = e.req("name")
    return Screen(
        name=name,
        label=e.text("label") or name,
        fields=tuple(_screen_fields(r, e.each("fields"))),
        connector=e.connector(),
        lines=e.lines,
    )


def _screen_fields(r: Reader, els: list[Element]) -> Iterable[ScreenField]:
    for el in els:
        e = El(r, el)
        field_type = e.enum("fieldType", ScreenFieldType)
        if field_type is not None and field_type.is_section:
            yield from _screen_fields(r, e.each("fields"))
            continue
        name = e.req("name")
        if field_type is None:
            if e.text("fieldType") is None and e.text("extensionName") is None:
                r.problem(f"Screen field '{name}' requires <fieldType>", el, element="fieldType")
            continue
        if not field_type.is_runnable:
            continue
        data_type = e.enum("dataType", FlowDataType, valid=SCREEN_DATA_TYPES)
        validation = child(el, "validationRule")
        rule = El(r, validation) if validation is not None else None
        yield ScreenField(
            name=name,
            field_type=field_type,
            data_type=data_type,
            label=e.text("fieldText", strip=False),
            help_text=e.text("helpText", strip=False),
            required=bool(e.boolean("isRequired")),
            choices=e.texts("choiceReferences"),
            default=e.value("defaultValue"),
            default_choice=e.text("defaultSelectedChoiceReference"),
            scale=e.integer("scale"),
            validation=rule.text("formulaExpression") if rule else None,
            error_message=rule.text("errorMessage", strip=False) if rule else None,
            lines=e.lines,
        )


def _choice(r: Reader, el: Element) -> ChoiceSource:
    e = El(r, el)
    name = e.req("name")
    return Choice(
        name=name,
        label=e.text("choiceText", strip=False) or name,
        data_type=e.enum("dataType", FlowDataType),
        value=e.value("value"),
        lines=e.lines,
    )


def _choice_set(r: Reader, el: Element) -> ChoiceSource | None:
    e = El(r, el)
    name = e.req("name")
    picklist_field = e.text("picklistField")
    if picklist_field is not None:
        obj = e.text("picklistObject") or e.text("object")
        if obj is None:
            r.problem(
                f"Choice set '{name}' names picklist field '{picklist_field}' without its "
                "<picklistObject>",
                el,
                element="picklistObject",
            )
            return None
        return PicklistChoiceSet(name=name, object=obj, field=picklist_field, lines=e.lines)
    obj = e.text("object")
    if obj is None:
        r.problem(
            f"Choice set '{name}' needs a <picklistField> and <picklistObject>, or the "
            "<object> whose records it lists",
            el,
            element="object",
        )
        return None
    return RecordChoiceSet(
        name=name,
        object=obj,
        display_field=e.text("displayField"),
        value_field=e.text("valueField"),
        filters=tuple(_filter(r, f) for f in e.each("filters")),
        filter_logic=e.text("filterLogic"),
        sort_field=e.text("sortField"),
        descending=(e.text("sortOrder") or "").lower() == "desc",
        limit=e.integer("limit"),
        lines=e.lines,
    )


def _filter(r: Reader, el: Element) -> RecordFilter:
    e = El(r, el)
    return RecordFilter(
        field=e.req("field"),
        operator=e.enum("operator", RecordFilterOperator) or RecordFilterOperator.EQUAL_TO,
        value=e.value("value"),
        lines=e.lines,
    )


def _assignment(r: Reader, el: Element) -> Assignment:
    e = El(r, el)
    name = e.req("name")
    items = []
    for item in e.each("assignmentItems"):
        x = El(r, item)
        items.append(
            AssignmentItem(
                target=x.req("assignToReference"),
                operator=x.enum("operator", AssignmentOperator) or AssignmentOperator.ASSIGN,
                value=x.value("value"),
                lines=x.lines,
            )
        )
    return Assignment(
        name=name,
        label=e.text("label") or name,
        items=tuple(items),
        connector=e.connector(),
        lines=e.lines,
    )


def _criteria(r: Reader, e: El, logic: str, conditions: str) -> Criteria:
    items = []
    for c in e.each(conditions):
        x = El(r, c)
        items.append(
            Condition(
                left=x.req("leftValueReference"),
                operator=x.enum("operator", ComparisonOperator) or ComparisonOperator.EQUAL_TO,
                right=x.value("rightValue"),
                lines=x.lines,
            )
        )
    text = e.text(logic)
    if text is None and not items:
        return NO_CRITERIA
    return Criteria(logic=text, conditions=tuple(items), lines=e.lines)


def _decision(r: Reader, el: Element) -> Decision:
    e = El(r, el)
    name = e.req("name")
    rules = []
    for rule_el in e.each("rules"):
        x = El(r, rule_el)
        rule_name = x.req("name")
        rules.append(
            DecisionRule(
                name=rule_name,
                label=x.text("label") or rule_name,
                criteria=_criteria(r, x, "conditionLogic", "conditions"),
                connector=x.connector(),
                lines=x.lines,
            )
        )
    return Decision(
        name=name,
        label=e.text("label") or name,
        rules=tuple(rules),
        default_connector=e.connector("defaultConnector"),
        default_connector_label=e.text("defaultConnectorLabel"),
        lines=e.lines,
    )


def _assignments(r: Reader, e: El) -> tuple[FieldValue, ...]:
    out = []
    for el in e.each("inputAssignments"):
        x = El(r, el)
        out.append(FieldValue(field=x.req("field"), value=x.value("value"), lines=x.lines))
    return tuple(out)


def _record_update(r: Reader, el: Element) -> RecordUpdate:
    e = El(r, el)
    name = e.req("name")
    input_reference = e.text("inputReference")
    obj = e.text("object")
    if input_reference is None and obj is None:
        r.problem(
            f"Record update '{name}' needs an <inputReference> (the record to save) or the "
            "<object> whose records its <filters> find",
            el,
            element="object",
        )
    return RecordUpdate(
        name=name,
        label=e.text("label") or name,
        input_reference=input_reference,
        object=obj,
        filters=tuple(_filter(r, f) for f in e.each("filters")),
        filter_logic=e.text("filterLogic"),
        assignments=_assignments(r, e),
        connector=e.connector(),
        fault_connector=e.connector("faultConnector"),
        lines=e.lines,
    )


def _record_create(r: Reader, el: Element) -> RecordCreate:
    e = El(r, el)
    name = e.req("name")
    input_reference = e.text("inputReference")
    obj = e.text("object")
    if input_reference is None and obj is None:
        r.problem(
            f"Record create '{name}' needs the <object> to create (or an <inputReference>)",
            el,
            element="object",
        )
    return RecordCreate(
        name=name,
        label=e.text("label") or name,
        object=obj,
        input_reference=input_reference,
        assignments=_assignments(r, e),
        assign_id_to=e.text("assignRecordIdToReference"),
        store_output=bool(e.boolean("storeOutputAutomatically")),
        connector=e.connector(),
        fault_connector=e.connector("faultConnector"),
        lines=e.lines,
    )


def _action_call(r: Reader, el: Element) -> ActionCall:
    e = El(r, el)
    name = e.req("name")
    inputs = []
    for p in e.each("inputParameters"):
        x = El(r, p)
        inputs.append(Parameter(name=x.req("name"), value=x.value("value"), lines=x.lines))
    outputs = []
    for p in e.each("outputParameters"):
        x = El(r, p)
        outputs.append(
            OutputParameter(name=x.req("name"), assign_to=x.req("assignToReference"), lines=x.lines)
        )
    return ActionCall(
        name=name,
        label=e.text("label") or name,
        action_type=e.req("actionType"),
        action_name=e.req("actionName"),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        store_output=bool(e.boolean("storeOutputAutomatically")),
        connector=e.connector(),
        fault_connector=e.connector("faultConnector"),
        lines=e.lines,
    )


def _formula(r: Reader, el: Element) -> Formula:
    e = El(r, el)
    return Formula(
        name=e.req("name"),
        expression=e.req("expression"),
        data_type=e.enum("dataType", FlowDataType),
        scale=e.integer("scale"),
        lines=e.lines,
    )


def _constant(r: Reader, el: Element) -> Constant:
    e = El(r, el)
    return Constant(
        name=e.req("name"),
        data_type=e.enum("dataType", FlowDataType) or FlowDataType.STRING,
        value=e.value("value"),
        lines=e.lines,
    )


def _text_template(r: Reader, el: Element) -> TextTemplate:
    e = El(r, el)
    return TextTemplate(
        name=e.req("name"),
        text=e.text("text", strip=False) or "",
        is_viewed_as_plain_text=e.boolean("isViewedAsPlainText"),
        lines=e.lines,
    )
