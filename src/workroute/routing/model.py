"""Routing values: the AgentWork state machine and the enums the seed names.

seed 003, AgentWork.Status lists the statuses; this module holds the one table of
moves between them, and :func:`transition` is the only way a status changes.
"""

from __future__ import annotations

from enum import StrEnum

from workroute.kernel.errors import WorkrouteError


class WorkStatus(StrEnum):
    ASSIGNED = "Assigned"
    OPENED = "Opened"
    CLOSED = "Closed"
    DECLINED = "Declined"
    DECLINED_ON_PUSH_TIMEOUT = "DeclinedOnPushTimeout"
    CANCELED = "Canceled"
    TRANSFERRED = "Transferred"
    UNAVAILABLE = "Unavailable"

    @property
    def is_active(self) -> bool:
        """Assigned or Opened: the work is with an agent."""
        return self in (WorkStatus.ASSIGNED, WorkStatus.OPENED)


class RoutingModel(StrEnum):
    LEAST_ACTIVE = "LeastActive"
    MOST_AVAILABLE = "MostAvailable"
    EXTERNAL = "ExternalRouting"


class RoutingType(StrEnum):
    QUEUE_BASED = "QueueBased"
    SKILLS_BASED = "SkillsBased"


class CapacityModel(StrEnum):
    TAB_BASED = "TabBased"
    STATUS_BASED = "StatusBased"


# Which status may follow which. Assigned work is accepted, declined, times out, is
# withdrawn (Canceled), lost when the agent goes offline (Unavailable) or transferred;
# opened work is closed, transferred or withdrawn. The rest are final.
_MOVES: dict[WorkStatus, frozenset[WorkStatus]] = {
    WorkStatus.ASSIGNED: frozenset(
        {
            WorkStatus.OPENED,
            WorkStatus.DECLINED,
            WorkStatus.DECLINED_ON_PUSH_TIMEOUT,
            WorkStatus.CANCELED,
            WorkStatus.UNAVAILABLE,
            WorkStatus.TRANSFERRED,
        }
    ),
    WorkStatus.OPENED: frozenset({WorkStatus.CLOSED, WorkStatus.TRANSFERRED, WorkStatus.CANCELED}),
}


class InvalidWorkStatusError(WorkrouteError):
    """the work is not in a status that allows this"""

    code = "INVALID_STATUS"
    http_status = 400


def transition(current: str, new: WorkStatus) -> WorkStatus:
    """The status after moving ``current`` to ``new``; raises on an illegal move."""
    try:
        now = WorkStatus(current)
    except ValueError:
        raise InvalidWorkStatusError(f"unknown AgentWork status {current!r}") from None
    if new not in _MOVES.get(now, frozenset()):
        raise InvalidWorkStatusError(f"AgentWork in status {now.value} cannot become {new.value}")
    return new
