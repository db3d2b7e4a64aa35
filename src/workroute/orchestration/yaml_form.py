"""The readable form of an orchestration: YAML (or JSON, which YAML reads too).

For people who write definitions by hand. It holds exactly the model of
:mod:`workroute.orchestration.definition`, with shorter keys; reading it gives the same
:class:`Orchestration` as the Flow XML would, and the same validation runs
(:func:`~workroute.orchestration.validate.validate_orchestration`), with problems
located at the file's lines and named by its keys.

The shape (this example is tested: it loads and validates)::

    name: Case_Review                 # required: the flow's API name
    label: Case Review                # required
    status: Active                    # Active | Draft (default) | Obsolete | InvalidDraft
    apiVersion: "62.0"                # also: description, interviewLabel, runInMode
    trigger:                          # leave out: the orchestration is started by the API
      object: Case
      on: CreateAndUpdate             # Create | Update | CreateAndUpdate
      onlyWhenChanged: true           # start only when an update makes the criteria true
      filterLogic: and                # and (default) | or | custom logic "1 AND (2 OR 3)"
      filters:
        - {field: Status, operator: EqualTo, value: Escalated}
      # formula: "ISPICKVAL({!$Record.Status}, 'Escalated')"   (instead of filters)
    start: Review                     # the first stage or decision (default: the first stage)
    variables:
      - {name: reviewer, dataType: String, input: true}
      - {name: approved, dataType: Boolean, output: true}
      # also: collection, objectType (SObject), scale, value, description
    formulas:
      - {name: Is_Urgent, dataType: Boolean, expression: "TEXT({!$Record.Priority}) = 'High'"}
    constants: [{name: Max_Reviews, dataType: Number, value: 3}]
    textTemplates: [{name: Body, text: "Please review {!$Record.Subject}"}]
    stages:
      - name: Review
        label: Review
        next: Decide                  # the next stage or decision; {to: X, goTo: true}
        steps:
          - name: Check
            label: Check the case
            type: interactive         # interactive | background (or a Salesforce actionType)
            flow: Review_Screen       # the screen flow (interactive) or autolaunched flow
            assignee: {queue: Reviewers}   # or user: <username>, group:, resource: <variable>
            inputs:
              ActionInput__RecordId: {ref: $Record.Id}
              ActionInput__CustomEmailBody: {ref: Body}
              note: Please check
            outputs: {ok: approved}   # output name: the variable it is stored into
            completion:               # interactive steps (default: the screen flow is done)
              logic: or               # at most 10 conditions
              conditions:
                - {left: $Record.IsClosed, operator: EqualTo, right: true}
                - {left: Is_Urgent, operator: EqualTo, right: false}
          - name: Log
            label: Log the review
            type: background
            flow: Log_Review
            entry:                    # leave out: when the stage starts
              after: [Check]          # when these steps are Completed
              # or: logic + conditions, or flow: an evaluation flow (inputs:, outputs:)
        # exit: when the stage is complete (leave out: when all its steps are Completed);
        #   conditions, or flow: an evaluation flow
      - name: Close
        label: Close
        exit: {flow: Case_Is_Closed, inputs: {caseId: {ref: $Record.Id}}}
        steps:
          - {name: Close_Case, label: Close the case, type: background, flow: Close_Case}
    decisions:
      - name: Decide
        label: Approved?
        rules:
          - name: Yes_Approved
            label: Yes
            conditions: [{left: approved, operator: EqualTo, right: true}]
            next: Close
        default: Review               # when no rule holds (leave out: the run ends)
        defaultLabel: No

Values are written as YAML scalars (text, true/false, numbers), ``null`` for none, or
``{ref: Name}`` for a reference to a resource (``{date: ...}``, ``{datetime: ...}``,
``{time: ...}`` for the other literal kinds). Step keys also take ``description``,
``canAssigneeEdit``, ``requiresAsyncProcessing``, ``runAsUser``, ``shouldLock``,
``debugSimulateStep`` and ``subtype``; stages and decisions ``location: [x, y]``.
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml  # type: ignore[import-untyped]

from workroute.kernel.errors import DeployError, DeployProblem
from workroute.orchestration._yaml import DEFAULT_LOGIC, STEP_TYPES, Ctx
from workroute.orchestration.definition import Orchestration
from workroute.orchestration.validate import validate_orchestration
from workroute.orchestration.vocabulary import FlowStatus
from workroute.orchestration.yaml_read import read_orchestration
from workroute.schema.registry import SchemaRegistry

__all__ = ["DEFAULT_LOGIC", "ELEMENT_KEYS", "STEP_TYPES", "load_orchestration"]

#: Model line keys (XML element names, as validation names them) -> the keys of this
#: form, so problems of a YAML file name its own keys.
ELEMENT_KEYS: Mapping[str, str] = {
    "actionName": "flow",
    "actionType": "type",
    "assignees": "assignee",
    "assigneeType": "assignee",
    "inputParameters": "inputs",
    "outputParameters": "outputs",
    "assignToReference": "outputs",
    "entryConditions": "entry",
    "entryConditionLogic": "entry",
    "entryActionName": "entry",
    "exitConditions": "exit",
    "exitConditionLogic": "exit",
    "exitActionName": "exit",
    "conditionLogic": "logic",
    "conditions": "conditions",
    "leftValueReference": "left",
    "rightValue": "right",
    "connector": "next",
    "faultConnector": "faultNext",
    "targetReference": "next",
    "defaultConnector": "default",
    "orchestratedStages": "stages",
    "doesRequireRecordChangedToMeetCriteria": "onlyWhenChanged",
    "recordTriggerType": "on",
    "triggerType": "type",
    "filterFormula": "formula",
    "fullName": "name",
    "stageSteps": "steps",
    "expression": "expression",
}


def load_orchestration(
    text: str | bytes,
    file: str,
    *,
    schema: SchemaRegistry | None = None,
    validate: bool = True,
) -> Orchestration:
    """Read the YAML (or JSON) form; raises :class:`DeployError` with every problem,
    located at the file's lines. With ``validate`` (the default) the definition is
    validated as a deploy validates it (against ``schema`` when given)."""
    ctx = Ctx(file=file, name=file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise DeployError(
            [DeployProblem(file=file, line=line, message=f"Not valid YAML or JSON: {problem}")]
        ) from None
    if root is None:
        raise DeployError([DeployProblem(file=file, line=1, message="The file is empty")])
    orch = read_orchestration(ctx, root, file)
    if not ctx.problems and validate and orch.status is not FlowStatus.INVALID_DRAFT:
        for p in validate_orchestration(orch, schema=schema):
            element = ELEMENT_KEYS.get(p.element or "", p.element)
            ctx.problems.append(
                DeployProblem(
                    file=p.file,
                    line=p.line,
                    element=element,
                    message=p.message,
                    component=p.component,
                )
            )
    if ctx.problems:
        raise DeployError(ctx.problems)
    return orch
