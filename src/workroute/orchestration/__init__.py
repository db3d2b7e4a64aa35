"""Flow Orchestration: definitions (this package's model), their validation, versions
and deploy.

The model and its validation are re-exported here. The deploy handler
(:class:`workroute.orchestration.deploy.FlowHandler`) and the version registry
(:mod:`workroute.orchestration.versions`) are imported from their modules: they read
Flow XML through :mod:`workroute.metadata.flow`, which itself reads into this model.
"""

from workroute.orchestration.definition import (
    Decision,
    DecisionRule,
    FlowSummary,
    FlowVersion,
    Orchestration,
    Stage,
    Step,
)
from workroute.orchestration.logic import logic_holds, logic_problems, logic_tree
from workroute.orchestration.resources import (
    Constant,
    Formula,
    RecordFilter,
    TextTemplate,
    Trigger,
    Variable,
)
from workroute.orchestration.validate import validate_orchestration
from workroute.orchestration.values import (
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
    MAX_REQUIREMENTS,
    RECORD_ID_INPUT,
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
    StageCompletion,
    StepActionType,
    StepCompletion,
    StepKind,
    StepStart,
    ValueKind,
)

__all__ = [
    "MAX_REQUIREMENTS",
    "RECORD_ID_INPUT",
    "Assignee",
    "AssigneeType",
    "ComparisonOperator",
    "Condition",
    "Connector",
    "Constant",
    "Criteria",
    "Decision",
    "DecisionRule",
    "EvaluationActionType",
    "EvaluationFlow",
    "FlowDataType",
    "FlowProcessType",
    "FlowRunInMode",
    "FlowStatus",
    "FlowSummary",
    "FlowTriggerType",
    "FlowVersion",
    "Formula",
    "Orchestration",
    "OutputParameter",
    "Parameter",
    "RecordFilter",
    "RecordFilterOperator",
    "RecordTriggerType",
    "Stage",
    "StageCompletion",
    "Step",
    "StepActionType",
    "StepCompletion",
    "StepKind",
    "StepStart",
    "TextTemplate",
    "Trigger",
    "Value",
    "ValueKind",
    "Variable",
    "logic_holds",
    "logic_problems",
    "logic_tree",
    "validate_orchestration",
]
