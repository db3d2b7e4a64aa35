"""Object-level access: which profile may read or change which objects.

Setup objects are readable by every user (as in Salesforce, where users can see
users, groups and queues) and changed only with the matching administrative
permission. Record-level sharing is not modelled yet: every business record is
Public Read/Write, Salesforce's default organization-wide setting in new orgs.
"""

from __future__ import annotations

from enum import StrEnum

from workroute.auth.principal import Permission, Principal
from workroute.kernel.errors import InsufficientAccessError
from workroute.schema.model import ObjectDef


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
