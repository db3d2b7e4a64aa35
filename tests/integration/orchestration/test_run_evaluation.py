"""Steps that start, and interactive steps that complete, when an evaluation flow
returns True (seed 001), re-evaluated when the run's record changes (SQLite and
PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.integration.api.api_harness import Api, Caller
from tests.integration.orchestration.orch_harness import (
    CLOSE,
    NS,
    SCREEN,
    add_user,
    close_flow_xml,
    deploy,
    review_step,
    run_due,
    screen_flow_xml,
    two_stage,
)
from workroute.metadata.flow import orchestration_to_xml
from workroute.orchestration.values import EvaluationFlow
from workroute.orchestration.vocabulary import EvaluationActionType

HIGH = "High_Priority"


def high_priority_xml() -> bytes:
    """An evaluation flow: True when $Record.Priority is High."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="{NS}">
    <apiVersion>62.0</apiVersion>
    <assignments>
        <name>Answer</name>
        <label>Answer</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <assignmentItems>
            <assignToReference>isOrchestrationConditionMet</assignToReference>
            <operator>Assign</operator>
            <value><elementReference>isHigh</elementReference></value>
        </assignmentItems>
    </assignments>
    <formulas>
        <name>isHigh</name>
        <dataType>Boolean</dataType>
        <expression>ISPICKVAL({{!$Record.Priority}}, &apos;High&apos;)</expression>
    </formulas>
    <label>High Priority</label>
    <processType>EvaluationFlow</processType>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector><targetReference>Answer</targetReference></connector>
    </start>
    <status>Active</status>
    <variables>
        <name>isOrchestrationConditionMet</name>
        <dataType>Boolean</dataType>
        <isCollection>false</isCollection>
        <isInput>false</isInput>
        <isOutput>true</isOutput>
    </variables>
</Flow>
""".encode()


def _deploy(api: Api, tmp_path: Path, *, start: bool) -> None:
    flow = EvaluationFlow(name=HIGH, action_type=EvaluationActionType.EVALUATION_FLOW)
    step = (
        replace(review_step(), entry_flow=flow) if start else replace(review_step(), exit_flow=flow)
    )
    orch = two_stage(step)
    deploy(
        api.org,
        tmp_path,
        {
            orch.name: orchestration_to_xml(orch),
            SCREEN: screen_flow_xml(),
            CLOSE: close_flow_xml(),
            HIGH: high_priority_xml(),
        },
    )


def _steps(api: Api, case_id: str) -> dict[str, str]:
    [run] = api.org.store.find("FlowOrchestrationInstance", RelatedRecordId=case_id)
    rows = api.org.store.find("FlowOrchestrationStepInstance", OrchestrationInstanceId=run["Id"])
    return {str(r["Name"]): str(r["Status"]) for r in rows}


def test_step_starts_when_the_evaluation_flow_returns_true(
    api: Api, admin: Caller, tmp_path: Path
) -> None:
    add_user(api.org, "reviewer@example.com")
    _deploy(api, tmp_path, start=True)
    case_id = admin.create("Case", {"Subject": "x", "Priority": "Low"})
    run_due(api.org)
    assert _steps(api, case_id) == {"Review": "NotStarted"}
    admin.patch(f"/services/data/v62.0/sobjects/Case/{case_id}", json={"Priority": "High"})
    run_due(api.org)
    assert _steps(api, case_id) == {"Review": "InProgress"}


def test_interactive_step_completes_when_the_evaluation_flow_returns_true(
    api: Api, admin: Caller, tmp_path: Path
) -> None:
    add_user(api.org, "reviewer@example.com")
    _deploy(api, tmp_path, start=False)
    case_id = admin.create("Case", {"Subject": "x", "Priority": "Low"})
    run_due(api.org)
    assert _steps(api, case_id) == {"Review": "InProgress"}
    admin.patch(f"/services/data/v62.0/sobjects/Case/{case_id}", json={"Priority": "High"})
    run_due(api.org)
    assert _steps(api, case_id) == {"Review": "Completed", "Close": "Completed"}
    [item] = api.org.store.find("FlowOrchestrationWorkItem", RelatedRecordId=case_id)
    assert item["Status"] == "Completed" and item["CompletedById"] is None
