"""Who a work item is for: resolving a step's assignee, and the work item's owner.

An interactive step names its assignee by type (seed 001, "Who Completes the Step"):
a User by username (or id), a Group or a Queue by developer name (or id), or a
Resource: a variable or reference that holds one of those at run time. Ownership
follows the seed's table (000, "Flow Orchestration Work Item Record Ownership"); see
:func:`work_item_owner`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from workroute.kernel.errors import WorkrouteError
from workroute.kernel.ids import looks_like_id, normalize_id

if TYPE_CHECKING:
    from workroute.store.store import Store

WORK_ITEM_OBJECT = "FlowOrchestrationWorkItem"


class AssigneeKind(StrEnum):
    USER = "User"
    GROUP = "Group"
    QUEUE = "Queue"


class AssigneeError(WorkrouteError):
    """A step's assignee names nobody, or an inactive user."""

    code = "INVALID_ASSIGNEE"
    http_status = 400


@dataclass(frozen=True, slots=True)
class Assignee:
    """A resolved assignee: a user, a public group or a queue."""

    kind: AssigneeKind
    id: str
    name: str
    #: For a queue: whether it takes FlowOrchestrationWorkItem records (QueueSobject).
    takes_work_items: bool = False
    #: For a user: their row as resolved (the assignment email reads it again else).
    row: Mapping[str, object] | None = field(default=None, compare=False, repr=False)


def resolve_assignee(store: Store, kind: str, value: object) -> Assignee:
    """The assignee a step's type and (resolved) value name.

    ``kind`` is the step's assigneeType (User, Group, Queue or Resource); a Resource's
    value is tried as a user id or username, then a group or queue id or developer name.
    Inactive users are refused: the run stops in Error and can be resumed (seed 001).
    """
    text = "" if value is None else str(value).strip()
    if not text:
        raise AssigneeError(f"The {kind} assignee has no value")
    wanted = {
        "User": (AssigneeKind.USER,),
        "Group": (AssigneeKind.GROUP,),
        "Queue": (AssigneeKind.QUEUE,),
        "Resource": (AssigneeKind.USER, AssigneeKind.GROUP, AssigneeKind.QUEUE),
    }.get(kind)
    if wanted is None:
        raise AssigneeError(f"Unknown assignee type {kind!r}")
    if AssigneeKind.USER in wanted:
        user = _user(store, text)
        if user is not None:
            if not user.get("IsActive", True):
                raise AssigneeError(f"The assigned user {user['Username']} is inactive")
            return Assignee(AssigneeKind.USER, str(user["Id"]), str(user["Username"]), row=user)
    for group in _groups(store, text):
        gtype = str(group.get("Type") or "")
        found = AssigneeKind.QUEUE if gtype == "Queue" else AssigneeKind.GROUP
        if found in wanted and (found is AssigneeKind.QUEUE or gtype == "Regular"):
            takes = found is AssigneeKind.QUEUE and _queue_takes(store, str(group["Id"]))
            return Assignee(found, str(group["Id"]), _group_name(group), takes)
    raise AssigneeError(f"No {kind.lower()} {text!r} to assign the work item to")


def work_item_owner(assignee: Assignee, automated_process_user_id: str) -> str:
    """The work item's OwnerId (seed 000, ownership table; reassignment is the same).

    - a single user: that user;
    - a group: the automated process user;
    - a queue associated with the Orchestration Work Item object: the queue itself;
    - a queue not associated with it: the automated process user.
    """
    if assignee.kind is AssigneeKind.USER:
        return assignee.id
    if assignee.kind is AssigneeKind.QUEUE and assignee.takes_work_items:
        return assignee.id
    return automated_process_user_id


def _user(store: Store, text: str) -> dict[str, object] | None:
    if looks_like_id(text) and text[:3] == "005":
        rows = store.get_many("User", [normalize_id(text)])
    else:
        rows = store.find("User", Username=text.lower())
    return rows[0] if rows else None


def _groups(store: Store, text: str) -> list[dict[str, object]]:
    if looks_like_id(text) and text[:3] == "00G":
        return store.get_many("Group", [normalize_id(text)])
    rows = store.find("Group", DeveloperName=text)
    if not rows:
        key = text.lower()
        rows = [g for g in store.find("Group") if str(g.get("DeveloperName") or "").lower() == key]
    return rows


def _group_name(group: dict[str, object]) -> str:
    return str(group.get("DeveloperName") or group.get("Name") or group["Id"])


def _queue_takes(store: Store, queue_id: str) -> bool:
    """Whether the queue takes work items (QueueSobject, or the seed's QueueSubject)."""
    key = WORK_ITEM_OBJECT.lower()
    return any(
        str(r.get("SobjectType") or "").lower() == key
        for r in store.find("QueueSobject", QueueId=queue_id)
    ) or any(
        str(r.get("SubjectType") or "").lower() == key
        for r in store.find("QueueSubject", QueueId=queue_id)
    )
