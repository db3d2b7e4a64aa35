"""Object-level access: which profile may read or change which objects.

Setup objects are readable by every user (as in Salesforce, where users can see
users, groups and queues) and changed only with the matching administrative
permission. Records follow their object's organization-wide default: ReadWrite
(the default of standard objects here), Read (everyone reads, owners change) or
Private (owners, their queues' members and users above them in the role hierarchy).
Sharing rules and manual shares are not modelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

from workroute.auth.principal import Permission, Principal
from workroute.kernel.errors import InsufficientAccessError
from workroute.schema.model import ObjectDef

if TYPE_CHECKING:
    from workroute.store.store import Store


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"


_USER_ADMIN_OBJECTS = frozenset({"user", "profile", "userrole", "group", "groupmember"})


def required_permission(obj: ObjectDef, action: Action) -> Permission | None:
    """The permission ``action`` on ``obj`` needs, or None when every user may."""
    if action is Action.READ or not obj.setup:
        return None
    if obj.key in _USER_ADMIN_OBJECTS:
        return Permission.MANAGE_USERS
    return Permission.CUSTOMIZE_APPLICATION


def check_object_access(
    principal: Principal, obj: ObjectDef, action: Action, *, record_id: str | None = None
) -> None:
    """Raise INSUFFICIENT_ACCESS unless ``principal`` may do ``action`` on ``obj``."""
    if action is Action.CREATE and not obj.createable:
        raise InsufficientAccessError(f"entity type {obj.name} does not support insert")
    if action is Action.EDIT and not obj.updateable:
        raise InsufficientAccessError(f"entity type {obj.name} does not support update")
    if action is Action.DELETE and not obj.deletable:
        raise InsufficientAccessError(f"entity type {obj.name} does not support delete")
    needed = required_permission(obj, action)
    if needed is None or principal.has(needed) or principal.has(Permission.MODIFY_ALL_DATA):
        return
    if obj.key == "user" and action is Action.EDIT and record_id == principal.user_id:
        return  # users edit their own user record; the API layer guards admin fields
    raise InsufficientAccessError(
        f"insufficient access rights: {action.value} on {obj.name} needs {needed.value}"
    )


# -- record-level sharing -------------------------------------------------------------

_MAX_GROUP_NESTING = 5


def _needs_sharing(obj: ObjectDef, principal: Principal, *, write: bool) -> bool:
    if obj.sharing_model not in ("Private", "Read") or obj.field("OwnerId") is None:
        return False
    if principal.has(Permission.MODIFY_ALL_DATA):
        return False
    if not write and (obj.sharing_model == "Read" or principal.has(Permission.VIEW_ALL_DATA)):
        return False
    return True


def owners_visible_to(store: Store, principal: Principal) -> frozenset[str]:
    """Owner ids whose records ``principal`` reaches by sharing: their own, their queues'
    and groups' (direct, through nested groups or their role's group), and those of the
    users below them in the role hierarchy."""
    owners = {principal.user_id}
    members = store.find("GroupMember")
    containing: dict[str, set[str]] = {}
    for m in members:
        containing.setdefault(str(m["UserOrGroupId"]), set()).add(str(m["GroupId"]))
    start = {principal.user_id}
    if principal.role_id:
        start |= {
            str(g["Id"])
            for g in store.find("Group", RelatedId=principal.role_id)
            if g.get("Type") in ("Role", "RoleAndSubordinates")
        }
    frontier = set(start)
    for _ in range(_MAX_GROUP_NESTING):
        groups = set().union(*(containing.get(x, set()) for x in frontier)) - owners
        if not groups:
            break
        owners |= groups
        frontier = groups
    owners |= start - {principal.user_id}
    if principal.role_id:
        children: dict[str, list[str]] = {}
        for role in store.find("UserRole"):
            if role.get("ParentRoleId"):
                children.setdefault(str(role["ParentRoleId"]), []).append(str(role["Id"]))
        below: set[str] = set()
        todo = list(children.get(principal.role_id, []))
        while todo:
            role_id = todo.pop()
            if role_id not in below:
                below.add(role_id)
                todo.extend(children.get(role_id, []))
        owners |= {
            str(u["Id"]) for role_id in below for u in store.find("User", UserRoleId=role_id)
        }
    return frozenset(owners)


def read_filter(store: Store, principal: Principal, obj: ObjectDef) -> frozenset[str] | None:
    """The owner ids a read of ``obj`` is limited to, or None when every record is visible."""
    if not _needs_sharing(obj, principal, write=False):
        return None
    return owners_visible_to(store, principal)


def check_record_write(
    store: Store, principal: Principal, obj: ObjectDef, record_ids: Sequence[str]
) -> None:
    """INSUFFICIENT_ACCESS unless ``principal`` may change every one of the records."""
    if not _needs_sharing(obj, principal, write=True) or not record_ids:
        return
    owners = owners_visible_to(store, principal)
    for row in store.get_many(obj.name, list(record_ids), ["OwnerId"]):
        if str(row.get("OwnerId")) not in owners:
            raise InsufficientAccessError(f"insufficient access rights on object id {row['Id']}")
