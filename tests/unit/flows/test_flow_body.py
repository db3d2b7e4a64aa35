"""Reading flow bodies from Flow XML: every element the engine runs, what it leaves out
(without breaking the file), and every problem a deploy sees, with file, line and
element."""

from __future__ import annotations

from pathlib import Path

import pytest

from workroute.flows.model import (
    ActionCall,
    Choice,
    FlowBody,
    PicklistChoiceSet,
    RecordChoiceSet,
    RecordCreate,
    RecordUpdate,
)
from workroute.flows.vocabulary import AssignmentOperator, ScreenFieldType
from workroute.kernel.errors import DeployError
from workroute.metadata.flow import parse_flow
from workroute.orchestration.definition import FlowSummary
from workroute.orchestration.values import Value
from workroute.orchestration.vocabulary import (
    ComparisonOperator,
    FlowDataType,
    RecordFilterOperator,
    ValueKind,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "flows"
NS = "http://soap.sforce.com/2006/04/metadata"


def read(name: str) -> FlowSummary:
    path = FIXTURES / f"{name}.flow-meta.xml"
    model = parse_flow(path.read_bytes(), f"flows/{path.name}")
    assert isinstance(model, FlowSummary)
    return model


def body_of(model: FlowSummary) -> FlowBody:
    assert model.body is not None
    return model.body


def flow_xml(body: str, process_type: str = "AutoLaunchedFlow") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Flow xmlns="{NS}">\n<label>T</label>\n'
        f"<processType>{process_type}</processType>\n{body}\n<status>Active</status>\n</Flow>\n"
    ).encode()


def problems(content: bytes) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(DeployError) as exc:
        parse_flow(content, "flows/T.flow-meta.xml")
    return [(p.line, p.element, p.message) for p in exc.value.problems]


def test_a_screen_flow_body() -> None:
    model = read("Review_Case")
    body = body_of(model)
    assert body.start is not None and body.start.target == "Review"
    review, details = body.screens
    assert (review.label, review.connector and review.connector.target) == (
        "Review the case",
        "Details",
    )
    fields = {f.name: f for f in review.fields}
    # The section and its column are read in place of their fields; the component is left out.
    assert list(fields) == ["Intro", "Subject", "Comment", "Approval", "Priority", "Hours", "Cost"]
    assert fields["Intro"].field_type is ScreenFieldType.DISPLAY_TEXT
    assert fields["Intro"].label == "<p>Case {!$Record.CaseNumber}: {!$Record.Subject}</p>"
    subject = fields["Subject"]
    assert (subject.field_type, subject.data_type, subject.required) == (
        ScreenFieldType.INPUT_FIELD,
        FlowDataType.STRING,
        True,
    )
    assert subject.default == Value(kind=ValueKind.STRING, text="{!$Record.Subject}")
    assert fields["Comment"].field_type is ScreenFieldType.LARGE_TEXT_AREA
    assert fields["Comment"].value_type is FlowDataType.STRING
    approval = fields["Approval"]
    assert approval.choices == ("Choice_Yes", "Choice_No")
    assert approval.default_choice == "Choice_No"
    assert fields["Priority"].default == Value.reference("defaultPriority")
    hours = fields["Hours"]
    assert (hours.data_type, hours.scale) == (FlowDataType.NUMBER, 1)
    assert hours.validation == "{!Hours} < {!maxHours}"
    assert hours.error_message == "<p>Hours must be below {!maxHours}</p>"
    assert [f.field_type for f in details.fields] == [
        ScreenFieldType.INPUT_FIELD,
        ScreenFieldType.INPUT_FIELD,
        ScreenFieldType.INPUT_FIELD,
        ScreenFieldType.MULTI_SELECT_CHECKBOXES,
        ScreenFieldType.PASSWORD_FIELD,
    ]
    assert body.choice("choice_yes") == Choice(
        name="Choice_Yes",
        label="Yes, approve",
        data_type=FlowDataType.STRING,
        value=Value.string("yes"),
    )
    assert body.choice("Tag_Billing") == Choice(
        name="Tag_Billing", label="Billing", data_type=FlowDataType.STRING
    )
    assert body.choice("Priority_Values") == PicklistChoiceSet(
        name="Priority_Values", object="Case", field="Priority"
    )
    [assignment] = body.assignments
    assert [(i.target, i.operator) for i in assignment.items] == [
        ("approved", AssignmentOperator.ASSIGN),
        ("reviewComment", AssignmentOperator.ASSIGN),
        ("$Record.Priority", AssignmentOperator.ASSIGN),
    ]
    assert body.record_updates == (
        RecordUpdate(name="Save_Case", label="Save Case", input_reference="$Record"),
    )
    [formula] = body.formulas
    assert (formula.name, formula.data_type, formula.expression) == (
        "isApproved",
        FlowDataType.BOOLEAN,
        "{!Approval} = 'yes'",
    )
    # Lines are kept for problems found later.
    assert hours.lines[""] > review.lines[""]


def test_an_evaluation_flow_body() -> None:
    model = read("Case_Is_Urgent")
    assert model.is_evaluation_flow
    body = body_of(model)
    [decision] = body.decisions
    [rule] = decision.rules
    [condition] = rule.criteria.conditions
    assert (condition.left, condition.operator, condition.right) == (
        "urgent",
        ComparisonOperator.EQUAL_TO,
        Value.boolean(True),
    )
    assert rule.connector is not None and rule.connector.target == "Condition_Met"
    assert decision.default_connector is None
    [met] = body.assignments
    assert met.items[0].target == "isOrchestrationConditionMet"


def test_an_autolaunched_flow_body() -> None:
    body = body_of(read("Close_Case"))
    [update] = body.record_updates
    assert update.object == "Case" and update.input_reference is None
    assert [(f.field, f.operator, f.value) for f in update.filters] == [
        ("Id", RecordFilterOperator.EQUAL_TO, Value.reference("recordId"))
    ]
    assert [(a.field, a.value) for a in update.assignments] == [
        ("Status", Value.string("Closed")),
        ("Reason", Value.reference("reason")),
    ]
    [create] = body.record_creates
    assert isinstance(create, RecordCreate)
    assert (create.object, create.assign_id_to, create.store_output) == ("Task", "taskId", True)
    email, chat, score = body.action_calls
    assert (email.action_type, email.action_name) == ("emailSimple", "emailSimple")
    assert [p.name for p in email.inputs] == [
        "emailAddresses",
        "senderAddress",
        "emailSubject",
        "emailBody",
    ]
    assert chat == ActionCall(
        name="Notify_Chat",
        label="Notify Chat",
        action_type="apex",
        action_name="ChatWebhook",
        inputs=chat.inputs,
        connector=chat.connector,
    )
    assert [(o.name, o.assign_to) for o in score.outputs] == [("score", "score")]
    [template] = body.text_templates
    assert template.text.startswith("Hello,\n\nyour case")


def test_elements_the_engine_does_not_run_are_left_out_but_named() -> None:
    model = parse_flow(
        flow_xml(
            "<start><connector><targetReference>Get_Case</targetReference></connector></start>"
            "<recordLookups><name>Get_Case</name><label>Get</label><object>Case</object>"
            "<connector><targetReference>Each</targetReference></connector>"
            "<getFirstRecordOnly>true</getFirstRecordOnly>"
            "<storeOutputAutomatically>true</storeOutputAutomatically></recordLookups>"
            "<loops><name>Each</name><label>Each</label><collectionReference>Get_Case"
            "</collectionReference><iterationOrder>Asc</iterationOrder></loops>"
            "<waits><name>Pause</name><label>Pause</label></waits>"
            "<assignments><name>Use</name><label>Use</label><assignmentItems>"
            "<assignToReference>subject</assignToReference><operator>Assign</operator>"
            "<value><elementReference>Get_Case.Subject</elementReference></value>"
            "</assignmentItems></assignments>"
            "<variables><name>subject</name><dataType>String</dataType></variables>"
        ),
        "flows/T.flow-meta.xml",
    )
    assert isinstance(model, FlowSummary)
    body = body_of(model)
    assert dict(body.other_elements) == {
        "Get_Case": "recordLookups",
        "Each": "loops",
        "Pause": "waits",
    }
    assert [e.name for e in body.elements()] == ["Use"]


def test_a_start_element_reference_and_record_choice_sets() -> None:
    model = parse_flow(
        flow_xml(
            "<startElementReference>Pick</startElementReference>"
            "<dynamicChoiceSets><name>Open_Cases</name><dataType>String</dataType>"
            "<displayField>Subject</displayField><filterLogic>and</filterLogic>"
            "<filters><field>Status</field><operator>NotEqualTo</operator>"
            "<value><stringValue>Closed</stringValue></value></filters>"
            "<object>Case</object><sortField>Subject</sortField><sortOrder>Desc</sortOrder>"
            "<limit>5</limit><valueField>Id</valueField></dynamicChoiceSets>"
            "<screens><name>Pick</name><label>Pick</label><fields><name>Case</name>"
            "<choiceReferences>Open_Cases</choiceReferences><dataType>String</dataType>"
            "<fieldText>Case</fieldText><fieldType>DropdownBox</fieldType></fields></screens>",
            "Flow",
        ),
        "flows/T.flow-meta.xml",
    )
    assert isinstance(model, FlowSummary)
    body = body_of(model)
    assert body.start is not None and body.start.target == "Pick"
    assert body.choice("Open_Cases") == RecordChoiceSet(
        name="Open_Cases",
        object="Case",
        display_field="Subject",
        value_field="Id",
        filters=body.choices[0].filters,  # type: ignore[union-attr]
        filter_logic="and",
        sort_field="Subject",
        descending=True,
        limit=5,
    )


def test_the_problems_a_deploy_sees() -> None:
    content = (FIXTURES / "Broken_Body.flow-meta.xml").read_bytes()
    assert problems(content) == [
        (
            38,
            "dataType",
            "'Picklist' is not a valid value for <dataType>; valid: String, Number, "
            "Currency, Boolean, Date, DateTime",
        ),
        (
            45,
            "choiceReferences",
            "'Nowhere' is no variable, formula, constant, text template, choice, screen field "
            "or element of this flow",
        ),
        (
            14,
            "connector",
            "'Set_Total' connects to 'No_Such_Element', which is no element of this flow",
        ),
        (
            11,
            "value",
            "'missingVariable' is no variable, formula, constant, text template, choice, "
            "screen field or element of this flow",
        ),
        (
            21,
            "expression",
            "Formula 'broken': Syntax error. Missing operand after '+' (line 1, column 11)",
        ),
        (
            26,
            "expression",
            "Formula 'wrongType': Incorrect parameter type for operator '&'. Expected Text, "
            "received Number (line 1, column 3)",
        ),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "<screens><name>S</name><label>S</label><fields><name>F</name>"
            "<fieldType>Slider</fieldType></fields></screens>",
            (5, "fieldType", "'Slider' is not a valid value for <fieldType>"),
        ),
        (
            "<screens><name>S</name><label>S</label><fields><name>F</name>"
            "<fieldType>DropdownBox</fieldType></fields></screens>",
            (5, "choiceReferences", "Screen field 'F' is a DropdownBox without <choiceReferences>"),
        ),
        (
            "<assignments><name>A</name><label>A</label><assignmentItems>"
            "<assignToReference>$Flow.CurrentDate</assignToReference><operator>Assign</operator>"
            "</assignmentItems></assignments>",
            (5, "assignToReference", "'$Flow.CurrentDate' is a flowGlobal; only a variable"),
        ),
        (
            "<assignments><name>A</name><label>A</label><assignmentItems>"
            "<assignToReference>x</assignToReference><operator>Multiply</operator>"
            "</assignmentItems></assignments><variables><name>x</name>"
            "<dataType>Number</dataType></variables>",
            (5, "operator", "'Multiply' is not a valid value for <operator>"),
        ),
        (
            "<decisions><name>D</name><label>D</label><rules><name>R</name><label>R</label>"
            "<conditionLogic>1 OR 3</conditionLogic><conditions><leftValueReference>x"
            "</leftValueReference><operator>IsNull</operator><rightValue><booleanValue>true"
            "</booleanValue></rightValue></conditions></rules></decisions>"
            "<variables><name>x</name><dataType>String</dataType></variables>",
            (5, "conditionLogic", "conditionLogic '1 OR 3' references condition 3"),
        ),
        (
            "<recordUpdates><name>U</name><label>U</label></recordUpdates>",
            (5, "object", "Record update 'U' needs an <inputReference>"),
        ),
        (
            "<actionCalls><name>Mail</name><label>Mail</label><actionName>emailSimple"
            "</actionName><actionType>emailSimple</actionType><inputParameters><name>emailBody"
            "</name><value><stringValue>Hi {!nobody}</stringValue></value></inputParameters>"
            "</actionCalls>",
            (5, "value", "'nobody' is no variable"),
        ),
        (
            "<formulas><name>f</name><dataType>Boolean</dataType><expression>{!x} + 1"
            "</expression></formulas><variables><name>x</name><dataType>Number</dataType>"
            "</variables>",
            (5, "expression", "Formula 'f': Formula result is data type (Number), incompatible"),
        ),
    ],
)
def test_each_body_problem(body: str, expected: tuple[int, str, str]) -> None:
    [(line, element, message)] = problems(flow_xml(body))
    assert (line, element) == expected[:2]
    assert message.startswith(expected[2]), message


def test_formulas_over_the_record_are_type_checked_when_they_run() -> None:
    # The deploy does not know $Record's object: a formula over its fields reads.
    model = parse_flow(
        flow_xml(
            "<formulas><name>f</name><dataType>Boolean</dataType><expression>"
            "ISPICKVAL({!$Record.Priority}, 'High') &amp;&amp; {!$Record.Amount} &gt; 5"
            "</expression></formulas>",
            "EvaluationFlow",
        ),
        "flows/T.flow-meta.xml",
    )
    assert isinstance(model, FlowSummary) and len(body_of(model).formulas) == 1


def test_an_evaluation_flow_may_leave_its_output_undeclared() -> None:
    content = flow_xml(
        "<assignments><name>A</name><label>A</label><assignmentItems>"
        "<assignToReference>isOrchestrationConditionMet</assignToReference>"
        "<operator>Assign</operator><value><booleanValue>true</booleanValue></value>"
        "</assignmentItems></assignments>",
        "EvaluationFlow",
    )
    assert isinstance(parse_flow(content, "flows/T.flow-meta.xml"), FlowSummary)
    # In another kind of flow the name means nothing.
    [(_, element, message)] = problems(content.replace(b"EvaluationFlow", b"AutoLaunchedFlow"))
    assert element == "assignToReference" and message.startswith("'isOrchestrationConditionMet'")


def test_the_body_takes_no_part_in_equality() -> None:
    model = read("Close_Case")
    from dataclasses import replace

    assert replace(model, body=None) == model
