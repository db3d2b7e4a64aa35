"""Orchestration definitions as a runtime reads them: how steps start and complete,
condition logic, what references name, version statuses and the registry."""

from __future__ import annotations

from dataclasses import replace

import pytest

import workroute.orchestration
from workroute.lang.formula.types import CHECKBOX, DATETIME, NULL, TEXT, FormulaType, Kind
from workroute.orchestration.definition import (
    Decision,
    FlowSummary,
    Orchestration,
    Stage,
    Step,
)
from workroute.orchestration.logic import logic_holds, logic_problems, logic_tree
from workroute.orchestration.references import (
    RefKind,
    UnresolvedReferenceError,
    formula_source,
    resolve_reference,
)
from workroute.orchestration.resources import Formula, Trigger, Variable
from workroute.orchestration.values import (
    Assignee,
    Condition,
    Connector,
    Criteria,
    EvaluationFlow,
    Parameter,
    Value,
    canonical_value,
)
from workroute.orchestration.versions import (
    STATUS_TRANSITIONS,
    FlowRegistry,
    IllegalStatusChangeError,
    move_status,
    status_after_deploy,
)
from workroute.orchestration.vocabulary import (
    AssigneeType,
    ComparisonOperator,
    EvaluationActionType,
    FlowDataType,
    FlowStatus,
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
CREATE = RecordTriggerType.CREATE


def done(step: str) -> Condition:
    return Condition(
        left=f"{step}.Status", operator=ComparisonOperator.EQUAL_TO, right=Value.string("Completed")
    )


def step(name: str = "A", **kw: object) -> Step:
    fields: dict[str, object] = {
        "name": name,
        "label": name,
        "action_type": StepActionType.STEP_INTERACTIVE,
        "action_name": "Screen",
    }
    fields.update(kw)
    return Step(**fields)  # type: ignore[arg-type]


def test_when_a_step_starts() -> None:
    assert step().start is StepStart.STAGE_STARTS
    assert step().waits_for == ()
    after = step(entry=Criteria(logic="and", conditions=(done("B"), done("C"))))
    assert after.start is StepStart.STEPS_COMPLETED and after.waits_for == ("B", "C")
    # Any other condition, or other logic, makes them requirements.
    either = step(entry=Criteria(logic="or", conditions=(done("B"), done("C"))))
    assert either.start is StepStart.REQUIREMENTS and either.waits_for == ()
    other = Condition(left="$Record.IsClosed", operator=ComparisonOperator.EQUAL_TO)
    assert step(entry=Criteria(conditions=(other,))).start is StepStart.REQUIREMENTS
    flow = EvaluationFlow(name="Eval", action_type=EvaluationActionType.EVALUATION_FLOW)
    assert step(entry_flow=flow).start is StepStart.EVALUATION_FLOW
    assert done("B").completed_step() == "B"
    assert other.completed_step() is None
    wrong = replace(done("B"), right=Value.string("InProgress"))
    assert wrong.completed_step() is None


def test_when_a_step_completes() -> None:
    assert step().completion is StepCompletion.SCREEN_FLOW_COMPLETED
    background = step(action_type=StepActionType.STEP_BACKGROUND)
    assert background.kind is StepKind.BACKGROUND and not background.is_interactive
    assert background.completion is StepCompletion.FLOW_FINISHED
    assert step(exit=Criteria(conditions=(done("B"),))).completion is StepCompletion.REQUIREMENTS
    flow = EvaluationFlow(name="Eval", action_type=EvaluationActionType.FLOW)
    assert step(exit_flow=flow).completion is StepCompletion.EVALUATION_FLOW
    legacy = step(action_type=StepActionType.CREATE_WORK_ITEM)
    assert legacy.kind is StepKind.INTERACTIVE and StepKind.INTERACTIVE.value == "InteractiveStep"


def test_step_inputs() -> None:
    s = step(
        inputs=(
            Parameter(name="ActionInput__RecordId", value=Value.reference("$Record.Id")),
            Parameter(name="note"),
        )
    )
    assert s.record_id == Value.reference("$Record.Id")
    assert s.input("actioninput__recordid") is s.inputs[0]
    assert s.input("NOTE") is s.inputs[1] and s.input("other") is None
    assert step().record_id is None


def test_when_a_stage_completes() -> None:
    assert Stage(name="S", label="S").completion is StageCompletion.ALL_STEPS_COMPLETED
    assert (
        Stage(name="S", label="S", exit=Criteria(conditions=(done("A"),))).completion
        is StageCompletion.REQUIREMENTS
    )
    flow = EvaluationFlow(name="Eval", action_type=EvaluationActionType.EVALUATION_FLOW)
    assert Stage(name="S", label="S", exit_flow=flow).completion is StageCompletion.EVALUATION_FLOW


ORCH = Orchestration(
    name="Review",
    label="Review",
    trigger=Trigger(object="Case", record_trigger_type=RecordTriggerType.UPDATE),
    start=Connector(target="First"),
    stages=(
        Stage(
            name="First",
            label="First",
            steps=(step("Check"), step("Log", action_type=StepActionType.STEP_BACKGROUND)),
            connector=Connector(target="Choose"),
        ),
        Stage(name="Second", label="Second"),
    ),
    decisions=(Decision(name="Choose", label="Choose"),),
    variables=(
        Variable(name="owner", data_type=FlowDataType.SOBJECT, object_type="User", is_input=True),
        Variable(name="count", data_type=FlowDataType.NUMBER, scale=0, is_output=True),
        Variable(name="names", data_type=FlowDataType.STRING, is_collection=True),
    ),
    formulas=(Formula(name="Urgent", expression="true", data_type=FlowDataType.BOOLEAN),),
)


def test_finding_elements() -> None:
    first = ORCH.first_node()
    assert isinstance(first, Stage) and first.name == "First"
    assert isinstance(ORCH.node("choose"), Decision)
    assert ORCH.node("Nowhere") is None
    found = ORCH.find_step("log")
    assert found is not None and found[0].name == "First" and found[1].name == "Log"
    assert [s.name for _, s in ORCH.steps()] == ["Check", "Log"]
    assert ORCH.stages[0].step("CHECK") is ORCH.stages[0].steps[0]
    assert [v.name for v in ORCH.inputs] == ["owner"] and [v.name for v in ORCH.outputs] == [
        "count"
    ]
    assert ORCH.is_record_triggered and not ORCH.is_active
    assert ORCH.trigger is not None and ORCH.trigger.on_update and not ORCH.trigger.on_create
    assert replace(ORCH, start=None).first_node() is None


@pytest.mark.parametrize(
    ("ref", "kind", "key", "type_"),
    [
        ("$Record", RefKind.RECORD, "$Record", NULL),
        ("$record.Subject", RefKind.RECORD, "$Record.Subject", FormulaType(Kind.TEXT, length=255)),
        ("$Record.Owner.Email", RefKind.RECORD, "$Record.Owner.Email", TEXT),
        ("$Record__Prior.IsClosed", RefKind.PRIOR_RECORD, "$Record__Prior.IsClosed", CHECKBOX),
        ("$User.Username", RefKind.GLOBAL, "$User.Username", TEXT),
        ("$Flow.CurrentDateTime", RefKind.GLOBAL, "$Flow.CurrentDateTime", DATETIME),
        ("$System.OriginDateTime", RefKind.GLOBAL, "$System.OriginDateTime", DATETIME),
        ("OWNER.Manager.Username", RefKind.VARIABLE, "owner.Manager.Username", TEXT),
        ("count", RefKind.VARIABLE, "count", FormulaType(Kind.NUMBER, scale=0)),
        ("names", RefKind.VARIABLE, "names", NULL),
        ("urgent", RefKind.FORMULA, "Urgent", CHECKBOX),
        ("check.status", RefKind.STEP_STATUS, "Check.Status", TEXT),
        ("Check.Outputs.ok", RefKind.STEP_OUTPUT, "Check.Outputs.ok", NULL),
        ("Second.Status", RefKind.STAGE_STATUS, "Second.Status", TEXT),
    ],
)
def test_what_references_name(ref: str, kind: RefKind, key: str, type_: FormulaType) -> None:
    found = resolve_reference(ORCH, ref, SCHEMA)
    assert (found.kind, found.key) == (kind, key)
    if type_.kind is Kind.TEXT:
        assert found.type.kind in (Kind.TEXT, Kind.ID) or found.type.is_text
    else:
        assert found.type == type_


@pytest.mark.parametrize(
    ("orch", "ref", "message"),
    [
        (ORCH, "", "'' is not a valid reference"),
        (ORCH, "a..b", "'a..b' is not a valid reference"),
        (ORCH, "$Record.Nope", "'$Record.Nope': Case has no field 'Nope'"),
        (ORCH, "$User", "'$User': name a field of $User"),
        (ORCH, "$Flow.Nope", "'$Flow.Nope' is not a flow global; known: $Flow.CurrentDate, "
         "$Flow.CurrentDateTime, $Flow.CurrentRecord, $Flow.InterviewGuid, "
         "$Flow.InterviewStartTime, $Flow.ActiveStages, $Flow.CurrentStage, $Flow.FaultMessage"),
        (ORCH, "$Setup.X.Y",
         "'$Setup.X.Y': custom settings ($Setup) are not available in workroute"),
        (ORCH, "$Foo.Bar", "'$Foo.Bar': '$Foo' is not a known global"),
        (ORCH, "names.Length", "'names.Length': 'names' is a collection; it has no fields"),
        (ORCH, "Urgent.X", "'Urgent.X': 'Urgent' is a formula; it has no fields"),
        (ORCH, "Second.Outputs", "'Second.Outputs': 'Second' is a stage; use Second.Status"),
        (ORCH, "owner.Boss.Name", "'owner.Boss.Name': User has no relationship 'Boss'"),
        (
            replace(ORCH, trigger=None),
            "$Record.Id",
            "'$Record.Id': $Record is only available in a record-triggered orchestration (this "
            "one has no <object> in <start>)",
        ),
        (
            replace(ORCH, trigger=Trigger(object="Case", record_trigger_type=CREATE)),
            "$Record__Prior.Id",
            "'$Record__Prior.Id': $Record__Prior is only available when the orchestration runs "
            "on update; it runs on Create",
        ),
    ],
)  # fmt: skip
def test_references_that_name_nothing(orch: Orchestration, ref: str, message: str) -> None:
    with pytest.raises(UnresolvedReferenceError) as exc:
        resolve_reference(orch, ref, SCHEMA)
    assert exc.value.message == message


def test_references_without_a_schema() -> None:
    found = resolve_reference(ORCH, "$Record.Anything.At_All__c")
    assert (found.kind, found.type) == (RefKind.RECORD, NULL)


def test_merge_fields_are_blanked_for_the_formula_parser() -> None:
    assert formula_source("{!a} + {!$Record.B}") == "  a  +   $Record.B "
    assert formula_source("'{!text}' & {!x}") == "'{!text}' &   x "
    assert formula_source('"a\\"{!b}" /* {!c} */ {!d}') == '"a\\"{!b}" /* {!c} */   d '
    assert formula_source("{!open") == "{!open"


def test_condition_logic() -> None:
    assert logic_tree(None, 0) is None and logic_tree("and", 0) is None
    holds = {1: True, 2: False, 3: True}.__getitem__
    assert logic_holds(logic_tree("and", 3), holds) is False
    assert logic_holds(logic_tree("OR", 3), holds) is True
    assert logic_holds(logic_tree(None, 1), holds) is True
    assert logic_holds(logic_tree("1 AND (2 OR 3)", 3), holds) is True
    assert logic_holds(logic_tree("NOT 1 OR 2", 3), holds) is False
    assert logic_holds(None, holds) is True
    asked: list[int] = []

    def lazily(n: int) -> bool:
        asked.append(n)
        return False

    assert logic_holds(logic_tree("and", 3), lazily) is False and asked == [1]
    assert logic_problems("and", 20, "x") == [] and logic_problems(None, 0, "x") == []
    assert logic_problems("1 OR 4", 3, "entryConditionLogic") == [
        "entryConditionLogic '1 OR 4' references condition 4; there are 3 conditions",
        "entryConditionLogic '1 OR 4' does not use condition(s) 2, 3",
    ]
    assert logic_problems("1 XOR 2", 2, "x") == [
        "x '1 XOR 2' is not valid: unexpected 'XOR' at position 3"
    ]


def test_canonical_values() -> None:
    assert canonical_value(ValueKind.NUMBER, "1.50") == "1.5"
    assert canonical_value(ValueKind.NUMBER, "1e3") == "1000"
    assert canonical_value(ValueKind.NUMBER, "NaN") is None
    assert canonical_value(ValueKind.BOOLEAN, "1") == "true"
    assert canonical_value(ValueKind.DATE, "2024-02-30") is None
    assert canonical_value(ValueKind.DATETIME, "2024-02-03T10:00:00Z") == "2024-02-03T10:00:00Z"
    assert canonical_value(ValueKind.REFERENCE, "") is None
    assert canonical_value(ValueKind.STRING, "  as is ") == "  as is "
    assert Value.boolean(False) == Value(kind=ValueKind.BOOLEAN, text="false")


def test_version_status_moves() -> None:
    assert move_status(FlowStatus.DRAFT, FlowStatus.ACTIVE) is FlowStatus.ACTIVE
    assert move_status(FlowStatus.ACTIVE, FlowStatus.OBSOLETE) is FlowStatus.OBSOLETE
    assert move_status(FlowStatus.OBSOLETE, FlowStatus.ACTIVE) is FlowStatus.ACTIVE
    assert move_status(FlowStatus.DRAFT, FlowStatus.DRAFT) is FlowStatus.DRAFT
    with pytest.raises(IllegalStatusChangeError) as exc:
        move_status(FlowStatus.OBSOLETE, FlowStatus.DRAFT)
    assert exc.value.message == "A Obsolete flow version cannot become Draft"
    with pytest.raises(IllegalStatusChangeError):
        move_status(FlowStatus.ACTIVE, FlowStatus.DRAFT)
    assert set(STATUS_TRANSITIONS) == set(FlowStatus)
    # A deploy of the same definition: Active activates; anything else deactivates.
    assert status_after_deploy(FlowStatus.DRAFT, FlowStatus.ACTIVE) is FlowStatus.ACTIVE
    assert status_after_deploy(FlowStatus.ACTIVE, FlowStatus.DRAFT) is FlowStatus.OBSOLETE
    assert status_after_deploy(FlowStatus.ACTIVE, FlowStatus.ACTIVE) is FlowStatus.ACTIVE
    assert status_after_deploy(FlowStatus.OBSOLETE, FlowStatus.DRAFT) is FlowStatus.OBSOLETE
    assert status_after_deploy(FlowStatus.INVALID_DRAFT, FlowStatus.DRAFT) is FlowStatus.DRAFT
    assert status_after_deploy(FlowStatus.DRAFT, FlowStatus.INVALID_DRAFT) is FlowStatus.DRAFT


def test_the_registry() -> None:
    registry = FlowRegistry()
    v1 = replace(ORCH, version=1, status=FlowStatus.OBSOLETE)
    v2 = replace(ORCH, version=2, status=FlowStatus.ACTIVE, label="Second")
    screen = FlowSummary(name="Screen", label="Screen", process_type="Flow", version=1)
    registry.install("REVIEW", [v1, v2])
    registry.install("Screen", [screen])
    assert registry.names() == ["Review", "Screen"]
    assert registry.versions("review") == (v1, v2)
    assert registry.version("Review", 1) is v1 and registry.version("Review", 3) is None
    assert registry.latest("Review") is v2 and registry.active("Review") is v2
    assert registry.active_orchestration("Review") is v2
    assert registry.orchestration("Review", 1) is v1
    assert registry.active_orchestrations() == [v2]
    assert registry.record_triggered("CASE") == [v2] and registry.record_triggered("Lead") == []
    assert registry.flow("Screen") is screen and registry.flow("Review") is None
    assert registry.active("Screen") is None and registry.active_orchestration("Screen") is None
    assert registry.versions("Nope") == () and registry.latest("Nope") is None


def test_assignees_and_values() -> None:
    a = Assignee(type=AssigneeType.RESOURCE, value=Value.reference("approver"))
    assert (
        a.value is not None and a.value.is_reference and AssigneeType.RESOURCE.value == "Resource"
    )
    assert not Value.string("x").is_reference


def test_the_public_names() -> None:
    assert workroute.orchestration.__all__ == [
        "MAX_REQUIREMENTS", "RECORD_ID_INPUT", "Assignee", "AssigneeType", "ComparisonOperator",
        "Condition", "Connector", "Constant", "Criteria", "Decision", "DecisionRule",
        "EvaluationActionType", "EvaluationFlow", "FlowDataType", "FlowProcessType",
        "FlowRunInMode", "FlowStatus", "FlowSummary", "FlowTriggerType", "FlowVersion", "Formula",
        "Orchestration", "OutputParameter", "Parameter", "RecordFilter", "RecordFilterOperator",
        "RecordTriggerType", "Stage", "StageCompletion", "Step", "StepActionType",
        "StepCompletion", "StepKind", "StepStart", "TextTemplate", "Trigger", "Value", "ValueKind",
        "Variable", "logic_holds", "logic_problems", "logic_tree", "validate_orchestration",
    ]  # fmt: skip
    for name in workroute.orchestration.__all__:
        assert getattr(workroute.orchestration, name) is not None
