"""The readable YAML/JSON form: the documented example, equivalence with the Flow XML,
round trips (also as a property), and problems located at the file's lines and keys."""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from tests.unit.orchestration.strategies import orchestrations

from workroute.kernel.errors import DeployError
from workroute.metadata.flow import orchestration_to_xml, parse_flow
from workroute.orchestration import yaml_form
from workroute.orchestration.definition import Orchestration
from workroute.orchestration.vocabulary import (
    AssigneeType,
    FlowStatus,
    RecordTriggerType,
    StageCompletion,
    StepActionType,
    StepCompletion,
    StepStart,
    ValueKind,
)
from workroute.orchestration.yaml_form import load_orchestration
from workroute.orchestration.yaml_write import orchestration_to_json, orchestration_to_yaml
from workroute.schema.registry import SchemaRegistry
from workroute.schema.standard import load_standard_objects

SCHEMA = SchemaRegistry(load_standard_objects())
assert yaml_form.__doc__ is not None
EXAMPLE = textwrap.dedent(yaml_form.__doc__.split("::\n", 1)[1].split("\nValues are written")[0])


def example() -> Orchestration:
    return load_orchestration(EXAMPLE, "case_review.yaml", schema=SCHEMA)


def test_the_documented_example_loads_and_validates() -> None:
    o = example()
    assert (o.name, o.label, o.status, o.api_version) == (
        "Case_Review",
        "Case Review",
        FlowStatus.ACTIVE,
        "62.0",
    )
    assert (
        o.trigger is not None
        and o.trigger.record_trigger_type is RecordTriggerType.CREATE_AND_UPDATE
    )
    assert o.trigger.requires_record_changed is True and o.trigger.filters[0].field == "Status"
    assert o.start is not None and o.start.target == "Review"
    review, close = o.stages
    check, log = review.steps
    assert check.action_type is StepActionType.STEP_INTERACTIVE
    assert check.assignee is not None and check.assignee.type is AssigneeType.QUEUE
    assert check.record_id is not None and check.record_id.kind is ValueKind.REFERENCE
    assert check.completion is StepCompletion.REQUIREMENTS and check.exit.logic == "or"
    assert check.start is StepStart.STAGE_STARTS and check.entry.logic == "and"
    assert log.start is StepStart.STEPS_COMPLETED and log.waits_for == ("Check",)
    assert review.completion is StageCompletion.ALL_STEPS_COMPLETED
    assert close.completion is StageCompletion.EVALUATION_FLOW
    assert o.decisions[0].rules[0].label == "Yes"  # YAML's yes is text where text is wanted
    assert o.constants[0].value is not None and o.constants[0].value.text == "3"


def test_the_same_model_as_the_flow_xml() -> None:
    o = example()
    xml = orchestration_to_xml(o)
    again = parse_flow(xml, "flows/Case_Review.flow-meta.xml")
    assert again == o
    assert load_orchestration(orchestration_to_yaml(again), "again.yaml") == o
    # Flow Builder's required logic elements are there, so Salesforce can read it too.
    assert b"<entryConditionLogic>and</entryConditionLogic>" in xml
    assert b"<exitConditionLogic>and</exitConditionLogic>" in xml


def test_json_is_the_same_form() -> None:
    o = example()
    text = orchestration_to_json(o)
    data = json.loads(text)
    assert data["name"] == "Case_Review" and data["stages"][0]["steps"][0]["type"] == "interactive"
    assert data["constants"] == [{"name": "Max_Reviews", "dataType": "Number", "value": 3}]
    assert load_orchestration(text, "case_review.json") == o


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orchestrations)
def test_written_models_read_back_the_same(o: Orchestration) -> None:
    assert load_orchestration(orchestration_to_yaml(o), "o.yaml", validate=False) == o
    assert load_orchestration(orchestration_to_json(o), "o.json", validate=False) == o


def problems(text: str, **kw: object) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(DeployError) as exc:
        load_orchestration(text, "bad.yaml", **kw)  # type: ignore[arg-type]
    return [(p.line, p.element, p.message) for p in exc.value.problems]


BASE = """\
name: Review_Case
label: Review case
trigger: {object: Case, on: Create}
stages:
  - name: Review
    label: Review
    steps:
      - name: Check
        label: Check
        type: interactive
        flow: Check_Screen
        assignee: {user: reviewer@example.com}
        inputs:
          ActionInput__RecordId: {ref: $Record.Id}
"""


def test_the_base_is_valid() -> None:
    assert load_orchestration(BASE, "ok.yaml", schema=SCHEMA).stages[0].steps[0].name == "Check"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "label: Review case\n",
            "label: Review case\ncolour: red\n",
            [
                (
                    3,
                    "colour",
                    "'colour' is not a key of the orchestration; valid keys: name, label, "
                    "status, apiVersion, description, interviewLabel, runInMode, trigger, "
                    "start, startLocation, variables, formulas, constants, textTemplates, "
                    "stages, decisions",
                )
            ],
        ),
        (
            "label: Review case\n",
            "label: Review case\nlabel: Again\n",
            [(3, "label", "'label' is given twice in the orchestration")],
        ),
        ("label: Review case\n", "", [(1, "label", "the orchestration needs 'label'")]),
        (
            "type: interactive",
            "type: manual",
            [
                (
                    10,
                    "type",
                    "'manual' is not a valid type of step 'Check'; valid: interactive, "
                    "background, stepInteractive, stepBackground, createWorkItem, "
                    "stepMuleSoft, stepApproval",
                )
            ],
        ),
        (
            "assignee: {user: reviewer@example.com}",
            "assignee: reviewer@example.com",
            [
                (
                    12,
                    "assignee",
                    "'assignee' of step 'Check' is one of user:, group:, queue:, resource:",
                )
            ],
        ),
        (
            "assignee: {user: reviewer@example.com}",
            "assignee: {person: reviewer@example.com}",
            [(12, None, "'person' is not an assignee type; use user, group, queue or resource")],
        ),
        (
            "ActionInput__RecordId: {ref: $Record.Id}",
            "ActionInput__RecordId: {id: $Record.Id}",
            [
                (
                    14,
                    None,
                    "input 'ActionInput__RecordId' of step 'Check' must be text, true/false, a "
                    "number, null or one of {ref: ...}, {string: ...}, {boolean: ...}, "
                    "{number: ...}, {date: ...}, {datetime: ...}, {time: ...}",
                )
            ],
        ),
        (
            "    label: Review\n    steps:\n",
            "    label: Review\n    steps: none\n    old_steps:\n",
            [
                (
                    8,
                    "old_steps",
                    "'old_steps' is not a key of a stage; valid keys: name, label, "
                    "description, next, faultNext, exit, steps, location",
                ),
                (7, "steps", "'steps' of stage 'Review' must be a list"),
            ],
        ),
        (
            "        assignee: {user: reviewer@example.com}\n",
            "        assignee: {user: reviewer@example.com}\n        canAssigneeEdit: 1\n",
            [(13, "canAssigneeEdit", "'canAssigneeEdit' of step 'Check' must be true or false")],
        ),
        (
            "trigger: {object: Case, on: Create}",
            "trigger: {object: Case, on: Create, onlyWhenChanged: sometimes}",
            [(3, "onlyWhenChanged", "'onlyWhenChanged' of the trigger must be true or false")],
        ),
        (
            "name: Review_Case\n",
            "name: Review_Case\nstatus: Live\n",
            [
                (
                    2,
                    "status",
                    "'Live' is not a valid status of the orchestration; valid: Active, Draft, "
                    "Obsolete, InvalidDraft, UnderReview",
                )
            ],
        ),
        (
            "        flow: Check_Screen\n",
            "        flow: Check_Screen\n        entry: {after: [Check], logic: or}\n",
            [],  # after and logic: the logic wins; checked below by validation
        ),
    ],
)
def test_reading_problems_are_located(
    old: str, new: str, expected: list[tuple[int, str | None, str]]
) -> None:
    text = BASE.replace(old, new, 1)
    assert text != BASE
    if not expected:
        load_orchestration(text, "ok.yaml", validate=False)
        return
    assert problems(text) == expected


def test_validation_problems_name_the_yaml_keys() -> None:
    text = BASE.replace("        assignee: {user: reviewer@example.com}\n", "")
    assert problems(text, schema=SCHEMA) == [
        (
            8,
            "assignee",
            "Interactive step 'Check' has no assignee (<assignees>): a user, group, queue or "
            "resource completes it",
        )
    ]
    text = BASE.replace("flow: Check_Screen", "flow: Check_Screen\n        entry: {after: [Chek]}")
    assert problems(text, schema=SCHEMA) == [
        (12, "left", "'Chek.Status' refers to 'Chek', which is not a variable, formula, "
         "constant, text template, step or stage of this orchestration")
    ]  # fmt: skip
    text = BASE.replace("{object: Case, on: Create}", "{object: Ticket__c, on: Create}")
    assert problems(text, schema=SCHEMA) == [(3, "object", "Object 'Ticket__c' does not exist")]
    text = BASE.replace("name: Review_Case", "name: Review__Case")
    assert problems(text) == [
        (
            1,
            "name",
            "The flow name 'Review__Case' is not a valid API name: use letters, digits and "
            "single underscores, begin with a letter and do not end with an underscore",
        )
    ]
    # An InvalidDraft is kept as it is, as Salesforce keeps it.
    draft = text.replace("label: Review case", "label: Review case\nstatus: InvalidDraft")
    assert load_orchestration(draft, "draft.yaml").status is FlowStatus.INVALID_DRAFT


def test_text_that_is_not_yaml() -> None:
    assert problems("name: [unclosed") == [
        (1, None, "Not valid YAML or JSON: expected ',' or ']', but got '<stream end>'")
    ]
    assert problems("") == [(1, None, "The file is empty")]
    assert problems("- a list") == [(1, None, "the orchestration must be a mapping (key: value)")]
