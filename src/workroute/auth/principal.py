"""The authenticated user a request acts as, with the permissions of their profile."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    """Profile permissions; values are the Profile field names that hold them."""

    MODIFY_ALL_DATA = "PermissionsModifyAllData"
    VIEW_ALL_DATA = "PermissionsViewAllData"
    MANAGE_USERS = "PermissionsManageUsers"
    RUN_FLOWS = "PermissionsRunFlows"
    OMNI_SUPERVISOR = "PermissionsOmniSupervisor"
    CUSTOMIZE_APPLICATION = "PermissionsCustomizeApplication"
    API_ENABLED = "PermissionsApiEnabled"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    user_id: str
    username: str
    profile_id: str
    profile_name: str
    permissions: frozenset[Permission]
    role_id: str | None = None
    email: str | None = None
    name: str = ""
    time_zone: str = "UTC"

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions or (
            permission is not Permission.API_ENABLED
            and Permission.MODIFY_ALL_DATA in self.permissions
            and permission in _IMPLIED_BY_MODIFY_ALL
        )


_IMPLIED_BY_MODIFY_ALL = frozenset({Permission.VIEW_ALL_DATA})
