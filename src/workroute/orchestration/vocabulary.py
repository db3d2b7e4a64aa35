"""The vocabulary of orchestration definitions: the strings the Metadata API stores
for Flow versions, steps, assignees, conditions and triggers, and the reserved names
and limits of seed 001."""

from __future__ import annotations

from enum import StrEnum


class FlowStatus(StrEnum):
    """FlowVersionStatus. Only an Active version starts runs."""

    ACTIVE = "Active"
    DRAFT = "Draft"
    OBSOLETE = "Obsolete"
    INVALID_DRAFT = "InvalidDraft"
    UNDER_REVIEW = "UnderReview"


class FlowProcessType(StrEnum):
    """The Flow processType values this engine tells apart (any other value is kept as
    text in :attr:`FlowSummary.process_type`)."""

    ORCHESTRATOR = "Orchestrator"
    FLOW = "Flow"
    AUTOLAUNCHED_FLOW = "AutoLaunchedFlow"
    EVALUATION_FLOW = "EvaluationFlow"
    MANAGED_CONTENT_AUTHORING_WORKFLOW = "ManagedContentAuthoringWorkflow"


class FlowDataType(StrEnum):
    CURRENCY = "Currency"
    DATE = "Date"
    NUMBER = "Number"
    STRING = "String"
    BOOLEAN = "Boolean"
    SOBJECT = "SObject"
    DATETIME = "DateTime"
    TIME = "Time"
    PICKLIST = "Picklist"
    MULTIPICKLIST = "Multipicklist"
    APEX = "Apex"


class RecordTriggerType(StrEnum):
    CREATE = "Create"
    UPDATE = "Update"
    CREATE_AND_UPDATE = "CreateAndUpdate"
    DELETE = "Delete"


class FlowTriggerType(StrEnum):
    """The triggerType values of <start> an orchestration may carry (only
    RecordAfterSave starts one; the others are named so the problem says so)."""

    NONE = "None"
    RECORD_AFTER_SAVE = "RecordAfterSave"
    RECORD_BEFORE_SAVE = "RecordBeforeSave"
    RECORD_BEFORE_DELETE = "RecordBeforeDelete"
    SCHEDULED = "Scheduled"
    PLATFORM_EVENT = "PlatformEvent"


class FlowRunInMode(StrEnum):
    DEFAULT_MODE = "DefaultMode"
    SYSTEM_MODE_WITH_SHARING = "SystemModeWithSharing"
    SYSTEM_MODE_WITHOUT_SHARING = "SystemModeWithoutSharing"


class StepActionType(StrEnum):
    """FlowStageStep.actionType for orchestration steps.

    ``createWorkItem`` is what API 52.0 files call an interactive step. MuleSoft and
    approval steps are named so the problem can say they are not supported.
    """

    STEP_INTERACTIVE = "stepInteractive"
    STEP_BACKGROUND = "stepBackground"
    CREATE_WORK_ITEM = "createWorkItem"
    STEP_MULESOFT = "stepMuleSoft"
    STEP_APPROVAL = "stepApproval"


class StepKind(StrEnum):
    """What a step does; the values are Salesforce's stepSubtype strings."""

    INTERACTIVE = "InteractiveStep"
    BACKGROUND = "BackgroundStep"


class EvaluationActionType(StrEnum):
    """entryActionType / exitActionType: the evaluation flow deciding a condition
    (``flow`` in API 52.0 files)."""

    EVALUATION_FLOW = "evaluationFlow"
    FLOW = "flow"


class AssigneeType(StrEnum):
    USER = "User"
    GROUP = "Group"
    QUEUE = "Queue"
    #: A variable or formula that holds a user, group or queue at run time (seed 001).
    RESOURCE = "Resource"
    #: What Salesforce stores once the assignee no longer exists.
    INVALID = "Invalid"


class ComparisonOperator(StrEnum):
    NONE = "None"
    EQUAL_TO = "EqualTo"
    NOT_EQUAL_TO = "NotEqualTo"
    GREATER_THAN = "GreaterThan"
    LESS_THAN = "LessThan"
    GREATER_THAN_OR_EQUAL_TO = "GreaterThanOrEqualTo"
    LESS_THAN_OR_EQUAL_TO = "LessThanOrEqualTo"
    STARTS_WITH = "StartsWith"
    ENDS_WITH = "EndsWith"
    CONTAINS = "Contains"
    IS_NULL = "IsNull"
    IS_CHANGED = "IsChanged"
    WAS_SET = "WasSet"
    WAS_SELECTED = "WasSelected"
    WAS_VISITED = "WasVisited"
    IN = "In"
    NOT_IN = "NotIn"
    IS_BLANK = "IsBlank"
    IS_EMPTY = "IsEmpty"
    HAS_ERROR = "HasError"


class RecordFilterOperator(StrEnum):
    EQUAL_TO = "EqualTo"
    NOT_EQUAL_TO = "NotEqualTo"
    GREATER_THAN = "GreaterThan"
    LESS_THAN = "LessThan"
    GREATER_THAN_OR_EQUAL_TO = "GreaterThanOrEqualTo"
    LESS_THAN_OR_EQUAL_TO = "LessThanOrEqualTo"
    STARTS_WITH = "StartsWith"
    ENDS_WITH = "EndsWith"
    CONTAINS = "Contains"
    IS_NULL = "IsNull"
    IS_CHANGED = "IsChanged"
    IN = "In"
    NOT_IN = "NotIn"


class ValueKind(StrEnum):
    """The child of a FlowElementReferenceOrValue that holds the value."""

    REFERENCE = "elementReference"
    STRING = "stringValue"
    BOOLEAN = "booleanValue"
    NUMBER = "numberValue"
    DATE = "dateValue"
    DATETIME = "dateTimeValue"
    TIME = "timeValue"


class StepStart(StrEnum):
    """When a step starts (seed 001, "When to Start the Step"); derived, not stored."""

    STAGE_STARTS = "StageStarts"
    STEPS_COMPLETED = "StepsCompleted"
    REQUIREMENTS = "Requirements"
    EVALUATION_FLOW = "EvaluationFlow"


class StepCompletion(StrEnum):
    """When a step is marked Completed (seed 001, "When to Complete the Step")."""

    SCREEN_FLOW_COMPLETED = "ScreenFlowCompleted"
    FLOW_FINISHED = "FlowFinished"
    REQUIREMENTS = "Requirements"
    EVALUATION_FLOW = "EvaluationFlow"


class StageCompletion(StrEnum):
    """When a stage is marked Completed ("Set Exit Condition" of the Stage element)."""

    ALL_STEPS_COMPLETED = "AllStepsCompleted"
    REQUIREMENTS = "Requirements"
    EVALUATION_FLOW = "EvaluationFlow"


#: The input every interactive step must set: the record whose page shows the work item.
RECORD_ID_INPUT = "ActionInput__RecordId"
#: Reserved step inputs (``ActionInput__`` names) the engine knows.
RESERVED_INPUTS = frozenset(
    {
        RECORD_ID_INPUT,
        "ActionInput__CustomEmailSubject",
        "ActionInput__CustomEmailBody",
        # API 52.0 (createWorkItem) files list these without values; the engine fills them.
        "ActionInput__Assignee",
        "ActionInput__OrchInstanceId",
        "ActionInput__StepInstanceId",
    }
)
RESERVED_INPUT_PREFIX = "ActionInput__"
#: Seed 001: "Up to 10 requirements".
MAX_REQUIREMENTS = 10
COMPLETED = "Completed"
