"""Building orchestrations and the flows they call, deploying them through the real
deploy path, and moving runs on (the dispatcher runs the durable timers)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from workroute.metadata.deploy import run_deploy
from workroute.metadata.flow import orchestration_to_xml
from workroute.orchestration.definition import Orchestration, Stage, Step
from workroute.orchestration.resources import Trigger, Variable
from workroute.orchestration.values import (
    Assignee,
    Condition,
    Connector,
    Criteria,
    Parameter,
    Value,
)
from workroute.orchestration.vocabulary import (
    AssigneeType,
    ComparisonOperator,
    FlowDataType,
    FlowStatus,
    RecordTriggerType,
    StepActionType,
)
from workroute.org import NewUser, Org

NS = "http://soap.sforce.com/2006/04/metadata"
SCREEN = "Review_Screen"
CLOSE = "Close_Case"
PASSWORD = "Orch-pass-1"


def screen_flow_xml(name: str = SCREEN) -> bytes:
    """A screen flow: a required Approved checkbox and a Comment, copied to the output
    variables approved and comment."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="{NS}">
    <apiVersion>62.0</apiVersion>
    <assignments>
        <name>Set_Outputs</name>
        <label>Set Outputs</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <assignmentItems>
            <assignToReference>approved</assignToReference>
            <operator>Assign</operator>
            <value><elementReference>Approved</elementReference></value>
        </assignmentItems>
        <assignmentItems>
            <assignToReference>comment</assignToReference>
            <operator>Assign</operator>
            <value><elementReference>Comment</elementReference></value>
        </assignmentItems>
    </assignments>
    <label>{name}</label>
    <processType>Flow</processType>
    <screens>
        <name>Review</name>
        <label>Review</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <allowBack>false</allowBack>
        <allowFinish>true</allowFinish>
        <allowPause>false</allowPause>
        <connector><targetReference>Set_Outputs</targetReference></connector>
        <fields>
            <name>Approved</name>
            <dataType>Boolean</dataType>
            <fieldText>Approved</fieldText>
            <fieldType>InputField</fieldType>
            <isRequired>true</isRequired>
        </fields>
        <fields>
            <name>Comment</name>
            <dataType>String</dataType>
            <fieldText>Comment</fieldText>
            <fieldType>InputField</fieldType>
            <isRequired>false</isRequired>
        </fields>
        <showFooter>true</showFooter>
        <showHeader>true</showHeader>
    </screens>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector><targetReference>Review</targetReference></connector>
    </start>
    <status>Active</status>
    <variables>
        <name>recordId</name>
        <dataType>String</dataType>
        <isCollection>false</isCollection>
        <isInput>true</isInput>
        <isOutput>false</isOutput>
    </variables>
    <variables>
        <name>approved</name>
        <dataType>Boolean</dataType>
        <isCollection>false</isCollection>
        <isInput>false</isInput>
        <isOutput>true</isOutput>
    </variables>
    <variables>
        <name>comment</name>
        <dataType>String</dataType>
        <isCollection>false</isCollection>
        <isInput>false</isInput>
        <isOutput>true</isOutput>
    </variables>
</Flow>
""".encode()


def close_flow_xml(name: str = CLOSE, status_value: str = "Closed") -> bytes:
    """An autolaunched flow: sets the Case ``recordId`` to ``status_value``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="{NS}">
    <apiVersion>62.0</apiVersion>
    <label>{name}</label>
    <processType>AutoLaunchedFlow</processType>
    <recordUpdates>
        <name>Close_It</name>
        <label>Close it</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <filterLogic>and</filterLogic>
        <filters>
            <field>Id</field>
            <operator>EqualTo</operator>
            <value><elementReference>recordId</elementReference></value>
        </filters>
        <inputAssignments>
            <field>Status</field>
            <value><stringValue>{status_value}</stringValue></value>
        </inputAssignments>
        <object>Case</object>
    </recordUpdates>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector><targetReference>Close_It</targetReference></connector>
    </start>
    <status>Active</status>
    <variables>
        <name>recordId</name>
        <dataType>String</dataType>
        <isCollection>false</isCollection>
        <isInput>true</isInput>
        <isOutput>false</isOutput>
    </variables>
</Flow>
""".encode()


def review_step(
    assignee_type: AssigneeType = AssigneeType.USER,
    assignee: str = "reviewer@example.com",
    *,
    name: str = "Review",
    entry: Criteria | None = None,
    exit: Criteria | None = None,
    reference: bool = False,
    record: str = "$Record.Id",
) -> Step:
    value = Value.reference(assignee) if reference else Value.string(assignee)
    step = Step(
        name=name,
        label=name.replace("_", " "),
        action_type=StepActionType.STEP_INTERACTIVE,
        action_name=SCREEN,
        assignee=Assignee(type=assignee_type, value=value),
        inputs=(
            Parameter(name="ActionInput__RecordId", value=Value.reference(record)),
            Parameter(name="recordId", value=Value.reference(record)),
        ),
    )
    if entry is not None:
        step = replace(step, entry=entry)
    if exit is not None:
        step = replace(step, exit=exit)
    return step


def close_step(name: str = "Close", flow: str = CLOSE, record: str = "$Record.Id") -> Step:
    return Step(
        name=name,
        label=name,
        action_type=StepActionType.STEP_BACKGROUND,
        action_name=flow,
        inputs=(Parameter(name="recordId", value=Value.reference(record)),),
    )


def after(step: str) -> Criteria:
    """Start when ``step`` is Completed."""
    return Criteria(
        logic="and",
        conditions=(
            Condition(
                left=f"{step}.Status",
                operator=ComparisonOperator.EQUAL_TO,
                right=Value.string("Completed"),
            ),
        ),
    )


def two_stage(
    review: Step | None = None,
    *,
    name: str = "Case_Review",
    trigger: bool = True,
    api_version: str = "62.0",
    second: Step | None = None,
) -> Orchestration:
    """Stage 1: an interactive review; stage 2: a background step closing the case.
    Without a trigger, the case is the input variable ``recordId``."""
    if not trigger:
        review = review or review_step(record="recordId")
        second = second or close_step(record="recordId")
    return Orchestration(
        name=name,
        label=name.replace("_", " "),
        status=FlowStatus.ACTIVE,
        api_version=api_version,
        trigger=Trigger(object="Case", record_trigger_type=RecordTriggerType.CREATE)
        if trigger
        else None,
        start=Connector(target="Reviewing"),
        variables=()
        if trigger
        else (Variable(name="recordId", data_type=FlowDataType.STRING, is_input=True),),
        stages=(
            Stage(
                name="Reviewing",
                label="Reviewing",
                steps=(review or review_step(),),
                connector=Connector(target="Closing"),
            ),
            Stage(name="Closing", label="Closing", steps=(second or close_step(),)),
        ),
    )


def deploy(org: Org, root: Path, flows: dict[str, bytes]) -> None:
    (root / "flows").mkdir(parents=True, exist_ok=True)
    for old in (root / "flows").iterdir():
        old.unlink()
    for name, content in flows.items():
        (root / "flows" / f"{name}.flow-meta.xml").write_bytes(content)
    result = run_deploy(org, root, user_id=org.admin_user_id())
    assert result.success, result.problems


def deploy_orchestration(org: Org, root: Path, orch: Orchestration) -> None:
    deploy(
        org,
        root,
        {orch.name: orchestration_to_xml(orch), SCREEN: screen_flow_xml(), CLOSE: close_flow_xml()},
    )


def add_user(org: Org, username: str, *, profile: str = "Standard User") -> str:
    return org.add_user(
        NewUser(
            username=username, last_name=username.split("@")[0], email=username, profile=profile
        ),
        password=PASSWORD,
    )


def run_due(org: Org) -> None:
    """Let the runs move on (the timers the last commits set)."""
    org.dispatcher.run_due()
