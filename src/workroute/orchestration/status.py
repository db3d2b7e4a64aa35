"""Run-time statuses of orchestration runs, stages, steps and work items, and the
seed's table of what a work item's status becomes when its run or stage ends.

Runs, stages and steps share one status vocabulary (Salesforce's
ConnectApi.OrchestrationStatus): a step is NotStarted until its start condition
holds, InProgress while it runs or waits for its work item, then Completed, Error, or
Discontinued (it was still running or waiting when its stage completed or the run
failed or was canceled). A stage or run is InProgress, Completed, Suspended, Canceled,
Discontinued or Error.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    NOT_STARTED = "NotStarted"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    SUSPENDED = "Suspended"
    CANCELED = "Canceled"
    DISCONTINUED = "Discontinued"
    ERROR = "Error"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {RunStatus.COMPLETED, RunStatus.CANCELED, RunStatus.DISCONTINUED, RunStatus.ERROR}
)

#: Stages and steps use the same values.
StageStatus = RunStatus
StepStatus = RunStatus


class WorkItemStatus(StrEnum):
    ASSIGNED = "Assigned"
    COMPLETED = "Completed"


class Completion(StrEnum):
    """How far the assignee's completion of a work item has got.

    A completion is taken in the request that submits the screen flow (the work item
    is then someone's: a second completion is refused) and *processed* asynchronously
    by the run, which is when the work item becomes Completed. Between the two the
    completion is ``PENDING``.
    """

    NONE = "none"
    PENDING = "pending"
    PROCESSED = "processed"


class Ending(StrEnum):
    """What ended the work of a work item's step, other than its own completion."""

    RUN_COMPLETED = "run completed"
    RUN_CANCELED = "run canceled"
    RUN_ERROR = "run error"
    STAGE_COMPLETED = "stage completed"
    STAGE_ERROR = "stage error"


#: Seed 000, "Work Item Statuses", row by row: (ending, completion) -> status.
#:
#: - Assigned: not completed and the run was canceled; completed and the run was
#:   canceled (the completion was submitted but not yet processed when the run was
#:   canceled); not completed and the run hit an error.
#: - Completed: completed and the run completed; not completed and its stage completed;
#:   completed and the run was canceled (the completion had been processed); completed
#:   and the run hit an error; completed, or not, and its stage hit an error.
#:
#: The seed lists "completed and canceled" under both statuses; the two rows are told
#: apart by whether the run had processed the completion before the cancel.
#: A screen flow that fails leaves the work item Assigned: the completion is refused.
WORK_ITEM_STATUS: dict[tuple[Ending, Completion], WorkItemStatus] = {
    (Ending.RUN_COMPLETED, Completion.PROCESSED): WorkItemStatus.COMPLETED,
    (Ending.RUN_COMPLETED, Completion.PENDING): WorkItemStatus.COMPLETED,
    (Ending.RUN_COMPLETED, Completion.NONE): WorkItemStatus.COMPLETED,
    (Ending.STAGE_COMPLETED, Completion.NONE): WorkItemStatus.COMPLETED,
    (Ending.STAGE_COMPLETED, Completion.PENDING): WorkItemStatus.COMPLETED,
    (Ending.STAGE_COMPLETED, Completion.PROCESSED): WorkItemStatus.COMPLETED,
    (Ending.RUN_CANCELED, Completion.NONE): WorkItemStatus.ASSIGNED,
    (Ending.RUN_CANCELED, Completion.PENDING): WorkItemStatus.ASSIGNED,
    (Ending.RUN_CANCELED, Completion.PROCESSED): WorkItemStatus.COMPLETED,
    (Ending.RUN_ERROR, Completion.NONE): WorkItemStatus.ASSIGNED,
    (Ending.RUN_ERROR, Completion.PENDING): WorkItemStatus.ASSIGNED,
    (Ending.RUN_ERROR, Completion.PROCESSED): WorkItemStatus.COMPLETED,
    (Ending.STAGE_ERROR, Completion.NONE): WorkItemStatus.COMPLETED,
    (Ending.STAGE_ERROR, Completion.PENDING): WorkItemStatus.COMPLETED,
    (Ending.STAGE_ERROR, Completion.PROCESSED): WorkItemStatus.COMPLETED,
}


def work_item_status(ending: Ending, completion: Completion) -> WorkItemStatus:
    """The status a work item ends with (see :data:`WORK_ITEM_STATUS`)."""
    return WORK_ITEM_STATUS[(ending, completion)]
