"""Flow XML of orchestrations: reading every element, writing it back (round trips,
also as a property over generated models), and every problem with its line and element."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from tests.unit.orchestration.strategies import orchestrations

from workroute.kernel.errors import DeployError, DeployProblem
from workroute.metadata.flow import flow_name, orchestration_to_xml, parse_flow
from workroute.orchestration.definition import FlowSummary, Orchestration
from workroute.orchestration.validate import validate_orchestration
from workroute.orchestration.vocabulary import (
    AssigneeType,
    ComparisonOperator,
    EvaluationActionType,
    FlowDataType,
    FlowStatus,
    RecordFilterOperator,
    RecordTriggerType,
    StageCompletion,
    StepActionType,
    StepCompletion,
    StepKind,
    StepStart,
    ValueKind,
)
from workroute.schema.registry import SchemaRegistry
from workroute.schema.standard import load_standard_objects

SCHEMA = SchemaRegistry(load_standard_objects())
FILE = "flows/Case_Escalation.flow-meta.xml"

#: An orchestration using every element the model holds; valid against the schema.
SAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <constants>
        <name>Max_Attempts</name>
        <dataType>Number</dataType>
        <value>
            <numberValue>3.0</numberValue>
        </value>
    </constants>
    <decisions>
        <name>Was_Approved</name>
        <label>Was approved?</label>
        <locationX>176</locationX>
        <locationY>431</locationY>
        <defaultConnector>
            <targetReference>Rework</targetReference>
        </defaultConnector>
        <defaultConnectorLabel>No</defaultConnectorLabel>
        <rules>
            <name>Yes_Approved</name>
            <conditionLogic>and</conditionLogic>
            <conditions>
                <leftValueReference>Approve.Outputs.approved</leftValueReference>
                <operator>EqualTo</operator>
                <rightValue>
                    <booleanValue>true</booleanValue>
                </rightValue>
            </conditions>
            <connector>
                <targetReference>Close</targetReference>
            </connector>
            <label>Yes</label>
        </rules>
    </decisions>
    <description>Escalated cases are reviewed, then closed or reworked.</description>
    <environments>Default</environments>
    <formulas>
        <name>Is_Urgent</name>
        <dataType>Boolean</dataType>
        <expression>ISPICKVAL({!$Record.Priority}, 'High')
            &amp;&amp; {!attempts} &lt; {!Max_Attempts}</expression>
    </formulas>
    <interviewLabel>Case Escalation {!$Flow.CurrentDateTime}</interviewLabel>
    <label>Case Escalation</label>
    <orchestratedStages>
        <name>Review</name>
        <label>Review</label>
        <locationX>176</locationX>
        <locationY>311</locationY>
        <connector>
            <targetReference>Was_Approved</targetReference>
        </connector>
        <exitConditionLogic>and</exitConditionLogic>
        <stageSteps>
            <name>Approve</name>
            <actionName>Approve_Screen</actionName>
            <actionType>stepInteractive</actionType>
            <assignees>
                <assignee>
                    <stringValue>Reviewers</stringValue>
                </assignee>
                <assigneeType>Queue</assigneeType>
            </assignees>
            <canAssigneeEdit>false</canAssigneeEdit>
            <entryConditionLogic>and</entryConditionLogic>
            <exitConditionLogic>1 OR 2</exitConditionLogic>
            <exitConditions>
                <leftValueReference>$Record.IsClosed</leftValueReference>
                <operator>EqualTo</operator>
                <rightValue>
                    <booleanValue>true</booleanValue>
                </rightValue>
            </exitConditions>
            <exitConditions>
                <leftValueReference>$Record.Status</leftValueReference>
                <operator>EqualTo</operator>
                <rightValue>
                    <stringValue>Closed</stringValue>
                </rightValue>
            </exitConditions>
            <inputParameters>
                <name>ActionInput__RecordId</name>
                <value>
                    <elementReference>$Record.Id</elementReference>
                </value>
            </inputParameters>
            <inputParameters>
                <name>ActionInput__CustomEmailBody</name>
                <value>
                    <elementReference>Email_Body</elementReference>
                </value>
            </inputParameters>
            <label>Approve the escalation</label>
            <outputParameters>
                <assignToReference>approved</assignToReference>
                <name>approved</name>
            </outputParameters>
            <requiresAsyncProcessing>false</requiresAsyncProcessing>
            <stepSubtype>InteractiveStep</stepSubtype>
        </stageSteps>
        <stageSteps>
            <name>Log_Review</name>
            <actionName>Log_Review_Flow</actionName>
            <actionType>stepBackground</actionType>
            <entryConditionLogic>and</entryConditionLogic>
            <entryConditions>
                <leftValueReference>Approve.Status</leftValueReference>
                <operator>EqualTo</operator>
                <rightValue>
                    <stringValue>Completed</stringValue>
                </rightValue>
            </entryConditions>
            <inputParameters>
                <name>caseId</name>
                <value>
                    <elementReference>$Record.Id</elementReference>
                </value>
            </inputParameters>
            <label>Log the review</label>
        </stageSteps>
        <stageSteps>
            <name>Second_Opinion</name>
            <actionName>Approve_Screen</actionName>
            <actionType>stepInteractive</actionType>
            <assignees>
                <assignee>
                    <elementReference>reviewer</elementReference>
                </assignee>
                <assigneeType>Resource</assigneeType>
            </assignees>
            <entryActionInputParameters>
                <name>caseId</name>
                <value>
                    <elementReference>$Record.Id</elementReference>
                </value>
            </entryActionInputParameters>
            <entryActionName>Needs_Second_Opinion</entryActionName>
            <entryActionType>evaluationFlow</entryActionType>
            <entryConditionLogic>and</entryConditionLogic>
            <inputParameters>
                <name>ActionInput__RecordId</name>
                <value>
                    <elementReference>$Record.Id</elementReference>
                </value>
            </inputParameters>
            <label>Second opinion</label>
        </stageSteps>
    </orchestratedStages>
    <orchestratedStages>
        <name>Close</name>
        <label>Close</label>
        <locationX>176</locationX>
        <locationY>551</locationY>
        <exitActionName>Case_Is_Closed</exitActionName>
        <exitActionType>evaluationFlow</exitActionType>
        <exitConditionLogic>and</exitConditionLogic>
        <stageSteps>
            <name>Close_Case</name>
            <actionName>Close_Case_Flow</actionName>
            <actionType>stepBackground</actionType>
            <entryConditionLogic>and</entryConditionLogic>
            <label>Close the case</label>
        </stageSteps>
    </orchestratedStages>
    <orchestratedStages>
        <name>Rework</name>
        <label>Rework</label>
        <connector>
            <isGoTo>true</isGoTo>
            <targetReference>Review</targetReference>
        </connector>
        <exitConditionLogic>and</exitConditionLogic>
        <stageSteps>
            <name>Rework_Case</name>
            <actionName>createWorkItem_Screen</actionName>
            <actionType>createWorkItem</actionType>
            <assignees>
                <assignee>
                    <elementReference>$Record.Owner.Username</elementReference>
                </assignee>
                <assigneeType>User</assigneeType>
            </assignees>
            <entryConditionLogic>and</entryConditionLogic>
            <inputParameters>
                <name>ActionInput__Assignee</name>
            </inputParameters>
            <inputParameters>
                <name>ActionInput__RecordId</name>
                <value>
                    <elementReference>$Record.Id</elementReference>
                </value>
            </inputParameters>
            <label>Rework the case</label>
        </stageSteps>
    </orchestratedStages>
    <processMetadataValues>
        <name>BuilderType</name>
        <value>
            <stringValue>LightningFlowBuilder</stringValue>
        </value>
    </processMetadataValues>
    <processType>Orchestrator</processType>
    <start>
        <locationX>50</locationX>
        <locationY>0</locationY>
        <connector>
            <targetReference>Review</targetReference>
        </connector>
        <doesRequireRecordChangedToMeetCriteria>true</doesRequireRecordChangedToMeetCriteria>
        <filterLogic>1 AND (2 OR 3)</filterLogic>
        <filters>
            <field>IsEscalated</field>
            <operator>EqualTo</operator>
            <value>
                <booleanValue>true</booleanValue>
            </value>
        </filters>
        <filters>
            <field>Priority</field>
            <operator>EqualTo</operator>
            <value>
                <stringValue>High</stringValue>
            </value>
        </filters>
        <filters>
            <field>Status</field>
            <operator>IsChanged</operator>
            <value>
                <booleanValue>true</booleanValue>
            </value>
        </filters>
        <object>Case</object>
        <recordTriggerType>CreateAndUpdate</recordTriggerType>
        <triggerType>RecordAfterSave</triggerType>
    </start>
    <status>Active</status>
    <textTemplates>
        <name>Email_Body</name>
        <isViewedAsPlainText>true</isViewedAsPlainText>
        <text>Please review {!$Record.Subject}.</text>
    </textTemplates>
    <variables>
        <name>approved</name>
        <dataType>Boolean</dataType>
        <isCollection>false</isCollection>
        <isInput>false</isInput>
        <isOutput>true</isOutput>
    </variables>
    <variables>
        <name>attempts</name>
        <dataType>Number</dataType>
        <isInput>true</isInput>
        <scale>0</scale>
    </variables>
    <variables>
        <name>reviewer</name>
        <dataType>String</dataType>
        <isInput>true</isInput>
    </variables>
</Flow>
"""


def sample(text: str = SAMPLE, file: str = FILE) -> Orchestration:
    o = parse_flow(text.encode(), file)
    assert isinstance(o, Orchestration)
    return o


def line_of(text: str, *path: str) -> int:
    """The line of the last of ``path``, each found after the one before."""
    at = -1
    for needle in path:
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


def located(problems: list[DeployProblem]) -> list[tuple[int | None, str | None, str]]:
    return [(p.line, p.element, p.message) for p in problems]


# -- reading ----------------------------------------------------------------------------


def test_the_sample_reads_into_the_model() -> None:
    o = sample()
    assert (o.name, o.label, o.status, o.api_version) == (
        "Case_Escalation",
        "Case Escalation",
        FlowStatus.ACTIVE,
        "62.0",
    )
    assert o.version is None and o.file == FILE and o.is_active
    t = o.trigger
    assert t is not None and t.object == "Case" and t.on_create and t.on_update
    assert t.record_trigger_type is RecordTriggerType.CREATE_AND_UPDATE
    assert t.requires_record_changed is True and t.filter_logic == "1 AND (2 OR 3)"
    assert [(f.field, f.operator) for f in t.filters] == [
        ("IsEscalated", RecordFilterOperator.EQUAL_TO),
        ("Priority", RecordFilterOperator.EQUAL_TO),
        ("Status", RecordFilterOperator.IS_CHANGED),
    ]
    assert o.start is not None and o.start.target == "Review" and o.start_location == (50, 0)
    first = o.first_node()
    assert first is not None and first.name == "Review"
    assert [s.name for s in o.stages] == ["Review", "Close", "Rework"]
    review, close, rework = o.stages
    assert review.completion is StageCompletion.ALL_STEPS_COMPLETED
    assert close.completion is StageCompletion.EVALUATION_FLOW
    assert close.exit_flow is not None and close.exit_flow.name == "Case_Is_Closed"
    assert rework.connector is not None and rework.connector.is_go_to
    approve, log, second = review.steps
    assert approve.kind is StepKind.INTERACTIVE and approve.start is StepStart.STAGE_STARTS
    assert approve.completion is StepCompletion.REQUIREMENTS
    assert approve.exit.logic == "1 OR 2" and len(approve.exit.conditions) == 2
    assert approve.assignee is not None and approve.assignee.type is AssigneeType.QUEUE
    assert approve.record_id is not None and approve.record_id.text == "$Record.Id"
    assert [(p.name, p.assign_to) for p in approve.outputs] == [("approved", "approved")]
    assert approve.can_assignee_edit is False and approve.step_subtype == "InteractiveStep"
    assert log.kind is StepKind.BACKGROUND and log.start is StepStart.STEPS_COMPLETED
    assert log.waits_for == ("Approve",) and log.completion is StepCompletion.FLOW_FINISHED
    assert second.start is StepStart.EVALUATION_FLOW
    assert second.entry_flow is not None
    assert second.entry_flow.action_type is EvaluationActionType.EVALUATION_FLOW
    assert second.assignee is not None and second.assignee.type is AssigneeType.RESOURCE
    legacy = rework.steps[0]
    assert legacy.action_type is StepActionType.CREATE_WORK_ITEM and legacy.is_interactive
    assert legacy.inputs[0].value is None
    (decision,) = o.decisions
    assert decision.default_connector is not None and decision.default_connector.target == "Rework"
    assert decision.rules[0].criteria.conditions[0].operator is ComparisonOperator.EQUAL_TO
    assert [v.name for v in o.inputs] == ["attempts", "reviewer"]
    assert [v.name for v in o.outputs] == ["approved"]
    assert o.constants[0].value is not None and o.constants[0].value.text == "3"
    assert o.constants[0].value.kind is ValueKind.NUMBER
    assert o.formulas[0].data_type is FlowDataType.BOOLEAN
    assert o.text_templates[0].is_viewed_as_plain_text is True
    assert validate_orchestration(o, schema=SCHEMA) == []


def test_the_sample_round_trips() -> None:
    o = sample()
    written = orchestration_to_xml(o)
    again = sample(written.decode())
    assert again == o
    assert orchestration_to_xml(again) == written
    # Builder metadata is dropped; everything the model holds is written in order.
    assert b"processMetadataValues" not in written and b"environments" not in written
    assert written.index(b"<constants>") < written.index(b"<decisions>")
    assert written.index(b"<processType>") < written.index(b"<start>") < written.index(b"<status>")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orchestrations)
def test_written_models_read_back_the_same(o: Orchestration) -> None:
    again = parse_flow(orchestration_to_xml(o), f"flows/{o.name}.flow-meta.xml")
    assert again == o


def test_flow_names_come_from_the_file() -> None:
    assert flow_name("force-app/main/default/flows/My_Flow.flow-meta.xml") == "My_Flow"
    assert flow_name("flows\\Other.flow") == "Other"
    assert sample(file="x/flows/Renamed.flow").name == "Renamed"


def test_other_flows_are_summaries() -> None:
    screen = parse_flow(
        b'<Flow xmlns="http://soap.sforce.com/2006/04/metadata"><label>Screen</label>'
        b"<processType>Flow</processType><screens><name>S</name></screens>"
        b"<status>Active</status><variables><name>recordId</name><dataType>String</dataType>"
        b"<isInput>true</isInput></variables></Flow>",
        "flows/Review_Screen.flow-meta.xml",
    )
    assert screen == FlowSummary(
        name="Review_Screen",
        label="Screen",
        process_type="Flow",
        status=FlowStatus.ACTIVE,
        variables=screen.variables,
    )
    assert screen.is_screen_flow and screen.is_active and screen.variables[0].is_input
    auto = parse_flow(
        b"<Flow><label>Auto</label><processType>AutoLaunchedFlow</processType></Flow>", "A.flow"
    )
    assert (
        isinstance(auto, FlowSummary) and auto.is_autolaunched and auto.status is FlowStatus.DRAFT
    )
    no_type = parse_flow(b"<Flow><label>Old</label></Flow>", "Old.flow")
    assert isinstance(no_type, FlowSummary) and no_type.process_type == "Flow"


# -- problems reading the XML ---------------------------------------------------------------


Where = tuple[str, ...]  # the needles leading to the problem's line (see line_of)
Problem = tuple[Where, str, str]  # (where, element, message)


def problems_of(text: str) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(DeployError) as exc:
        parse_flow(text.encode(), FILE)
    return located(exc.value.problems)


def edited(*edits: tuple[str, str]) -> str:
    text = SAMPLE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def expect(text: str, problems: list[Problem]) -> list[tuple[int | None, str | None, str]]:
    return [(line_of(text, *where), element, message) for where, element, message in problems]


APPROVE = "<name>Approve</name>"
LOG = "<name>Log_Review</name>"
SECOND = "<name>Second_Opinion</name>"
QUEUE_ASSIGNEE = (
    "<assignees>\n                <assignee>\n                    <stringValue>Reviewers"
    "</stringValue>\n                </assignee>\n                <assigneeType>Queue"
    "</assigneeType>\n            </assignees>"
)
READING: dict[str, tuple[list[tuple[str, str]], list[Problem]]] = {
    "a Flow element orchestrations cannot hold": (
        [("<apiVersion>62.0</apiVersion>", "<screens><name>S</name></screens>")],
        [
            (
                ("<screens>",),
                "screens",
                "<screens> is not supported in <Flow> of an orchestration: an orchestration holds "
                "stages (orchestratedStages), decisions, variables, constants, formulas and text "
                "templates",
            )
        ],
    ),
    "an unknown element": (
        [("<apiVersion>62.0</apiVersion>", "<apiVersion>62.0</apiVersion><colour>red</colour>")],
        [(("<colour>",), "colour", "<colour> is not a valid element of <Flow>")],
    ),
    "an element given twice": (
        [("<label>Case Escalation</label>", "<label>A</label><label>B</label>")],
        [(("<label>A",), "label", "<label> may appear only once in <Flow>")],
    ),
    "a missing label": (
        [("<label>Case Escalation</label>", "")],
        [(("<Flow xmlns",), "label", "<Flow> requires <label>")],
    ),
    "an unknown step type": (
        [("<actionType>stepInteractive</actionType>", "<actionType>stepWhatever</actionType>")],
        [
            (
                ("<actionType>stepWhatever",),
                "actionType",
                "'stepWhatever' is not a valid value for <actionType>; valid: stepInteractive, "
                "stepBackground, createWorkItem, stepMuleSoft, stepApproval",
            )
        ],
    ),
    "a step without its flow": (
        [("<actionName>Approve_Screen</actionName>", "")],
        [(("<stageSteps>",), "actionName", "<stageSteps> requires <actionName>")],
    ),
    "a boolean that is not one": (
        [("<canAssigneeEdit>false</canAssigneeEdit>", "<canAssigneeEdit>maybe</canAssigneeEdit>")],
        [
            (
                ("<canAssigneeEdit>",),
                "canAssigneeEdit",
                "'maybe' is not a valid value for <canAssigneeEdit>; use true or false",
            )
        ],
    ),
    "a number value that is not one": (
        [("<numberValue>3.0</numberValue>", "<numberValue>three</numberValue>")],
        [(("<numberValue>",), "numberValue", "'three' is not a valid <numberValue>")],
    ),
    "a boolean value that is not one": (
        [("<booleanValue>true</booleanValue>", "<booleanValue>yes</booleanValue>")],
        [(("<booleanValue>",), "booleanValue", "'yes' is not a valid <booleanValue>")],
    ),
    "an assignee without type": (
        [("<assigneeType>Queue</assigneeType>", "")],
        [(("<assignees>",), "assigneeType", "<assignees> requires <assigneeType>")],
    ),
    "two assignees": (
        [
            (
                QUEUE_ASSIGNEE,
                QUEUE_ASSIGNEE + "<assignees><assigneeType>User</assigneeType></assignees>",
            )
        ],
        [
            (
                ("<assignees><assigneeType>User",),
                "assignees",
                "A step has one assignee; this one has 2",
            )
        ],
    ),
    "two kinds of value": (
        [
            (
                "<stringValue>Reviewers</stringValue>",
                "<stringValue>Reviewers</stringValue><elementReference>x</elementReference>",
            )
        ],
        [
            (
                ("<elementReference>x",),
                "elementReference",
                "<assignee> holds one value; it has <stringValue>, <elementReference>",
            )
        ],
    ),
    "a value kind orchestrations do not use": (
        [("<stringValue>Reviewers</stringValue>", "<sobjectValue>x</sobjectValue>")],
        [
            (
                ("<sobjectValue>",),
                "sobjectValue",
                "<sobjectValue> is not supported in <assignee> of an orchestration",
            )
        ],
    ),
    "nested conditions": (
        [
            (
                "<leftValueReference>$Record.IsClosed</leftValueReference>",
                "<leftValueReference>$Record.IsClosed</leftValueReference><conditions/>",
            )
        ],
        [
            (
                ("<conditions/>",),
                "conditions",
                "<conditions> is not supported in <exitConditions> of an orchestration: conditions "
                "are not nested in orchestrations",
            )
        ],
    ),
    "an evaluation type without its flow": (
        [("<exitActionName>Case_Is_Closed</exitActionName>", "")],
        [
            (
                ("<exitActionType>",),
                "exitActionType",
                "<exitActionType> needs <exitActionName>, the evaluation flow",
            )
        ],
    ),
    "an evaluation flow without its type": (
        [("<exitActionType>evaluationFlow</exitActionType>", "")],
        [
            (
                ("<orchestratedStages>", "<orchestratedStages>"),
                "exitActionType",
                "<orchestratedStages> requires <exitActionType>",
            )
        ],
    ),
    "an object without its trigger type": (
        [("<triggerType>RecordAfterSave</triggerType>", "")],
        [(("<start>",), "triggerType", "<start> requires <triggerType>")],
    ),
    "a start element orchestrations do not use": (
        [("<object>Case</object>", "<object>Case</object><schedule/>")],
        [
            (
                ("<schedule/>",),
                "schedule",
                "<schedule> is not supported in <start> of an orchestration: an orchestration "
                "starts on a record save or from the API",
            )
        ],
    ),
    "an unknown status": (
        [("<status>Active</status>", "<status>Live</status>")],
        [
            (
                ("<status>",),
                "status",
                "'Live' is not a valid value for <status>; valid: Active, Draft, Obsolete, "
                "InvalidDraft, UnderReview",
            )
        ],
    ),
    "an outcome without logic": (
        [("<conditionLogic>and</conditionLogic>", "")],
        [(("<rules>",), "conditionLogic", "<rules> requires <conditionLogic>")],
    ),
    "trigger criteria without the object": (
        [("<object>Case</object>", "")],
        [
            (
                ("<filters>",),
                "filters",
                "<filters> needs the <object> whose records start the orchestration",
            ),
            (
                ("<recordTriggerType>",),
                "recordTriggerType",
                "<recordTriggerType> needs the <object> whose records start the orchestration",
            ),
            (
                ("<triggerType>",),
                "triggerType",
                "<triggerType> needs the <object> whose records start the orchestration",
            ),
            (
                ("<filterLogic>",),
                "filterLogic",
                "<filterLogic> needs the <object> whose records start the orchestration",
            ),
            (
                ("<doesRequire",),
                "doesRequireRecordChangedToMeetCriteria",
                "<doesRequireRecordChangedToMeetCriteria> needs the <object> whose records start "
                "the orchestration",
            ),
        ],
    ),
}


@pytest.mark.parametrize("case", READING)
def test_reading_problems_are_located(case: str) -> None:
    edits, problems = READING[case]
    text = edited(*edits)
    assert sorted(problems_of(text)) == sorted(expect(text, problems))


def test_xml_that_is_not_a_flow() -> None:
    ((line, element, message),) = problems_of("<Flow><label>x</label>")
    assert (line, element) == (1, None) and message.startswith("XML is not well formed (line 1")
    assert problems_of("<Workflow/>") == [
        (1, "Workflow", "The root element is <Workflow>; expected <Flow>")
    ]


def test_cms_workflows_are_refused() -> None:
    text = edited(
        (
            "<processType>Orchestrator</processType>",
            "<processType>ManagedContentAuthoringWorkflow</processType>",
        )
    )
    assert problems_of(text) == expect(
        text,
        [
            (
                ("<processType>",),
                "processType",
                "processType ManagedContentAuthoringWorkflow is a Salesforce CMS content "
                "approval workflow; its steps act on CMS content (createWorkItem, "
                "stepBackground, stepInteractive), which workroute does not have; workroute "
                "runs orchestrations of processType Orchestrator",
            )
        ],
    )


# -- validation problems ------------------------------------------------------------------------


def validation(text: str, file: str = FILE) -> list[tuple[int | None, str | None, str]]:
    return located(validate_orchestration(sample(text, file), schema=SCHEMA))


def test_validation_problems_name_the_component() -> None:
    text = edited(("<actionName>Approve_Screen</actionName>", "<actionName>9</actionName>"))
    (problem,) = validate_orchestration(sample(text), schema=SCHEMA)
    assert (problem.file, problem.component) == (FILE, "Case_Escalation.Approve")
    line = line_of(text, "<actionName>9")
    assert problem.describe() == f"{FILE}:{line} <actionName>: '9' is not a valid flow name"


def test_the_flow_name() -> None:
    assert validation(SAMPLE, "flows/Bad__Name.flow-meta.xml") == [
        (
            2,
            "fullName",
            "The flow name 'Bad__Name' is not a valid API name: use letters, digits and single "
            "underscores, begin with a letter and do not end with an underscore",
        )
    ]
    long = "A" * 81
    assert validation(SAMPLE, f"flows/{long}.flow-meta.xml") == [
        (2, "fullName", f"The flow name '{long}' is 81 characters; API names have at most 80")
    ]


NOT_FOUND = (
    "which is not a variable, formula, constant, text template, step or stage of this orchestration"
)
ELEVEN = "".join(
    "<exitConditions><leftValueReference>$Record.IsClosed</leftValueReference>"
    "<operator>EqualTo</operator></exitConditions>"
    for _ in range(9)
)
VALIDATION: dict[str, tuple[list[tuple[str, str]], list[Problem]]] = {
    "an element name": (
        [("<name>Close_Case</name>", "<name>Close_Case_</name>")],
        [
            (
                ("<name>Close_Case_",),
                "name",
                "The step name 'Close_Case_' is not a valid API name: use letters, digits and "
                "single underscores, begin with a letter and do not end with an underscore",
            )
        ],
    ),
    "a name used twice": (
        [("<name>Close_Case</name>", "<name>close</name>")],
        [
            (
                ("<name>close<",),
                "name",
                "The step name 'close' is already used by the stage 'Close'; API names are unique "
                "in an orchestration (ignoring case)",
            )
        ],
    ),
    "a connector to nothing": (
        [
            (
                "<targetReference>Was_Approved</targetReference>",
                "<targetReference>Nowhere</targetReference>",
            )
        ],
        [
            (
                ("<targetReference>Nowhere",),
                "targetReference",
                "The connector goes to 'Nowhere', which is not a stage or decision of this "
                "orchestration",
            )
        ],
    ),
    "a MuleSoft step": (
        [("<actionType>stepBackground</actionType>", "<actionType>stepMuleSoft</actionType>")],
        [
            (
                ("<actionType>stepMuleSoft",),
                "actionType",
                "Step 'Log_Review' is a MuleSoft step (stepMuleSoft), which calls MuleSoft; "
                "workroute "
                "runs interactive (stepInteractive) and background (stepBackground) steps",
            )
        ],
    ),
    "an interactive step without assignee": (
        [(QUEUE_ASSIGNEE, "")],
        [
            (
                ("<stageSteps>",),
                "assignees",
                "Interactive step 'Approve' has no assignee (<assignees>): a user, group, queue or "
                "resource completes it",
            )
        ],
    ),
    "an invalid assignee": (
        [("<assigneeType>Queue</assigneeType>", "<assigneeType>Invalid</assigneeType>")],
        [
            (
                ("<assigneeType>Invalid",),
                "assigneeType",
                "The assignee of step 'Approve' is Invalid (it was deleted or is not valid); "
                "assign a user, group, queue or resource",
            )
        ],
    ),
    "an assignee without value": (
        [("<stringValue>Reviewers</stringValue>", "")],
        [(("<assignee>",), "assignee", "The assignee of step 'Approve' has no value")],
    ),
    "a resource given as a literal": (
        [("<assigneeType>Queue</assigneeType>", "<assigneeType>Resource</assigneeType>")],
        [
            (
                ("<assignee>",),
                "assignee",
                "Step 'Approve' assigns to a Resource, which takes a variable or formula "
                "(<elementReference>), not the literal 'Reviewers'",
            )
        ],
    ),
    "an assignee variable that does not exist": (
        [
            (
                "<elementReference>reviewer</elementReference>",
                "<elementReference>approver</elementReference>",
            )
        ],
        [((SECOND, "<assignee>"), "assignee", f"'approver' refers to 'approver', {NOT_FOUND}")],
    ),
    "an interactive step without ActionInput__RecordId": (
        [("<name>ActionInput__RecordId</name>", "<name>recordId</name>")],
        [
            (
                (APPROVE, "<inputParameters>"),
                "inputParameters",
                "Interactive step 'Approve' needs the input ActionInput__RecordId with a value: "
                "the record whose page shows the work item",
            )
        ],
    ),
    "ActionInput__RecordId without value": (
        [
            (
                "<name>ActionInput__RecordId</name>\n                <value>\n                    "
                "<elementReference>$Record.Id</elementReference>\n                </value>",
                "<name>ActionInput__RecordId</name>",
            )
        ],
        [
            (
                (APPROVE, "<inputParameters>"),
                "inputParameters",
                "Interactive step 'Approve' needs the input ActionInput__RecordId with a value: "
                "the record whose page shows the work item",
            )
        ],
    ),
    "an unknown reserved input": (
        [("<name>ActionInput__CustomEmailBody</name>", "<name>ActionInput__Colour</name>")],
        [
            (
                ("<name>ActionInput__Colour",),
                "name",
                "'ActionInput__Colour' is not a reserved step input; the reserved inputs are "
                "ActionInput__Assignee, ActionInput__CustomEmailBody, "
                "ActionInput__CustomEmailSubject, "
                "ActionInput__OrchInstanceId, ActionInput__RecordId, ActionInput__StepInstanceId",
            )
        ],
    ),
    "an input set twice": (
        [("<name>ActionInput__CustomEmailBody</name>", "<name>ActionInput__RecordId</name>")],
        [
            (
                (
                    "<name>ActionInput__RecordId",
                    "<name>ActionInput__RecordId</name>\n"
                    "                <value>\n                    <elementReference>Email",
                ),
                "name",
                "The input 'ActionInput__RecordId' of 'Approve' is set twice",
            )
        ],
    ),
    "an output stored into a formula": (
        [
            (
                "<assignToReference>approved</assignToReference>",
                "<assignToReference>Is_Urgent</assignToReference>",
            )
        ],
        [
            (
                ("<assignToReference>",),
                "assignToReference",
                "The output 'approved' of 'Approve' is stored into 'Is_Urgent', which is not a "
                "variable",
            )
        ],
    ),
    "a background step with an assignee": (
        [
            (
                "<actionType>stepBackground</actionType>",
                "<actionType>stepBackground</actionType><assignees><assignee><stringValue>x"
                "</stringValue></assignee><assigneeType>User</assigneeType></assignees>",
            )
        ],
        [
            (
                (LOG, "<assignees>"),
                "assignees",
                "Background step 'Log_Review' has an assignee; only interactive steps are assigned",
            )
        ],
    ),
    "a background step with completion conditions": (
        [
            (
                "<label>Log the review</label>",
                "<exitConditions><leftValueReference>$Record.IsClosed</leftValueReference>"
                "<operator>EqualTo</operator></exitConditions><label>Log the review</label>",
            )
        ],
        [
            (
                (LOG, "<exitConditions>"),
                "exitConditions",
                "Background step 'Log_Review' completes when its flow finishes; only interactive "
                "steps have completion conditions",
            )
        ],
    ),
    "more than 10 requirements": (
        [
            (
                "<exitConditionLogic>1 OR 2</exitConditionLogic>",
                "<exitConditionLogic>or</exitConditionLogic>" + ELEVEN,
            )
        ],
        [
            (
                ("<exitConditionLogic>or",),
                "exitConditions",
                "'Approve' has 11 <exitConditions>; at most 10 requirements are allowed",
            )
        ],
    ),
    "logic naming a condition that does not exist": (
        [
            (
                "<exitConditionLogic>1 OR 2</exitConditionLogic>",
                "<exitConditionLogic>1 OR 3</exitConditionLogic>",
            )
        ],
        [
            (
                ("<exitConditionLogic>1 OR 3",),
                "exitConditionLogic",
                "exitConditionLogic '1 OR 3' references condition 3; there are 2 conditions",
            ),
            (
                ("<exitConditionLogic>1 OR 3",),
                "exitConditionLogic",
                "exitConditionLogic '1 OR 3' does not use condition(s) 2",
            ),
        ],
    ),
    "logic that does not parse": (
        [
            (
                "<exitConditionLogic>1 OR 2</exitConditionLogic>",
                "<exitConditionLogic>1 OR (2</exitConditionLogic>",
            )
        ],
        [
            (
                ("<exitConditionLogic>1 OR (2",),
                "exitConditionLogic",
                "exitConditionLogic '1 OR (2' is not valid: expected ')' at position 8, found the "
                "end",
            )
        ],
    ),
    "custom logic without conditions": (
        [
            (
                "<exitActionType>evaluationFlow</exitActionType>\n        <exitConditionLogic>and",
                "<exitActionType>evaluationFlow</exitActionType>\n        <exitConditionLogic>1",
            )
        ],
        [
            (
                ("<exitConditionLogic>1<",),
                "exitConditionLogic",
                "exitConditionLogic '1' is custom logic, but there are no conditions",
            )
        ],
    ),
    "conditions and an evaluation flow": (
        [
            (
                "<entryActionType>evaluationFlow</entryActionType>",
                "<entryActionType>evaluationFlow</entryActionType><entryConditions>"
                "<leftValueReference>$Record.IsClosed</leftValueReference><operator>EqualTo"
                "</operator></entryConditions>",
            )
        ],
        [
            (
                (SECOND, "<entryConditions>"),
                "entryConditions",
                "'Second_Opinion' has both entry conditions and the entry evaluation flow "
                "'Needs_Second_Opinion'; use one or the other",
            )
        ],
    ),
    "waiting for a step of another stage": (
        [
            (
                "<leftValueReference>Approve.Status</leftValueReference>",
                "<leftValueReference>Close_Case.Status</leftValueReference>",
            )
        ],
        [
            (
                ("<entryConditions>", "<leftValueReference>"),
                "leftValueReference",
                "Step 'Log_Review' waits for step 'Close_Case' of stage 'Close'; a step can wait "
                "only for steps of its own stage",
            )
        ],
    ),
    "waiting for itself": (
        [
            (
                "<leftValueReference>Approve.Status</leftValueReference>",
                "<leftValueReference>Log_Review.Status</leftValueReference>",
            )
        ],
        [
            (
                (LOG, "<entryConditions>"),
                "entryConditions",
                "Step 'Log_Review' waits for itself; it can never start",
            )
        ],
    ),
    "a step that does not exist": (
        [
            (
                "<leftValueReference>Approve.Status</leftValueReference>",
                "<leftValueReference>Aprove.Status</leftValueReference>",
            )
        ],
        [
            (
                ("<entryConditions>", "<leftValueReference>"),
                "leftValueReference",
                f"'Aprove.Status' refers to 'Aprove', {NOT_FOUND}",
            )
        ],
    ),
    "a step used as a value": (
        [
            (
                "<leftValueReference>Approve.Status</leftValueReference>",
                "<leftValueReference>Approve</leftValueReference>",
            )
        ],
        [
            (
                ("<entryConditions>", "<leftValueReference>"),
                "leftValueReference",
                "'Approve': 'Approve' is a step; use Approve.Status or Approve.Outputs.<output>",
            )
        ],
    ),
    "a decision used as a value": (
        [
            (
                "<leftValueReference>$Record.IsClosed</leftValueReference>",
                "<leftValueReference>Was_Approved</leftValueReference>",
            )
        ],
        [
            (
                ("<exitConditions>", "<leftValueReference>"),
                "leftValueReference",
                "'Was_Approved': 'Was_Approved' is a decision, which holds no value",
            )
        ],
    ),
    "a field the object does not have": (
        [
            (
                "<leftValueReference>$Record.IsClosed</leftValueReference>",
                "<leftValueReference>$Record.Closed__c</leftValueReference>",
            )
        ],
        [
            (
                ("<exitConditions>", "<leftValueReference>"),
                "leftValueReference",
                "'$Record.Closed__c': Case has no field 'Closed__c'",
            )
        ],
    ),
    "a relationship the object does not have": (
        [
            (
                "<elementReference>$Record.Owner.Username</elementReference>",
                "<elementReference>$Record.Boss.Username</elementReference>",
            )
        ],
        [
            (
                ("<name>Rework_Case</name>", "<assignee>"),
                "assignee",
                "'$Record.Boss.Username': Case has no relationship 'Boss'",
            )
        ],
    ),
    "fields of a text variable": (
        [
            (
                "<elementReference>reviewer</elementReference>",
                "<elementReference>reviewer.Name</elementReference>",
            )
        ],
        [
            (
                (SECOND, "<assignee>"),
                "assignee",
                "'reviewer.Name': 'reviewer' is a String variable; it has no fields",
            )
        ],
    ),
    "a global workroute does not have": (
        [
            (
                "<leftValueReference>$Record.IsClosed</leftValueReference>",
                "<leftValueReference>$Label.Closed</leftValueReference>",
            )
        ],
        [
            (
                ("<exitConditions>", "<leftValueReference>"),
                "leftValueReference",
                "'$Label.Closed': custom labels ($Label) are not available in workroute",
            )
        ],
    ),
    "a merge field of a text template": (
        [("Please review {!$Record.Subject}.", "Please review {!$Record.Topic}.")],
        [(("<textTemplates>", "<text>"), "text", "'$Record.Topic': Case has no field 'Topic'")],
    ),
    "steps waiting for each other": (
        [
            (
                "<entryConditionLogic>and</entryConditionLogic>\n            <exitConditionLogic>1 "
                "OR 2",
                "<entryConditionLogic>and</entryConditionLogic><entryConditions>"
                "<leftValueReference>"
                "Log_Review.Status</leftValueReference><operator>EqualTo</operator><rightValue>"
                "<stringValue>Completed</stringValue></rightValue></entryConditions>"
                "\n            <exitConditionLogic>1 OR 2",
            )
        ],
        [
            (
                ("<entryConditionLogic>",),
                "entryConditions",
                "Steps 'Approve' and 'Log_Review' wait for each other; none of them can start",
            )
        ],
    ),
    "a start without connector": (
        [
            (
                "<connector>\n            <targetReference>Review</targetReference>\n        "
                "</connector>\n"
                "        <doesRequire",
                "<doesRequire",
            )
        ],
        [(("<start>",), "connector", "<start> needs a <connector> to the first stage or decision")],
    ),
    "a record variable without object type": (
        [
            (
                "<name>reviewer</name>\n        <dataType>String",
                "<name>reviewer</name>\n        <dataType>SObject",
            )
        ],
        [
            (
                ("<variables>", "<variables>", "<variables>"),
                "objectType",
                "Record variable 'reviewer' needs an <objectType>",
            )
        ],
    ),
    "a record variable of an unknown object": (
        [
            (
                "<name>reviewer</name>\n        <dataType>String</dataType>",
                "<name>reviewer</name>\n        "
                "<dataType>SObject</dataType><objectType>Nope__c</objectType>",
            )
        ],
        [
            (
                ("<objectType>",),
                "objectType",
                "Object 'Nope__c' (of variable 'reviewer') does not exist",
            )
        ],
    ),
    "an object type on a text variable": (
        [
            (
                "<name>reviewer</name>\n        <dataType>String</dataType>",
                "<name>reviewer</name>\n        "
                "<dataType>String</dataType><objectType>User</objectType>",
            )
        ],
        [
            (
                ("<objectType>",),
                "objectType",
                "Variable 'reviewer' is a String; only SObject variables have an <objectType>",
            )
        ],
    ),
    "an Apex variable": (
        [
            (
                "<name>reviewer</name>\n        <dataType>String",
                "<name>reviewer</name>\n        <dataType>Apex",
            )
        ],
        [
            (
                ("<dataType>Apex",),
                "dataType",
                "Variable 'reviewer' is Apex-defined; workroute has no Apex classes",
            )
        ],
    ),
    "a trigger object that does not exist": (
        [("<object>Case</object>", "<object>Ticket__c</object>")],
        [(("<object>",), "object", "Object 'Ticket__c' does not exist")],
    ),
    "a trigger field that does not exist": (
        [("<field>Priority</field>", "<field>Urgency__c</field>")],
        [(("<field>Urgency__c",), "field", "Case has no field 'Urgency__c'")],
    ),
    "IsChanged with a text value": (
        [
            (
                "<operator>IsChanged</operator>\n            <value>\n                "
                "<booleanValue>true</booleanValue>",
                "<operator>IsChanged</operator>\n            <value>\n                "
                "<stringValue>yes</stringValue>",
            )
        ],
        [
            (
                ("<operator>IsChanged", "<value>"),
                "value",
                "IsChanged (Status) takes a <booleanValue>",
            )
        ],
    ),
    "a trigger that runs before the save": (
        [
            (
                "<triggerType>RecordAfterSave</triggerType>",
                "<triggerType>RecordBeforeSave</triggerType>",
            )
        ],
        [
            (
                ("<triggerType>",),
                "triggerType",
                "triggerType RecordBeforeSave does not start orchestrations; a record-triggered "
                "orchestration runs after the save (RecordAfterSave)",
            )
        ],
    ),
    "a trigger on create only": (
        [
            (
                "<recordTriggerType>CreateAndUpdate</recordTriggerType>",
                "<recordTriggerType>Create</recordTriggerType>",
            )
        ],
        [
            (
                ("<doesRequireRecordChangedToMeetCriteria>",),
                "doesRequireRecordChangedToMeetCriteria",
                "doesRequireRecordChangedToMeetCriteria needs a trigger on update; this one runs "
                "on Create",
            ),
            (
                ("<operator>IsChanged",),
                "operator",
                "IsChanged (Status) needs a trigger on update (Update or CreateAndUpdate); this "
                "one runs on Create",
            ),
        ],
    ),
    "a trigger on delete": (
        [
            (
                "<recordTriggerType>CreateAndUpdate</recordTriggerType>",
                "<recordTriggerType>Delete</recordTriggerType>",
            ),
            ("<operator>IsChanged</operator>", "<operator>EqualTo</operator>"),
            (
                "<doesRequireRecordChangedToMeetCriteria>true",
                "<doesRequireRecordChangedToMeetCriteria>false",
            ),
        ],
        [
            (
                ("<recordTriggerType>",),
                "recordTriggerType",
                "Orchestrations run when a record is created or updated, not deleted",
            )
        ],
    ),
    "trigger logic over filters that do not exist": (
        [("<filterLogic>1 AND (2 OR 3)</filterLogic>", "<filterLogic>1 AND 4</filterLogic>")],
        [
            (
                ("<filterLogic>",),
                "filterLogic",
                "filterLogic '1 AND 4' references condition 4; there are 3 conditions",
            ),
            (
                ("<filterLogic>",),
                "filterLogic",
                "filterLogic '1 AND 4' does not use condition(s) 2, 3",
            ),
        ],
    ),
    "filters and a formula": (
        [
            (
                "<filterLogic>1 AND (2 OR 3)</filterLogic>",
                "<filterLogic>1 AND (2 OR 3)</filterLogic><filterFormula>true</filterFormula>",
            )
        ],
        [
            (
                ("<filterFormula>",),
                "filterFormula",
                "The entry criteria are either <filters> or a <filterFormula>, not both",
            )
        ],
    ),
    "a formula that does not parse": (
        [
            (
                "ISPICKVAL({!$Record.Priority}, 'High')\n            &amp;&amp; {!attempts} &lt; "
                "{!Max_Attempts}",
                "{!attempts} +",
            )
        ],
        [
            (
                ("<expression>",),
                "expression",
                "Formula 'Is_Urgent': Syntax error. Missing operand after '+' (line 1, column 14)",
            )
        ],
    ),
    "a formula of the wrong type": (
        [
            (
                "ISPICKVAL({!$Record.Priority}, 'High')\n            &amp;&amp; {!attempts} &lt; "
                "{!Max_Attempts}",
                "{!$Record.Subject}",
            )
        ],
        [
            (
                ("<expression>",),
                "expression",
                "Formula 'Is_Urgent': Formula result is data type (Text), incompatible with "
                "expected data type (Boolean). (line 1, column 3)",
            )
        ],
    ),
    "a formula naming a resource that does not exist": (
        [("{!attempts} &lt;", "{!atempts} &lt;")],
        [
            (
                ("<expression>",),
                "expression",
                f"Formula 'Is_Urgent': 'atempts' refers to 'atempts', {NOT_FOUND} (line 2, "
                "column 18)",
            )
        ],
    ),
}


@pytest.mark.parametrize("case", VALIDATION)
def test_validation_problems_are_located(case: str) -> None:
    edits, problems = VALIDATION[case]
    text = edited(*edits)
    assert sorted(validation(text)) == sorted(expect(text, problems))


API_STARTED = re.sub(r"(?s)<doesRequire.*?<triggerType>RecordAfterSave</triggerType>", "", SAMPLE)


def test_record_references_need_a_record_trigger() -> None:
    problems = validation(API_STARTED)
    message = (
        "'$Record.Id': $Record is only available in a record-triggered orchestration (this "
        "one has no <object> in <start>)"
    )
    assert (line_of(API_STARTED, "<name>caseId</name>", "<value>"), "value", message) in problems
    assert {p[2].split(":")[0] for p in problems} == {
        "'$Record.Id'",
        "'$Record.IsClosed'",
        "'$Record.Status'",
        "'$Record.Owner.Username'",
        "'$Record.Subject'",
        "Formula 'Is_Urgent'",
    }


def test_record_variables_have_fields() -> None:
    text = edited(
        (
            "<name>reviewer</name>\n        <dataType>String</dataType>",
            "<name>reviewer</name>\n        "
            "<dataType>SObject</dataType><objectType>User</objectType>",
        ),
        (
            "<elementReference>reviewer</elementReference>",
            "<elementReference>reviewer.Manager.Username</elementReference>",
        ),
        ("<assigneeType>Resource</assigneeType>", "<assigneeType>User</assigneeType>"),
    )
    assert validation(text) == []


def test_without_schema_field_paths_are_not_checked() -> None:
    text = edited(
        (
            "<leftValueReference>$Record.IsClosed</leftValueReference>",
            "<leftValueReference>$Record.Closed__c</leftValueReference>",
        ),
        ("<object>Case</object>", "<object>Ticket__c</object>"),
    )
    assert validate_orchestration(sample(text)) == []
