"""A run's history: FlowOrchestrationLog rows, one per milestone.

Seed 000 names the work item milestones: Start Work Item (created and assigned), End
Work Item (completed: Completed By is the completing user's username, Duration the
step's duration in seconds) and Reassign Work Item. The run, its stages and steps log
their own starts, ends and errors the same way, so a run's history reads in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workroute.store.store import Store

LOG_OBJECT = "FlowOrchestrationLog"


class Milestone(StrEnum):
    START_ORCHESTRATION = "Start Orchestration"
    END_ORCHESTRATION = "End Orchestration"
    CANCEL_ORCHESTRATION = "Cancel Orchestration"
    RESUME_ORCHESTRATION = "Resume Orchestration"
    ORCHESTRATION_ERROR = "Orchestration Error"
    START_STAGE = "Start Stage"
    END_STAGE = "End Stage"
    START_STEP = "Start Step"
    END_STEP = "End Step"
    STEP_ERROR = "Step Error"
    START_WORK_ITEM = "Start Work Item"
    END_WORK_ITEM = "End Work Item"
    REASSIGN_WORK_ITEM = "Reassign Work Item"


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    kind: Milestone
    run_id: str
    orchestration: str
    version: int
    stage: str | None = None
    step: str | None = None
    work_item_id: str | None = None
    actor: str | None = None
    assignee: str | None = None
    assignee_type: str | None = None
    duration: int | None = None
    context: str | None = None
    comments: str | None = None

    def row(self, now: datetime) -> dict[str, object]:
        return {
            "Name": self.kind.value,
            "Kind": self.kind.value,
            "OrchestrationInstanceId": self.run_id,
            "OrchestrationName": self.orchestration,
            "OrchestrationVersion": self.version,
            "StageName": self.stage,
            "StepName": self.step,
            "WorkItemId": self.work_item_id,
            "Actor": self.actor,
            "Assignee": self.assignee,
            "AssigneeType": self.assignee_type,
            "Duration": self.duration,
            "Context": self.context,
            "Comments": None if self.comments is None else self.comments[:1333],
            "Timestamp": now,
        }


def write_log(store: Store, entries: list[LogEntry], *, user_id: str, now: datetime) -> None:
    """Append ``entries`` in the current transaction (the engine's own rows)."""
    if entries:
        store.insert(LOG_OBJECT, [e.row(now) for e in entries], user_id=user_id)
